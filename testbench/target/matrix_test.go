package target

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/refserver"
)

// inProcess is an http.RoundTripper that serves requests with a handler
// in the same process: the HTTP target's whole path (requests, statuses,
// JSON) without sockets.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// refCase is one reference-console configuration of the matrix.
type refCase struct {
	back, fwd int
	replay    string
	lockout   int
	bind      int
	offset    time.Duration
}

func (c refCase) String() string {
	return fmt.Sprintf("back=%d,fwd=%d,replay=%s,lockout=%d,bind=%d,offset=%v", c.back, c.fwd, c.replay, c.lockout, c.bind, c.offset)
}

// benchRefserver runs the bench in virtual time against a reference
// console with c's policies, in process.
func benchRefserver(t *testing.T, c refCase, scenarios ...string) *testbench.Report {
	t.Helper()
	ctx := context.Background()
	opts := refserver.Options{WindowBack: c.back, WindowForward: c.fwd, Replay: c.replay, Lockout: c.lockout,
		BindCodes: c.bind, ClockOffset: c.offset, Lab: true,
		Clock: clock.NewManual(time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC))}
	srv, err := refserver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	target, lab, err := RefConsole(ctx, "http://refserver.test", &http.Client{Transport: inProcess{srv}})
	if err != nil {
		t.Fatal(err)
	}
	if lab == nil {
		t.Fatal("no lab clock")
	}
	tm, err := testbench.VirtualTime(ctx, lab)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := testbench.Run(ctx, testbench.Config{Target: target, Time: tm, Scenarios: scenarios})
	if err != nil {
		t.Fatalf("%v: %v", c, err)
	}
	return rep
}

// wantWindow is the window the bench must see in true steps: probes sit in the middle
// of the true step, so a server clock off by d moves the server's step by
// floor((P/2 + d) / P) whole steps relative to the truth, and the window
// [-back, +fwd] in the server's steps shows shifted by that much. (A
// server clock off by whole steps cannot be told apart from an
// asymmetric window by codes alone: every code answers the same. The
// server-clock scenario tells them apart with the Date header, and
// checkRefCase then expects the configured window in the server's steps.)
func wantWindow(c refCase) (back, fwd int) {
	const P = 30 * time.Second
	n := P/2 + c.offset
	shift := int(n / P)
	if n < 0 && n%P != 0 {
		shift--
	}
	return c.back - shift, c.fwd + shift
}

func checkRefCase(t *testing.T, c refCase, rep *testbench.Report) {
	t.Helper()
	for _, ch := range rep.Checks {
		if ch.ID == "enroll.error" || ch.ID == "window.error" || ch.ID == "replay.error" || ch.ID == "lockout.error" || ch.ID == "enroll.key" {
			t.Fatalf("%v: %s: %s", c, ch.ID, ch.Detail)
		}
	}
	back, fwd := wantWindow(c)
	w := rep.Results.Window
	if w == nil || w.BackSteps != back || w.ForwardSteps != fwd {
		t.Fatalf("%v: window %+v, want back %d forward %d", c, w, back, fwd)
	}
	P := 30.0
	if w.AlwaysAcceptedSkewS != [2]float64{-float64(back) * P, float64(fwd) * P} ||
		w.SometimesAcceptedSkewS != [2]float64{-float64(back+1) * P, float64(fwd+1) * P} {
		t.Errorf("%v: skews %v %v", c, w.AlwaysAcceptedSkewS, w.SometimesAcceptedSkewS)
	}
	l := rep.Results.Lockout
	if c.lockout == 0 {
		if l.FailuresBeforeLock != nil {
			t.Errorf("%v: failures before lock %d, want none", c, *l.FailuresBeforeLock)
		}
	} else if l.FailuresBeforeLock == nil || *l.FailuresBeforeLock != c.lockout {
		t.Errorf("%v: failures before lock %v, want %d", c, l.FailuresBeforeLock, c.lockout)
	}
	if c.lockout > 0 && (l.RightCodeRefusedWhenLocked == nil || !*l.RightCodeRefusedWhenLocked) {
		t.Errorf("%v: right code refused when locked = %v, want true", c, l.RightCodeRefusedWhenLocked)
	}
	if c.lockout > 1 && (l.SuccessResets == nil || !*l.SuccessResets) {
		t.Errorf("%v: success resets = %v, want true", c, l.SuccessResets)
	}
	rp := rep.Results.Replay
	if rp == nil {
		t.Fatalf("%v: no replay result", c)
	}
	if *rp.SameCodeRejected != (c.replay != refserver.ReplayNone) {
		t.Errorf("%v: same code rejected = %v", c, *rp.SameCodeRejected)
	}
	if c.back+c.fwd == 0 {
		if rp.OlderCodeRejected != nil {
			t.Errorf("%v: older code rejected = %v on a one-step window, want null", c, *rp.OlderCodeRejected)
		}
	} else if rp.OlderCodeRejected == nil || *rp.OlderCodeRejected != (c.replay == refserver.ReplayStep) {
		t.Errorf("%v: older code rejected = %v, want %v", c, rp.OlderCodeRejected, c.replay == refserver.ReplayStep)
	}
	if !*rp.ReformattedCodeRejected {
		t.Errorf("%v: reformatted code accepted", c)
	}
	// With the server's clock measured (its offset within the step from
	// the flip of acceptance, its whole steps from the Date header), the
	// window in the server's own steps is the configured one, whatever
	// the offset.
	if sc := rep.Results.ServerClock; sc != nil {
		if sc.BackSteps == nil || *sc.BackSteps != c.back || *sc.ForwardSteps != c.fwd {
			t.Errorf("%v: window in the server's steps %v/%v, want %d/%d", c, sc.BackSteps, sc.ForwardSteps, c.back, c.fwd)
		}
		if d := sc.OffsetS - c.offset.Seconds(); d > 0.002 || d < -0.002 {
			t.Errorf("%v: server clock offset %+.3f s, want %+.0f s", c, sc.OffsetS, c.offset.Seconds())
		}
	}
}

// refMatrix lists the matrix of issue 5: window back and forward 0..3,
// replay none|code|step, lockout 3, 5 and off, bind with 1 and 2 codes,
// server clock offset -40 s, 0 and +17 s: 864 configurations.
func refMatrix() []refCase {
	var out []refCase
	for back := 0; back <= 3; back++ {
		for fwd := 0; fwd <= 3; fwd++ {
			for _, replay := range []string{refserver.ReplayNone, refserver.ReplayCode, refserver.ReplayStep} {
				for _, lock := range []int{3, 5, 0} {
					for _, bind := range []int{1, 2} {
						for _, off := range []time.Duration{-40 * time.Second, 0, 17 * time.Second} {
							out = append(out, refCase{back, fwd, replay, lock, bind, off})
						}
					}
				}
			}
		}
	}
	return out
}

// TestRefserverMatrix runs the whole matrix in virtual time against the
// reference console in process. With -short, or under the race detector,
// it runs a stratified subset:
// every value of every dimension, each pair of window sides, every
// replay x lockout x bind x offset combination at least once.
func TestRefserverMatrix(t *testing.T) {
	cases := refMatrix()
	if len(cases) != 864 {
		t.Fatalf("matrix has %d cases, want 864", len(cases))
	}
	if testing.Short() || raceEnabled {
		var sub []refCase
		for i, c := range cases {
			// 864 = 16 windows x 54 (replay, lockout, bind, offset); keep
			// each of the 54 once, rotating the window through all 16.
			if (i/54+i%54)%16 == 0 || i%54 == 0 {
				sub = append(sub, c)
			}
		}
		cases = sub
	}
	short := testing.Short() || raceEnabled
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			scenarios := []string{testbench.ScenarioLockout, testbench.ScenarioWindow, testbench.ScenarioReplay}
			// The server clock too (every window and offset, each lockout
			// and bind): in the whole subset, and in the full matrix with
			// replay by step, where its probes are most constrained.
			if short || c.replay == refserver.ReplayStep {
				scenarios = append(scenarios, testbench.ScenarioServerClock)
			}
			checkRefCase(t, c, benchRefserver(t, c, scenarios...))
		})
	}
}

func checkStatus(rep *testbench.Report, id string) string {
	for _, c := range rep.Checks {
		if c.ID == id {
			return c.Status
		}
	}
	return "absent"
}
