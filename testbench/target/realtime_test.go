package target

import (
	"context"
	"fmt"
	"math"
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

// untilPhase sleeps until the system clock is phase into a 30 s step.
func untilPhase(phase time.Duration) {
	const P = 30 * time.Second
	now := time.Now()
	wait := phase - time.Duration(now.UnixNano()%int64(P))
	if wait < 0 {
		wait += P
	}
	time.Sleep(wait)
}

// realCase is one bench run over loopback in real time, started at a
// chosen phase of a step, with its time budget and what it must show.
type realCase struct {
	name      string
	opts      refserver.Options
	scenarios []string
	budget    time.Duration
	check     func(rep *testbench.Report) []string
}

func edgesNear(w *testbench.WindowResult, from, until, tol float64) []string {
	if w == nil {
		return []string{"no window result"}
	}
	var errs []string
	if math.Abs(w.AcceptedFromS-from) > tol || math.Abs(w.AcceptedUntilS-until) > tol {
		errs = append(errs, fmt.Sprintf("edges %+.3f s, %+.3f s (±%.3f), want %+.1f s, %+.1f s ±%.2f", w.AcceptedFromS, w.AcceptedUntilS, w.EdgeUncertaintyS, from, until, tol))
	}
	if w.EdgeUncertaintyS > 0.25 {
		errs = append(errs, fmt.Sprintf("edge uncertainty %.3f s, over 0.25 s", w.EdgeUncertaintyS))
	}
	return errs
}

func alwaysNear(w *testbench.WindowResult, lo, hi, tol float64) []string {
	if w == nil {
		return []string{"no window result"}
	}
	a := w.AlwaysAcceptedSkewS
	if math.Abs(a[0]-lo) > tol || math.Abs(a[1]-hi) > tol {
		return []string{fmt.Sprintf("always accepted %v, want [%+g, %+g] ±%g", a, lo, hi, tol)}
	}
	return nil
}

func steps(w *testbench.WindowResult, back, fwd int) []string {
	if w == nil || w.BackSteps == nil || *w.BackSteps != back || *w.ForwardSteps != fwd || w.Kind != testbench.KindSteps {
		return []string{fmt.Sprintf("window %+v, want %d back %d forward in the server's steps", w, back, fwd)}
	}
	return nil
}

// TestRealTimeLoopback runs the bench against reference consoles over
// loopback HTTP in real time, each case started 3, 14 and 25 s into a
// step, all at once (they mostly wait): the full default suite against
// the default policy within 120 s, against --replay none within 35 s;
// the server's clock 13.4 s fast within ±0.1 s in 75 s; a 2-back,
// 0-forward window on a clock 17 s fast in the server's own steps with
// the device clock error always accepted [-43, +17] s; ROTP's window of
// 15 s back giving [-15, 0] s. Not under -short or the race detector,
// whose slowdown would read as network delay.
func TestRealTimeLoopback(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("waits real time (about 4 minutes): not under -short or the race detector (the plain run has it)")
	}
	t.Parallel()
	def := refserver.DefaultOptions()
	none := refserver.DefaultOptions()
	none.Replay = refserver.ReplayNone
	fast := refserver.DefaultOptions()
	fast.ClockOffset = 13400 * time.Millisecond
	off17 := refserver.DefaultOptions()
	off17.WindowBack, off17.WindowForward, off17.ClockOffset = 2, 0, 17*time.Second
	rotp := refserver.DefaultOptions()
	rotp.WindowBack, rotp.WindowForward = 0, 0
	rotp.WindowInSeconds, rotp.WindowSecondsBack = true, 15*time.Second
	flawed := refserver.DefaultOptions()
	flawed.Lab = true
	flawed.Flaws = refserver.Flaws{TOCTOUReplay: true, LockoutRace: true, BindReuse: true}
	cases := []realCase{
		{"default policy, full suite", def, nil, 120 * time.Second, func(rep *testbench.Report) []string {
			errs := append(steps(rep.Results.Window, 1, 1), edgesNear(rep.Results.Window, -30, 60, 0.25)...)
			if rp := rep.Results.Replay; rp == nil || !*rp.SameCodeRejected || rp.OlderCodeRejected == nil || !*rp.OlderCodeRejected {
				errs = append(errs, fmt.Sprintf("replay %+v", rp))
			}
			if l := rep.Results.Lockout; l == nil || l.FailuresBeforeLock == nil || *l.FailuresBeforeLock != 5 || l.SuccessResets == nil || !*l.SuccessResets {
				errs = append(errs, fmt.Sprintf("lockout %+v", l))
			}
			if d := rep.Results.Drift; d == nil || d.FirstRefusedDay == nil || *d.FirstRefusedDay != 18 {
				errs = append(errs, fmt.Sprintf("drift %+v", d))
			}
			if rep.Failed() {
				errs = append(errs, fmt.Sprintf("failed checks: %+v", rep.Checks))
			}
			return errs
		}},
		{"replay none, full suite", none, nil, 35 * time.Second, func(rep *testbench.Report) []string {
			errs := append(steps(rep.Results.Window, 1, 1), edgesNear(rep.Results.Window, -30, 60, 0.25)...)
			if rp := rep.Results.Replay; rp == nil || *rp.SameCodeRejected {
				errs = append(errs, fmt.Sprintf("replay %+v", rp))
			}
			return errs
		}},
		{"server clock 13.4 s fast", fast, []string{testbench.ScenarioServerClock}, 75 * time.Second, func(rep *testbench.Report) []string {
			s := rep.Results.ServerClock
			if s == nil || s.OffsetS == nil || math.Abs(*s.OffsetS-13.4) > 0.1 || s.UncertaintyS > 0.1 {
				return []string{fmt.Sprintf("server clock %+v, want +13.4 s ±0.1", s)}
			}
			if s.BackSteps == nil || *s.BackSteps != 1 || *s.ForwardSteps != 1 || s.Source != "date-header+codes" {
				return []string{fmt.Sprintf("server clock %+v, want 1/1 in its own steps from the Date header and the codes", s)}
			}
			return nil
		}},
		{"window 2 back 0 forward, clock 17 s fast", off17, []string{testbench.ScenarioWindow}, 150 * time.Second, func(rep *testbench.Report) []string {
			return append(steps(rep.Results.Window, 2, 0), alwaysNear(rep.Results.Window, -43, 17, 0.5)...)
		}},
		{"flawed console (toctou-replay, lockout-race, bind-reuse)", flawed,
			[]string{testbench.ScenarioLockout, testbench.ScenarioRace, testbench.ScenarioReuse}, 90 * time.Second, func(rep *testbench.Report) []string {
				var errs []string
				want := map[string]testbench.Status{"race.replay": testbench.Fail, "race.lockout": testbench.Fail, "reuse.bind-code": testbench.Fail}
				for _, c := range rep.Checks {
					if w, ok := want[c.ID]; ok {
						if c.Status != w {
							errs = append(errs, fmt.Sprintf("%s: %s (%s), want %s", c.ID, c.Status, c.Detail, w))
						}
						delete(want, c.ID)
					}
				}
				for id := range want {
					errs = append(errs, "no check "+id)
				}
				if r := rep.Results.Race; r == nil || r.SpreadMSP50 == nil || *r.SpreadMSP50 >= 1 {
					errs = append(errs, fmt.Sprintf("race %+v: want the spread measured, p50 under 1 ms", r))
				}
				return errs
			}},
		{"window in seconds, 15 s back", rotp, []string{testbench.ScenarioWindow}, 300 * time.Second, func(rep *testbench.Report) []string {
			w := rep.Results.Window
			errs := alwaysNear(w, -15, 0, 0.5)
			if w == nil || w.Kind != testbench.KindSeconds || w.BackSteps != nil {
				errs = append(errs, fmt.Sprintf("window %+v, want a window in seconds", w))
			}
			return errs
		}},
	}
	type result struct {
		name string
		errs []string
		log  string
	}
	var mu sync.Mutex
	var results []result
	var wg sync.WaitGroup
	for _, c := range cases {
		for _, ph := range []time.Duration{3 * time.Second, 14 * time.Second, 25 * time.Second} {
			run := startRefserver(t, c.opts)
			name := fmt.Sprintf("%s, started %v into a step", c.name, ph)
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := result{name: name}
				defer func() { mu.Lock(); results = append(results, r); mu.Unlock() }()
				ctx := context.Background()
				target, lab, err := RefConsole(ctx, run.URL, nil)
				// A console in lab mode (for its flaws) keeps its clock on
				// the real one until set: the bench ignores the lab clock.
				if err != nil || (lab != nil && !c.opts.Lab) {
					r.errs = []string{fmt.Sprintf("target: %v (lab %v)", err, lab)}
					return
				}
				untilPhase(ph)
				start := time.Now()
				rep, err := testbench.Run(ctx, testbench.Config{Target: target, Time: testbench.RealTime(clock.System{}, clock.System{}, testbench.TimeSystem, nil),
					Scenarios: c.scenarios})
				took := time.Since(start)
				if err != nil {
					r.errs = []string{err.Error()}
					return
				}
				r.errs = c.check(rep)
				if took > c.budget {
					r.errs = append(r.errs, fmt.Sprintf("took %v, over %v", took.Round(100*time.Millisecond), c.budget))
				}
				r.log = fmt.Sprintf("%s: %v (waiting %.1f s), submissions %v, %d enrollments", name, took.Round(100*time.Millisecond), rep.Timing.WaitingS, rep.Submissions, rep.Enrollments)
				if w := rep.Results.Window; w != nil {
					r.log += fmt.Sprintf("; edges %+.3f s, %+.3f s ±%.3f; always %v", w.AcceptedFromS, w.AcceptedUntilS, w.EdgeUncertaintyS, w.AlwaysAcceptedSkewS)
				}
				if rc := rep.Results.Race; rc != nil && rc.SpreadMSP50 != nil {
					r.log += fmt.Sprintf("; race: spread p50 %.3f ms max %.3f ms, replay max %d accepted", *rc.SpreadMSP50, *rc.SpreadMSMax, rc.ReplayMaxAccepted)
				}
				if s := rep.Results.ServerClock; s != nil && s.OffsetS != nil {
					r.log += fmt.Sprintf("; server clock %+.4f s ±%.4f (%s, rtt %.2f ms)", *s.OffsetS, s.UncertaintyS, s.Source, s.RTTMS)
				}
			}()
		}
	}
	wg.Wait()
	for _, r := range results {
		if r.log != "" {
			t.Log(r.log)
		}
		for _, e := range r.errs {
			t.Errorf("%s: %s", r.name, e)
		}
	}
}

// TestLocalClockOff40s: the local clock is 40 s fast; the truth comes
// from NTP (a fake server on loopback telling the real time), so the
// bench measures the right edges. Taking the bad local clock as the
// truth instead measures edges 40 s off (the window in the server's own
// steps comes out the same: its Date header is judged by the same bad
// clock): the difference is the point of NTP.
func TestLocalClockOff40s(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("waits real time (up to a minute): not under -short or the race detector (the plain run has it)")
	}
	t.Parallel()
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
	measure := func(truth clock.Clock, kind testbench.TimeKind) *testbench.WindowResult {
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
	var withNTP, withLocal *testbench.WindowResult
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); withNTP = measure(ntp, testbench.TimeNTP) }()
	go func() { defer wg.Done(); withLocal = measure(local, testbench.TimeSystem) }()
	wg.Wait()
	for _, e := range edgesNear(withNTP, -30, 60, 0.25) {
		t.Errorf("with NTP: %s", e)
	}
	if len(edgesNear(withLocal, -30, 60, 1)) == 0 {
		t.Errorf("with the bad local clock as truth: window %+v; the test shows nothing", withLocal)
	}
	for _, e := range edgesNear(withLocal, 10, 100, 0.25) {
		t.Errorf("with the bad local clock: %s (the edges 40 s later)", e)
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
		{"bind codes 3", strings.Replace(string(example), "codes: 2", "codes: 3", 1), "bind codes 3:35: bind.codes: 3: want 1 or 2"},
		{"no key place", strings.NewReplacer("qr_image: qr_png", "", "manual_key: secret", "").Replace(string(example)), "qr_image"},
		{"verify without the code", `{"base_url": "http://x", "enroll": {"path": "/e", "uri": "u"}, "verify": {"path": "/v"}, "verdicts": {"accepted": [{"status": [200]}]}}`, ":1: verify: the code has nowhere to go"},
		{"json", `{"base_url": "http://x", "enroll": {"path": "/e", "uri": "u"}, "verify": {"path": "/v/{{code}}"}, "verdicts": {"accepted": [{"status": [200]}]}}`, ""},
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
