package testbench_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/internal/fake"
)

// runReal runs the real-time path (truth from the system clock, waiting
// by sleeping) against f inside a synctest bubble, where sleeping costs
// nothing, started phase into a step; it returns the report and the
// bubble's real time it took.
func runReal(t *testing.T, f *fake.Server, phase time.Duration, scenarios ...string) (*testbench.Report, time.Duration, string) {
	t.Helper()
	f.Clock = clock.System{}
	sys := clock.System{}
	// Start at the chosen phase of a step.
	now := sys.Now()
	P := fake.Period * time.Second
	wait := phase - time.Duration(now.UnixNano()%int64(P))
	if wait < 0 {
		wait += P
	}
	time.Sleep(wait)
	var progress bytes.Buffer
	start := sys.Now()
	cfg := testbench.Config{Target: f, Time: testbench.RealTime(sys, sys, testbench.TimeSystem, nil), Progress: &progress, Scenarios: scenarios}
	if os.Getenv("TOTPEMU_TRACE") != "" {
		cfg.Trace = os.Stderr
	}
	rep, err := testbench.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rep, sys.Now().Sub(start), progress.String()
}

// TestRealTimeSynctest: the real-time path against strict servers (replay
// by step) and lenient ones, at three phases of a step: the same figures
// as in virtual time, within the real-time budgets the issue sets (the
// full suite within 120 s against the default policy, 35 s without
// replay protection), with progress lines while waiting.
func TestRealTimeSynctest(t *testing.T) {
	type tc struct {
		name   string
		setup  func(f *fake.Server)
		budget time.Duration
		scen   []string
	}
	cases := []tc{
		{"default-policy-full-suite", func(f *fake.Server) {}, 120 * time.Second, nil},
		{"replay-none-full-suite", func(f *fake.Server) { f.Replay = "none" }, 35 * time.Second, nil},
		{"2-back-0-forward-17s-fast", func(f *fake.Server) { f.Back, f.Forward, f.Offset = 2, 0, 17*time.Second }, 150 * time.Second, []string{testbench.ScenarioWindow}},
		{"rotp-15-0", func(f *fake.Server) { f.Seconds, f.Behind = true, 15*time.Second }, 240 * time.Second, []string{testbench.ScenarioWindow}},
		{"clock-13.4s-fast", func(f *fake.Server) { f.Offset = 13400 * time.Millisecond }, 75 * time.Second, []string{testbench.ScenarioServerClock}},
		{"no-date-replay-none-no-bind", func(f *fake.Server) { f.NoDate, f.Replay, f.BindCodes, f.Lockout = true, "none", 0, 0 }, 45 * time.Second, []string{testbench.ScenarioWindow, testbench.ScenarioReplay}},
		{"code-replay-lockout-3-bind-1", func(f *fake.Server) { f.Replay, f.Lockout, f.BindCodes, f.Back, f.Forward = "code", 3, 1, 2, 1 }, 150 * time.Second, nil},
	}
	for _, c := range cases {
		for _, ph := range []time.Duration{3 * time.Second, 14 * time.Second, 25 * time.Second} {
			name := fmt.Sprintf("%s,phase=%v", c.name, ph)
			t.Run(name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					f := fake.New()
					c.setup(f)
					rep, took, progress := runReal(t, f, ph, c.scen...)
					for _, ch := range rep.Checks {
						if strings.HasSuffix(ch.ID, ".error") {
							t.Fatalf("%s: %s: %s", name, ch.ID, ch.Detail)
						}
					}
					if w := rep.Results.Window; w != nil {
						checkWindow(t, name, f, w, 0.25)
					}
					if s := rep.Results.ServerClock; s != nil && (s.OffsetS == nil || !near(*s.OffsetS, f.Offset, 0.1)) {
						t.Errorf("%s: server clock %+v, want %v ±0.1 s", name, s, f.Offset)
					}
					if rp := rep.Results.Replay; rp != nil && *rp.SameCodeRejected != (f.Replay != "none") {
						t.Errorf("%s: replay %+v", name, rp)
					}
					if took > c.budget {
						t.Errorf("%s: took %v of (bubble) real time, over %v", name, took, c.budget)
					}
					if took > 10*time.Second && !strings.Contains(progress, "waiting") {
						t.Errorf("%s: no progress line while waiting %v", name, took)
					}
					t.Logf("%s: %v, waiting %.1f s, submissions %v, enrollments %d", name, took.Round(time.Second), rep.Timing.WaitingS, rep.Submissions, rep.Enrollments)
				})
			})
		}
	}
}

// TestProgressRetryCountdown is the regression test for the retry
// countdown that printed "1s left" then "2s left": each back-off of a
// target answering 429 is a countdown of its own, named by its retry, and
// within one the time left only falls.
func TestProgressRetryCountdown(t *testing.T) {
	for _, retryAfter := range []time.Duration{0, 3 * time.Second} {
		synctest.Test(t, func(t *testing.T) {
			f := fake.New()
			f.ThrottleEvery, f.RetryAfter = 1, retryAfter
			_, _, progress := runReal(t, f, 3*time.Second, testbench.ScenarioEnroll)
			last := map[string]time.Duration{}
			n := 0
			for _, line := range strings.Split(strings.TrimSpace(progress), "\n") {
				rest, ok := strings.CutPrefix(line, "bench: waiting: setup ")
				left, why, ok2 := strings.Cut(rest, " for ")
				d, err := time.ParseDuration(left)
				if !ok || !ok2 || err != nil || !strings.Contains(why, "retry ") {
					t.Fatalf("Retry-After %v: progress line %q: want \"bench: waiting: setup D for ... retry N of M\"", retryAfter, line)
				}
				if prev, seen := last[why]; seen && d > prev {
					t.Errorf("Retry-After %v: %q after %v left for the same retry", retryAfter, line, prev)
				}
				last[why] = d
				n++
			}
			if len(last) < 6 {
				t.Errorf("Retry-After %v: %d retries named in %d lines; want 6:\n%s", retryAfter, len(last), n, progress)
			}
		})
	}
}
