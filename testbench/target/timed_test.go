package target

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/refserver"
)

// handRefusal is the chance, by hand: a code read at a uniformly random
// phase p in [0, P) of its step is judged L later by a server whose
// clock is off by o with window back b, forward f. The server's step at
// judgement is floor((p + L + o) / P) steps after the code's own; the
// code is accepted when that is in [-f, b], that is when
// -f*P <= p + L + o < (b+1)*P: an interval of p of length
// min(P, (b+1)P - L - o) - max(0, -fP - L - o), clamped to [0, P].
func handRefusal(b, f int, L, o float64) float64 {
	const P = 30.0
	hi := math.Min(P, float64(b+1)*P-L-o)
	lo := math.Max(0, -float64(f)*P-L-o)
	acc := math.Max(0, hi-lo) / P
	return 1 - acc
}

func TestBoundaryRefusalByHand(t *testing.T) {
	type tc struct {
		back, fwd int
		offset    time.Duration
	}
	cases := []tc{{0, 0, 0}, {1, 1, 0}, {0, 2, 0}, {2, 0, 0}, {3, 3, 0}, {1, 1, 17 * time.Second}, {1, 1, -40 * time.Second}, {0, 1, 13 * time.Second}}
	if testing.Short() || raceEnabled {
		cases = []tc{{0, 0, 0}, {1, 1, 17 * time.Second}}
	}
	for _, c := range cases {
		opts := refserver.Options{WindowBack: c.back, WindowForward: c.fwd, Replay: refserver.ReplayStep, Lockout: 5, BindCodes: 2, ClockOffset: c.offset}
		rep := benchOpts(t, opts, 7*time.Second, nil, testbench.ScenarioServerClock, testbench.ScenarioBoundary)
		b := rep.Results.Boundary
		if b == nil {
			t.Fatalf("%+v: no boundary result: %+v", c, rep.Checks)
		}
		for _, l := range []int{2, 5, 10, 20} {
			want := handRefusal(c.back, c.fwd, float64(l), c.offset.Seconds())
			got := b.RefusalProbabilityByLatencyS[strconv.Itoa(l)]
			if math.Abs(got-want) > 1e-4 {
				t.Errorf("back=%d fwd=%d offset=%v latency=%ds: refusal %.4f, by hand %.4f", c.back, c.fwd, c.offset, l, got, want)
			}
		}
	}
}

// TestDriftFirstRefusedDay: a token drifting 20 ppm gains 1.728 s a day;
// used at the worst moment (just before the server's step ends) its code
// is refused on the first day its offset passes the forward window,
// f*30 s: day = the first d with d*86400*20e-6 > f*30.
func TestDriftFirstRefusedDay(t *testing.T) {
	const ppm = 20.0
	fwds := []int{0, 1, 2, 3}
	if testing.Short() || raceEnabled {
		fwds = []int{0, 2}
	}
	for _, fwd := range fwds {
		want := 1
		for float64(want)*86400*ppm/1e6 <= float64(fwd)*30 {
			want++
		}
		opts := refserver.Options{WindowBack: 1, WindowForward: fwd, Replay: refserver.ReplayStep, Lockout: 5, BindCodes: 2}
		rep := benchOpts(t, opts, 7*time.Second, nil, testbench.ScenarioDrift)
		d := rep.Results.Drift
		if d == nil || d.FirstRefusedDay == nil || *d.FirstRefusedDay != want {
			t.Fatalf("window -1/+%d, %g ppm: drift %+v, want first refused day %d", fwd, ppm, d, want)
		}
		if d.ServerTracksDrift == nil || *d.ServerTracksDrift {
			t.Errorf("window -1/+%d: server tracks drift = %v, want false", fwd, d.ServerTracksDrift)
		}
		for _, ph := range d.Phones {
			if !ph.AllAccepted && ph.Profile == "phone" {
				t.Errorf("window -1/+%d: the NTP phone was refused: %+v", fwd, ph)
			}
		}
		t.Logf("window -1/+%d: first refused day %d, %d days sampled, submissions %v", fwd, want, len(d.Days), rep.Submissions)
	}
}

// TestDriftResyncTracks: a server that re-centres its window on the
// device's offset after each success (--resync) keeps accepting the
// token all year, past the day its window alone would refuse it.
func TestDriftResyncTracks(t *testing.T) {
	for _, ppm := range []float64{20, -35} {
		opts := refserver.Options{WindowBack: 1, WindowForward: 1, Replay: refserver.ReplayStep, Lockout: 5, BindCodes: 2, Resync: true}
		rep := benchOpts(t, opts, 7*time.Second, func(c *testbench.Config) { c.DriftPPM = ppm }, testbench.ScenarioDrift, testbench.ScenarioWindow)
		d := rep.Results.Drift
		if d == nil || d.ServerTracksDrift == nil || !*d.ServerTracksDrift || d.FirstRefusedDay != nil {
			t.Fatalf("resync, %g ppm: drift %+v, want tracked and never refused", ppm, d)
		}
		if d.PredictedFirstRefusedDay == nil {
			t.Fatalf("resync, %g ppm: no predicted day", ppm)
		}
		// The window is measured as configured, not as the device's
		// re-centred window (each accept beyond the first step is checked
		// on a fresh enrollment).
		checkEdges(t, "resync", opts, rep.Results.Window, 0.002)
		t.Logf("%g ppm: predicted day %d, %d days sampled", ppm, *d.PredictedFirstRefusedDay, len(d.Days))
	}
}

// TestServerClockVirtual: in virtual time the server's offset is found to
// the millisecond from the Date header, the edges agree, and the window
// in the server's own steps is the configured one, at every phase.
func TestServerClockVirtual(t *testing.T) {
	for _, off := range []time.Duration{-40 * time.Second, -7 * time.Second, 0, 13400 * time.Millisecond, 17 * time.Second, 17400 * time.Millisecond, 15 * time.Second, 95*time.Second + 250*time.Millisecond} {
		opts := refserver.Options{WindowBack: 2, WindowForward: 1, Replay: refserver.ReplayStep, Lockout: 3, BindCodes: 2, ClockOffset: off}
		for _, ph := range phases {
			rep := benchOpts(t, opts, ph, nil, testbench.ScenarioLockout, testbench.ScenarioServerClock)
			s := rep.Results.ServerClock
			if s == nil {
				t.Fatalf("offset %v: no result: %+v", off, rep.Checks)
			}
			if s.OffsetS == nil || math.Abs(*s.OffsetS-off.Seconds()) > 0.002 || s.UncertaintyS > 0.01 || s.Source != "date-header+codes" {
				t.Errorf("offset %v, phase %v: found %v ± %.4f from %s", off, ph, s.OffsetS, s.UncertaintyS, s.Source)
			}
			if s.BackSteps == nil || *s.BackSteps != 2 || *s.ForwardSteps != 1 {
				t.Errorf("offset %v, phase %v: server window %v/%v, want 2/1", off, ph, deref(s.BackSteps), deref(s.ForwardSteps))
			}
			if n := rep.Submissions[testbench.ScenarioServerClock]; n != 0 {
				t.Errorf("offset %v: server-clock submitted %d codes; the Date header needs none", off, n)
			}
		}
	}
}
