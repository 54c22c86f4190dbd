package testbench

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Edge search parameters. Real time keeps a hypothesis pair ±realEps
// around its candidate, which covers the round trip and the timers'
// jitter on a loaded machine; virtual time has no jitter.
const (
	realEps      = 100 * time.Millisecond
	virtualEps   = time.Millisecond
	realTarget   = 450 * time.Millisecond // stop once an edge is bracketed this tightly (±0.225 s)
	virtualTarge = 2500 * time.Microsecond
	realLead     = 40 * time.Millisecond // a probe is planned at least this far ahead
	maxRealK     = 10                    // points per round in real time without a hypothesis
	maxRounds    = 40
)

// evidence is an answer the edges can use: an accepted bind (its last
// code was accepted) or a probe on a pristine enrollment.
type evidence struct {
	an       answer
	accepted bool
}

// bracket holds an edge: it lies in (lo, hi]. loSeen and hiSeen say which
// side an answer set (the other is the search's limit).
type bracket struct {
	lo, hi         time.Duration
	loSeen, hiSeen bool
}

func (br bracket) width() time.Duration { return br.hi - br.lo }
func (br bracket) mid() time.Duration   { return br.lo + (br.hi-br.lo)/2 }

// edges is the measured acceptance interval: from in lower, until in upper.
type edges struct {
	lower, upper bracket
	period       time.Duration
	atLimitLo    bool // accepted as far back as the search went (from may be lower)
	atLimitHi    bool // likewise ahead (until may be higher)
}

func (e *edges) interval() interval {
	return interval{from: e.lower.mid(), until: e.upper.mid(), period: e.period}
}

// uncertainty is the larger half-bracket of the two edges.
func (e *edges) uncertainty() time.Duration { return max(e.lower.width(), e.upper.width()) / 2 }

// measuredEdges returns the acceptance interval, measuring it the first
// time any scenario asks.
func (a *actor) measuredEdges(ctx context.Context) (*edges, error) {
	a.startEdges(ctx)
	return a.b.edgesF.get(ctx)
}

// guessedEdges returns the edges as first guessed (the hypothesis,
// before the crossings confirm it), measuring them if nobody asked yet.
func (a *actor) guessedEdges(ctx context.Context) (interval, error) {
	a.startEdges(ctx)
	return a.b.guess().get(ctx)
}

// startEdges starts measuring the edges, once.
func (a *actor) startEdges(ctx context.Context) {
	b := a.b
	b.edgeOnce.Do(func() {
		b.tl.spawn(func() {
			e, err := b.actor(ScenarioWindow).measureEdges(ctx)
			var iv interval
			if e != nil {
				iv = e.interval()
			}
			b.guess().resolve(iv, err) // if no guess came first
			b.edgesF.resolve(e, err)
		})
	})
}

// edgeSearch is one edge being bracketed.
type edgeSearch struct {
	a     *actor
	upper bool
	mu    sync.Mutex
	br    bracket
	eps   time.Duration
	// phase, when known, is where a step window's edges sit modulo P (the
	// server's step edges): the hypothesis tried first. follow, when set,
	// gives a better one once known (the other edge's).
	phase  *time.Duration
	follow func() *time.Duration
	hiAns  answer // the lower edge's: the accept that set the bracket's top
}

// measureEdges brackets the two edges of a code's acceptance interval
// (MEASURING.md). The accepted binds give the first point; the lower edge
// is bracketed to a step at once with future codes, then both edges are
// crossed at planned instants: first the hypothesis that they sit on the
// server's step edges (from its Date header, or from the other edge),
// then, refuted, a search across the bracket.
func (a *actor) measureEdges(ctx context.Context) (*edges, error) {
	b := a.b
	b.mu.Lock()
	P := b.period
	ev := append([]evidence(nil), b.evidence...)
	b.mu.Unlock()
	loLimit, hiLimit := b.limits()
	virtual := b.tl.tm.Virtual()
	eps := realEps
	if virtual {
		eps = virtualEps
	}
	lower := &edgeSearch{a: a, eps: eps}
	upper := &edgeSearch{a: a, upper: true, eps: eps}
	have := false
	for _, e := range ev {
		if !e.accepted {
			continue
		}
		lo, hi := e.an.x(P)
		if !have {
			lower.br = bracket{lo: loLimit, hi: hi, hiSeen: true}
			upper.br = bracket{lo: lo, hi: hiLimit, loSeen: true}
			have = true
		}
		lower.br.hi = min(lower.br.hi, hi)
		upper.br.lo = max(upper.br.lo, lo)
	}
	if !have {
		lo, hi, err := a.findAccepted(ctx)
		if err != nil {
			return nil, err
		}
		lower.br = bracket{lo: loLimit, hi: hi, hiSeen: true}
		upper.br = bracket{lo: lo, hi: hiLimit, loSeen: true}
	}
	res := &edges{period: P}
	// The server's clock from its Date header gives the hypothesis; the
	// coarse brackets do not wait for it.
	datePhase := func() (*time.Duration, error) {
		dc, err := a.earlyDate(ctx)
		if err != nil || dc == nil {
			return nil, err
		}
		ph := mod(-dc.theta(), P)
		return &ph, nil
	}
	var lerr, uerr error
	lowerDone, lowerCoarse := newFuture[bool](b.tl), newFuture[bool](b.tl)
	guessLo, guessHi := newFuture[time.Duration](b.tl), newFuture[time.Duration](b.tl)
	g := b.tl.newGroup()
	g.spawn(func() {
		defer lowerDone.resolve(true, nil)
		defer lowerCoarse.resolve(false, nil)
		defer guessLo.resolve(lower.br.mid(), nil)
		if lerr = lower.coarseLower(ctx); lerr != nil {
			return
		}
		lowerCoarse.resolve(true, nil)
		if lower.phase, lerr = datePhase(); lerr != nil {
			return
		}
		if lower.phase == nil {
			// No Date header: the first hypothesis is a server synced to
			// the truth (its step edges on the true ones).
			zero := time.Duration(0)
			lower.phase = &zero
		}
		guessLo.resolve(lower.guess(), nil)
		lerr = lower.refine(ctx)
	})
	g.spawn(func() {
		defer b.resyncChecked.resolve(false, nil)
		defer guessHi.resolve(upper.br.mid(), nil)
		if uerr = upper.coarseUpper(ctx); uerr != nil {
			return
		}
		ok, err := lowerCoarse.get(ctx)
		if err == nil && ok {
			err = a.checkResync(ctx, lower)
		}
		b.resyncChecked.resolve(true, nil)
		if uerr = err; err != nil {
			return
		}
		if upper.phase, uerr = datePhase(); uerr != nil {
			return
		}
		if upper.phase == nil {
			// No Date header: first the hypothesis of a synced server;
			// once the lower edge is measured, a step window's edges are a
			// whole number of steps from it.
			zero := time.Duration(0)
			upper.phase = &zero
			upper.follow = func() *time.Duration {
				if !lowerDone.ready() || lerr != nil {
					return nil
				}
				ph := mod(lower.br.mid(), P)
				return &ph
			}
		}
		guessHi.resolve(upper.guess(), nil)
		uerr = upper.refine(ctx)
	})
	// The guess: the edges as the hypothesis puts them, before the
	// crossings confirm them (the drift scenario plans with it).
	g.spawn(func() {
		lo, err1 := guessLo.get(ctx)
		hi, err2 := guessHi.get(ctx)
		if err1 != nil || err2 != nil {
			return
		}
		b.guess().resolve(interval{from: lo, until: hi, period: P}, nil)
	})
	if err := g.wait(ctx); err != nil {
		return nil, err
	}
	if lerr != nil {
		return nil, fmt.Errorf("the lower edge: %w", lerr)
	}
	if uerr != nil {
		return nil, fmt.Errorf("the upper edge: %w", uerr)
	}
	res.lower, res.upper = lower.br, upper.br
	res.atLimitLo, res.atLimitHi = !lower.br.loSeen, !upper.br.hiSeen
	return res, nil
}

// limits are where the edges' search stops (MEASURING.md): codes up to
// Config.MaxSteps steps from the true step are probed, so the upper edge
// is found up to (M+1)P and the lower down to -MP, each with half a step
// to spare for a server clock off by a fraction of one.
func (b *bench) limits() (lo, hi time.Duration) {
	M, P := time.Duration(b.cfg.MaxSteps), b.period
	return -M*P - P/2, (M+1)*P + P/2
}
