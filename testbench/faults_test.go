package testbench_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/internal/fake"
)

var basic = []string{testbench.ScenarioEnroll, testbench.ScenarioLockout, testbench.ScenarioWindow, testbench.ScenarioReplay}

// TestFakeFaults: a lenient server, throttling, 500s, a lock kept per
// user, a Date header from another clock, none at all: each property
// reported correctly, the retry and attempt budgets honoured.
func TestFakeFaults(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fake.Server)
		check func(t *testing.T, f *fake.Server, rep *testbench.Report)
	}{
		{"lenient+-10", func(f *fake.Server) { f.Back, f.Forward, f.Replay, f.Lockout = 10, 10, "none", 0 },
			func(t *testing.T, f *fake.Server, rep *testbench.Report) {
				// Ten steps each way is --max-steps: the edges are still
				// found (a refusal one step further), and the width warns.
				checkWindow(t, "lenient", f, rep.Results.Window, 0.002)
				if checkStatus(rep, "window.back") != testbench.Warn {
					t.Errorf("window.back = %s, want warn for 10 steps back", checkStatus(rep, "window.back"))
				}
				if checkStatus(rep, "replay.same-code") != testbench.Fail || checkStatus(rep, "lockout.limit") != testbench.Fail {
					t.Errorf("checks %+v", rep.Checks)
				}
				// The attempt budget: 110 wrong codes, two binds of 2 (the
				// second for the reset test, which no lock makes moot) and
				// one right code.
				if n := rep.Submissions[testbench.ScenarioLockout]; n != testbench.DefaultMaxAttempts+2+2+1 {
					t.Errorf("lockout submitted %d codes, want %d", n, testbench.DefaultMaxAttempts+5)
				}
			}},
		{"lenient+-12", func(f *fake.Server) { f.Back, f.Forward, f.Replay, f.Lockout = 12, 12, "none", 0 },
			func(t *testing.T, f *fake.Server, rep *testbench.Report) {
				w := rep.Results.Window
				if !w.BackAtLimit || !w.ForwardAtLimit || checkStatus(rep, "window.limit") != testbench.Warn {
					t.Errorf("window %+v, want both sides at the limit", w)
				}
				if w.TrueBackSteps < 10 || w.TrueForwardSteps < 10 {
					t.Errorf("window %+v, want at least 10 steps each way", w)
				}
			}},
		{"throttle-every-3", func(f *fake.Server) { f.ThrottleEvery, f.RetryAfter = 3, 7*time.Second },
			func(t *testing.T, f *fake.Server, rep *testbench.Report) {
				checkWindow(t, "throttle", f, rep.Results.Window, 0.002)
				if l := rep.Results.Lockout; l.FailuresBeforeLock == nil || *l.FailuresBeforeLock != 5 {
					t.Errorf("lockout %v", l.FailuresBeforeLock)
				}
				if rep.Timing.WaitingS < float64(f.Requests/3)*7 {
					t.Errorf("%d throttles but only %.0f s waited", f.Requests/3, rep.Timing.WaitingS)
				}
			}},
		{"flaky-500-every-4", func(f *fake.Server) { f.FlakyEvery = 4 },
			func(t *testing.T, f *fake.Server, rep *testbench.Report) {
				checkWindow(t, "flaky", f, rep.Results.Window, 0.002)
				if !*rep.Results.Replay.SameCodeRejected {
					t.Errorf("replay %+v", rep.Results.Replay)
				}
			}},
		{"lock-per-user", func(f *fake.Server) { f.LockPerUser = true },
			func(t *testing.T, f *fake.Server, rep *testbench.Report) {
				if rep.Results.Lockout.LockScope != "beyond the device" || checkStatus(rep, "lockout.scope") != testbench.Warn {
					t.Errorf("lockout %+v", rep.Results.Lockout)
				}
				// The bench waits the lock out (virtual time) and still
				// measures the window.
				checkWindow(t, "lock-per-user", f, rep.Results.Window, 0.002)
			}},
		{"date-from-a-proxy", func(f *fake.Server) { f.Offset, f.DateOffset = 17*time.Second, -9*time.Second },
			func(t *testing.T, f *fake.Server, rep *testbench.Report) {
				// The codes' figures are kept: the edges, a window in
				// steps; the server's own steps are unknown.
				w := rep.Results.Window
				from, until := wantEdges(f)
				if !near(w.AcceptedFromS, from, 0.002) || !near(w.AcceptedUntilS, until, 0.002) || w.Kind != testbench.KindSteps || w.BackSteps != nil {
					t.Errorf("proxy: window %+v, want edges %v, %v in steps, the server's own unknown", w, from, until)
				}
				if checkStatus(rep, "window.date-header") != testbench.Warn {
					t.Errorf("no warning that the Date header disagrees: %+v", rep.Checks)
				}
			}},
		{"no-date-header", func(f *fake.Server) { f.NoDate = true },
			func(t *testing.T, f *fake.Server, rep *testbench.Report) {
				checkWindow(t, "no date", f, rep.Results.Window, 0.002)
			}},
		{"no-date-header-clock-off", func(f *fake.Server) { f.NoDate, f.Offset = true, 13400*time.Millisecond },
			func(t *testing.T, f *fake.Server, rep *testbench.Report) {
				// Codes alone cannot tell a step window on a clock 13.4 s
				// fast from a window in seconds on a right one: the edges
				// are right either way, the reading is said.
				checkWindow(t, "no date, clock off", f, rep.Results.Window, 0.002)
				if checkStatus(rep, "window.kind") != testbench.Pass {
					t.Errorf("no window.kind check saying how the window was read: %+v", rep.Checks)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.New()
			tt.setup(f)
			rep := runFake(t, f, 7*time.Second, nil, basic...)
			tt.check(t, f, rep)
			t.Logf("submissions %v, enrollments %d, timing %+v", rep.Submissions, rep.Enrollments, rep.Timing)
		})
	}
}

// TestFakeUnusable: a target that always fails or always throttles gives
// up after bounded retries with failed checks, not a hang.
func TestFakeUnusable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *fake.Server)
	}{
		{"always-500", func(f *fake.Server) { f.FlakyEvery = 1 }},
		{"always-429", func(f *fake.Server) { f.ThrottleEvery, f.RetryAfter = 1, time.Second }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.New()
			tc.setup(f)
			rep := runFakeQuiet(t, f, 0, basic...)
			if f.Codes > 40 {
				t.Errorf("%d codes sent to a target that never answers", f.Codes)
			}
			if !rep.Failed() {
				t.Errorf("no failed check: %+v", rep.Checks)
			}
		})
	}
}

// TestFakeRandomPolicies runs the bench against random fake servers,
// faults included (429s, 500s), at random phases, and requires the
// window, the replay behaviour and the lockout count every time.
func TestFakeRandomPolicies(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	n := 300
	if testing.Short() || raceEnabled {
		n = 60
	}
	for i := 0; i < n; i++ {
		f := fake.New()
		f.Back, f.Forward, f.Replay = rnd.IntN(5), rnd.IntN(5), []string{"none", "code", "step"}[rnd.IntN(3)]
		f.Lockout, f.BindCodes = rnd.IntN(7), rnd.IntN(3)
		f.Offset = time.Duration(rnd.IntN(100_001)-50_000) * time.Millisecond
		f.ThrottleEvery, f.RetryAfter, f.FlakyEvery = []int{0, 5, 11}[rnd.IntN(3)], 3*time.Second, []int{0, 7, 13}[rnd.IntN(3)]
		phase := time.Duration(rnd.IntN(30_000)) * time.Millisecond
		name := fmt.Sprintf("back=%d,fwd=%d,replay=%s,lockout=%d,bind=%d,offset=%v,throttle=%d,flaky=%d,phase=%v",
			f.Back, f.Forward, f.Replay, f.Lockout, f.BindCodes, f.Offset, f.ThrottleEvery, f.FlakyEvery, phase)
		t.Run(name, func(t *testing.T) {
			rep := runFake(t, f, phase, nil, basic...)
			checkWindow(t, name, f, rep.Results.Window, 0.002)
			l := rep.Results.Lockout
			if (f.Lockout == 0) != (l.FailuresBeforeLock == nil) || (f.Lockout > 0 && *l.FailuresBeforeLock != f.Lockout) {
				t.Errorf("%s: failures before lock %v", name, l.FailuresBeforeLock)
			}
			rp := rep.Results.Replay
			if *rp.SameCodeRejected != (f.Replay != "none") {
				t.Errorf("%s: same code rejected %v", name, *rp.SameCodeRejected)
			}
			if rp.OlderCodeRejected != nil && *rp.OlderCodeRejected != (f.Replay == "step") {
				t.Errorf("%s: older code rejected %v", name, *rp.OlderCodeRejected)
			}
			if (rp.OlderCodeRejected == nil) != (f.Back+f.Forward == 0) {
				t.Errorf("%s: older code test ran = %v", name, rp.OlderCodeRejected != nil)
			}
		})
	}
}

// TestFakeEnrollmentBudget: with few enrollments allowed, or one
// submission in flight, the same figures (more waiting).
func TestFakeEnrollmentBudget(t *testing.T) {
	for _, tc := range []struct {
		maxEnroll, parallel int
	}{{6, 0}, {3, 0}, {0, 1}, {4, 1}} {
		name := fmt.Sprintf("max-enrollments=%d,parallel=%d", tc.maxEnroll, tc.parallel)
		t.Run(name, func(t *testing.T) {
			f := fake.New()
			f.Offset = 13400 * time.Millisecond
			rep := runFake(t, f, 3*time.Second, func(c *testbench.Config) { c.MaxEnrollments, c.Parallel = tc.maxEnroll, tc.parallel },
				testbench.ScenarioWindow, testbench.ScenarioReplay, testbench.ScenarioServerClock)
			checkWindow(t, name, f, rep.Results.Window, 0.002)
			if tc.maxEnroll > 0 && rep.Enrollments > tc.maxEnroll {
				t.Errorf("%s: %d enrollments", name, rep.Enrollments)
			}
			t.Logf("%s: %d enrollments, submissions %v, timing %+v", name, rep.Enrollments, rep.Submissions, rep.Timing)
		})
	}
}

// TestFakePeriodOutOfRange is the regression test for a bench against a
// server with 600 s steps: its report said "bind with 2 code(s) refused;
// login refused" with no code sent. An enrollment the device cannot use
// fails setup naming the period, and no check says a code was refused.
func TestFakePeriodOutOfRange(t *testing.T) {
	f := fake.New()
	f.URIParams = "&period=600"
	rep := runFakeWith(t, f, 0, nil, nil)
	if f.Codes != 0 {
		t.Errorf("%d codes sent with an unusable enrollment", f.Codes)
	}
	named := false
	for _, ch := range rep.Checks {
		if strings.Contains(ch.Detail, "refused") {
			t.Errorf("%s says %q with no code sent", ch.ID, ch.Detail)
		}
		if ch.Status == testbench.Fail && strings.Contains(ch.Detail, "period") && strings.Contains(ch.Detail, "600") {
			named = true
		}
	}
	if !named || !rep.Failed() {
		t.Errorf("no failed check naming period 600: %+v", rep.Checks)
	}
}

// TestFakeEnrollKeyFormsDisagree is the regression test for an enrollment
// check that could be fooled: with a URI given as text the QR image was
// never decoded, so a QR code holding another secret passed everything;
// a manual key that disagreed had the window blamed ("no bind accepted
// with codes within 10 steps"). Every form is read and compared; each
// mismatch is its own failing check, first in the report, no code is
// sent, and every scenario says it could not run because of it.
func TestFakeEnrollKeyFormsDisagree(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(f *fake.Server)
		failing []string // failing checks, in order
	}{
		{"qr-holds-another-secret", func(f *fake.Server) { f.QRImage, f.QROther = true, true }, []string{"enroll.qr-matches-uri", "enroll.manual-key"}},
		{"manual-key-another-secret", func(f *fake.Server) { f.ManualOther = true }, []string{"enroll.manual-key"}},
		{"qr-agrees-manual-key-not", func(f *fake.Server) { f.QRImage, f.ManualOther = true, true }, []string{"enroll.manual-key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.New()
			tc.setup(f)
			rep := runFakeWith(t, f, 0, nil, nil)
			if f.Codes != 0 {
				t.Errorf("%d codes sent with disagreeing key forms", f.Codes)
			}
			var failing []string
			notRun := 0
			for _, c := range rep.Checks {
				switch {
				case c.Status == testbench.Fail:
					failing = append(failing, c.ID)
					if notRun > 0 {
						t.Errorf("failing check %s after the scenarios: the mismatches come first", c.ID)
					}
				case c.Status == testbench.Pass && strings.HasPrefix(c.ID, "enroll.") && notRun == 0:
					// a comparison that agreed
				case strings.HasSuffix(c.ID, ".not-run") && c.Status == testbench.Skip && strings.Contains(c.Detail, "key forms disagree"):
					notRun++
				default:
					t.Errorf("check %s %s %q: nothing but the mismatch and the scenarios not run", c.ID, c.Status, c.Detail)
				}
			}
			if !slices.Equal(failing, tc.failing) || notRun != len(testbench.Scenarios) || !rep.Failed() {
				t.Errorf("failing %v (want %v), %d scenarios not run (want %d): %+v", failing, tc.failing, notRun, len(testbench.Scenarios), rep.Checks)
			}
		})
	}
	// Agreeing forms, the QR image among them: all compared, all pass.
	f := fake.New()
	f.QRImage = true
	rep := runFake(t, f, 0, nil, testbench.ScenarioEnroll)
	for _, id := range []string{"enroll.qr", "enroll.qr-matches-uri", "enroll.manual-key", "enroll.login"} {
		if s := statusOf(rep, id); s != testbench.Pass {
			t.Errorf("agreeing forms: %s is %q, want pass", id, s)
		}
	}
}

func statusOf(rep *testbench.Report, id string) testbench.Status {
	for _, c := range rep.Checks {
		if c.ID == id {
			return c.Status
		}
	}
	return "absent"
}
