package testbench

import (
	"context"
	"fmt"
	"time"
)

// step returns the true step now.
func (p *prober) step() int64 {
	ns := p.tm.Now().UnixNano()
	per := int64(p.period)
	q := ns / per
	if ns%per != 0 && ns < 0 {
		q--
	}
	return q
}

// phase returns how far into its step the true time is.
func (p *prober) phase() time.Duration {
	ns := p.tm.Now().UnixNano()
	r := ns % int64(p.period)
	if r < 0 {
		r += int64(p.period)
	}
	return time.Duration(r)
}

// align moves to a moment where a probe cannot straddle a step edge: in
// virtual time the middle of a step (every probe at the same phase), in
// real time anywhere at least realEdgeMargin from an edge.
func (p *prober) align(ctx context.Context) error {
	ph, per := p.phase(), p.period
	if p.tm.Virtual() {
		mid := per / 2
		switch {
		case ph == mid:
			return nil
		case ph < mid:
			return p.waitFor(ctx, mid-ph, "")
		default:
			return p.waitFor(ctx, per-ph+mid, "")
		}
	}
	margin := min(realEdgeMargin, per/4)
	switch {
	case ph < margin:
		return p.waitFor(ctx, margin-ph, "the step edge to pass")
	case ph > per-margin:
		return p.waitFor(ctx, per-ph+margin, "the step edge to pass")
	}
	return nil
}

// waitFor waits d on the run's clock, telling the user in real time what
// it waits for and how long is left.
func (p *prober) waitFor(ctx context.Context, d time.Duration, why string) error {
	if d <= 0 {
		return nil
	}
	if p.tm.Virtual() || d < time.Second {
		return p.tm.Wait(ctx, d)
	}
	if why == "" {
		why = "the next step"
	}
	left := d
	for left > 0 {
		fmt.Fprintf(p.progress, "bench: %s: waiting for %s, %s left\n", p.scenario, why, left.Round(time.Second))
		chunk := min(left, 10*time.Second)
		if err := p.tm.Wait(ctx, chunk); err != nil {
			return err
		}
		left -= chunk
	}
	return nil
}

// waitSteps waits n whole steps.
func (p *prober) waitSteps(ctx context.Context, n int64, why string) error {
	return p.waitFor(ctx, time.Duration(n)*p.period, why)
}
