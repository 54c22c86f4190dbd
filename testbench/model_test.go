package testbench

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// intervals are the acceptance intervals the model's tests run over: step
// windows on exact and offset clocks, ROTP windows in seconds, one
// narrower than a step.
func intervals() []interval {
	P := 30 * time.Second
	s := time.Second
	return []interval{
		{-P, 2 * P, P},       // 1/1, exact
		{0, P, P},            // 0/0
		{-17 * s, 73 * s, P}, // 2/0 on a clock 17 s fast
		{-43400 * time.Millisecond, 16600 * time.Millisecond, P}, // 0/1, 13.4 s fast
		{0, 45 * s, P},       // ROTP drift_behind 15
		{-10 * s, 40 * s, P}, // ROTP 10/10
		{-20 * s, 30 * s, P}, // ROTP 0/20
		{5 * s, 25 * s, P},   // narrower than a step
		{-2 * time.Minute, 3 * time.Minute, time.Minute}, // 60 s steps
	}
}

// brute simulates the model: a device off by d shows the code of step
// floor((t+d)/P); it is judged at t. Over phases on a 1/8 s grid it
// reports whether it is accepted always, sometimes, and how often.
func brute(iv interval, d time.Duration) (always, some bool, frac float64) {
	const sub = 8
	n := int(iv.period / (time.Second / sub))
	acc := 0
	always = true
	for i := 0; i < n; i++ {
		t := stepStart(1000, iv.period).Add(time.Duration(i) * time.Second / sub)
		code := stepOf(t.Add(d), iv.period)
		ok := iv.accepts(code, t)
		always = always && ok
		some = some || ok
		if ok {
			acc++
		}
	}
	return always, some, float64(acc) / float64(n)
}

// TestSkewArithmetic checks the always and sometimes ranges and the
// accepted fraction against the brute-force simulation, for every device
// offset on a 1/4 s grid: "always" must hold exactly inside [P - until,
// -from], "sometimes" exactly inside (-until, P - from).
func TestSkewArithmetic(t *testing.T) {
	for _, iv := range intervals() {
		name := fmt.Sprintf("from=%v,until=%v,P=%v", iv.from, iv.until, iv.period)
		t.Run(name, func(t *testing.T) {
			a, s := iv.alwaysSkew(), iv.sometimesSkew()
			for q := -4 * 200; q <= 4*200; q++ {
				d := time.Duration(q) * time.Second / 4
				always, some, frac := brute(iv, d)
				ds := d.Seconds()
				if always != (ds >= a[0] && ds <= a[1]) || some != (ds > s[0] && ds < s[1]) {
					t.Fatalf("%s: d=%+gs: always %v (range %v) sometimes %v (range %v)", name, ds, always, a, some, s)
				}
				if got := iv.acceptedFraction(d); math.Abs(got-frac) > 1.0/float64(8*iv.period/time.Second)+1e-9 {
					t.Fatalf("%s: d=%+gs: accepted fraction %.4f, simulated %.4f", name, ds, got, frac)
				}
			}
		})
	}
}

// TestBoundaryClosedForm: the refusal chance for a typing latency L
// against a simulation over phases read (1/100 s grid), and the latest
// safe read on the 0.1 s grid.
func TestBoundaryClosedForm(t *testing.T) {
	for _, iv := range intervals() {
		for _, l := range []int{0, 2, 5, 10, 20, 30} {
			lat := time.Duration(l) * time.Second
			n, refused := int(iv.period/(10*time.Millisecond)), 0
			latest, any := time.Duration(0), false
			for i := 0; i < n; i++ {
				p := time.Duration(i) * 10 * time.Millisecond
				if iv.acceptsX(p + lat) {
					if p%boundaryPhaseStep == 0 {
						latest, any = p, true
					}
				} else {
					refused++
				}
			}
			want := float64(refused) / float64(n)
			if got := iv.refusal(lat); math.Abs(got-want) > 1.0/float64(n)+1e-9 {
				t.Errorf("from=%v until=%v L=%ds: refusal %.4f, simulated %.4f", iv.from, iv.until, l, got, want)
			}
			p, ok := iv.latestSafeRead(lat)
			if ok != any || (ok && p != latest) {
				t.Errorf("from=%v until=%v L=%ds: latest safe read %v (%v), simulated %v (%v)", iv.from, iv.until, l, p, ok, latest, any)
			}
		}
	}
}

// TestFirstRefusedDay: a token drifting ppm, used at the worst moment of
// its own code (as soon as it shows for a fast token, just before it
// changes for a slow one), simulated day by day, against the closed form.
func TestFirstRefusedDay(t *testing.T) {
	for _, iv := range intervals() {
		for _, ppm := range []float64{20, -20, 35, -5} {
			var want *int
			for d := 1; d <= 400 && want == nil; d++ {
				off := driftOffset(ppm, d)
				// The token shows code n while t+off is in [nP, nP+P).
				t0 := stepStart(1000, iv.period).Add(-off) // its code 1000 starts showing
				at := t0.Add(time.Millisecond)
				if ppm < 0 {
					at = t0.Add(iv.period - time.Millisecond)
				}
				if !iv.accepts(1000, at) {
					want = ptr(d)
				}
			}
			got := iv.firstRefusedDay(ppm, 400)
			if (got == nil) != (want == nil) || (got != nil && *got != *want) {
				t.Errorf("from=%v until=%v %g ppm: first refused day %v, simulated %v", iv.from, iv.until, ppm, deref(got), deref(want))
			}
		}
	}
}

func deref(p *int) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}

// TestWindowSteps: named boundary cases of the steps that follow from
// the edges, true and in the server's own steps.
func TestWindowSteps(t *testing.T) {
	P := 30 * time.Second
	s := time.Second
	for _, tc := range []struct {
		name             string
		iv               interval
		theta            time.Duration
		trueBack, trueFw int
		back, fwd        float64
	}{
		{"1/1 exact", interval{-P, 2 * P, P}, 0, 1, 1, 1, 1},
		{"0/0 exact", interval{0, P, P}, 0, 0, 0, 0, 0},
		{"2/0 17 s fast", interval{-17 * s, 73 * s, P}, 17 * s, 1, 0, 2, 0},
		{"1/1 40 s slow", interval{10 * s, 100 * s, P}, -40 * s, 2, -1, 1, 1},
		{"ROTP 15/0", interval{0, 45 * s, P}, 0, 0, 0, 0.5, 0},
	} {
		b, f := tc.iv.trueSteps(time.Millisecond)
		sb, sf := tc.iv.serverSteps(tc.theta)
		if b != tc.trueBack || f != tc.trueFw || math.Abs(sb-tc.back) > 1e-9 || math.Abs(sf-tc.fwd) > 1e-9 {
			t.Errorf("%s: true steps %d/%d, server steps %g/%g; want %d/%d, %g/%g", tc.name, b, f, sb, sf, tc.trueBack, tc.trueFw, tc.back, tc.fwd)
		}
	}
}

// TestStepArithmetic: floor division and steps of negative instants.
func TestStepArithmetic(t *testing.T) {
	P := 30 * time.Second
	for _, tc := range []struct {
		name string
		t    time.Time
		step int64
	}{
		{"epoch", time.Unix(0, 0), 0},
		{"29.999s", time.Unix(29, 999e6), 0},
		{"30s", time.Unix(30, 0), 1},
		{"-1ns", time.Unix(0, -1), -1},
		{"-30s", time.Unix(-30, 0), -1},
		{"-30.001s", time.Unix(-31, 999e6), -2},
	} {
		if got := stepOf(tc.t, P); got != tc.step {
			t.Errorf("%s: step %d, want %d", tc.name, got, tc.step)
		}
		if ph := phaseOf(tc.t, P); ph < 0 || ph >= P {
			t.Errorf("%s: phase %v out of [0, P)", tc.name, ph)
		}
	}
	if got := stepNear(time.Unix(44, 0), 14*time.Second, P); got != 1 {
		t.Errorf("stepNear(44 s, x=14 s) = %d, want 1", got)
	}
	if wrap(29*time.Second, P) != -time.Second || wrap(-16*time.Second, P) != 14*time.Second {
		t.Error("wrap")
	}
}
