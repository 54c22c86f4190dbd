package testbench_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/internal/fake"
)

// base is a step edge (12:00:00 UTC is a whole number of 30 s steps).
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// phases are the starts within a step every correctness test runs at.
var phases = []time.Duration{0, 5 * time.Second, 14900 * time.Millisecond, 15 * time.Second, 25 * time.Second, 29900 * time.Millisecond}

// runFake runs the bench in virtual time against f, its clock started
// phase into a step.
func runFake(t *testing.T, f *fake.Server, phase time.Duration, cfg func(*testbench.Config), scenarios ...string) *testbench.Report {
	t.Helper()
	rep := runFakeWith(t, f, phase, cfg, scenarios)
	for _, ch := range rep.Checks {
		if strings.HasSuffix(ch.ID, ".error") {
			t.Fatalf("%s: %s", ch.ID, ch.Detail)
		}
	}
	return rep
}

func runFakeWith(t *testing.T, f *fake.Server, phase time.Duration, cfg func(*testbench.Config), scenarios []string) *testbench.Report {
	t.Helper()
	f.Clock = clock.NewManual(base.Add(phase))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tm, err := testbench.VirtualTime(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	c := testbench.Config{Target: f, Time: tm, Scenarios: scenarios}
	if cfg != nil {
		cfg(&c)
	}
	if os.Getenv("TOTPEMU_TRACE") != "" {
		c.Trace = os.Stderr
	}
	rep, err := testbench.Run(ctx, c)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

// wantEdges is the fake's acceptance interval by MEASURING.md: a step
// window [-b, +f] on a clock off by theta is [-fP - theta, (b+1)P -
// theta); ROTP's drift_behind B, drift_ahead A is [-A - theta, P + B -
// theta).
func wantEdges(f *fake.Server) (from, until time.Duration) {
	const P = fake.Period * time.Second
	if f.Seconds {
		return -f.Ahead - f.Offset, P + f.Behind - f.Offset
	}
	return -time.Duration(f.Forward)*P - f.Offset, time.Duration(f.Back+1)*P - f.Offset
}

func near(got float64, want time.Duration, tol float64) bool {
	return math.Abs(got-want.Seconds()) <= tol
}

// checkWindow requires the measured edges (within tol seconds) and, for
// a step window with a Date header, the configured window in the
// server's own steps.
func checkWindow(t *testing.T, name string, f *fake.Server, w *testbench.WindowResult, tol float64) {
	t.Helper()
	if w == nil {
		t.Fatalf("%s: no window result", name)
	}
	from, until := wantEdges(f)
	if !near(w.AcceptedFromS, from, tol) || !near(w.AcceptedUntilS, until, tol) {
		t.Errorf("%s: edges %+.4f s, %+.4f s (±%.4f), want %+.3f s, %+.3f s", name, w.AcceptedFromS, w.AcceptedUntilS, w.EdgeUncertaintyS, from.Seconds(), until.Seconds())
	}
	P := 30.0
	wantAlways := [2]float64{P - until.Seconds(), -from.Seconds()}
	if math.Abs(w.AlwaysAcceptedSkewS[0]-wantAlways[0]) > tol || math.Abs(w.AlwaysAcceptedSkewS[1]-wantAlways[1]) > tol {
		t.Errorf("%s: always accepted %v, want %v", name, w.AlwaysAcceptedSkewS, wantAlways)
	}
	switch {
	case f.Seconds:
		if w.Kind != testbench.KindSeconds || w.BackSteps != nil {
			t.Errorf("%s: kind %q back_steps %v, want a window in seconds with no steps", name, w.Kind, w.BackSteps)
		}
		if !f.NoDate && (w.BackSeconds == nil || math.Abs(*w.BackSeconds-f.Behind.Seconds()) > tol || math.Abs(*w.ForwardSeconds-f.Ahead.Seconds()) > tol) {
			t.Errorf("%s: window in seconds %v/%v, want %v/%v", name, w.BackSeconds, w.ForwardSeconds, f.Behind, f.Ahead)
		}
	case f.NoDate && f.Offset%(fake.Period*time.Second) == 0:
		if w.Kind != testbench.KindSteps || w.BackSteps != nil {
			t.Errorf("%s: kind %q back_steps %v, want steps, unknown without a Date header", name, w.Kind, w.BackSteps)
		}
	case f.NoDate:
		// Off the true step edges with no Date header: taken for a window
		// in seconds on a clock that is right (said in window.kind).
		if w.Kind != testbench.KindSeconds || w.BackSteps != nil {
			t.Errorf("%s: kind %q back_steps %v, want seconds (the clock taken to be right)", name, w.Kind, w.BackSteps)
		}
	default:
		if w.Kind != testbench.KindSteps || w.BackSteps == nil || *w.BackSteps != f.Back || *w.ForwardSteps != f.Forward {
			t.Errorf("%s: kind %q window %v/%v in the server's steps, want %d/%d", name, w.Kind, deref(w.BackSteps), deref(w.ForwardSteps), f.Back, f.Forward)
		}
	}
}

func deref(p *int) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func checkStatus(rep *testbench.Report, id string) testbench.Status {
	for _, c := range rep.Checks {
		if c.ID == id {
			return c.Status
		}
	}
	return "absent"
}

// TestFakeMatrix: every combination of window, replay, lockout and bind,
// started at each of six phases of a step, measures the configured
// window in the server's own steps, its edges to the millisecond, the
// lockout count and the replay behaviour.
func TestFakeMatrix(t *testing.T) {
	for _, back := range []int{0, 1, 3} {
		for _, fwd := range []int{0, 2} {
			for _, replay := range []string{"none", "code", "step"} {
				for _, lock := range []int{0, 1, 3} {
					for _, bc := range []int{0, 1, 2} {
						for pi, ph := range phases {
							if testing.Short() && pi%3 != (back+fwd+lock+bc)%3 {
								continue
							}
							name := fmt.Sprintf("back=%d,fwd=%d,replay=%s,lockout=%d,bind=%d,phase=%v", back, fwd, replay, lock, bc, ph)
							t.Run(name, func(t *testing.T) {
								f := fake.New()
								f.Back, f.Forward, f.Replay, f.Lockout, f.BindCodes = back, fwd, replay, lock, bc
								rep := runFake(t, f, ph, nil, testbench.ScenarioEnroll, testbench.ScenarioLockout, testbench.ScenarioWindow, testbench.ScenarioReplay)
								checkWindow(t, name, f, rep.Results.Window, 0.002)
								l := rep.Results.Lockout
								if lock == 0 {
									if l.FailuresBeforeLock != nil {
										t.Errorf("%s: failures before lock %d, want none", name, *l.FailuresBeforeLock)
									}
								} else if l.FailuresBeforeLock == nil || *l.FailuresBeforeLock != lock {
									t.Errorf("%s: failures before lock %v, want %d", name, l.FailuresBeforeLock, lock)
								}
								rp := rep.Results.Replay
								if *rp.SameCodeRejected != (replay != "none") {
									t.Errorf("%s: same code rejected = %v", name, *rp.SameCodeRejected)
								}
								if back+fwd > 0 {
									if rp.OlderCodeRejected == nil || *rp.OlderCodeRejected != (replay == "step") {
										t.Errorf("%s: older code rejected = %v, want %v", name, rp.OlderCodeRejected, replay == "step")
									}
								} else if rp.OlderCodeRejected != nil {
									t.Errorf("%s: older code rejected = %v on a one-step window, want null", name, *rp.OlderCodeRejected)
								}
								if got := checkStatus(rep, "enroll.login"); got != testbench.Pass {
									t.Errorf("%s: enroll.login = %s", name, got)
								}
							})
						}
					}
				}
			}
		}
	}
}

// TestFakeSecondsWindows: windows in seconds as ROTP takes them, on exact
// and sub-second-offset clocks, at each phase: the edges to ±0.01 s,
// reported as a window in seconds (no whole-step window claimed).
func TestFakeSecondsWindows(t *testing.T) {
	for _, w := range [][2]int{{15, 0}, {10, 10}, {45, 0}, {0, 20}} {
		for _, off := range []time.Duration{0, 13400 * time.Millisecond, -7 * time.Second} {
			for _, ph := range phases {
				name := fmt.Sprintf("behind=%ds,ahead=%ds,offset=%v,phase=%v", w[0], w[1], off, ph)
				t.Run(name, func(t *testing.T) {
					f := fake.New()
					f.Seconds, f.Behind, f.Ahead, f.Offset = true, time.Duration(w[0])*time.Second, time.Duration(w[1])*time.Second, off
					rep := runFake(t, f, ph, nil, testbench.ScenarioWindow)
					checkWindow(t, name, f, rep.Results.Window, 0.01)
				})
			}
		}
	}
}

// TestFakeClockOffsets: a step window on a server clock off by whole and
// fractional steps, at each phase: the configured window in the
// server's own steps, whatever the phase the run starts at.
func TestFakeClockOffsets(t *testing.T) {
	for _, off := range []time.Duration{-40 * time.Second, -7 * time.Second, 13400 * time.Millisecond, 17 * time.Second, 17400 * time.Millisecond, 95250 * time.Millisecond} {
		for _, ph := range phases {
			name := fmt.Sprintf("offset=%v,phase=%v", off, ph)
			t.Run(name, func(t *testing.T) {
				f := fake.New()
				f.Back, f.Forward, f.Offset = 2, 0, off
				rep := runFake(t, f, ph, nil, testbench.ScenarioWindow, testbench.ScenarioServerClock)
				checkWindow(t, name, f, rep.Results.Window, 0.002)
				s := rep.Results.ServerClock
				if s.OffsetS == nil || !near(*s.OffsetS, off, 0.002) || s.Source != "date-header+codes" {
					t.Errorf("%s: server clock %+v, want %v from both", name, s, off)
				}
			})
		}
	}
}

// runFakeQuiet is runFake that lets scenarios fail.
func runFakeQuiet(t *testing.T, f *fake.Server, phase time.Duration, scenarios ...string) *testbench.Report {
	t.Helper()
	return runFakeWith(t, f, phase, nil, scenarios)
}
