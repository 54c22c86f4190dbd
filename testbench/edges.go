package testbench

import (
	"context"
	"errors"
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
	dateTheta    *time.Duration
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

// checkResync asks whether the target moves an enrollment's window after
// a success off its step (RFC 6238 section 6, django-otp's drift): an
// enrollment bound with older codes submits, at once, the code the lower
// edge's coarse bracket saw accepted just above the edge. An unmoved
// window accepts it; one moved back by a step refuses it. Then the
// enrollments bound with older codes no longer count as pristine, and no
// more are bound.
func (a *actor) checkResync(ctx context.Context, lower *edgeSearch) error {
	b := a.b
	lower.mu.Lock()
	ref := lower.hiAns
	lower.mu.Unlock()
	if len(ref.codes) == 0 || b.tl.now().Sub(ref.recv) > b.period/4 {
		return nil
	}
	d, err := a.lease(ctx, lease{pristine: true, refusals: 1, oldBound: true})
	if err != nil || d == nil {
		return err
	}
	defer a.release(d)
	b.mu.Lock()
	clean := b.cleanStepLocked(d, ref.step) == ref.step
	b.mu.Unlock()
	if !clean {
		return nil
	}
	an, err := a.send(ctx, d, false, func(time.Time) ([]string, int64) { return []string{d.code(ref.step)}, ref.step })
	if err != nil || an.v.Outcome != Rejected || an.waited {
		return err
	}
	b.mu.Lock()
	b.facts.resync = true
	for _, dd := range b.devs {
		if dd.oldBound {
			dd.pristine = false
		}
	}
	b.mu.Unlock()
	b.note("the target moves an enrollment's window after a success off the step it expects (drift tracking, RFC 6238 section 6): the edges are measured on enrollments bound at the server's own step")
	return nil
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
		dc, err := a.dateClock(ctx)
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

// findAccepted, for a target with no bind step, finds a code accepted
// now: the current step's, then its neighbours', each on an enrollment
// of its own. It returns where the accepted code was judged.
func (a *actor) findAccepted(ctx context.Context) (lo, hi time.Duration, err error) {
	b := a.b
	P := b.period
	for _, j := range outward(0, b.cfg.MaxSteps) {
		d, err := a.lease(ctx, lease{pristine: true, refusals: 1})
		if err != nil {
			return 0, 0, err
		}
		an, err := a.send(ctx, d, false, func(now time.Time) ([]string, int64) {
			s := stepOf(now, P) + int64(j)
			return []string{d.code(s)}, s
		})
		a.release(d)
		if err != nil {
			return 0, 0, err
		}
		if an.v.Outcome == Accepted {
			lo, hi := an.x(P)
			return lo, hi, nil
		}
	}
	return 0, 0, fmt.Errorf("%w within %d steps of the true time", errNoneAccepted, b.cfg.MaxSteps)
}

// errNoneAccepted is the window's answer when no code near the true time
// is accepted at all.
var errNoneAccepted = errors.New("no code was accepted")

// outward lists start, start+1, start-1, start+2, ... within [-m, m].
func outward(start, m int) []int {
	var out []int
	if start >= -m && start <= m {
		out = append(out, start)
	}
	for i := 1; i <= 2*m; i++ {
		for _, k := range []int{start + i, start - i} {
			if k >= -m && k <= m {
				out = append(out, k)
			}
		}
	}
	return out
}

// coarseLower brackets the lower edge to a step at once: future codes
// (clean on any enrollment bound now) submitted now, one step further
// each, until one is refused; each accepted one on its own enrollment.
func (s *edgeSearch) coarseLower(ctx context.Context) error {
	b := s.a.b
	P := b.period
	for k := 0; k < 4*b.cfg.MaxSteps+8; k++ {
		s.mu.Lock()
		br := s.br
		s.mu.Unlock()
		if br.loSeen || br.width() <= P {
			return nil
		}
		d, err := s.a.lease(ctx, lease{pristine: true, refusals: 1, notOld: true})
		if err != nil {
			return err
		}
		an, err := s.a.send(ctx, d, false, func(now time.Time) ([]string, int64) {
			// The step whose code is judged a step below the bracket's top
			// (in [br.hi - P, br.hi)), not below its bottom.
			n := stepOf(now.Add(-max(br.hi-P, br.lo+time.Millisecond)), P)
			b.mu.Lock()
			n = b.cleanStepLocked(d, n)
			b.mu.Unlock()
			return []string{d.code(n)}, n
		})
		s.a.release(d)
		if err != nil {
			return err
		}
		if done := s.record(an); done {
			return nil
		}
	}
	return fmt.Errorf("no refusal nor the search's limit after %d tries (locked enrollments?)", 4*b.cfg.MaxSteps+8)
}

// coarseUpper does the same for the upper edge where old codes are clean
// now (a target that remembers no codes); elsewhere the binds at the
// oldest offset accepted have bracketed it from below already.
func (s *edgeSearch) coarseUpper(ctx context.Context) error {
	b := s.a.b
	b.mu.Lock()
	free := b.facts.noCodeReplay && b.facts.notStepStrict && (b.facts.bindReusable || b.caps.BindCodes == 0)
	b.mu.Unlock()
	if !free {
		// Enrollments bound now with the oldest codes accepted: their
		// binds bracket the edge from below, and their later steps are
		// clean soonest.
		// Three: the pair that tests a candidate edge, and the one the
		// check for drift tracking spends.
		if err := s.a.prebind(ctx, 3, true); err != nil {
			return err
		}
		s.absorb()
		return nil
	}
	P := b.period
	for k := 0; k < 4*b.cfg.MaxSteps+8; k++ {
		s.mu.Lock()
		br := s.br
		s.mu.Unlock()
		if br.hiSeen || br.width() <= P {
			return nil
		}
		d, err := s.a.lease(ctx, lease{pristine: true, refusals: 1})
		if err != nil {
			return err
		}
		an, err := s.a.send(ctx, d, false, func(now time.Time) ([]string, int64) {
			n := stepOf(now.Add(-min(br.lo+P, br.hi-time.Millisecond)), P)
			return []string{d.code(n)}, n
		})
		s.a.release(d)
		if err != nil {
			return err
		}
		if s.record(an) {
			return nil
		}
	}
	return fmt.Errorf("no refusal nor the search's limit after %d tries (locked enrollments?)", 4*b.cfg.MaxSteps+8)
}

// record updates the bracket with an answer; it reports whether the
// answer was the kind that ends a coarse sweep (a refusal).
func (s *edgeSearch) record(an answer) bool {
	P := s.a.b.period
	lo, hi := an.x(P)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch an.v.Outcome {
	case Accepted:
		if s.upper {
			if lo > s.br.lo {
				s.br.lo, s.br.loSeen = lo, true
			}
		} else if hi < s.br.hi {
			s.br.hi, s.br.hiSeen, s.hiAns = hi, true, an
		}
	case Rejected:
		// A refusal beyond the search's limit says nothing the limit
		// does not.
		if s.upper {
			if hi < s.br.hi {
				s.br.hi, s.br.hiSeen = hi, true
			}
		} else if lo > s.br.lo {
			s.br.lo, s.br.loSeen = lo, true
		}
		return true
	}
	return false
}

// absorb narrows the bracket with the binds accepted so far: their last
// code was accepted where they were judged.
func (s *edgeSearch) absorb() {
	b := s.a.b
	P := b.period
	b.mu.Lock()
	ev := append([]evidence(nil), b.evidence...)
	b.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range ev {
		lo, hi := e.an.x(P)
		if s.upper && lo > s.br.lo {
			s.br.lo, s.br.loSeen = min(lo, s.br.hi), true
		} else if !s.upper && hi < s.br.hi {
			s.br.hi, s.br.hiSeen = max(hi, s.br.lo), true
		}
	}
}

// guess is where the hypothesis puts the edge: the candidate the next
// round tests, else the bracket's middle.
func (s *edgeSearch) guess() time.Duration {
	s.absorb()
	s.mu.Lock()
	br := s.br
	s.mu.Unlock()
	if c, ok := s.candidate(br, s.a.b.period); ok {
		return c
	}
	return br.mid()
}

// target is how tightly an edge is bracketed before the search stops.
func (s *edgeSearch) target() time.Duration {
	if s.a.b.tl.tm.Virtual() {
		return virtualTarge
	}
	return realTarget
}

// refine narrows the bracket round by round: the hypothesis pair around
// the candidate step edge inside it, else evenly spread points (one, a
// bisection, in virtual time).
func (s *edgeSearch) refine(ctx context.Context) error {
	P := s.a.b.period
	for round := 0; round < maxRounds; round++ {
		s.absorb()
		if s.follow != nil {
			if ph := s.follow(); ph != nil {
				s.phase = ph
			}
		}
		s.mu.Lock()
		br := s.br
		s.mu.Unlock()
		if br.lo >= br.hi {
			return fmt.Errorf("accepted at %.3f s and refused at %.3f s from a code's step: no single edge (a target that answers otherwise than by time?)", br.lo.Seconds(), br.hi.Seconds())
		}
		if br.width() <= s.target() {
			return nil
		}
		pts := s.plan(br, P)
		if len(pts) == 0 {
			return nil
		}
		if err := s.cross(ctx, pts); err != nil {
			return err
		}
	}
	return fmt.Errorf("not bracketed after %d rounds", maxRounds)
}

// plan picks the next round's points (times from a code's step start).
func (s *edgeSearch) plan(br bracket, P time.Duration) []time.Duration {
	eps := s.eps
	if c, ok := s.candidate(br, P); ok {
		// A point already answered (within half of eps) is not asked again.
		var pts []time.Duration
		if c-eps > br.lo+eps/2 {
			pts = append(pts, c-eps)
		}
		if c+eps < br.hi-eps/2 {
			pts = append(pts, c+eps)
		}
		if len(pts) > 0 {
			return pts
		}
	}
	k := 1
	if !s.a.b.tl.tm.Virtual() {
		// Enough points that the next bracket is within the target.
		k = int(min(int64(maxRealK), max(1, ceilDiv(int64(br.width()), int64(s.target()))-1)))
	}
	if s.upper && !br.hiSeen && br.width() > P {
		// Nothing refused yet: step up a period at a time.
		var pts []time.Duration
		for i := 1; i <= k; i++ {
			if x := br.lo + time.Duration(i)*P; x < br.hi {
				pts = append(pts, x)
			}
		}
		return pts
	}
	pts := make([]time.Duration, k)
	for i := range pts {
		pts[i] = br.lo + time.Duration(i+1)*br.width()/time.Duration(k+1)
	}
	return pts
}

// candidate is the step edge (phase modulo P) inside the bracket nearest
// the side already seen: the upper edge is probed upward, the lower
// downward, the order in which real time reaches them.
func (s *edgeSearch) candidate(br bracket, P time.Duration) (time.Duration, bool) {
	if s.phase == nil {
		return 0, false
	}
	var c time.Duration
	if s.upper {
		c = *s.phase + time.Duration(floorDiv(int64(br.lo-*s.phase), int64(P))+1)*P
	} else {
		c = *s.phase + time.Duration(floorDiv(int64(br.hi-*s.phase), int64(P)))*P
	}
	return c, c > br.lo && c <= br.hi
}

// cross submits the round's points at their instants, each on a pristine
// enrollment, and records the answers as they come; a point the answers
// so far make useless is not sent. Upper-edge points each take an
// enrollment of their own (an accepted code is consumed); lower-edge
// points share one code on as few enrollments as the lockout allows,
// refused until the edge and then accepted.
func (s *edgeSearch) cross(ctx context.Context, pts []time.Duration) error {
	b := s.a.b
	var chains [][]time.Duration
	if s.upper {
		for _, x := range pts {
			chains = append(chains, []time.Duration{x})
		}
	} else {
		lf, err := b.lockout.get(ctx)
		if err != nil {
			return err
		}
		per := 2
		if lf.limit > 2 {
			per = lf.limit - 1
		} else if lf.none {
			per = len(pts)
		}
		n := (len(pts) + per - 1) / per
		chains = make([][]time.Duration, n)
		for i, x := range pts {
			chains[i%n] = append(chains[i%n], x)
		}
	}
	// A round is one crossing: a point whose enrollment can only make it
	// a step later is left to the next round, unless none could make it.
	// Enrollments are leased in the order of the points, the first (for an
	// upper edge, the one expected accepted) first: it gets the soonest.
	deadline := b.tl.now().Add(3 * b.period / 2)
	for range 2 {
		errs := make([]error, len(chains))
		sent := make([]bool, len(chains))
		g := b.tl.newGroup()
		for i, ch := range chains {
			d, n, err := s.leaseFor(ctx, ch)
			if err != nil {
				return err
			}
			if !deadline.IsZero() && stepStart(n, b.period).Add(ch[0]).After(deadline) {
				s.a.release(d)
				continue
			}
			g.spawn(func() {
				defer s.a.release(d)
				sent[i], errs[i] = s.chain(ctx, d, n, ch)
			})
		}
		if err := g.wait(ctx); err != nil {
			return err
		}
		any := false
		for i, err := range errs {
			if err != nil {
				return err
			}
			any = any || sent[i]
		}
		if any {
			return nil
		}
		deadline = time.Time{}
	}
	return nil
}

// useful reports whether a probe at x can still narrow the bracket.
func (s *edgeSearch) useful(x time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return x > s.br.lo && x < s.br.hi
}

// leaseFor leases the pristine enrollment that can serve the first of xs
// soonest, and the step whose code it submits.
func (s *edgeSearch) leaseFor(ctx context.Context, xs []time.Duration) (*device, int64, error) {
	b := s.a.b
	P := b.period
	lead := realLead
	if b.tl.tm.Virtual() {
		lead = 0
	}
	// The first step whose code is clean on d and whose instant for the
	// first point is still ahead.
	stepFor := func(d *device, now time.Time) int64 {
		return b.cleanStepLocked(d, firstStepAtOrAfter(now.Add(lead), xs[0], P, -1<<62))
	}
	at := func(d *device, now time.Time) (time.Time, bool) {
		return stepStart(stepFor(d, now), P).Add(xs[0]), true
	}
	d, err := s.a.lease(ctx, lease{pristine: true, refusals: max(1, len(xs)-1), oldest: s.upper, notOld: !s.upper, at: at})
	if err != nil {
		return nil, 0, err
	}
	b.mu.Lock()
	n := stepFor(d, b.tl.now())
	b.mu.Unlock()
	return d, n, nil
}

// chain submits on d the code of step n at the points xs, in order, and
// reports whether it sent anything.
func (s *edgeSearch) chain(ctx context.Context, d *device, n int64, xs []time.Duration) (bool, error) {
	b := s.a.b
	P := b.period
	stepFor := func(d *device, now time.Time) int64 {
		return b.cleanStepLocked(d, firstStepAtOrAfter(now, xs[0], P, -1<<62))
	}
	sent := false
	tol := realEps / 2
	if b.tl.tm.Virtual() {
		tol = 0
	}
	stale := 0
	for i := 0; i < len(xs); i++ {
		x := xs[i]
		if !s.useful(x) {
			return sent, nil
		}
		when := stepStart(n, P).Add(x)
		if err := b.tl.until(ctx, when, s.a.name, s.why()); err != nil {
			return sent, err
		}
		if !s.useful(x) {
			return sent, nil
		}
		an, err := s.a.sendBy(ctx, d, false, func(time.Time) ([]string, int64) { return []string{d.code(n)}, n }, when.Add(tol))
		if errors.Is(err, errStale) && stale < 8 {
			stale++
			// Held up past the instant ("slow down"): the same points a
			// step later, with that step's code (still clean: nothing of
			// this enrollment was accepted since).
			b.mu.Lock()
			n = max(n+1, stepFor(d, b.tl.now()))
			b.mu.Unlock()
			i--
			continue
		}
		if err != nil {
			return sent, err
		}
		sent = true
		s.record(an)
		if an.v.Outcome != Rejected {
			return sent, nil // accepted (the code is used) or locked
		}
	}
	return sent, nil
}

func (s *edgeSearch) why() string {
	if s.upper {
		return "a code's acceptance to end (the window's back edge)"
	}
	return "a future code's acceptance to begin (the window's forward edge)"
}
