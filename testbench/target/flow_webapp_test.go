package target

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/target/internal/webapp"
)

// webappRun runs the bench against the fake session web app through
// examples/webapp.yaml alone (sign-up with a form CSRF token, MFA set up
// through a JSON API with a CSRF cookie echoed in a header, a two-step
// login), in virtual time through the app's lab clock.
func webappRun(t *testing.T, opts webapp.Options, phase time.Duration, scenarios ...string) *testbench.Report {
	t.Helper()
	opts.Clock = clock.NewManual(base.Add(phase))
	app, err := webapp.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	env := map[string]string{"WEBAPP_URL": srv.URL}
	cfg, err := LoadTargetConfigFile("../examples/webapp.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	rep := configRun(t, cfg, srv, scenarios...)
	for _, c := range rep.Checks {
		if len(c.ID) > 6 && c.ID[len(c.ID)-6:] == ".error" {
			t.Fatalf("%s: %s", c.ID, c.Detail)
		}
	}
	return rep
}

// configRun runs the bench in virtual time, through the app's lab clock,
// against the server srv serves as cfg describes it.
func configRun(t *testing.T, cfg *TargetConfig, srv *httptest.Server, scenarios ...string) *testbench.Report {
	t.Helper()
	tgt, err := NewHTTPTarget(cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lab, err := tgt.Lab(ctx)
	if err != nil || lab == nil {
		t.Fatalf("the web app's lab clock: %v", err)
	}
	tm, err := testbench.VirtualTime(ctx, lab)
	if err != nil {
		t.Fatal(err)
	}
	c := testbench.Config{Target: tgt, Time: tm, Scenarios: scenarios}
	if os.Getenv("TOTPEMU_TRACE") != "" {
		c.Trace = os.Stderr
	}
	rep, err := testbench.Run(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestWebAppFlow: against a session web app described by its config
// alone, the full suite measures the configured window, replay and
// lockout, and finds a replay record kept per session.
func TestWebAppFlow(t *testing.T) {
	cases := []struct {
		name          string
		opts          webapp.Options
		back, forward int
		second        testbench.Status // reuse.second-session, and race.replay: bursts through the login flow have a session each
	}{
		{"window 1/1", webapp.Options{Back: 1, Forward: 1, Lockout: 5}, 1, 1, testbench.Pass},
		{"window 2/0", webapp.Options{Back: 2, Forward: 0, Lockout: 5}, 2, 0, testbench.Pass},
		{"per-session replay", webapp.Options{Back: 1, Forward: 1, Lockout: 5, PerSessionReplay: true}, 1, 1, testbench.Fail},
	}
	for i, c := range cases {
		ph := phases[(2*i)%len(phases)]
		t.Run(c.name, func(t *testing.T) {
			rep := webappRun(t, c.opts, ph) // the full suite
			w := rep.Results.Window
			if w == nil || w.BackSteps == nil || *w.BackSteps != c.back || *w.ForwardSteps != c.forward {
				t.Errorf("window %+v, want %d/%d", w, c.back, c.forward)
			}
			if l := rep.Results.Lockout; l == nil || l.FailuresBeforeLock == nil || *l.FailuresBeforeLock != 5 {
				t.Errorf("lockout %+v, want 5", l)
			}
			if r := rep.Results.Replay; r == nil || !*r.SameCodeRejected {
				t.Errorf("replay %+v, want the same code refused", r)
			}
			got := map[string]testbench.Check{}
			for _, ch := range rep.Checks {
				got[ch.ID] = ch
			}
			for id, want := range map[string]testbench.Status{"enroll.bind": testbench.Pass, "enroll.login": testbench.Pass,
				"reuse.bind-code": testbench.Pass, "reuse.second-session": c.second, "race.replay": c.second, "race.lockout": testbench.Pass,
				"replay.same-code": testbench.Pass} {
				if got[id].Status != want {
					t.Errorf("%s: %s (%s), want %s", id, got[id].Status, got[id].Detail, want)
				}
			}
			t.Logf("%s at %v: submissions %v, %d enrollments", c.name, ph, rep.Submissions, rep.Enrollments)
		})
	}
}

// TestWebAppThrottle is the regression test for a server that throttles
// silently (django-otp: after the n-th failure in a row every code, right
// ones too, is refused as wrong for 2^(n-1) s). The bench used to fail on
// it with "lockout.error: a right code needs the window: the upper edge:
// no bind accepted with codes within 10 steps of the true time": each
// refused probe lengthened the throttle and made the next right code look
// wrong. Now setup finds the throttle, every probe waits it out, and the
// window, replay and lockout come out right, the throttle reported with
// its delays.
func TestWebAppThrottle(t *testing.T) {
	for _, ph := range []time.Duration{phases[1], phases[4]} {
		rep := webappRun(t, webapp.Options{Back: 1, Forward: 1, Throttle: true}, ph)
		w := rep.Results.Window
		if w == nil || w.BackSteps == nil || *w.BackSteps != 1 || *w.ForwardSteps != 1 {
			t.Errorf("phase %v: window %+v, want 1/1", ph, w)
		}
		if r := rep.Results.Replay; r == nil || !*r.SameCodeRejected {
			t.Errorf("phase %v: replay %+v", ph, r)
		}
		th := rep.Results.Throttle
		if th == nil || th.Kind != "silent" || len(th.DelaysS) != 3 {
			t.Fatalf("phase %v: throttle %+v, want silent with 3 delays", ph, th)
		}
		for i, want := range []float64{1, 2, 4} {
			if d := th.DelaysS[i]; d < want || d > want*1.07 {
				t.Errorf("phase %v: delay after %d failures %v s, want %v s (+7 %%)", ph, i+1, d, want)
			}
		}
		if l := rep.Results.Lockout; l == nil || l.FailuresBeforeLock != nil || l.ThrottledAfter == nil {
			t.Errorf("phase %v: lockout %+v, want no lock and the throttle", ph, l)
		}
		for _, c := range rep.Checks {
			if c.Status == testbench.Fail {
				t.Errorf("phase %v: %s failed: %s", ph, c.ID, c.Detail)
			}
		}
	}
	// A server without a throttle says none, at the cost of two codes.
	rep := webappRun(t, webapp.Options{Back: 1, Forward: 1, Lockout: 5}, phases[2], testbench.ScenarioThrottle)
	if th := rep.Results.Throttle; th == nil || th.Kind != "none" {
		t.Errorf("no throttle: %+v", th)
	}
}

// TestWebAppThrottleRealTime runs the bench over loopback in real time
// against the session web app throttling silently (delays 1, 2, 4 s ...),
// started 5 and 20 s into a step, both at once: the window, the throttle
// and its delays right within 150 s. Not under -short or the race
// detector (its slowdown reads as network delay).
func TestWebAppThrottleRealTime(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("waits real time (about 2 minutes): not under -short or the race detector (the plain run has it)")
	}
	t.Parallel()
	type result struct {
		rep  *testbench.Report
		took time.Duration
		err  error
	}
	phasesRT := []time.Duration{5 * time.Second, 20 * time.Second}
	out := make([]result, len(phasesRT))
	var wg sync.WaitGroup
	for i, ph := range phasesRT {
		app, err := webapp.New(webapp.Options{Clock: clock.System{}, Back: 1, Forward: 1, Throttle: true})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(app)
		defer srv.Close()
		cfg, err := LoadTargetConfigFile("../examples/webapp.yaml", func(k string) string { return map[string]string{"WEBAPP_URL": srv.URL}[k] })
		if err != nil {
			t.Fatal(err)
		}
		tgt, err := NewHTTPTarget(cfg, srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			untilPhase(ph)
			start := time.Now()
			rep, err := testbench.Run(context.Background(), testbench.Config{Target: tgt,
				Time:      testbench.RealTime(clock.System{}, clock.System{}, testbench.TimeSystem, nil),
				Scenarios: []string{testbench.ScenarioLockout, testbench.ScenarioThrottle, testbench.ScenarioWindow, testbench.ScenarioReplay}})
			out[i] = result{rep, time.Since(start), err}
		}()
	}
	wg.Wait()
	for i, r := range out {
		ph := phasesRT[i]
		if r.err != nil {
			t.Fatalf("started %v into a step: %v", ph, r.err)
		}
		w, th := r.rep.Results.Window, r.rep.Results.Throttle
		t.Logf("started %v into a step: %v, submissions %v; window %+v; throttle %+v", ph, r.took.Round(100*time.Millisecond), r.rep.Submissions, w, th)
		if w == nil || w.BackSteps == nil || *w.BackSteps != 1 || *w.ForwardSteps != 1 {
			t.Errorf("started %v: window %+v, want 1/1", ph, w)
		}
		if th == nil || th.Kind != "silent" || len(th.DelaysS) == 0 || th.DelaysS[0] < 1 || th.DelaysS[0] > 1.1 {
			t.Errorf("started %v: throttle %+v, want silent, 1 s after one failure", ph, th)
		}
		for _, c := range r.rep.Checks {
			if c.Status == testbench.Fail {
				t.Errorf("started %v: %s failed: %s", ph, c.ID, c.Detail)
			}
		}
		if r.took > 150*time.Second {
			t.Errorf("started %v: took %v, over 150 s", ph, r.took)
		}
	}
}

// TestWebAppUsers: with a pool of test users (examples/webapp-users.yaml:
// an administrator's reset, then sign in) instead of a new account per
// enrollment, the full suite completes with the same figures with two
// users and with one (slower: every enrollment waits for the one user),
// and the user list from a --users file works the same.
func TestWebAppUsers(t *testing.T) {
	for _, n := range []int{2, 1} {
		t.Run(fmt.Sprintf("users=%d", n), func(t *testing.T) {
			users := map[string]string{"qa-1": "pw-one", "qa-2": "pw-two"}
			env := map[string]string{"QA1_PASSWORD": "pw-one", "QA2_PASSWORD": "pw-two", "WEBAPP_ADMIN_TOKEN": "admin-1"}
			opts := webapp.Options{Clock: clock.NewManual(base.Add(phases[n])), Back: 1, Forward: 1, Lockout: 5, Users: users, AdminToken: "admin-1"}
			app, err := webapp.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(app)
			defer srv.Close()
			env["WEBAPP_URL"] = srv.URL
			cfg, err := LoadTargetConfigFile("../examples/webapp-users.yaml", func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			cfg.Users = cfg.Users[:n]
			rep := configRun(t, cfg, srv)
			w := rep.Results.Window
			if w == nil || w.BackSteps == nil || *w.BackSteps != 1 || *w.ForwardSteps != 1 {
				t.Errorf("window %+v, want 1/1", w)
			}
			if l := rep.Results.Lockout; l == nil || l.FailuresBeforeLock == nil || *l.FailuresBeforeLock != 5 {
				t.Errorf("lockout %+v, want 5", l)
			}
			if r := rep.Results.Replay; r == nil || !*r.SameCodeRejected {
				t.Errorf("replay %+v", r)
			}
			for _, c := range rep.Checks {
				if c.Status == testbench.Fail || strings.HasSuffix(c.ID, ".error") {
					t.Errorf("%s %s: %s", c.ID, c.Status, c.Detail)
				}
			}
			t.Logf("%d user(s): %d enrollments, submissions %v, virtual waiting %.0f s", n, rep.Enrollments, rep.Submissions, rep.Timing.WaitingS)
		})
	}
}
