package testbench

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Retry limits.
const (
	maxThrottles    = 6                // 429s in a row for one submission before giving up
	maxErrorRetries = 3                // transport errors / 5xx in a row for one submission
	maxThrottleWait = 10 * time.Minute // longest single back-off honoured
	defaultThrottle = 2 * time.Second  // back-off when a 429 gives no Retry-After
)

// errLockedBeyond is returned when a fresh enrollment is already locked
// and the target does not say for how long.
var errLockedBeyond = errors.New("the lock covers more than one device")

// answer is a target's verdict on one submission, with when it was sent
// and received (true time): the target judged it in between.
type answer struct {
	v          Verdict
	sent, recv time.Time
	codes      []string
	step       int64 // the step of the last code
	// waited is set when a "slow down" or an error made send wait and
	// send again: the answer is for a later moment than the caller chose.
	waited bool
}

// x is where the code's acceptance interval was probed: the instant of
// judgement from the start of the code's own step, at most (recv - sent)
// early (lo) or late (hi).
func (an answer) x(p time.Duration) (lo, hi time.Duration) {
	return sinceStep(an.sent, an.step, p), sinceStep(an.recv, an.step, p)
}

// send submits on d (leased by the caller) the codes mk makes for the
// moment of sending: a bind when bind is set, else a verify of one code.
// mk is asked again after every wait (a "slow down", a retry), so a code
// never goes out stale. A global pause (a lock that covers every
// enrollment) is waited out first. The answer is Accepted, Rejected or
// Locked; the books are kept here.
func (a *actor) send(ctx context.Context, d *device, bind bool, mk func(now time.Time) ([]string, int64)) (answer, error) {
	return a.sendBy(ctx, d, bind, mk, time.Time{})
}

// errStale is sendBy's answer when a wait made the submission later than
// its latest moment.
var errStale = errors.New("the moment of the probe passed while waiting")

// sendBy is send for a probe that means something only until latest (a
// crossing at a planned instant): when a "slow down", a retry or a pause
// would send it later, it returns errStale instead and the caller plans
// it again. A zero latest is send.
func (a *actor) sendBy(ctx context.Context, d *device, bind bool, mk func(now time.Time) ([]string, int64), latest time.Time) (answer, error) {
	b := a.b
	throttles, errs := 0, 0
	for waited := false; ; waited = true {
		if err := ctx.Err(); err != nil {
			return answer{}, err
		}
		if waited && !latest.IsZero() && b.tl.now().After(latest) {
			return answer{waited: true}, errStale
		}
		b.mu.Lock()
		pause := b.pause
		b.mu.Unlock()
		if pause.After(b.tl.now()) {
			if err := b.tl.until(ctx, pause, a.name, "a lock that covers every enrollment to end"); err != nil {
				return answer{}, err
			}
			waited = true
			if !latest.IsZero() && b.tl.now().After(latest) {
				return answer{waited: true}, errStale
			}
		}
		select {
		case b.sem <- struct{}{}:
		case <-ctx.Done():
			return answer{}, ctx.Err()
		}
		an := answer{sent: b.tl.now(), waited: waited}
		an.codes, an.step = mk(an.sent)
		b.mu.Lock()
		b.subs[a.name] += len(an.codes)
		b.mu.Unlock()
		b.tl.begin()
		if bind {
			an.v = b.tgt.Bind(ctx, d.enr, an.codes)
		} else {
			an.v = b.tgt.Verify(ctx, d.enr, an.codes[0])
		}
		an.recv = b.tl.now()
		b.tl.end()
		b.trace(a.name, d, bind, an)
		<-b.sem
		switch an.v.Outcome {
		case Accepted, Rejected, Locked:
			b.keepBooks(d, bind, an)
			return an, nil
		case Throttled:
			throttles++
			if throttles > maxThrottles {
				return an, fmt.Errorf("target kept answering \"slow down\" (%d times in a row): %v", throttles, an.v)
			}
			wait := an.v.RetryAfter
			if wait <= 0 {
				wait = defaultThrottle << (throttles - 1)
			}
			if wait > maxThrottleWait {
				return an, fmt.Errorf("target asked to wait %v, over the %v the bench waits: %v", wait, maxThrottleWait, an.v)
			}
			if err := b.tl.sleep(ctx, wait, a.name, "the target's Retry-After (HTTP 429)"); err != nil {
				return an, err
			}
		default:
			if ctx.Err() != nil {
				return an, ctx.Err()
			}
			errs++
			if errs > maxErrorRetries {
				return an, fmt.Errorf("no verdict after %d tries: %v", errs, an.v)
			}
			if !b.tl.tm.Virtual() {
				if err := b.tl.sleep(ctx, time.Duration(errs)*500*time.Millisecond, a.name, ""); err != nil {
					return an, err
				}
			}
		}
	}
}

// keepBooks records an answer on d: codes and steps consumed, facts the
// target has shown, refusals, locks.
func (b *bench) keepBooks(d *device, bind bool, an answer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch an.v.Outcome {
	case Accepted:
		if bind {
			d.bound, d.hasBind, d.bindHi = true, true, an.step
			for _, c := range an.codes {
				d.used[c] |= usedByBind
			}
			return
		}
		c := an.codes[0]
		u := d.used[c]
		if u&usedByBind != 0 {
			b.facts.bindReusable, b.facts.notStepStrict = true, true
		}
		if u&usedByVerify != 0 {
			b.facts.noCodeReplay, b.facts.notStepStrict = true, true
		}
		if (d.hasBind && an.step <= d.bindHi) || (d.hasAcc && an.step <= d.accHi) {
			b.facts.notStepStrict = true
		}
		d.used[c] |= usedByVerify
		if d.pristine {
			b.evidence = append(b.evidence, evidence{an: an, accepted: true})
		}
		if !d.hasAcc || an.step > d.accHi {
			d.hasAcc, d.accHi = true, an.step
		}
		d.pristine = false
		if b.resets {
			d.fails = 0
		}
	case Rejected:
		d.fails++
	case Locked:
		if an.v.RetryAfter > 0 && an.v.RetryAfter <= maxThrottleWait {
			d.lockedTo = an.recv.Add(an.v.RetryAfter)
		} else {
			d.dead = true
		}
		if d.fails == 0 && !d.hasAcc {
			// A device that never failed comes locked: the lock covers
			// more than the device (per user, per client).
			b.pause, b.beyond = d.lockedTo, true
		}
	}
}

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
