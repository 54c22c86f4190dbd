package testbench

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ReuseResult says whether a code used in one context was accepted in
// another; null when it could not be tested (the reason is in the
// check).
type ReuseResult struct {
	BindCodeAcceptedAtLogin     *bool `json:"bind_code_accepted_at_login"`
	CodeAcceptedInSecondSession *bool `json:"code_accepted_in_second_session"`
}

// runReuse binds a fresh enrollment and logs in at once with the bind's
// last code while it is surely in the window: only a replay rule that
// forgets the bind can accept it. A second concurrent session needs a
// target with sessions; none has one yet, so that check says so.
func runReuse(ctx context.Context, a *actor) (any, []Check, error) {
	b := a.b
	res := &ReuseResult{}
	var cs []Check
	e, err := a.measuredEdges(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("not run: the window was not measured: %w", err)
	}
	second, err := a.secondSession(ctx, e, res)
	if err != nil {
		return nil, nil, err
	}
	if b.caps.BindCodes == 0 {
		cs = append(cs, Check{ID: "reuse.bind-code", Status: Skip, Detail: "not testable: the target has no bind step"}, second)
		return res, cs, nil
	}
	P := b.period
	lo, hi := a.surely(e)
	for try := 0; try < 4 && res.BindCodeAcceptedAtLogin == nil; try++ {
		d, err := a.freshBound(ctx, false)
		if err != nil {
			return nil, nil, fmt.Errorf("an enrollment to reuse its bind's code: %w", err)
		}
		b.mu.Lock()
		n := d.bindHi
		b.mu.Unlock()
		if x := sinceStep(b.tl.now(), n, P); x < lo {
			if err := b.tl.until(ctx, stepStart(n, P).Add(lo), a.name, "the bind's code surely in the window"); err != nil {
				a.release(d)
				return nil, nil, err
			}
		} else if x > hi-a.replayHold() {
			a.release(d) // bound too late in the window: another
			continue
		}
		an, err := a.send(ctx, d, false, func(time.Time) ([]string, int64) { return []string{d.code(n)}, n })
		a.release(d)
		if err != nil {
			return nil, nil, err
		}
		if an.v.Outcome == Locked || (an.v.Outcome != Accepted && sinceStep(an.recv, n, P) > hi) {
			continue
		}
		res.BindCodeAcceptedAtLogin = ptr(an.v.Outcome == Accepted)
	}
	switch {
	case res.BindCodeAcceptedAtLogin == nil:
		cs = append(cs, Check{ID: "reuse.bind-code", Status: Skip, Detail: "no definitive answer: every bind came too late in the window to log in with its code while surely accepted"})
	case *res.BindCodeAcceptedAtLogin:
		cs = append(cs, Check{ID: "reuse.bind-code", Status: Fail,
			Detail: "the code that completed enrollment was accepted again to log in: the bind does not record its codes as used, so a code seen during setup (a screen share, a recording) signs in"})
	default:
		cs = append(cs, Check{ID: "reuse.bind-code", Status: Pass, Detail: "the bind's code was refused at login right after"})
	}
	return res, append(cs, second), nil
}

// secondSession has a clean code accepted in an enrollment's session and
// submits it at once in a second session of the same account, while it
// is surely in the window: accepted, the replay record is kept per
// session. Skipped for a target without sessions.
func (a *actor) secondSession(ctx context.Context, e *edges, res *ReuseResult) (Check, error) {
	b := a.b
	ss, ok := b.tgt.(Sessioner)
	skip := Check{ID: "reuse.second-session", Status: Skip,
		Detail: "not testable: the target has no sessions (an HTTP config with signin or login steps has)"}
	if !ok {
		return skip, nil
	}
	P := b.period
	lo, hi := a.surely(e)
	for try := 0; try < 4; try++ {
		d, err := a.acceptedLease(ctx, e, 1, a.replayHold(), 0)
		if err != nil {
			return Check{}, err
		}
		e2, err := ss.SecondSession(b.reqCtx, d.enr)
		if errors.Is(err, ErrNoSession) {
			a.release(d)
			return skip, nil
		}
		if err != nil {
			a.release(d)
			return Check{}, fmt.Errorf("a second session: %w", err)
		}
		an, err := a.submitAccepted(ctx, d, e, 0, a.replayHold(), "a code to use in a second session")
		if err != nil || an.v.Outcome != Accepted {
			a.release(d)
			if err != nil {
				return Check{}, err
			}
			continue
		}
		// The second session's device: the same key, its own books.
		d2 := &device{enr: e2, acct: d.acct, used: map[string]usedBy{}, bound: true, busy: true}
		v, err := a.send(ctx, d2, false, func(time.Time) ([]string, int64) { return an.codes, an.step })
		a.release(d)
		if err != nil {
			return Check{}, err
		}
		if v.v.Outcome == Locked || (v.v.Outcome != Accepted && sinceStep(v.recv, an.step, P) > hi) || sinceStep(v.sent, an.step, P) < lo {
			continue // locked, or judged outside the window: again
		}
		res.CodeAcceptedInSecondSession = ptr(v.v.Outcome == Accepted)
		if v.v.Outcome == Accepted {
			return Check{ID: "reuse.second-session", Status: Fail,
				Detail: "a code accepted in one session was accepted again in a second session of the same account: the replay record is kept per session, so a code seen once signs in anywhere else"}, nil
		}
		return Check{ID: "reuse.second-session", Status: Pass, Detail: "a code accepted in one session was refused in a second session of the same account"}, nil
	}
	return Check{ID: "reuse.second-session", Status: Skip, Detail: "no definitive answer after 4 tries (locked, or judged outside the window)"}, nil
}
