package target

import (
	"fmt"
	"testing"

	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/refserver"
)

// TestDriftTracking: against the console with --resync and its knobs, the
// bench measures how far the window follows a device running ahead, after
// how many successes, and whether a device set right is accepted and the
// window comes back: the figures equal the configuration, at rotating
// phases.
func TestDriftTracking(t *testing.T) {
	cases := []struct {
		back, fwd, max, after int
		forwardOnly           bool
		wantTracked           int
		atLeast               bool
		wantFixed             bool
		wantBack              *bool
	}{
		{1, 1, 0, 0, false, 10, true, false, nil},        // follows every success, unbounded: the set-right device is shut out
		{1, 1, 3, 0, false, 3, false, false, nil},        // at most 3 steps
		{1, 1, 3, 2, false, 3, false, false, nil},        // after 2 successes in a row
		{1, 1, 1, 0, false, 1, false, true, boolp(true)}, // 1 step: within the window's back step, so the set-right device comes back
		{1, 1, 1, 0, true, 1, false, true, boolp(false)}, // forward only: accepted, the window stays
		{2, 2, 2, 0, false, 2, false, true, boolp(true)}, // a wider window
		{3, 1, 0, 3, false, 10, true, false, nil},        // three successes
	}
	for i, c := range cases {
		ph := phases[i%len(phases)]
		name := fmt.Sprintf("window=-%d+%d,max=%d,after=%d,forward-only=%v,phase=%v", c.back, c.fwd, c.max, c.after, c.forwardOnly, ph)
		t.Run(name, func(t *testing.T) {
			o := refserver.DefaultOptions()
			o.WindowBack, o.WindowForward = c.back, c.fwd
			o.Resync, o.ResyncMax, o.ResyncAfter, o.ResyncForwardOnly = true, c.max, c.after, c.forwardOnly
			o.Lockout = 0
			rep := benchOpts(t, o, ph, nil, testbench.ScenarioDrift, testbench.ScenarioWindow)
			tr := rep.Results.Drift.Tracking
			if tr == nil {
				t.Fatalf("no tracking measured: %+v", rep.Results.Drift)
			}
			after := max(c.after, 1)
			if tr.MovesAfterSuccesses != after || tr.TrackedStepsMax != c.wantTracked || tr.AtLeast != c.atLeast || tr.FixedDeviceAccepted != c.wantFixed ||
				(c.wantBack == nil) != (tr.MovesBack == nil) || (c.wantBack != nil && *c.wantBack != *tr.MovesBack) {
				t.Errorf("%s: %+v (moves back %v), want after %d, tracked %d (at least %v), fixed device accepted %v, moves back %v",
					name, tr, derefBool(tr.MovesBack), after, c.wantTracked, c.atLeast, c.wantFixed, derefBool(c.wantBack))
			}
		})
	}
}

func boolp(b bool) *bool { return &b }

func derefBool(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}
