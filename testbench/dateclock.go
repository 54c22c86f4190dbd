package testbench

import (
	"context"
	"fmt"
	"time"
)

// Date header search parameters.
const (
	dateRealK       = 24                    // requests per round in real time
	dateRealRounds  = 5                     // rounds at most (about a second each)
	dateRealWidth   = 4 * time.Millisecond  // stop once theta is bracketed this tightly
	dateVirtRounds  = 30                    // virtual time bisects, one request a round
	dateVirtWidth   = 2 * time.Microsecond  //
	dateRequestLead = 60 * time.Millisecond // a round is planned this far ahead
)

// dateClock is the server's clock offset theta (server minus truth) as
// its Date header tells it: theta is in [lo, hi).
type dateClock struct {
	lo, hi   time.Duration
	requests int
	rounds   int
	rtt      time.Duration // the longest round trip of the requests
	dur      time.Duration // true time from the first request to the last answer
}

func (d *dateClock) theta() time.Duration       { return d.lo + (d.hi-d.lo)/2 }
func (d *dateClock) uncertainty() time.Duration { return (d.hi - d.lo) / 2 }

// dateClock returns the server's clock from its Date header, measuring it
// the first time any scenario asks; nil when the target tells no time.
func (a *actor) dateClock(ctx context.Context) (*dateClock, error) {
	a.startDate(ctx)
	return a.b.dateF.get(ctx)
}

// earlyDate returns the server's clock as soon as its Date header brackets
// it to within the edges' hypothesis margin (a round before the last, in
// real time): enough to place the hypothesis, sooner.
func (a *actor) earlyDate(ctx context.Context) (*dateClock, error) {
	a.startDate(ctx)
	return a.b.dateEarly.get(ctx)
}

func (a *actor) startDate(ctx context.Context) {
	b := a.b
	b.dateOnce.Do(func() {
		b.tl.spawn(func() {
			d, err := b.actor(ScenarioServerClock).measureDate(ctx)
			b.dateEarly.resolve(d, err)
			b.dateF.resolve(d, err)
		})
	})
}

// measureDate brackets the instant the Date header's second flips, as
// htpdate does: a request judged at true instant t (between sending and
// answering) that reads D says the server's clock was in [D, D+1 s) then,
// so theta is in [D - recv, D + 1 s - sent). Requests placed where the
// flip would be for guesses spread over the bracket split it; in real
// time several a second, in virtual time one (a bisection). No code is
// spent.
func (a *actor) measureDate(ctx context.Context) (*dateClock, error) {
	b := a.b
	dt, ok := b.tgt.(Dater)
	if !ok {
		return nil, nil
	}
	virtual := b.tl.tm.Virtual()
	dc := &dateClock{}
	var first time.Time
	ask := func(at time.Time) (bool, error) {
		if err := b.tl.until(ctx, at, a.name, ""); err != nil {
			return false, err
		}
		sent := b.tl.now()
		if first.IsZero() {
			first = sent
		}
		b.tl.begin()
		d, err := dt.Date(b.reqCtx)
		recv := b.tl.now()
		b.tl.end()
		if err != nil {
			return false, fmt.Errorf("asking the server's Date: %w", err)
		}
		if d.IsZero() {
			return false, nil
		}
		lo, hi := d.Sub(recv), d.Add(time.Second).Sub(sent)
		b.mu.Lock()
		defer b.mu.Unlock()
		dc.requests++
		dc.rtt = max(dc.rtt, recv.Sub(sent))
		dc.dur = recv.Sub(first)
		if dc.requests == 1 {
			dc.lo, dc.hi = lo, hi
		} else {
			dc.lo, dc.hi = max(dc.lo, lo), min(dc.hi, hi)
		}
		return true, nil
	}
	got, err := ask(b.tl.now())
	if err != nil || !got {
		return nil, err
	}
	k, rounds, width := dateRealK, dateRealRounds, dateRealWidth
	if virtual {
		k, rounds, width = 1, dateVirtRounds, dateVirtWidth
	}
	// Virtual time has no hurry: its hypothesis waits for the last round.
	early := realEps / 2
	if virtual {
		early = 0
	}
	for r := 0; r < rounds; r++ {
		b.mu.Lock()
		lo, hi := dc.lo, dc.hi
		if hi-lo <= early && lo < hi {
			cp := *dc
			b.dateEarly.resolve(&cp, nil)
		}
		b.mu.Unlock()
		if hi-lo <= width || lo >= hi {
			break
		}
		dc.rounds++
		// The server's clock reads a whole second N at true instant
		// N - theta: for each guess q, ask at N - q (less half a round
		// trip, so the server judges it there).
		lead := dateRequestLead
		if virtual {
			lead = 0
		}
		now := b.tl.now()
		N := now.Add(lead + hi).Truncate(time.Second).Add(time.Second)
		g := b.tl.newGroup()
		errs := make([]error, k)
		for i := range k {
			q := lo + time.Duration(i+1)*(hi-lo)/time.Duration(k+1)
			at := N.Add(-q - dc.rtt/2)
			g.spawn(func() { _, errs[i] = ask(at) })
		}
		if err := g.wait(ctx); err != nil {
			return nil, err
		}
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
	}
	if dc.lo >= dc.hi {
		b.note("the Date headers contradict each other (a clock that jumps, or another clock than the one the bench drives): the server's clock is taken from the codes alone")
		return nil, nil
	}
	return dc, nil
}
