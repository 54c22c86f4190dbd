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
		why := "a lock that covers every enrollment to end"
		if !d.rawSend {
			if t := b.throttledUntilLocked(d); t.After(pause) {
				pause, why = t, fmt.Sprintf("the target's silent throttle after %d refusals", d.tfails)
			}
		}
		b.mu.Unlock()
		if pause.After(b.tl.now()) {
			if err := b.tl.until(ctx, pause, a.name, why); err != nil {
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
			an.v = b.tgt.Bind(b.reqCtx, d.enr, an.codes)
		} else {
			an.v = b.tgt.Verify(b.reqCtx, d.enr, an.codes[0])
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
			b.mu.Lock()
			b.throttles++
			if an.v.RetryAfter > 0 && len(b.retryAfters) < 16 {
				b.retryAfters = append(b.retryAfters, an.v.RetryAfter.Seconds())
			}
			b.mu.Unlock()
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
			// Up to 10 % more, different per enrollment and try: the
			// submissions a "slow down" held do not all come back at one
			// instant to be held again.
			wait += wait * time.Duration((d.n*7+throttles*13)%11) / 100
			// The try in the reason: each back-off is a countdown of its
			// own, so a longer one after a shorter is not a clock going
			// backwards.
			why := fmt.Sprintf("the target's \"slow down\" (HTTP 429), retry %d of %d", throttles, maxThrottles)
			if an.v.RetryAfter > 0 {
				why = fmt.Sprintf("the target's Retry-After (HTTP 429), retry %d of %d", throttles, maxThrottles)
			}
			if err := b.tl.sleep(ctx, wait, a.name, why); err != nil {
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
		d.tfails = 0
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
		d.tfails++
		d.lastFail = an.recv
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
