package target

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/internal/qrpng"
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

func (c refCase) options() refserver.Options {
	return refserver.Options{WindowBack: c.back, WindowForward: c.fwd, Replay: c.replay, Lockout: c.lockout,
		BindCodes: c.bind, ClockOffset: c.offset}
}

// base is a step edge: the lab clocks start at a chosen phase after it.
var base = time.Date(2026, 5, 4, 3, 2, 0, 0, time.UTC)

// phases are the starts within a step every correctness test runs at.
var phases = []time.Duration{0, 5 * time.Second, 14900 * time.Millisecond, 15 * time.Second, 25 * time.Second, 29900 * time.Millisecond}

// benchOpts runs scenarios in virtual time against a reference console
// with opts, in process, its lab clock started phase into a step (unless
// opts has a Clock); cfg may adjust the run's Config.
func benchOpts(t testing.TB, opts refserver.Options, phase time.Duration, cfg func(*testbench.Config), scenarios ...string) *testbench.Report {
	t.Helper()
	ctx := context.Background()
	opts.Lab = true
	if opts.Clock == nil {
		opts.Clock = clock.NewManual(base.Add(phase))
	}
	// gozxing's encoder, several times faster than the console's own
	// (boombuler/barcode): the matrices enroll tens of thousands of
	// devices. The console's encoder is tested on its own, and in every
	// run against the embedded console.
	opts.QREncoder = qrpng.Encode
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
	c := testbench.Config{Target: target, Time: tm, Scenarios: scenarios}
	if cfg != nil {
		cfg(&c)
	}
	rep, err := testbench.Run(ctx, c)
	if err != nil {
		t.Fatalf("%s: %v", opts.Policy(), err)
	}
	for _, ch := range rep.Checks {
		if len(ch.ID) > 6 && ch.ID[len(ch.ID)-6:] == ".error" {
			t.Fatalf("%s: %s: %s", opts.Policy(), ch.ID, ch.Detail)
		}
	}
	return rep
}

// wantEdges is the console's acceptance interval by MEASURING.md: a step
// window [-b, +f] on a clock off by theta accepts the code of step n from
// nP - fP - theta to nP + (b+1)P - theta; a window in seconds (behind B,
// ahead A) from nP - A - theta to nP + P + B - theta.
func wantEdges(o refserver.Options) (from, until time.Duration) {
	P := 30 * time.Second
	if o.WindowInSeconds {
		return -o.WindowSecondsForward - o.ClockOffset, P + o.WindowSecondsBack - o.ClockOffset
	}
	return -time.Duration(o.WindowForward)*P - o.ClockOffset, time.Duration(o.WindowBack+1)*P - o.ClockOffset
}

// checkEdges requires the edges within tol seconds, the skews that follow,
// and the configured window in the server's own steps (or in seconds).
func checkEdges(t testing.TB, name string, o refserver.Options, w *testbench.WindowResult, tol float64) {
	t.Helper()
	if w == nil {
		t.Fatalf("%s: no window result", name)
	}
	from, until := wantEdges(o)
	if math.Abs(w.AcceptedFromS-from.Seconds()) > tol || math.Abs(w.AcceptedUntilS-until.Seconds()) > tol {
		t.Errorf("%s: edges %+.4f s, %+.4f s, want %+.3f s, %+.3f s (±%.3f)", name, w.AcceptedFromS, w.AcceptedUntilS, from.Seconds(), until.Seconds(), tol)
	}
	always := [2]float64{30 - until.Seconds(), -from.Seconds()}
	if math.Abs(w.AlwaysAcceptedSkewS[0]-always[0]) > tol || math.Abs(w.AlwaysAcceptedSkewS[1]-always[1]) > tol {
		t.Errorf("%s: always accepted %v, want %v", name, w.AlwaysAcceptedSkewS, always)
	}
	if o.WindowInSeconds {
		if w.Kind != testbench.KindSeconds || w.BackSteps != nil || w.BackSeconds == nil ||
			math.Abs(*w.BackSeconds-o.WindowSecondsBack.Seconds()) > tol || math.Abs(*w.ForwardSeconds-o.WindowSecondsForward.Seconds()) > tol {
			t.Errorf("%s: kind %q, window in seconds %v/%v, want %v/%v", name, w.Kind, w.BackSeconds, w.ForwardSeconds, o.WindowSecondsBack, o.WindowSecondsForward)
		}
		return
	}
	if w.Kind != testbench.KindSteps || w.BackSteps == nil || *w.BackSteps != o.WindowBack || *w.ForwardSteps != o.WindowForward {
		t.Errorf("%s: kind %q, server steps %v/%v, want %d/%d", name, w.Kind, deref(w.BackSteps), deref(w.ForwardSteps), o.WindowBack, o.WindowForward)
	}
}

func deref(p *int) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func checkRefCase(t *testing.T, c refCase, rep *testbench.Report) {
	t.Helper()
	checkEdges(t, c.String(), c.options(), rep.Results.Window, 0.002)
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
	if sc := rep.Results.ServerClock; sc != nil {
		if sc.OffsetS == nil || math.Abs(*sc.OffsetS-c.offset.Seconds()) > 0.002 {
			t.Errorf("%v: server clock offset %v, want %+.0f s", c, sc.OffsetS, c.offset.Seconds())
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

// stratified is a subset of the matrix for -short and the race detector:
// 864 = 16 windows x 54 (replay, lockout, bind, offset); each of the 54
// once, rotating the window through all 16.
func stratified(cases []refCase) []refCase {
	var sub []refCase
	for i, c := range cases {
		if (i/54+i%54)%16 == 0 || i%54 == 0 {
			sub = append(sub, c)
		}
	}
	return sub
}

// TestRefserverMatrix runs the whole matrix in virtual time against the
// reference console in process: lockout, window, replay and the server's
// clock, each configuration started at a phase of its own (the six
// phases rotate through the matrix). With -short, or under the race
// detector, a stratified subset.
func TestRefserverMatrix(t *testing.T) {
	cases := refMatrix()
	if len(cases) != 864 {
		t.Fatalf("matrix has %d cases, want 864", len(cases))
	}
	if testing.Short() || raceEnabled {
		cases = stratified(cases)
	}
	for i, c := range cases {
		ph := phases[i%len(phases)]
		t.Run(fmt.Sprintf("%v,phase=%v", c, ph), func(t *testing.T) {
			t.Parallel()
			rep := benchOpts(t, c.options(), ph, nil, testbench.ScenarioLockout, testbench.ScenarioWindow, testbench.ScenarioReplay, testbench.ScenarioServerClock)
			checkRefCase(t, c, rep)
		})
	}
}

// TestRefserverMatrixPhases: every configuration of the matrix, started
// at each of the six phases of a step, with --scenario window alone,
// reports the configured window in the server's own steps and the right
// edges (to the millisecond in virtual time).
func TestRefserverMatrixPhases(t *testing.T) {
	cases := refMatrix()
	if testing.Short() || raceEnabled {
		cases = stratified(cases)
	}
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			for _, ph := range phases {
				rep := benchOpts(t, c.options(), ph, nil, testbench.ScenarioWindow)
				checkEdges(t, fmt.Sprintf("%v,phase=%v", c, ph), c.options(), rep.Results.Window, 0.002)
			}
		})
	}
}

// TestRefserverSecondsWindows: the console's windows in seconds as ROTP
// takes them, {15/0, 10/10, 45/0, 0/20} s, on an exact clock and one off
// by a fraction of a step, at each phase: the edges to ±0.01 s, reported
// as a window in seconds.
func TestRefserverSecondsWindows(t *testing.T) {
	for _, w := range [][2]int{{15, 0}, {10, 10}, {45, 0}, {0, 20}} {
		for _, off := range []time.Duration{0, 13400 * time.Millisecond} {
			o := refserver.Options{WindowInSeconds: true, WindowSecondsBack: time.Duration(w[0]) * time.Second,
				WindowSecondsForward: time.Duration(w[1]) * time.Second, ClockOffset: off, Replay: refserver.ReplayStep, Lockout: 5}
			name := fmt.Sprintf("behind=%ds,ahead=%ds,offset=%v", w[0], w[1], off)
			t.Run(name, func(t *testing.T) {
				for _, ph := range phases {
					rep := benchOpts(t, o, ph, nil, testbench.ScenarioWindow)
					checkEdges(t, fmt.Sprintf("%s,phase=%v", name, ph), o, rep.Results.Window, 0.01)
				}
			})
		}
	}
}

func checkStatus(rep *testbench.Report, id string) testbench.Status {
	for _, c := range rep.Checks {
		if c.ID == id {
			return c.Status
		}
	}
	return "absent"
}
