package target

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/clock/ntptest"
	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/refserver"
)

// startRefserver runs a reference console on loopback for the test.
func startRefserver(t *testing.T, opts refserver.Options) *refserver.Running {
	t.Helper()
	run, err := refserver.Start(context.Background(), "127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Close() })
	return run
}

// TestRealTimeLoopback runs a handful of the matrix over real loopback
// HTTP in real time, on servers without replay protection, where no
// scenario needs to wait beyond keeping probes off step edges.
func TestRealTimeLoopback(t *testing.T) {
	for _, c := range []refCase{
		{1, 1, refserver.ReplayNone, 3, 2, 0},
		{0, 2, refserver.ReplayNone, 5, 1, 0},
		{2, 0, refserver.ReplayNone, 0, 2, 0},
	} {
		t.Run(c.String(), func(t *testing.T) {
			run := startRefserver(t, refserver.Options{WindowBack: c.back, WindowForward: c.fwd, Replay: c.replay,
				Lockout: c.lockout, BindCodes: c.bind})
			ctx := context.Background()
			target, lab, err := RefConsole(ctx, run.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			if lab != nil {
				t.Fatal("lab clock offered without --lab")
			}
			var waits waitLog
			rep, err := testbench.Run(ctx, testbench.Config{Target: target, Time: testbench.RealTime(clock.System{}, &waits, testbench.TimeSystem, nil),
				Scenarios: []string{testbench.ScenarioLockout, testbench.ScenarioWindow, testbench.ScenarioReplay}})
			if err != nil {
				t.Fatal(err)
			}
			checkRefCase(t, c, rep)
			// Only the waits that keep probes off step edges: each at most
			// realEdgeMargin, and the run crosses an edge at most twice.
			if waits.total > 4*time.Second {
				t.Errorf("%v: waited %v (%v)", c, waits.total, waits.each)
			}
			t.Logf("submissions %v, waited %v", rep.Submissions, waits.total)
		})
	}
}

// TestLocalClockOff40s: the local clock is 40 s fast; the truth comes
// from NTP (a fake server on loopback telling the real time), so the
// bench measures the same window as with a correct clock. Taking the bad
// local clock as the truth instead measures a shifted window: the
// difference is the point of NTP.
func TestLocalClockOff40s(t *testing.T) {
	run := startRefserver(t, refserver.Options{WindowBack: 1, WindowForward: 1, Replay: refserver.ReplayNone, Lockout: 0, BindCodes: 2})
	ctx := context.Background()
	local := offsetWaiter{off: 40 * time.Second}
	var servers []string
	for range 3 {
		servers = append(servers, ntptest.NewServer(t).Addr())
	}
	ntp := clock.NewNTP(clock.NTPOptions{Servers: servers, Base: local, Timeout: time.Second})
	ev, err := ntp.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := ev.Offset + 40*time.Second; d.Abs() > 100*time.Millisecond {
		t.Fatalf("NTP offset %v, want about -40s", ev.Offset)
	}
	measure := func(truth clock.Clock, kind string) *testbench.WindowResult {
		target, _, err := RefConsole(ctx, run.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		off := ev.Offset
		rep, err := testbench.Run(ctx, testbench.Config{Target: target, Time: testbench.RealTime(truth, local, kind, &off), Scenarios: []string{testbench.ScenarioWindow}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.TimeSource.OffsetMS == nil || *rep.TimeSource.OffsetMS > -39900 {
			t.Errorf("time source %+v, want the -40 s offset recorded", rep.TimeSource)
		}
		return rep.Results.Window
	}
	if w := measure(ntp, testbench.TimeNTP); w == nil || w.BackSteps != 1 || w.ForwardSteps != 1 {
		t.Errorf("with NTP: window %+v, want 1 back 1 forward", w)
	}
	if w := measure(local, testbench.TimeSystem); w != nil && w.BackSteps == 1 && w.ForwardSteps == 1 {
		t.Errorf("with the bad local clock as truth: window %+v; the test shows nothing", w)
	}
}

// offsetWaiter is the local clock off by off, waiting in real time.
type offsetWaiter struct{ off time.Duration }

func (o offsetWaiter) Now() time.Time { return clock.System{}.Now().Add(o.off) }

func (o offsetWaiter) Wait(ctx context.Context, d time.Duration) error {
	return clock.System{}.Wait(ctx, d)
}

// TestExampleConfig drives the reference console through the shipped
// example config, in virtual time through its lab clock.
func TestExampleConfig(t *testing.T) {
	run := startRefserver(t, refserver.Options{WindowBack: 2, WindowForward: 1, Replay: refserver.ReplayCode, Lockout: 4, BindCodes: 2, Lab: true})
	env := map[string]string{"REFSERVER_URL": run.URL}
	cfg, err := LoadTargetConfigFile("../examples/refserver.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	target, err := NewHTTPTarget(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lab, err := target.Lab(ctx)
	if err != nil || lab == nil {
		t.Fatalf("lab clock: %v %v", lab, err)
	}
	tm, err := testbench.VirtualTime(ctx, lab)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := testbench.Run(ctx, testbench.Config{Target: target, Time: tm})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rep.Target, run.URL) {
		t.Errorf("target %q does not name %s", rep.Target, run.URL)
	}
	checkRefCase(t, refCase{2, 1, refserver.ReplayCode, 4, 2, 0}, rep)
	for _, c := range rep.Checks {
		if c.Status == testbench.Fail && !strings.HasPrefix(c.ID, "replay.older") {
			t.Errorf("check %s failed: %s", c.ID, c.Detail)
		}
	}
}

func TestLoadTargetConfigErrors(t *testing.T) {
	example, err := os.ReadFile("../examples/refserver.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text, want string
	}{
		{"empty", "", "empty"},
		{"unknown field", "base_url: http://x\nbogus: 1\n", "bogus"},
		{"no scheme", strings.Replace(string(example), "base_url: ${REFSERVER_URL:-http://127.0.0.1:8080}", "base_url: ftp://x", 1), "base_url"},
		{"unset env", "base_url: ${NOT_SET_ANYWHERE}\n", "NOT_SET_ANYWHERE"},
		{"bind codes 3", strings.Replace(string(example), "codes: 2", "codes: 3", 1), "bind.codes 3"},
		{"no key place", strings.NewReplacer("qr_image: qr_png", "", "manual_key: secret", "").Replace(string(example)), "qr_image"},
		{"json", `{"base_url": "http://x", "enroll": {"path": "/e", "uri": "u"}, "verify": {"path": "/v"}, "verdicts": {"accepted": [{"status": [200]}]}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadTargetConfig(tt.name, strings.NewReader(tt.text), func(string) string { return "" })
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("%q: %v", tt.text, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("%q: error %v, want one mentioning %q", tt.text, err, tt.want)
			}
		})
	}
	big := strings.Repeat("#", maxConfigBytes+1)
	if _, err := LoadTargetConfig("big", strings.NewReader(big), os.Getenv); err == nil {
		t.Error("a config over the size cap was read")
	}
}

// TestServerClockRealTime finds the server's clock offset over real
// loopback HTTP in real time: -7 s, 0 and +13 s to within 0.5 s, the
// search taking at most three periods. Each waits real time (up to
// about 90 s): the three run at once (goroutines, not t.Parallel, whose
// limit is the 2 cores), and not under -short or the race detector,
// whose slowdown would be measured as network delay.
func TestServerClockRealTime(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("waits real time (about 90 s): not under -short or the race detector (the plain run has it)")
	}
	t.Parallel() // mostly waiting: overlap it with the package's other tests
	offs := []time.Duration{-7 * time.Second, 0, 13 * time.Second}
	errs := make([][]string, len(offs))
	var wg sync.WaitGroup
	for i, off := range offs {
		run := startRefserver(t, refserver.Options{WindowBack: 1, WindowForward: 1, Replay: refserver.ReplayNone, Lockout: 0, BindCodes: 2, ClockOffset: off})
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(f string, a ...any) {
				errs[i] = append(errs[i], fmt.Sprintf("offset %v: ", off)+fmt.Sprintf(f, a...))
			}
			ctx := context.Background()
			target, _, err := RefConsole(ctx, run.URL, nil)
			if err != nil {
				fail("%v", err)
				return
			}
			rep, err := testbench.Run(ctx, testbench.Config{Target: target, Time: testbench.RealTime(clock.System{}, clock.System{}, testbench.TimeSystem, nil),
				Scenarios: []string{testbench.ScenarioWindow, testbench.ScenarioServerClock}})
			if err != nil {
				fail("%v", err)
				return
			}
			s := rep.Results.ServerClock
			if s == nil {
				fail("no result: %+v", rep.Checks)
				return
			}
			if d := s.OffsetS - off.Seconds(); d > 0.5 || d < -0.5 || s.UncertaintyS > 0.5 {
				fail("found %+.3f s ± %.3f", s.OffsetS, s.UncertaintyS)
			}
			if s.DurationS > 90 {
				fail("the search took %.1f s, over three periods", s.DurationS)
			}
			if s.BackSteps == nil || *s.BackSteps != 1 || *s.ForwardSteps != 1 {
				fail("server window %v/%v, want 1/1", s.BackSteps, s.ForwardSteps)
			}
			t.Logf("offset %v: %+.3f s ± %.3f (rtt %.2f ms) in %d rounds over %.1f s, %d codes", off, s.OffsetS, s.UncertaintyS, s.RTTMS, s.Rounds, s.DurationS, rep.Submissions[testbench.ScenarioServerClock])
		}()
	}
	wg.Wait()
	for _, e := range errs {
		for _, m := range e {
			t.Error(m)
		}
	}
}
