package testbench

import (
	"context"
	"fmt"
	"time"
)

// hullLocked is the stretch of x (time since a code's step began) where
// codes were seen accepted on pristine enrollments and by binds: by the
// one model every x in it is accepted. ok is false before any accept.
func (b *bench) hullLocked() (lo, hi time.Duration, ok bool) {
	for i, e := range b.evidence {
		xl, xh := e.an.x(b.period)
		if i == 0 || xh < lo {
			lo = xh
		}
		if i == 0 || xl > hi {
			hi = xl
		}
	}
	if lo > hi {
		// One answer, judged somewhere between sent and received: its
		// middle stands for the stretch.
		lo = lo + (hi-lo)/2
		hi = lo
	}
	return lo, hi, len(b.evidence) > 0
}

// stepNear is the step whose code is judged nearest x after its step
// began, sent at now.
func stepNear(now time.Time, x, p time.Duration) int64 {
	return floorDiv(int64(now.Sub(stepStart(0, p))-x+p/2), int64(p))
}

// bind binds d and returns the device bound: d, or a fresh one when d
// locked. Its codes are the step whose x is nearest the middle of the
// stretch seen accepted (the true step's middle at first), then a step
// older, newer, ... (a server whose clock is off by steps). With oldest
// it binds with the oldest codes seen accepted, searching older ones the
// first time, so that later steps are clean sooner.
func (a *actor) bind(ctx context.Context, d *device, oldest bool) (*device, error) {
	b := a.b
	if b.caps.BindCodes == 0 {
		return d, nil
	}
	b.mu.Lock()
	if b.bindErr != nil {
		err := b.bindErr
		d.dead = true
		b.mu.Unlock()
		return nil, err
	}
	_, _, seen := b.hullLocked()
	searched := b.searchedBack
	b.searchedBack = b.searchedBack || (oldest && seen)
	b.mu.Unlock()
	if oldest && seen {
		return a.bindOldest(ctx, d, !searched)
	}
	var last Verdict
	for i, k := range outward(0, b.cfg.MaxSteps) {
		v, nd, err := a.bindOnce(ctx, d, func(now time.Time) int64 {
			b.mu.Lock()
			defer b.mu.Unlock()
			if lo, hi, ok := b.hullLocked(); ok && i < 2*b.cfg.MaxSteps {
				return b.bindStepLocked(now, b.bindTargetLocked(), lo, hi)
			}
			return stepNear(now, b.period/2, b.period) - int64(k)
		})
		if err != nil {
			return nil, err
		}
		d, last = nd, v
		if v.Outcome == Accepted {
			return d, nil
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bindErr == nil {
		b.bindErr = fmt.Errorf("no bind accepted with codes within %d steps of the true time (last answer: %v)", b.cfg.MaxSteps, last)
	}
	d.dead = true
	return nil, b.bindErr
}

// bindStepLocked picks the step of a bind's last code when a bind sent now
// should be accepted: its x between the binds refused above and below
// the stretch seen accepted [lo, hi], nearest target.
func (b *bench) bindStepLocked(now time.Time, target, lo, hi time.Duration) int64 {
	P := b.period
	n := stepNear(now, target, P)
	x := func(n int64) time.Duration { return sinceStep(now, n, P) }
	for range 4 {
		switch {
		case b.refAbove != nil && x(n) >= *b.refAbove && x(n+1) > lo-P:
			n++ // too old: a newer code
		case b.refBelow != nil && x(n) <= *b.refBelow && x(n-1) < hi+P:
			n-- // too new
		}
	}
	return n
}

// bindTargetLocked is the x a bind aims at: the middle of the server's
// own step when its Date header has told its clock (a bind there moves
// no window, even on a server that re-centres on drift), else the first
// bind accepted.
func (b *bench) bindTargetLocked() time.Duration {
	P := b.period
	if dc, ok := b.dateF.peek(); ok && dc != nil {
		return mod(P/2-dc.theta(), P)
	}
	xl, xh := b.evidence[0].an.x(P)
	return xl + (xh-xl)/2
}

// bindOldest binds d with the oldest code seen accepted: the step whose x
// is the largest at most the stretch's top. With search, it first tries
// a step older each time, each on its own enrollment (those accepted stay
// in the pool), until one is refused.
func (a *actor) bindOldest(ctx context.Context, d *device, search bool) (*device, error) {
	b := a.b
	P := b.period
	for search {
		b.mu.Lock()
		_, hi, _ := b.hullLocked()
		b.mu.Unlock()
		if _, limit := b.limits(); hi+P > limit {
			break
		}
		v, nd, err := a.bindOnce(ctx, d, func(now time.Time) int64 {
			// A step older than any seen: the step whose x is nearest
			// hi+P (the hull's top was seen a little while ago).
			return stepNear(now, hi+P, P)
		})
		if err != nil {
			return nil, err
		}
		d = nd
		if v.Outcome != Accepted {
			// Refused: this one goes to the pool bound as usual (it has a
			// refusal on its books), a fresh one takes the oldest codes,
			// when the budget allows.
			b.mu.Lock()
			spent := b.nEnroll >= b.cfg.MaxEnrollments
			b.mu.Unlock()
			if spent {
				break
			}
			bd, err := a.bind(ctx, d, false)
			if err != nil {
				return nil, err
			}
			a.release(bd)
			if d, err = a.enroll(ctx); err != nil {
				return nil, err
			}
			break
		}
		// Accepted: keep it in the pool, and go on back with another
		// while the enrollment budget allows.
		b.mu.Lock()
		d.oldBound = true
		spent := b.nEnroll >= b.cfg.MaxEnrollments
		b.mu.Unlock()
		if spent {
			return d, nil
		}
		a.release(d)
		if d, err = a.enroll(ctx); err != nil {
			return nil, err
		}
	}
	v, nd, err := a.bindOnce(ctx, d, func(now time.Time) int64 {
		b.mu.Lock()
		defer b.mu.Unlock()
		_, hi, _ := b.hullLocked()
		// The largest x at most hi, or a little above it (the stretch's
		// top was seen a while ago: the same code is older now), short of
		// a bind refused: a refusal here costs a bind, not a result.
		limit := hi + P/3
		if b.refAbove != nil {
			limit = min(limit, *b.refAbove-P/10)
		}
		return ceilDiv(int64(now.Sub(stepStart(0, P))-max(limit, hi)), int64(P))
	})
	if err != nil {
		return nil, err
	}
	if v.Outcome != Accepted {
		// Narrower than a step where it was seen: the usual search.
		return a.bind(ctx, nd, false)
	}
	b.mu.Lock()
	nd.oldBound = true
	b.mu.Unlock()
	return nd, nil
}

// bindOnce binds d with the codes ending at the step pick gives for the
// moment of sending, and returns the verdict (Accepted or Rejected) and
// the device it was given on: a lock moves it to a fresh enrollment, or,
// when the lock covers every enrollment and says how long, waits.
func (a *actor) bindOnce(ctx context.Context, d *device, pick func(now time.Time) int64) (Verdict, *device, error) {
	b := a.b
	bc := b.caps.BindCodes
	var last Verdict
	for try := 0; try < 8; try++ {
		an, err := a.send(ctx, d, true, func(now time.Time) ([]string, int64) {
			hi := pick(now)
			codes := make([]string, bc)
			for i := range codes {
				codes[i] = d.code(hi - int64(bc-1-i))
			}
			return codes, hi
		})
		if err != nil {
			return Verdict{}, d, fmt.Errorf("binding %s: %w", d.enr, err)
		}
		last = an.v
		switch an.v.Outcome {
		case Accepted:
			b.mu.Lock()
			b.evidence = append(b.evidence, evidence{an: an, accepted: true})
			if b.firstBind == nil {
				j := an.step - stepOf(an.sent, b.period)
				b.firstBind = &j
			}
			b.mu.Unlock()
			return an.v, d, nil
		case Rejected:
			// A hint for the next binds: refused above the stretch seen
			// accepted, or below it.
			b.mu.Lock()
			if lo, hi, ok := b.hullLocked(); ok {
				xl, xh := an.x(b.period)
				if xl > hi && (b.refAbove == nil || xl < *b.refAbove) {
					b.refAbove = &xl
				}
				if xh < lo && (b.refBelow == nil || xh > *b.refBelow) {
					b.refBelow = &xh
				}
			}
			b.mu.Unlock()
			return an.v, d, nil
		}
		b.mu.Lock()
		pause, fresh := b.pause, d.fails == 0
		b.mu.Unlock()
		if fresh && !pause.After(an.recv) {
			return an.v, d, fmt.Errorf("%w: a fresh enrollment is locked (%v)", errLockedBeyond, an.v)
		}
		if !fresh {
			// This enrollment locked from its own refusals: another.
			if d, err = a.enroll(ctx); err != nil {
				return an.v, d, err
			}
		}
	}
	return last, d, fmt.Errorf("binding: no definitive answer (last: %v)", last)
}

// sniff learns cheaply whether the target remembers codes: it submits the
// bind's last code twice at once (with no bind, a code three times: the
// first accept only makes it a used one). Accepted every time, no refusal
// can be blamed on replay and nothing needs to wait.
func (a *actor) sniff(ctx context.Context, d *device) error {
	b := a.b
	b.mu.Lock()
	bc, step := b.caps.BindCodes, d.bindHi
	mid := b.period / 2
	if lo, hi, ok := b.hullLocked(); ok {
		mid = lo + (hi-lo)/2
	}
	b.mu.Unlock()
	n := 2
	if bc == 0 {
		n = 3
	}
	for i := range n {
		an, err := a.send(ctx, d, false, func(now time.Time) ([]string, int64) {
			if bc == 0 && i == 0 {
				step = stepNear(now, mid, b.period)
			}
			return []string{d.code(step)}, step
		})
		if err != nil || an.v.Outcome != Accepted {
			return err
		}
	}
	return nil
}
