package testbench

import (
	"context"
	"fmt"
	"time"
)

// realSendMargin keeps a code meant to be accepted this far inside the
// surely accepted stretch in real time: the request is judged up to a
// round trip after it is sent.
const realSendMargin = 250 * time.Millisecond

// surely is the stretch of x (time since a code's step began) where every
// code is accepted, by the measured edges: from the lower edge's highest
// possible value to the upper edge's lowest, less the send margin.
func (a *actor) surely(e *edges) (lo, hi time.Duration) {
	lo, hi = e.lower.hi, e.upper.lo
	if !a.b.tl.tm.Virtual() {
		lo, hi = lo+realSendMargin, hi-realSendMargin
	}
	return lo, hi
}

// nextAccepted returns the first step n whose code is clean on d at or
// after the step from, and the first instant at or after now where it is
// surely accepted and stays so for hold more: submit it then.
func (a *actor) nextAccepted(d *device, e *edges, from int64, hold time.Duration) (int64, time.Time, error) {
	a.b.mu.Lock()
	defer a.b.mu.Unlock()
	return a.nextAcceptedLocked(d, e, from, hold, a.b.tl.now())
}

// nextAcceptedLocked is nextAccepted with bench.mu held.
func (a *actor) nextAcceptedLocked(d *device, e *edges, from int64, hold time.Duration, now time.Time) (int64, time.Time, error) {
	b := a.b
	P := b.period
	if t := b.throttledUntilLocked(d); t.After(now) {
		now = t // a silent throttle holds d until then
	}
	lo, hi := a.surely(e)
	hi -= hold
	if hi < lo {
		return 0, time.Time{}, fmt.Errorf("the window (%.3f s to %.3f s of a code's step) is too narrow to hold a code %.3f s", e.lower.hi.Seconds(), e.upper.lo.Seconds(), hold.Seconds())
	}
	// The steps whose stretch [nP+lo, nP+hi] is not over yet.
	n := max(from, firstStepAtOrAfter(now, hi, P, -1<<62))
	for range 1000 {
		n = b.cleanStepLocked(d, n)
		at := stepStart(n, P).Add(lo)
		if at.Before(now) {
			at = now
		}
		if !at.After(stepStart(n, P).Add(hi)) {
			return n, at, nil
		}
		n++
	}
	return 0, time.Time{}, fmt.Errorf("no clean code found on %s", d.enr)
}

// acceptedLease leases the enrollment that can soonest submit a surely
// accepted code held hold, from a clean step after from steps past its
// consumed ones.
func (a *actor) acceptedLease(ctx context.Context, e *edges, refusals int, hold time.Duration, from int64) (*device, error) {
	return a.lease(ctx, lease{refusals: refusals, at: func(d *device, now time.Time) (time.Time, bool) {
		_, at, err := a.nextAcceptedLocked(d, e, a.b.cleanFromLocked(d)+from, hold, now)
		return at, err == nil
	}})
}

// submitAccepted submits on d, at the first moment it is surely accepted,
// the code of the first clean step at or after from; it returns the
// answer. hold is how long after the code must stay in the window (for a
// second submission of it).
func (a *actor) submitAccepted(ctx context.Context, d *device, e *edges, from int64, hold time.Duration, why string) (answer, error) {
	for try := 0; ; try++ {
		n, at, err := a.nextAccepted(d, e, from, hold)
		if err != nil {
			return answer{}, err
		}
		if err := a.b.tl.until(ctx, at, a.name, why); err != nil {
			return answer{}, err
		}
		an, err := a.send(ctx, d, false, func(time.Time) ([]string, int64) { return []string{d.code(n)}, n })
		if err != nil || !an.waited || an.v.Outcome == Accepted || try >= 4 {
			return an, err
		}
		// Sent later than planned (a "slow down"): the refusal may be the
		// window's. Again, with a code surely accepted now.
	}
}

// wrongCode returns a code of d's length that is no step's code near now
// (so no window the bench probes accepts it); i varies it.
func (a *actor) wrongCode(d *device, i int) string {
	b := a.b
	s := stepOf(b.tl.now(), b.period)
	near := map[string]bool{}
	span := int64(b.cfg.MaxSteps + 3)
	for x := s - span; x <= s+span; x++ {
		near[d.code(x)] = true
	}
	m := 1
	for range d.acct.Digits {
		m *= 10
	}
	base := 0
	for _, c := range d.code(s) {
		base = base*10 + int(c-'0')
	}
	for n := 1; ; n++ {
		v := (base + 500_009 + (i+n)*7_919) % m
		c := fmt.Sprintf("%0*d", d.acct.Digits, v)
		if !near[c] {
			return c
		}
	}
}

// sendWrong submits a wrong code on d.
func (a *actor) sendWrong(ctx context.Context, d *device, i int) (answer, error) {
	return a.send(ctx, d, false, func(time.Time) ([]string, int64) { return []string{a.wrongCode(d, i)}, -1 })
}
