package testbench

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/totpemu/totpemu/clock"
)

// TestRealTimeStrictSynctest runs the real-time path (truth from the
// system clock, waiting by sleeping) against servers with replay
// protection, inside a synctest bubble where sleeping costs nothing: the
// waits a strict server forces are real waits here, and the window is
// still measured right. The progress lines say what is awaited and how
// long is left.
func TestRealTimeStrictSynctest(t *testing.T) {
	for _, tc := range []struct {
		replay    string
		back, fwd int
		lock, bc  int
	}{
		{"step", 1, 1, 5, 2},
		{"step", 2, 0, 3, 1},
		{"code", 1, 2, 3, 2},
		{"step", 0, 0, 0, 0},
	} {
		name := fmt.Sprintf("replay=%s,back=%d,fwd=%d,lockout=%d,bind=%d", tc.replay, tc.back, tc.fwd, tc.lock, tc.bc)
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				f.real = clock.System{}
				f.replay, f.back, f.forward, f.lockout, f.bindCodes = tc.replay, tc.back, tc.fwd, tc.lock, tc.bc
				var progress bytes.Buffer
				start := clock.System{}.Now()
				rep, err := Run(context.Background(), Config{Target: f, Time: RealTime(clock.System{}, clock.System{}, TimeSystem, nil),
					Progress: &progress, MaxAttempts: 20, Scenarios: []string{ScenarioEnroll, ScenarioLockout, ScenarioWindow, ScenarioReplay}})
				if err != nil {
					t.Fatal(err)
				}
				took := clock.System{}.Now().Sub(start)
				w := rep.Results.Window
				if w == nil || w.BackSteps != tc.back || w.ForwardSteps != tc.fwd {
					t.Fatalf("%s: window %+v, checks %+v", name, w, rep.Checks)
				}
				rp := rep.Results.Replay
				if !*rp.SameCodeRejected {
					t.Errorf("%s: same code accepted", name)
				}
				if tc.back+tc.fwd > 0 && *rp.OlderCodeRejected != (tc.replay == "step") {
					t.Errorf("%s: older code rejected %v", name, *rp.OlderCodeRejected)
				}
				if took > 20*time.Minute {
					t.Errorf("%s: took %v of (bubble) real time", name, took)
				}
				if !strings.Contains(progress.String(), "left") {
					t.Errorf("%s: no progress line while waiting %v", name, took)
				}
				t.Logf("%s: %v of real time, submissions %v, first progress line %q", name, took, rep.Submissions, strings.SplitN(progress.String(), "\n", 2)[0])
			})
		})
	}
}
