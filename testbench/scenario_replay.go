package testbench

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// reformats are the ways the same code is re-typed: a space in the
// middle, as many authenticators display it, and a leading space.
func reformats(c string) []string {
	h := len(c) / 2
	return []string{c[:h] + " " + c[h:], " " + c}
}

// shape shows how a code was formatted without its digits: "ddd ddd".
func shape(code string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range code {
		if r >= '0' && r <= '9' {
			b.WriteByte('d')
		} else {
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ReplayResult says whether each kind of replay was refused; null when the
// window made the test impossible (no older step in it).
type ReplayResult struct {
	SameCodeRejected        *bool    `json:"same_code_rejected"`
	OlderCodeRejected       *bool    `json:"older_code_rejected"`
	ReformattedCodeRejected *bool    `json:"reformatted_code_rejected"`
	Reformats               []string `json:"reformats"` // how the code was reformatted, digits shown as d: "ddd ddd"
}

// replayHold is how long an accepted code must stay in the window for its
// replays to be judged while it could still be accepted.
func (a *actor) replayHold() time.Duration {
	if a.b.tl.tm.Virtual() {
		return 0
	}
	return time.Second
}

// runReplay submits a code accepted once again, the same code
// reformatted, and, when the window holds two steps, an older clean code
// after a newer one was accepted: each while the codes are surely in the
// window by the measured edges, so only a replay rule can refuse them.
func runReplay(ctx context.Context, a *actor) (any, []Check, error) {
	e, err := a.measuredEdges(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("not run: the window was not measured: %w", err)
	}
	res := &ReplayResult{}
	var cur *accepted // an accepted code whose enrollment can take a refusal
	defer func() {
		if cur != nil {
			a.release(cur.d)
		}
	}()
	// try submits what build makes of an accepted code and reports
	// whether it was refused.
	try := func(build func(ac *accepted) string) (*bool, error) {
		for attempt := 0; attempt < 8; attempt++ {
			if cur != nil && !a.stillUsable(cur, e) {
				a.release(cur.d)
				cur = nil
			}
			if cur == nil {
				var err error
				if cur, err = a.acceptOne(ctx, e); err != nil {
					return nil, err
				}
			}
			code := build(cur)
			an, err := a.send(ctx, cur.d, false, func(time.Time) ([]string, int64) { return []string{code}, cur.an.step })
			if err != nil {
				return nil, err
			}
			lo, hi := a.surely(e)
			xr := sinceStep(an.recv, cur.an.step, a.b.period)
			if an.v.Outcome == Locked || (an.v.Outcome != Accepted && (xr < lo || xr > hi)) {
				// Locked, or judged after the code left the window: again.
				a.release(cur.d)
				cur = nil
				continue
			}
			return ptr(an.v.Outcome != Accepted), nil
		}
		return nil, fmt.Errorf("no definitive answer for a replayed code after %d tries", 8)
	}
	if res.SameCodeRejected, err = try(func(ac *accepted) string { return ac.an.codes[0] }); err != nil {
		return nil, nil, err
	}
	rejected := true
	for i := range 2 {
		var shown string
		rej, err := try(func(ac *accepted) string {
			shown = reformats(ac.an.codes[0])[i]
			return shown
		})
		if err != nil {
			return nil, nil, err
		}
		res.Reformats = append(res.Reformats, shape(shown))
		rejected = rejected && *rej
	}
	res.ReformattedCodeRejected = ptr(rejected)
	if cur != nil {
		// Given back before the older-code test leases one: with few
		// test users it may need this one's.
		a.release(cur.d)
		cur = nil
	}
	if res.OlderCodeRejected, err = a.olderCode(ctx, e); err != nil {
		return nil, nil, err
	}
	return res, replayChecks(res), nil
}

// accepted is a code just accepted on an enrollment still leased.
type accepted struct {
	d  *device
	an answer
}

// acceptOne leases an enrollment that can take a refusal and has a
// surely accepted code of it accepted.
func (a *actor) acceptOne(ctx context.Context, e *edges) (*accepted, error) {
	for attempt := 0; attempt < 8; attempt++ {
		d, err := a.acceptedLease(ctx, e, 1, a.replayHold(), 0)
		if err != nil {
			return nil, err
		}
		an, err := a.submitAccepted(ctx, d, e, 0, a.replayHold(), "a code to replay")
		if err != nil {
			a.release(d)
			return nil, err
		}
		if an.v.Outcome == Accepted {
			return &accepted{d: d, an: an}, nil
		}
		a.release(d)
		if an.v.Outcome == Rejected {
			return nil, fmt.Errorf("a code inside the measured window was refused (%v)", an.v)
		}
	}
	return nil, fmt.Errorf("no code accepted to replay after %d tries", 8)
}

// stillUsable reports whether ac's code is still surely in the window and
// its enrollment can take one more refusal.
func (a *actor) stillUsable(ac *accepted, e *edges) bool {
	b := a.b
	lo, hi := a.surely(e)
	x := sinceStep(b.tl.now(), ac.an.step, b.period)
	b.mu.Lock()
	defer b.mu.Unlock()
	lf := b.lockout.val
	return x >= lo && x <= hi && !ac.d.dead && !b.tl.now().Before(ac.d.lockedTo) && b.refusalsLeftLocked(ac.d, lf) >= 1
}

// olderCode, when the window holds two steps, has a clean code accepted
// and then submits the clean code of the step before, both surely in the
// window: refused, the target refuses every step up to the last accepted
// (the strict reading of RFC 6238 section 5.2). nil when the window is too
// narrow for the test.
func (a *actor) olderCode(ctx context.Context, e *edges) (*bool, error) {
	b := a.b
	P := b.period
	lo, hi := a.surely(e)
	if hi-lo < P+a.replayHold() {
		return nil, nil
	}
	for attempt := 0; attempt < 8; attempt++ {
		d, err := a.acceptedLease(ctx, e, 1, P+a.replayHold(), 1)
		if err != nil {
			return nil, err
		}
		b.mu.Lock()
		from := b.cleanFromLocked(d) + 1
		b.mu.Unlock()
		an, err := a.submitAccepted(ctx, d, e, from, P+a.replayHold(), "two codes in the window at once")
		if err != nil {
			a.release(d)
			return nil, err
		}
		if an.v.Outcome != Accepted {
			a.release(d)
			if an.v.Outcome == Rejected {
				return nil, fmt.Errorf("a code inside the measured window was refused (%v)", an.v)
			}
			continue
		}
		older := an.step - 1
		b.mu.Lock()
		fresh := b.freshCodeLocked(d, d.code(older))
		b.mu.Unlock()
		if !fresh {
			a.release(d)
			continue
		}
		v, err := a.send(ctx, d, false, func(time.Time) ([]string, int64) { return []string{d.code(older)}, older })
		a.release(d)
		if err != nil {
			return nil, err
		}
		if xr := sinceStep(v.recv, older, P); v.v.Outcome == Locked || (v.v.Outcome != Accepted && (xr < lo || xr > hi)) {
			continue // locked, or judged after it left the window
		}
		return ptr(v.v.Outcome != Accepted), nil
	}
	return nil, fmt.Errorf("no definitive answer for an older code after %d tries", 8)
}

func replayChecks(res *ReplayResult) []Check {
	var cs []Check
	if *res.SameCodeRejected {
		cs = append(cs, Check{ID: "replay.same-code", Status: Pass, Detail: "a code accepted once was refused the second time"})
	} else {
		cs = append(cs, Check{ID: "replay.same-code", Status: Fail,
			Detail: "a code accepted once was accepted again: RFC 6238 section 5.2 says the verifier MUST NOT accept the second attempt of an OTP after a successful validation"})
	}
	switch {
	case *res.ReformattedCodeRejected:
		cs = append(cs, Check{ID: "replay.reformatted", Status: Pass,
			Detail: fmt.Sprintf("the accepted code re-sent as %s was refused", strings.Join(res.Reformats, " and "))})
	default:
		cs = append(cs, Check{ID: "replay.reformatted", Status: Fail,
			Detail: fmt.Sprintf("the accepted code re-sent reformatted (%s) was accepted: a replay (RFC 6238 section 5.2)", strings.Join(res.Reformats, ", "))})
	}
	switch {
	case res.OlderCodeRejected == nil:
		cs = append(cs, Check{ID: "replay.older-code", Status: Skip,
			Detail: "not testable: the window holds a single step"})
	case *res.OlderCodeRejected:
		cs = append(cs, Check{ID: "replay.older-code", Status: Pass,
			Detail: "an older in-window code was refused after a newer one was accepted"})
	default:
		cs = append(cs, Check{ID: "replay.older-code", Status: Warn,
			Detail: "an older in-window code was accepted after a newer one: the strict reading of RFC 6238 section 5.2 refuses every step up to the last one accepted"})
	}
	return cs
}
