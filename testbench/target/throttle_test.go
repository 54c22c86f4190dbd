package target

import (
	"fmt"
	"testing"
	"time"

	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/refserver"
)

// TestRefserverThrottle: against the console throttling silently
// (--throttle exponential[:FACTOR]), with and without a lockout beside,
// the bench finds the throttle, measures its delays, and still measures
// the window and the lockout right, at rotating phases.
func TestRefserverThrottle(t *testing.T) {
	cases := []struct {
		factor  time.Duration
		lockout int
	}{{time.Second, 0}, {500 * time.Millisecond, 0}, {time.Second, 5}}
	for i, c := range cases {
		ph := phases[(i*2+1)%len(phases)]
		t.Run(fmt.Sprintf("factor=%v,lockout=%d,phase=%v", c.factor, c.lockout, ph), func(t *testing.T) {
			o := refserver.DefaultOptions()
			o.ThrottleFactor, o.Lockout = c.factor, c.lockout
			rep := benchOpts(t, o, ph, nil, testbench.ScenarioLockout, testbench.ScenarioThrottle, testbench.ScenarioWindow, testbench.ScenarioReplay)
			checkEdges(t, o.Policy(), o, rep.Results.Window, 0.002)
			th := rep.Results.Throttle
			if th == nil || th.Kind != "silent" || len(th.DelaysS) != 3 {
				t.Fatalf("throttle %+v, want silent with 3 delays", th)
			}
			for n, d := range th.DelaysS {
				want := (c.factor << n).Seconds()
				if d < want || d > want*1.07 {
					t.Errorf("delay after %d failures %v s, want %v s (+7 %%)", n+1, d, want)
				}
			}
			l := rep.Results.Lockout
			if c.lockout > 0 && (l.FailuresBeforeLock == nil || *l.FailuresBeforeLock != c.lockout) {
				t.Errorf("lockout %+v, want %d", l, c.lockout)
			}
			for _, ch := range rep.Checks {
				if ch.Status == testbench.Fail {
					t.Errorf("%s failed: %s", ch.ID, ch.Detail)
				}
			}
		})
	}
}
