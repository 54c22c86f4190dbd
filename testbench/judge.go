package testbench

import (
	"context"
	"fmt"
	"time"
)

// send submits with fn, backing off on Throttled and retrying Error a
// bounded number of times. n is how many codes one call submits. The
// returned verdict is Accepted, Rejected or Locked.
func (p *prober) send(ctx context.Context, fn func() Verdict, n int) (Verdict, error) {
	throttles, errs := 0, 0
	p.waited = false
	for {
		if err := ctx.Err(); err != nil {
			return Verdict{}, err
		}
		p.subs[p.scenario] += n
		v := fn()
		switch v.Outcome {
		case Accepted, Rejected, Locked:
			return v, nil
		case Throttled:
			throttles++
			if throttles > maxThrottles {
				return v, fmt.Errorf("target kept answering \"slow down\" (%d times in a row): %v", throttles, v)
			}
			wait := v.RetryAfter
			if wait <= 0 {
				wait = defaultThrottle << (throttles - 1)
			}
			if wait > maxThrottleWait {
				return v, fmt.Errorf("target asked to wait %v, over the %v the bench waits: %v", wait, maxThrottleWait, v)
			}
			p.waited = true
			if err := p.waitFor(ctx, wait, "the target's Retry-After (HTTP 429)"); err != nil {
				return v, err
			}
		default:
			errs++
			if errs > maxErrorRetries {
				return v, fmt.Errorf("no verdict after %d tries: %v", errs, v)
			}
			if !p.tm.Virtual() {
				p.waited = true
				if err := p.waitFor(ctx, time.Duration(errs)*500*time.Millisecond, "a retry after an error"); err != nil {
					return v, err
				}
			}
		}
	}
}

// verify submits one code on d and keeps d's books. step is the code's
// step, or -1 for a code of no step (a wrong one).
func (p *prober) verify(ctx context.Context, d *device, code string, step int64) (Verdict, error) {
	return p.verifyWith(ctx, d, func() (string, int64, error) { return code, step, nil })
}

// verifyAt submits the code of step offset k on d, at a probe moment
// (align): when a "slow down" made it wait, the code is computed again for
// the moment it is really sent. It returns the code and step sent.
func (p *prober) verifyAt(ctx context.Context, d *device, k int) (Verdict, string, int64, error) {
	var code string
	var step int64
	v, err := p.verifyWith(ctx, d, func() (string, int64, error) {
		if err := p.align(ctx); err != nil {
			return "", 0, err
		}
		step = p.step() + int64(k)
		code = d.code(step)
		return code, step, nil
	})
	return v, code, step, err
}

// verifyWith submits the code mk makes (asked again on every retry) and
// keeps d's books.
func (p *prober) verifyWith(ctx context.Context, d *device, mk func() (string, int64, error)) (Verdict, error) {
	var code string
	var step int64
	v, err := p.send(ctx, func() Verdict {
		var err error
		if code, step, err = mk(); err != nil {
			return Verdict{Outcome: Error, Err: err}
		}
		return p.target.Verify(ctx, d.enr, code)
	}, 1)
	if err != nil {
		return v, fmt.Errorf("verifying on %s: %w", d.enr, err)
	}
	switch v.Outcome {
	case Accepted:
		p.learn(d, code, step)
		d.used[code] = usedByVerify
		if step >= 0 && (!d.hasVerify || step > d.verifyHi) {
			d.hasVerify, d.verifyHi = true, step
		}
		if p.resets {
			d.fails = 0
		}
	case Rejected:
		d.fails++
	case Locked:
		d.dead = true
	}
	return v, nil
}

// learn records what an accepted code shows about the target.
func (p *prober) learn(d *device, code string, step int64) {
	switch d.used[code] {
	case usedByBind:
		p.facts.bindCodesReusable = true
		p.facts.ignoresBindSteps = true
	case usedByVerify:
		p.facts.noCodeReplay = true
		p.facts.notStepStrict = true
	}
	if step < 0 {
		return
	}
	if d.hasBind && step <= d.bindHi {
		p.facts.ignoresBindSteps = true
	}
	if d.hasVerify && step <= d.verifyHi && d.used[code] == 0 {
		p.facts.notStepStrict = true
	}
}

// clean reports whether a refusal of code (of step) on d can only mean
// the step is outside the window: no replay rule and no consumed step can
// explain it.
func (p *prober) clean(d *device, code string, step int64) bool {
	switch d.used[code] {
	case usedByBind:
		if !p.facts.bindCodesReusable {
			return false
		}
	case usedByVerify:
		if !p.facts.noCodeReplay {
			return false
		}
	}
	if d.hasBind && step <= d.bindHi && !p.facts.ignoresBindSteps {
		return false
	}
	if d.hasVerify && step <= d.verifyHi && !p.facts.notStepStrict {
		return false
	}
	return true
}

// reusable reports whether submitting code on d cannot be refused for
// having been accepted before: it never was, or the target was seen to
// accept such codes again.
func (p *prober) reusable(d *device, code string) bool {
	switch d.used[code] {
	case usedByBind:
		return p.facts.bindCodesReusable
	case usedByVerify:
		return p.facts.noCodeReplay
	}
	return true
}

// stepsUntilClean is how many steps to wait until offset k is clean on d.
func (p *prober) stepsUntilClean(d *device, step int64) int64 {
	hi := int64(-1 << 62)
	if d.hasBind && !p.facts.ignoresBindSteps {
		hi = max(hi, d.bindHi)
	}
	if d.hasVerify && !p.facts.notStepStrict {
		hi = max(hi, d.verifyHi)
	}
	return max(hi-step+1, 1)
}

// probe is one definitive answer about a step offset.
type probe struct {
	accepted bool
	dev      *device
	code     string
	step     int64
	at       time.Time // when it was accepted
}

// judge finds out whether step offset k is in the window, using role's
// enrollment: it submits only when the answer will be definitive (an
// accept always is; a refusal only when clean), waiting when needed, and
// in real time first tries a fresh but unclean code once in case it is
// accepted at once.
func (p *prober) judge(ctx context.Context, role string, k int) (probe, error) {
	for try := 0; try < maxProbeTries; try++ {
		d, err := p.deviceFor(ctx, role)
		if err != nil {
			return probe{}, err
		}
		if err := p.align(ctx); err != nil {
			return probe{}, err
		}
		step := p.step() + int64(k)
		code := d.code(step)
		if !p.clean(d, code, step) && !(p.optimistic && d.used[code] == 0) {
			n := p.stepsUntilClean(d, step)
			if err := p.waitFor(ctx, time.Duration(n)*p.period, fmt.Sprintf("step offset %+d to be replay-safe on this enrollment", k)); err != nil {
				return probe{}, err
			}
			continue
		}
		wasClean := p.clean(d, code, step)
		v, code, step, err := p.verifyAt(ctx, d, k)
		if err != nil {
			return probe{}, err
		}
		wasClean = wasClean && p.clean(d, code, step) // a throttle may have moved it
		switch v.Outcome {
		case Accepted:
			return probe{accepted: true, dev: d, code: code, step: step, at: p.tm.Now()}, nil
		case Rejected:
			if wasClean || p.clean(d, code, step) {
				return probe{dev: d, code: code, step: step}, nil
			}
			p.optimistic = false // the target may be strict: stop guessing
		}
	}
	return probe{}, fmt.Errorf("step offset %+d: no definitive answer after %d tries", k, maxProbeTries)
}
