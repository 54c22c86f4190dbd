package testbench

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultBurst is how many submissions a race probe releases together:
// enough to catch a check-then-record gap (PortSwigger's labs use 20 to
// 30), few enough for a staging server.
const DefaultBurst = 20

// DefaultBursts is how many replay bursts the race scenario sends.
const DefaultBursts = 5

// Bounds of Config.Burst and Config.Bursts: a race probe sends a few
// hundred requests at most.
const (
	maxBurst  = 200
	maxBursts = 50
)

// Burster is implemented by targets that can release several submissions
// at once, as an attacker racing the server would: every request made
// ready first (for HTTP/1.1, written but for its last byte, each on its
// own connection), then all released together.
type Burster interface {
	// VerifyBurst submits codes[i] on e, all released together; the
	// verdicts are in the order of codes. The last code is released last.
	VerifyBurst(ctx context.Context, e *Enrollment, codes []string) BurstResult
}

// BurstResult is a burst's verdicts and how tightly it was released.
type BurstResult struct {
	Verdicts []Verdict
	// Spread is the real time from releasing the first submission to
	// releasing the last; meaningful when Measured.
	Spread   time.Duration
	Measured bool
	// Method says how the burst was released, for the report.
	Method string
}

// goroutineBurst is the burst of a target that cannot release its own.
// The spread is not known (the target's own work comes after).
func goroutineBurst(ctx context.Context, t Target, e *Enrollment, codes []string) BurstResult {
	return BurstResult{Method: fmt.Sprintf("%d concurrent calls released together", len(codes)),
		Verdicts: ReleaseTogether(ctx, codes, func(ctx context.Context, c string) Verdict { return t.Verify(ctx, e, c) })}
}

// ReleaseTogether calls verify for each code on its own goroutine, all
// started first and then released by closing one channel, and returns
// the verdicts in the order of codes: the burst of a target whose
// requests cannot be held back one by one.
func ReleaseTogether(ctx context.Context, codes []string, verify func(context.Context, string) Verdict) []Verdict {
	out := make([]Verdict, len(codes))
	var ready, done sync.WaitGroup
	gate := make(chan struct{})
	for i, c := range codes {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-gate
			out[i] = verify(ctx, c)
		}()
	}
	ready.Wait()
	close(gate)
	done.Wait()
	return out
}

// burst is a burst's answers as the scenarios read them.
type burst struct {
	BurstResult
	sent, recv time.Time // true time before the release and after the last answer
	codes      []string
	steps      []int64 // each code's step (-1: a wrong code)
	alone      *bool   // a replay burst's code sent once more on its own: accepted
}

// count returns how many verdicts of b had outcome o.
func (b burst) count(o Outcome) int {
	n := 0
	for _, v := range b.Verdicts {
		if v.Outcome == o {
			n++
		}
	}
	return n
}

// sendBurst releases codes on d together (steps are their steps, -1 for
// a wrong one) and keeps the books of d without inferring anything of
// the target from them (a race is not its policy): what was accepted is
// consumed, refusals count, a lock locks. The caller retires d when done
// (which submission was judged first is not known: its state is not
// exactly known either). The burst takes every slot of the parallel
// budget, so nothing else is in flight to blur the race or to be judged
// under the burst's lock.
func (a *actor) sendBurst(ctx context.Context, d *device, codes []string, steps []int64) (burst, error) {
	b := a.b
	if err := ctx.Err(); err != nil {
		return burst{}, err
	}
	b.mu.Lock()
	pause := b.pause
	b.mu.Unlock()
	if pause.After(b.tl.now()) {
		if err := b.tl.until(ctx, pause, a.name, "a lock that covers every enrollment to end"); err != nil {
			return burst{}, err
		}
	}
	b.burstMu.Lock()
	defer b.burstMu.Unlock()
	taken := 0
	defer func() {
		for range taken {
			<-b.sem
		}
	}()
	for range cap(b.sem) {
		select {
		case b.sem <- struct{}{}:
			taken++
		case <-ctx.Done():
			return burst{}, ctx.Err()
		}
	}
	out := burst{sent: b.tl.now(), codes: codes, steps: steps}
	b.mu.Lock()
	b.subs[a.name] += len(codes)
	b.mu.Unlock()
	b.tl.begin()
	if bt, ok := b.tgt.(Burster); ok {
		out.BurstResult = bt.VerifyBurst(b.reqCtx, d.enr, codes)
	} else {
		out.BurstResult = goroutineBurst(b.reqCtx, b.tgt, d.enr, codes)
	}
	out.recv = b.tl.now()
	b.tl.end()
	if len(out.Verdicts) != len(codes) {
		return out, fmt.Errorf("a burst of %d submissions came back with %d verdicts", len(codes), len(out.Verdicts))
	}
	for i, v := range out.Verdicts {
		b.trace(a.name, d, false, answer{v: v, sent: out.sent, recv: out.recv, codes: codes[i : i+1], step: steps[i]})
	}
	b.mu.Lock()
	for i, v := range out.Verdicts {
		switch v.Outcome {
		case Accepted:
			d.used[codes[i]] |= usedByVerify
			if !d.hasAcc || steps[i] > d.accHi {
				d.hasAcc, d.accHi = true, steps[i]
			}
			d.pristine = false
		case Rejected:
			d.fails++
		case Locked:
			if v.RetryAfter > 0 && v.RetryAfter <= maxThrottleWait {
				d.lockedTo = later(d.lockedTo, out.recv.Add(v.RetryAfter))
			} else {
				d.dead = true
			}
		}
	}
	b.mu.Unlock()
	errs := out.count(Error)
	if errs == len(codes) {
		return out, fmt.Errorf("no verdict for any submission of a burst of %d: %v", len(codes), out.Verdicts[0])
	}
	return out, nil
}

// later returns the later of two instants.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// retire gives d back to the pool never to be leased again: a burst has
// left it in a state the books do not know exactly.
func (a *actor) retire(d *device) {
	a.b.mu.Lock()
	d.dead, d.busy = true, false
	a.b.mu.Unlock()
}
