package target

import (
	"context"
	"net/http/httptest"
	"os"
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
	for _, c := range rep.Checks {
		if len(c.ID) > 6 && c.ID[len(c.ID)-6:] == ".error" {
			t.Fatalf("%s: %s", c.ID, c.Detail)
		}
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
