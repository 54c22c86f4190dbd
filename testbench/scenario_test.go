package testbench

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func runFake(t *testing.T, f *fakeTarget, scenarios ...string) *Report {
	t.Helper()
	ctx := context.Background()
	tm, err := VirtualTime(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(scenarios) == 0 {
		// The time-driven scenarios have tests of their own (timed_test.go).
		scenarios = []string{ScenarioEnroll, ScenarioLockout, ScenarioWindow, ScenarioReplay}
	}
	rep, err := Run(ctx, Config{Target: f, Time: tm, Scenarios: scenarios})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

func checkStatus(rep *Report, id string) string {
	for _, c := range rep.Checks {
		if c.ID == id {
			return c.Status
		}
	}
	return "absent"
}

func TestFakeMatrix(t *testing.T) {
	for _, back := range []int{0, 1, 3} {
		for _, fwd := range []int{0, 2} {
			for _, replay := range []string{"none", "code", "step"} {
				for _, lock := range []int{0, 1, 3} {
					for _, bc := range []int{0, 1, 2} {
						name := fmt.Sprintf("back=%d,fwd=%d,replay=%s,lockout=%d,bind=%d", back, fwd, replay, lock, bc)
						t.Run(name, func(t *testing.T) {
							f := newFake()
							f.back, f.forward, f.replay, f.lockout, f.bindCodes = back, fwd, replay, lock, bc
							rep := runFake(t, f)
							for _, c := range rep.Checks {
								if c.ID == "enroll.error" || c.ID == "window.error" || c.ID == "replay.error" || c.ID == "lockout.error" {
									t.Fatalf("%s: %s", c.ID, c.Detail)
								}
							}
							w := rep.Results.Window
							if w == nil || w.BackSteps != back || w.ForwardSteps != fwd {
								t.Fatalf("window = %+v, want back %d forward %d", w, back, fwd)
							}
							l := rep.Results.Lockout
							if lock == 0 {
								if l.FailuresBeforeLock != nil {
									t.Errorf("failures before lock = %d, want none", *l.FailuresBeforeLock)
								}
							} else if l.FailuresBeforeLock == nil || *l.FailuresBeforeLock != lock {
								t.Errorf("failures before lock = %v, want %d", l.FailuresBeforeLock, lock)
							}
							rp := rep.Results.Replay
							wantSame := replay != "none"
							if *rp.SameCodeRejected != wantSame {
								t.Errorf("same code rejected = %v, want %v", *rp.SameCodeRejected, wantSame)
							}
							if back+fwd > 0 {
								if rp.OlderCodeRejected == nil || *rp.OlderCodeRejected != (replay == "step") {
									t.Errorf("older code rejected = %v, want %v", rp.OlderCodeRejected, replay == "step")
								}
							} else if rp.OlderCodeRejected != nil {
								t.Errorf("older code rejected = %v on a one-step window, want null", *rp.OlderCodeRejected)
							}
							if got := checkStatus(rep, "enroll.login"); got != Pass {
								t.Errorf("enroll.login = %s", got)
							}
							t.Logf("submissions %v", rep.Submissions)
						})
					}
				}
			}
		}
	}
}

func TestFakeFaults(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeTarget)
		check func(t *testing.T, f *fakeTarget, rep *Report)
	}{
		{"lenient+-10", func(f *fakeTarget) { f.back, f.forward, f.replay, f.lockout = 10, 10, "none", 0 },
			func(t *testing.T, f *fakeTarget, rep *Report) {
				w := rep.Results.Window
				if w.BackSteps != 10 || w.ForwardSteps != 10 || !w.BackAtLimit || !w.ForwardAtLimit {
					t.Errorf("window %+v, want 10/10 at the limit", w)
				}
				if checkStatus(rep, "window.back") != Warn || checkStatus(rep, "replay.same-code") != Fail || checkStatus(rep, "lockout.limit") != Fail {
					t.Errorf("checks %+v", rep.Checks)
				}
				// The attempt budget: 110 wrong codes, the bind's 2 and one right code.
				if n := rep.Submissions[ScenarioLockout]; n != DefaultMaxAttempts+2+1 {
					t.Errorf("lockout submitted %d codes, want %d", n, DefaultMaxAttempts+3)
				}
			}},
		{"throttle-every-3", func(f *fakeTarget) { f.throttleEvery, f.retryAfter = 3, 7*time.Second },
			func(t *testing.T, f *fakeTarget, rep *Report) {
				// Every 429 was backed off for its Retry-After: the clock
				// moved at least that much in all.
				throttles := f.requests / 3
				if moved := f.clk.Now().Sub(time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC)); moved < time.Duration(throttles)*7*time.Second {
					t.Errorf("%d throttles but the clock moved only %v", throttles, moved)
				}
				w := rep.Results.Window
				if w.BackSteps != 1 || w.ForwardSteps != 1 || *rep.Results.Lockout.FailuresBeforeLock != 5 {
					t.Errorf("window %+v lockout %v", w, rep.Results.Lockout.FailuresBeforeLock)
				}
			}},
		{"flaky-500-every-4", func(f *fakeTarget) { f.flakyEvery = 4 },
			func(t *testing.T, f *fakeTarget, rep *Report) {
				w := rep.Results.Window
				if w.BackSteps != 1 || w.ForwardSteps != 1 || !*rep.Results.Replay.SameCodeRejected {
					t.Errorf("window %+v replay %+v", w, rep.Results.Replay)
				}
			}},
		{"always-500", func(f *fakeTarget) { f.flakyEvery = 1 },
			func(t *testing.T, f *fakeTarget, rep *Report) {
				// Every scenario gives up after its bounded retries.
				if f.codes > 4*(maxErrorRetries+1)*2 {
					t.Errorf("%d codes sent to a target that always fails", f.codes)
				}
				if !rep.Failed() {
					t.Errorf("no failed check: %+v", rep.Checks)
				}
			}},
		{"always-429", func(f *fakeTarget) { f.throttleEvery, f.retryAfter = 1, time.Second },
			func(t *testing.T, f *fakeTarget, rep *Report) {
				if f.codes > 4*(maxThrottles+1)*2 {
					t.Errorf("%d codes sent to a target that always throttles", f.codes)
				}
			}},
		{"lock-per-user", func(f *fakeTarget) { f.lockPerUser = true },
			func(t *testing.T, f *fakeTarget, rep *Report) {
				if rep.Results.Lockout.LockScope != "beyond the device" || checkStatus(rep, "lockout.scope") != Warn {
					t.Errorf("lockout %+v", rep.Results.Lockout)
				}
				// The bench waits the lock out (virtual time) and still
				// measures the window.
				if w := rep.Results.Window; w == nil || w.BackSteps != 1 || w.ForwardSteps != 1 {
					t.Errorf("window %+v, checks %+v", w, rep.Checks)
				}
			}},
		{"server-clock+17s", func(f *fakeTarget) { f.offset = 17 * time.Second },
			func(t *testing.T, f *fakeTarget, rep *Report) {
				// Probes sit at mid-step: +17 s puts the server one step ahead.
				w := rep.Results.Window
				if w.BackSteps != 0 || w.ForwardSteps != 2 {
					t.Errorf("window %+v, want 0 back 2 forward", w)
				}
			}},
		{"server-clock-40s-fwd0", func(f *fakeTarget) { f.offset, f.forward = -40*time.Second, 0 },
			func(t *testing.T, f *fakeTarget, rep *Report) {
				w := rep.Results.Window
				if w.BackSteps != 2 || w.ForwardSteps != -1 || checkStatus(rep, "window.current-step") != Fail || checkStatus(rep, "enroll.login") != Fail {
					t.Errorf("window %+v checks %+v", w, rep.Checks)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			tt.setup(f)
			rep := runFake(t, f)
			tt.check(t, f, rep)
			t.Logf("submissions %v", rep.Submissions)
		})
	}
}
