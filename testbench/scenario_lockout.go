package testbench

import (
	"context"
	"errors"
	"fmt"
)

// nistMaxFailures is NIST SP 800-63B section 5.2.2's limit: at most 100
// consecutive failed attempts on one account.
const nistMaxFailures = 100

// lockout submits wrong codes until the target locks (at most
// maxAttempts), then asks whether a right code is refused while locked and,
// on a fresh enrollment, whether a success resets the count. It runs
// before the window so that the window's probes can be spread to stay
// under the lock.
func (r *runner) lockout(ctx context.Context) (*LockoutResult, []Check, error) {
	p := r.p
	res := &LockoutResult{MaxAttempts: r.cfg.MaxAttempts}
	d, err := p.deviceFor(ctx, "lockout")
	if err != nil {
		return nil, nil, err
	}
	// Make sure a right code is at hand the moment the lock comes: wait
	// (if need be) before the failures, not after, so a short lock cannot
	// expire while the bench waits.
	if _, err := p.rightCode(ctx, d); err != nil {
		return nil, nil, err
	}
	failures, locked := 0, false
	var lockV Verdict
	for i := 0; i < r.cfg.MaxAttempts; i++ {
		v, err := p.verify(ctx, d, p.wrongCode(d, i), -1)
		if err != nil {
			return nil, nil, err
		}
		if v.Outcome == Accepted {
			return nil, nil, fmt.Errorf("a wrong code was accepted on %s", d.enr)
		}
		if v.Outcome == Locked {
			locked, lockV = true, v
			break
		}
		failures++
	}
	var checks []Check
	if locked {
		res.FailuresBeforeLock = ptr(failures)
		if lockV.RetryAfter > 0 {
			res.RetryAfterS = ptr(lockV.RetryAfter.Seconds())
		}
	}
	// A right code now: refused while locked (or, with no "locked" answer,
	// a sign of a silent lock).
	k, err := p.rightCode(ctx, d)
	if err != nil {
		return nil, nil, err
	}
	v, _, _, err := p.verifyAt(ctx, d, k)
	if err != nil {
		return nil, nil, err
	}
	res.RightCodeRefusedWhenLocked = ptr(v.Outcome != Accepted)

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
	if !locked {
		p.lockFree = failures
		return res, checks, nil
	}
	p.budget = failures
	if failures < 2 {
		return res, checks, nil // one failure locks: a reset cannot be observed
	}
	c, err := r.successResets(ctx, failures, res)
	if err != nil {
		return nil, nil, err
	}
	return res, append(checks, c...), nil
}

// successResets, on a fresh enrollment, submits n-1 wrong codes, a right
// one, one more wrong one and a right one: if the success did not reset the
// count, the target has seen n failures and the last right code is refused.
func (r *runner) successResets(ctx context.Context, n int, res *LockoutResult) ([]Check, error) {
	p := r.p
	p.budget = 0 // this enrollment is meant to reach the limit
	defer func() { p.budget = n }()
	beyond := func() []Check {
		res.LockScope = "beyond the device"
		return []Check{{ID: "lockout.scope", Status: Warn,
			Detail: "a fresh enrollment was locked too: the lock is kept per user or per client, so fresh enrollments do not isolate probes"}}
	}
	// In real time the enrollment was bound with the others at the start
	// (prebind), so its right code needs no wait; else bind one now.
	d := p.roles["lockout-reset"]
	if d == nil || !p.usable(d) || d.fails > 0 {
		var err error
		d, err = p.freshBound(ctx)
		if err != nil && !errors.Is(err, errLockedBeyond) {
			return nil, err
		}
	}
	if p.lockedAll {
		return beyond(), nil
	}
	res.LockScope = "device"
	if _, err := p.rightCode(ctx, d); err != nil {
		return nil, err
	}
	for i := 0; i < n-1; i++ {
		v, err := p.verify(ctx, d, p.wrongCode(d, 1000+i), -1)
		if err != nil {
			return nil, err
		}
		if v.Outcome == Locked && i == 0 {
			p.lockedAll = true
			return beyond(), nil
		}
		if v.Outcome != Rejected {
			return []Check{{ID: "lockout.success-resets", Status: Warn,
				Detail: fmt.Sprintf("not measured: wrong code %d of %d on a fresh enrollment was answered %v", i+1, n-1, v)}}, nil
		}
	}
	k, err := p.rightCode(ctx, d)
	if err != nil {
		return nil, err
	}
	if v, _, _, err := p.verifyAt(ctx, d, k); err != nil {
		return nil, err
	} else if v.Outcome != Accepted {
		return []Check{{ID: "lockout.success-resets", Status: Warn,
			Detail: fmt.Sprintf("not measured: a right code after %d wrong ones was answered %v", n-1, v)}}, nil
	}
	if _, err := p.verify(ctx, d, p.wrongCode(d, 2000), -1); err != nil {
		return nil, err
	}
	if k, err = p.rightCode(ctx, d); err != nil {
		return nil, err
	}
	v, _, _, err := p.verifyAt(ctx, d, k)
	if err != nil {
		return nil, err
	}
	resets := v.Outcome == Accepted
	res.SuccessResets = ptr(resets)
	if resets {
		return []Check{{ID: "lockout.success-resets", Status: Pass,
			Detail: fmt.Sprintf("a success resets the count: %d wrong, right, 1 wrong, right was accepted", n-1)}}, nil
	}
	return []Check{{ID: "lockout.success-resets", Status: Pass,
		Detail: fmt.Sprintf("failures are counted across successes: after %d wrong, right, 1 wrong, a right code was %v", n-1, v.Outcome)}}, nil
}
