package testbench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
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

// replay, on enrollments of their own: a code accepted, then the same code
// again; the same code reformatted; and, when the window holds two steps,
// an older in-window code after a newer one was accepted.
func (r *runner) replay(ctx context.Context) (*ReplayResult, []Check, error) {
	p := r.p
	lo, hi := r.lo, r.hi
	k1 := lo
	if lo < hi {
		k1 = lo + 1 // so that lo is an older step still in the window
	}
	res := &ReplayResult{}
	var cur *probe
	n := 0
	// accepted returns an enrollment on which a fresh code at k1 was just
	// accepted and that can take one more refusal.
	accepted := func() (*probe, error) {
		if cur != nil && p.usable(cur.dev) {
			return cur, nil
		}
		n++
		role := "replay-" + strconv.Itoa(n)
		// Wait until the older step lo is clean too, so that neither the
		// bind's codes nor its steps can explain a refusal of it.
		d, err := p.deviceFor(ctx, role)
		if err != nil {
			return nil, err
		}
		if err := p.align(ctx); err != nil {
			return nil, err
		}
		if older := p.step() + int64(lo); !p.clean(d, d.code(older), older) {
			if err := p.waitSteps(ctx, p.stepsUntilClean(d, older), "an older step to be replay-safe"); err != nil {
				return nil, err
			}
		}
		pr, err := p.judge(ctx, role, k1)
		if err != nil {
			return nil, err
		}
		if !pr.accepted {
			return nil, fmt.Errorf("step offset %+d, inside the measured window, was refused", k1)
		}
		cur = &pr
		return cur, nil
	}
	// try submits code (of step) on the enrollment of an accepted code and
	// reports whether it was refused; a lock moves to a fresh enrollment.
	try := func(build func(pr *probe) (string, int64, bool)) (*bool, error) {
		for attempt := 0; attempt < maxProbeTries; attempt++ {
			pr, err := accepted()
			if err != nil {
				return nil, err
			}
			code, step, ok := build(pr)
			// In virtual time every probe is at the same phase: if a
			// "slow down" moved the clock since the code was accepted, the
			// server's step may have moved too.
			if p.tm.Virtual() && !p.tm.Now().Equal(pr.at) {
				ok = false
			}
			if !ok {
				cur = nil // the step moved on: start again with a fresh code
				continue
			}
			v, err := p.verify(ctx, pr.dev, code, step)
			if err != nil {
				return nil, err
			}
			if v.Outcome == Locked || (v.Outcome != Accepted && p.waited) {
				// Locked, or refused after the bench had to wait (the
				// server's step may have moved on): again, afresh.
				cur = nil
				continue
			}
			return ptr(v.Outcome != Accepted), nil
		}
		return nil, fmt.Errorf("no definitive answer for a replayed code after %d tries", maxProbeTries)
	}
	// inWindow reports whether step is still inside the window now (real
	// time moves on between submissions).
	inWindow := func(step int64) bool {
		s := p.step()
		return step >= s+int64(lo) && step <= s+int64(hi)
	}
	var err error
	res.SameCodeRejected, err = try(func(pr *probe) (string, int64, bool) {
		return pr.code, pr.step, inWindow(pr.step)
	})
	if err != nil {
		return nil, nil, err
	}
	reformattedRejected := true
	for i := range 2 {
		var shown string
		rej, err := try(func(pr *probe) (string, int64, bool) {
			shown = reformats(pr.code)[i]
			return shown, pr.step, inWindow(pr.step)
		})
		if err != nil {
			return nil, nil, err
		}
		res.Reformats = append(res.Reformats, shape(shown))
		if !*rej {
			reformattedRejected = false
		}
	}
	res.ReformattedCodeRejected = ptr(reformattedRejected)
	if lo < hi {
		res.OlderCodeRejected, err = try(func(pr *probe) (string, int64, bool) {
			older := pr.step - 1
			return pr.dev.code(older), older, inWindow(older) && p.reusable(pr.dev, pr.dev.code(older))
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return res, replayChecks(res), nil
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
