package testbench

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// nistMaxFailures is NIST SP 800-63B section 5.2.2's limit: at most 100
// consecutive failed attempts on one account.
const nistMaxFailures = 100

// throttleLockoutCap is the longest throttle the lockout scenario waits
// out before one more wrong code: 10 minutes in virtual time (free), 32 s
// in real time.
func (a *actor) throttleLockoutCap() time.Duration {
	if a.b.tl.tm.Virtual() {
		return 10 * time.Minute
	}
	return 32 * time.Second
}

// LockoutResult is when and how the target locks.
type LockoutResult struct {
	// FailuresBeforeLock is how many wrong codes were refused before the
	// first "locked" answer; null when none came within MaxAttempts.
	FailuresBeforeLock         *int     `json:"failures_before_lock"`
	RightCodeRefusedWhenLocked *bool    `json:"right_code_refused_when_locked"`
	SuccessResets              *bool    `json:"success_resets"`
	LockScope                  string   `json:"lock_scope,omitempty"` // "device", or "beyond the device" when a fresh enrollment is locked too
	MaxAttempts                int      `json:"max_attempts"`
	RetryAfterS                *float64 `json:"retry_after_s"` // what the locked answer asked, when it said
	// ThrottledAfter: on a target that throttles silently, the wrong codes
	// sent (each after the last one's throttle) before the next wait grew
	// too long; null otherwise.
	ThrottledAfter *int `json:"throttled_after,omitempty"`
}

// runLockout submits wrong codes until the target locks (at most
// MaxAttempts) and publishes the count at once: the other scenarios
// spread their refusals below it. Then, with the edges known (a right
// code must be surely accepted otherwise), a right code while locked, and
// on a fresh enrollment whether a success resets the count.
func runLockout(ctx context.Context, a *actor) (any, []Check, error) {
	b := a.b
	res := &LockoutResult{MaxAttempts: b.cfg.MaxAttempts}
	published := false
	publish := func(lf lockoutFacts) {
		if !published {
			published = true
			b.lockout.resolve(lf, nil)
		}
	}
	defer publish(lockoutFacts{})
	defer b.lockoutDone.resolve(true, nil)
	d, err := a.freshBound(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	defer a.release(d)
	// The enrollment for the reset test is bound now too: its steps are
	// clean by the time the edges are known (two right codes at once).
	// With fewer than 3 test users it waits: holding two would starve the
	// others (they wait for the count this scenario publishes).
	few := b.fewAccounts()
	var reset *device
	if !few {
		reset, err = a.freshBound(ctx, false)
		if err != nil && !errors.Is(err, errLockedBeyond) {
			return nil, nil, err
		}
		if reset != nil {
			defer a.release(reset)
		}
	}
	failures, locked, lockV, err := a.lockUp(ctx, d, b.cfg.MaxAttempts)
	if err != nil {
		return nil, nil, err
	}
	if locked {
		res.FailuresBeforeLock = ptr(failures)
		if lockV.v.RetryAfter > 0 {
			res.RetryAfterS = ptr(lockV.v.RetryAfter.Seconds())
		}
		publish(lockoutFacts{limit: failures, lockFor: lockV.v.RetryAfter})
	} else {
		publish(lockoutFacts{none: true})
	}
	if few {
		// The edges need the test users this one holds: give it back;
		// a fresh enrollment is locked again below.
		a.release(d)
	}
	e, err := a.measuredEdges(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("a right code needs the window: %w", err)
	}
	// A right code now: refused while locked (with no "locked" answer, a
	// refusal is a sign of a silent lock). If the lock would be over by the
	// time the right code is surely accepted, lock a fresh enrollment.
	b.mu.Lock()
	s0 := d.bindHi + 1
	lockEnd := d.lockedTo
	b.mu.Unlock()
	_, at, err := a.nextAccepted(d, e, s0, 0)
	if err != nil {
		return nil, nil, err
	}
	if few && !locked {
		// Its enrollment was given back: the same wrong codes on a fresh
		// one, for the right code after them.
		s0 = 0
		if d, err = a.freshBound(ctx, false); err != nil {
			return nil, nil, err
		}
		defer a.release(d)
		if _, _, _, err := a.lockUp(ctx, d, failures); err != nil {
			return nil, nil, err
		}
	}
	if locked && (few || (!lockEnd.IsZero() && !at.Add(time.Second).Before(lockEnd))) {
		s0 = 0
		a.release(d) // a test user's account may be needed for the fresh one
		if d, err = a.freshBound(ctx, false); err != nil {
			return nil, nil, err
		}
		defer a.release(d)
		if _, at, err = a.nextAccepted(d, e, 0, 0); err != nil {
			return nil, nil, err
		}
		if err := b.tl.until(ctx, at, a.name, "a right code for a locked enrollment"); err != nil {
			return nil, nil, err
		}
		if _, relocked, _, err := a.lockUp(ctx, d, failures+1); err != nil {
			return nil, nil, err
		} else if !relocked {
			return nil, nil, fmt.Errorf("a fresh enrollment did not lock after %d wrong codes", failures)
		}
	}
	an, err := a.submitAccepted(ctx, d, e, s0, 0, "a right code for the locked enrollment")
	if err != nil {
		return nil, nil, err
	}
	res.RightCodeRefusedWhenLocked = ptr(an.v.Outcome != Accepted)
	checks := lockoutChecks(res, locked, failures, an.v)
	if t := b.throttle; t != nil && !locked {
		res.ThrottledAfter = ptr(failures)
		checks[0] = Check{ID: "lockout.limit", Status: Pass, Detail: fmt.Sprintf(
			"no lock, but a silent throttle: %d wrong codes took %s, each waiting out the last (the n-th failure in a row holds every code %.1f s x 2^(n-1)), so a day allows about %d guesses",
			failures, hoursText(throttleTotal(t, failures).Hours()), t.first.Seconds(), throttleGuesses(t, 24*time.Hour))}
	}
	if !locked || failures < 2 {
		return res, checks, nil // one failure locks: a reset cannot be observed
	}
	if few {
		a.release(d)
		reset, err = a.freshBound(ctx, false)
		if err != nil && !errors.Is(err, errLockedBeyond) {
			return nil, nil, err
		}
		if reset != nil {
			defer a.release(reset)
		}
	}
	c, err := a.successResets(ctx, reset, e, failures, res)
	if err != nil {
		return nil, nil, err
	}
	return res, append(checks, c...), nil
}

// lockUp submits wrong codes on d until it locks or max were refused.
//
// On a target that throttles silently each wrong code waits out the
// throttle (or it would not count), so it stops when the next wait would
// be over throttleLockoutCap: the throttle is then the limit.
func (a *actor) lockUp(ctx context.Context, d *device, max int) (failures int, locked bool, lock answer, err error) {
	for i := 0; i < max; i++ {
		if t := a.b.throttle; t != nil && t.delay(failures) > a.throttleLockoutCap() {
			break
		}
		an, err := a.sendWrong(ctx, d, i)
		if err != nil {
			return 0, false, answer{}, err
		}
		switch an.v.Outcome {
		case Accepted:
			return 0, false, answer{}, fmt.Errorf("a wrong code was accepted on %s", d.enr)
		case Locked:
			return failures, true, an, nil
		}
		failures++
	}
	return failures, false, answer{}, nil
}

func lockoutChecks(res *LockoutResult, locked bool, failures int, v Verdict) []Check {
	var checks []Check
	switch {
	case locked && failures <= nistMaxFailures:
		checks = append(checks, Check{ID: "lockout.limit", Status: Pass,
			Detail: fmt.Sprintf("locked after %d consecutive wrong codes (NIST SP 800-63B section 5.2.2 allows at most %d)", failures, nistMaxFailures)})
	case locked:
		checks = append(checks, Check{ID: "lockout.limit", Status: Fail,
			Detail: fmt.Sprintf("locked only after %d consecutive wrong codes: NIST SP 800-63B section 5.2.2 allows at most %d", failures, nistMaxFailures)})
	case v.Outcome != Accepted:
		checks = append(checks, Check{ID: "lockout.limit", Status: Warn,
			Detail: fmt.Sprintf("never answered \"locked\" within %d wrong codes, but then refused a right code: it may lock silently", failures)})
	case failures > nistMaxFailures:
		checks = append(checks, Check{ID: "lockout.limit", Status: Fail,
			Detail: fmt.Sprintf("no lockout within %d consecutive wrong codes: NIST SP 800-63B section 5.2.2 allows at most %d", failures, nistMaxFailures)})
	default:
		checks = append(checks, Check{ID: "lockout.limit", Status: Warn,
			Detail: fmt.Sprintf("no lockout within %d wrong codes (--max-attempts); at least %d are needed to test NIST SP 800-63B section 5.2.2's limit of %d", failures, nistMaxFailures+1, nistMaxFailures)})
	}
	if locked {
		if v.Outcome == Accepted {
			checks = append(checks, Check{ID: "lockout.right-code-refused", Status: Fail,
				Detail: "a right code was accepted while the target answered \"locked\": the lock does not stop a guess that hits"})
		} else {
			checks = append(checks, Check{ID: "lockout.right-code-refused", Status: Pass,
				Detail: "a right code was refused while locked (" + v.Outcome.String() + ")"})
		}
	}
	return checks
}

// successResets, on a fresh enrollment, submits n-1 wrong codes, a right
// one, one more wrong one and a right one: if the success did not reset
// the count, the target has seen n failures and the last right code is
// refused. A fresh enrollment that comes locked shows a lock kept beyond
// the device.
func (a *actor) successResets(ctx context.Context, d *device, e *edges, n int, res *LockoutResult) ([]Check, error) {
	b := a.b
	beyond := func() []Check {
		res.LockScope = "beyond the device"
		return []Check{{ID: "lockout.scope", Status: Warn,
			Detail: "a fresh enrollment was locked too: the lock is kept per user or per client, so fresh enrollments do not isolate probes"}}
	}
	if d == nil || b.lockedBeyond() {
		return beyond(), nil
	}
	res.LockScope = "device"
	// The right codes: two clean steps both surely accepted at once when
	// the window holds them, else one now and one a step later.
	n1, at, err := a.nextAccepted(d, e, 0, 0)
	if err != nil {
		return nil, err
	}
	if err := b.tl.until(ctx, at, a.name, "a right code on a fresh enrollment"); err != nil {
		return nil, err
	}
	for i := 0; i < n-1; i++ {
		an, err := a.sendWrong(ctx, d, 1000+i)
		if err != nil {
			return nil, err
		}
		if an.v.Outcome == Locked && b.lockedBeyond() {
			return beyond(), nil
		}
		if an.v.Outcome != Rejected {
			return []Check{{ID: "lockout.success-resets", Status: Warn,
				Detail: fmt.Sprintf("not measured: wrong code %d of %d on a fresh enrollment was answered %v", i+1, n-1, an.v)}}, nil
		}
	}
	an, err := a.submitAccepted(ctx, d, e, n1, 0, "a right code")
	if err != nil {
		return nil, err
	}
	if an.v.Outcome != Accepted {
		return []Check{{ID: "lockout.success-resets", Status: Warn,
			Detail: fmt.Sprintf("not measured: a right code after %d wrong ones was answered %v", n-1, an.v)}}, nil
	}
	if _, err := a.sendWrong(ctx, d, 2000); err != nil {
		return nil, err
	}
	an, err = a.submitAccepted(ctx, d, e, an.step+1, 0, "a second right code")
	if err != nil {
		return nil, err
	}
	resets := an.v.Outcome == Accepted
	res.SuccessResets = ptr(resets)
	if resets {
		b.mu.Lock()
		b.resets = true
		b.mu.Unlock()
		return []Check{{ID: "lockout.success-resets", Status: Pass,
			Detail: fmt.Sprintf("a success resets the count: %d wrong, right, 1 wrong, right was accepted", n-1)}}, nil
	}
	return []Check{{ID: "lockout.success-resets", Status: Pass,
		Detail: fmt.Sprintf("failures are counted across successes: after %d wrong, right, 1 wrong, a right code was %v", n-1, an.v.Outcome)}}, nil
}

// lockedBeyond reports whether a fresh enrollment has come locked: the
// target keeps its lock per user or per client, not per device.
func (b *bench) lockedBeyond() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.beyond
}
