package testbench

import (
	"context"
	"fmt"
	"time"
)

// Throttle limits.
const (
	// throttleRefusals is how many refusals in a row an enrollment takes
	// on a target that throttles silently: the probes move on to another
	// before the waits grow (1, 2, 4 s after django-otp's first three).
	throttleRefusals = 3
	// throttleProbeMax is how long setup tries a right code after one
	// wrong one before it leaves the refusal to the lockout scenario.
	throttleProbeMax = 9 * time.Second
	// throttleProbeBudget is the enrollment budget under which setup does
	// not spend one on the probe.
	throttleProbeBudget = 12
)

// throttleFacts is a silent throttle the setup found (django-otp's: after
// the n-th failure in a row, every code, right ones too, is refused as
// wrong for first * 2^(n-1)).
type throttleFacts struct {
	first time.Duration // the delay after one failure, at most
}

// delay is how long after its n-th failure in a row an enrollment is
// throttled, by the doubling schedule.
func (t *throttleFacts) delay(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	return t.first << min(n-1, 20)
}

// throttledUntilLocked is when d may be sent a code that is judged, on a
// target that throttles silently; zero when nothing holds it.
func (b *bench) throttledUntilLocked(d *device) time.Time {
	if b.throttle == nil || d.tfails == 0 || d.lastFail.IsZero() {
		return time.Time{}
	}
	return d.lastFail.Add(b.throttle.delay(d.tfails) + b.throttle.first/20)
}

// probeThrottle tells a silent throttle from a lock: on a fresh
// enrollment, one wrong code, then at once a right one (the codes of the
// step setup's bind was just accepted at, on this enrollment). Refused,
// something holds after a single failure; the right code again after
// pauses doubling from 1 s: accepted after one, the target throttles, and
// the pause bounds the delay. Refused for throttleProbeMax, it is left to
// the lockout scenario.
func (a *actor) probeThrottle(ctx context.Context) error {
	b := a.b
	if b.cfg.MaxEnrollments < throttleProbeBudget {
		b.note(fmt.Sprintf("a silent throttle was not looked for: it takes an enrollment, and --max-enrollments is %d (under %d)", b.cfg.MaxEnrollments, throttleProbeBudget))
		return nil
	}
	b.mu.Lock()
	ok := b.nEnroll < b.cfg.MaxEnrollments && b.caps.FreshEnrollments
	mid := b.period / 2
	if lo, hi, seen := b.hullLocked(); seen {
		mid = lo + (hi-lo)/2
	}
	b.mu.Unlock()
	if !ok {
		return nil
	}
	d, err := a.enroll(ctx)
	if err != nil {
		return err
	}
	defer a.release(d)
	bind := b.caps.BindCodes > 0
	right := func(now time.Time) ([]string, int64) {
		n := stepNear(now, mid, b.period)
		if b.caps.BindCodes == 2 {
			return []string{d.code(n - 1), d.code(n)}, n
		}
		return []string{d.code(n)}, n
	}
	wrong, err := a.send(ctx, d, bind, func(now time.Time) ([]string, int64) {
		codes, _ := right(now)
		for i := range codes {
			codes[i] = a.wrongCode(d, i)
		}
		return codes, -1
	})
	if err != nil || wrong.v.Outcome != Rejected {
		return err
	}
	an, err := a.sendRaw(ctx, d, bind, right)
	if err != nil || an.v.Outcome != Rejected {
		return err // accepted: nothing holds after one failure
	}
	for pause := time.Second; pause <= throttleProbeMax; pause *= 2 {
		if err := b.tl.until(ctx, wrong.recv.Add(pause), a.name, "a right code after one wrong one: a throttle?"); err != nil {
			return err
		}
		an, err := a.sendRaw(ctx, d, bind, right)
		if err != nil {
			return err
		}
		if an.v.Outcome == Accepted {
			b.mu.Lock()
			b.throttle = &throttleFacts{first: an.sent.Sub(wrong.recv)}
			b.mu.Unlock()
			b.note(fmt.Sprintf("the target throttles silently: after one wrong code a right one was refused, and accepted %.1f s later; probes wait out the throttle", an.sent.Sub(wrong.recv).Seconds()))
			return nil
		}
		if an.v.Outcome != Rejected {
			return nil
		}
	}
	return nil
}

// sendRaw is send without waiting out a known throttle: the probe that
// measures one.
func (a *actor) sendRaw(ctx context.Context, d *device, bind bool, mk func(now time.Time) ([]string, int64)) (answer, error) {
	a.b.mu.Lock()
	d.rawSend = true
	a.b.mu.Unlock()
	defer func() {
		a.b.mu.Lock()
		d.rawSend = false
		a.b.mu.Unlock()
	}()
	return a.send(ctx, d, bind, mk)
}

// throttleTotal is the time n wrong codes in a row take when each waits
// out the throttle of the ones before.
func throttleTotal(t *throttleFacts, n int) time.Duration {
	var sum time.Duration
	for i := 1; i < n; i++ {
		sum += t.delay(i)
	}
	return sum
}

// throttleGuesses is how many guesses fit in d on a throttled account:
// the n-th waits first * 2^(n-2), so n guesses take first * (2^(n-1) - 1).
func throttleGuesses(t *throttleFacts, d time.Duration) int {
	n := 0
	for n < 62 && throttleTotal(t, n+1) <= d {
		n++
	}
	return n
}

// ThrottleResult says how the target slows guessing down: "none", "429"
// (it answers "slow down"), or "silent" (django-otp's: a right code is
// refused as wrong for a while after failures), with the delays measured
// after the 1st, 2nd, ... failure in a row, each an upper bound.
type ThrottleResult struct {
	Kind    string    `json:"kind"`
	DelaysS []float64 `json:"delays_s"`
}

// throttleMeasured bounds how many delays the throttle scenario measures.
const throttleMeasured = 3

// runThrottle reports the throttle: with a silent one, for n = 1, 2, 3
// wrong codes in a row, a right code half the expected delay after the
// last (refused: throttled) and again just after it (accepted): the
// delay, to within the halves.
func runThrottle(ctx context.Context, a *actor) (any, []Check, error) {
	b := a.b
	b.mu.Lock()
	t, throttles, waits := b.throttle, b.throttles, append([]float64(nil), b.retryAfters...)
	b.mu.Unlock()
	res := &ThrottleResult{Kind: "none", DelaysS: []float64{}}
	if t == nil {
		if throttles > 0 {
			res.Kind, res.DelaysS = "429", waits
			return res, []Check{{ID: "throttle.kind", Status: Pass, Detail: fmt.Sprintf(`the target answers "slow down" (HTTP 429): %d times in this run`, throttles)}}, nil
		}
		return res, []Check{{ID: "throttle.kind", Status: Pass, Detail: "no throttle seen: a right code after a wrong one was accepted at once, and no \"slow down\" came"}}, nil
	}
	res.Kind = "silent"
	e, err := a.measuredEdges(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("not run: the window was not measured: %w", err)
	}
	for n := 1; n <= throttleMeasured; n++ {
		dly, err := a.measureDelay(ctx, e, t, n)
		if err != nil {
			return nil, nil, err
		}
		if dly < 0 {
			break // the window is too narrow to hold the probes
		}
		res.DelaysS = append(res.DelaysS, round3(dly.Seconds()))
	}
	return res, []Check{{ID: "throttle.kind", Status: Pass, Detail: fmt.Sprintf(
		"a silent throttle (as django-otp's): after failures a right code is refused as wrong, then accepted once the delay passed; delays after 1..%d failures in a row at most %v s",
		len(res.DelaysS), res.DelaysS)}}, nil
}

// measureDelay makes n failures in a row on a fresh enrollment and
// brackets the delay after them with a right code; -1 when the window
// cannot hold the probes.
func (a *actor) measureDelay(ctx context.Context, e *edges, t *throttleFacts, n int) (time.Duration, error) {
	b := a.b
	guess := t.delay(n)
	hold := throttleTotal(t, n) + guess + guess/4
	d, err := a.freshBound(ctx, false)
	if err != nil {
		return 0, err
	}
	defer a.release(d)
	b.mu.Lock()
	from := b.cleanFromLocked(d)
	b.mu.Unlock()
	step, at, err := a.nextAccepted(d, e, from, hold)
	if err != nil {
		return -1, nil
	}
	if err := b.tl.until(ctx, at, a.name, "a throttle measurement"); err != nil {
		return 0, err
	}
	var last answer
	for i := range n {
		if last, err = a.sendWrong(ctx, d, i); err != nil {
			return 0, err
		}
	}
	right := func(time.Time) ([]string, int64) { return []string{d.code(step)}, step }
	lo := time.Duration(0)
	// Refused probes inside the throttle are no failures (django-otp):
	// narrow in on its end.
	for _, frac := range []time.Duration{guess / 2, guess * 3 / 4, guess * 7 / 8, guess * 15 / 16, guess, guess + guess/20, guess + guess/10} {
		if err := b.tl.until(ctx, last.recv.Add(frac), a.name, "a right code inside and after the throttle"); err != nil {
			return 0, err
		}
		an, err := a.sendRaw(ctx, d, false, right)
		if err != nil {
			return 0, err
		}
		if an.v.Outcome == Accepted {
			b.mu.Lock()
			d.tfails = 0
			b.mu.Unlock()
			return an.sent.Sub(last.recv), nil
		}
		lo = an.recv.Sub(last.recv)
	}
	a.b.note(fmt.Sprintf("throttle: a right code was still refused %.1f s after %d wrong ones, longer than the doubling from %.1f s predicts: delays not measured further", lo.Seconds(), n, t.first.Seconds()))
	return -1, nil
}
