package testbench

import (
	"context"
	"fmt"
)

// window measures the accepted step offsets [lo, hi] around the true step:
// first an offset that is accepted (the bind's, then outward), then upward
// on one enrollment and downward on another, each answer definitive (see
// prober.judge). Offsets beyond --max-steps are not probed.
func (r *runner) window(ctx context.Context) (*WindowResult, []Check, error) {
	p := r.p
	m := r.cfg.MaxSteps
	start := 0
	if p.anchor != nil {
		start = *p.anchor
	}
	k0, found := 0, false
	for _, k := range outward(start, m) {
		pr, err := p.judge(ctx, "window-up", k)
		if err != nil {
			return nil, nil, err
		}
		if pr.accepted {
			k0, found = k, true
			break
		}
	}
	if !found {
		return nil, []Check{{ID: "window.found", Status: Fail,
			Detail: fmt.Sprintf("no code within %d steps of the true time was accepted", m)}}, nil
	}
	hi := k0
	for k := k0 + 1; k <= m; k++ {
		pr, err := p.judgeFresh(ctx, "window-up", k, k-1)
		if err != nil {
			return nil, nil, err
		}
		if !pr.accepted {
			break
		}
		hi = k
	}
	// Downward probes on a step-strict target must wait for the steps
	// already accepted to pass: free in virtual time, so the same
	// enrollment serves; in real time a second one bound now is cheaper in
	// waiting than the first one.
	down := "window-down"
	if p.tm.Virtual() {
		down = "window-up"
	}
	lo := k0
	for k := k0 - 1; k >= -m; k-- {
		pr, err := p.judgeFresh(ctx, down, k, k+1)
		if err != nil {
			return nil, nil, err
		}
		if !pr.accepted {
			break
		}
		lo = k
	}
	res := windowResult(lo, hi, int(p.period.Seconds()), m)
	r.lo, r.hi, r.haveWindow = lo, hi, true
	return res, windowChecks(res), nil
}

// outward lists start, start+1, start-1, start+2, ... within [-m, m].
func outward(start, m int) []int {
	var out []int
	if start >= -m && start <= m {
		out = append(out, start)
	}
	for i := 1; i <= 2*m; i++ {
		for _, k := range []int{start + i, start - i} {
			if k >= -m && k <= m {
				out = append(out, k)
			}
		}
	}
	return out
}

// windowResult turns accepted offsets [lo, hi] into steps and skews
// (MEASURING.md): a device off by d seconds is accepted at every phase
// when lo*P <= d <= hi*P, and at some phases when (lo-1)*P < d < (hi+1)*P.
func windowResult(lo, hi, period, maxSteps int) *WindowResult {
	P := float64(period)
	return &WindowResult{
		BackSteps:              -lo,
		ForwardSteps:           hi,
		PeriodS:                period,
		MaxSteps:               maxSteps,
		AlwaysAcceptedSkewS:    [2]float64{float64(lo) * P, float64(hi) * P},
		SometimesAcceptedSkewS: [2]float64{float64(lo-1) * P, float64(hi+1) * P},
		BackAtLimit:            lo == -maxSteps,
		ForwardAtLimit:         hi == maxSteps,
	}
}

func windowChecks(w *WindowResult) []Check {
	var cs []Check
	span := fmt.Sprintf("accepts codes from %d step(s) back to %d step(s) ahead (device clock error always accepted %+gs..%+gs)",
		w.BackSteps, w.ForwardSteps, w.AlwaysAcceptedSkewS[0], w.AlwaysAcceptedSkewS[1])
	if w.BackSteps < 0 || w.ForwardSteps < 0 {
		cs = append(cs, Check{ID: "window.current-step", Status: Fail,
			Detail: span + ": the code of a correctly set clock is refused; the server's clock is probably off by a step or more"})
	} else {
		cs = append(cs, Check{ID: "window.current-step", Status: Pass, Detail: "the code of a correctly set clock is accepted"})
	}
	switch {
	case w.BackSteps > 1:
		d := span + ": RFC 6238 section 5.2 recommends at most one step back for network delay"
		if w.BackAtLimit {
			d += fmt.Sprintf(" (at least %d: the probe stopped at --max-steps)", w.BackSteps)
		}
		cs = append(cs, Check{ID: "window.back", Status: Warn, Detail: d})
	default:
		cs = append(cs, Check{ID: "window.back", Status: Pass, Detail: span})
	}
	if w.ForwardAtLimit {
		cs = append(cs, Check{ID: "window.forward", Status: Warn,
			Detail: fmt.Sprintf("codes %d steps ahead are still accepted (the probe stopped at --max-steps)", w.ForwardSteps)})
	}
	return cs
}

// judgeFresh is judge, guarded against a server that re-centres its
// window on a device's offset after each success (RFC 6238 section 6,
// the console's --resync): when role's device last had accepted the
// neighbouring offset prev (not 0), an accept at k may only show that
// the window followed the device. The accept is then checked on a fresh
// enrollment, whose window sits where the bind left it.
func (p *prober) judgeFresh(ctx context.Context, role string, k, prev int) (probe, error) {
	d := p.roles[role]
	moved := d != nil && prev != 0 && d.hasVerify && d.verifyHi == p.stepAtOffset(prev)
	pr, err := p.judge(ctx, role, k)
	if err != nil || !pr.accepted || !moved || pr.dev != d {
		return pr, err
	}
	delete(p.roles, role)
	return p.judge(ctx, role, k)
}

// stepAtOffset is the true step now plus k, at the probe moment judge
// would use (its step does not change before the probe in virtual time;
// in real time the comparison is only a hint).
func (p *prober) stepAtOffset(k int) int64 {
	if p.tm.Virtual() {
		ph, mid := p.phase(), p.period/2
		if ph > mid {
			return p.step() + 1 + int64(k)
		}
	}
	return p.step() + int64(k)
}
