package testbench

import (
	"fmt"
	"testing"
)

// TestWindowSkewArithmetic checks windowResult's skew ranges against a
// brute-force simulation: a device whose clock is off by d seconds shows
// the code of step floor((t+d)/P); the server at true time t accepts
// offsets lo..hi from floor(t/P). For every d on a 1/4 s grid and every
// phase on a 1/8 s grid, "always" must hold exactly inside the always
// range and "sometimes" exactly inside the sometimes range.
func TestWindowSkewArithmetic(t *testing.T) {
	floorDiv := func(a, b int) int {
		q := a / b
		if a%b != 0 && (a < 0) != (b < 0) {
			q--
		}
		return q
	}
	for _, period := range []int{30, 60} {
		for _, w := range [][2]int{{0, 0}, {-1, 1}, {-3, 0}, {0, 2}, {-2, 3}, {1, 2}, {-2, -1}} {
			lo, hi := w[0], w[1]
			t.Run(fmt.Sprintf("P=%d,lo=%d,hi=%d", period, lo, hi), func(t *testing.T) {
				res := windowResult(lo, hi, period, 10)
				if res.BackSteps != -lo || res.ForwardSteps != hi {
					t.Fatalf("steps %d/%d", res.BackSteps, res.ForwardSteps)
				}
				const sub = 8 // eighths of a second
				P := period * sub
				for d4 := -4 * 5 * period; d4 <= 4*5*period; d4++ {
					d := float64(d4) / 4
					always, some := true, false
					for ph := 0; ph < P; ph++ {
						// true time t = 1000 periods + phase; device time t + d.
						tt := 1000*P + ph
						dev := floorDiv(tt+d4*sub/4, P)
						k := dev - floorDiv(tt, P)
						ok := k >= lo && k <= hi
						always = always && ok
						some = some || ok
					}
					wantAlways := d >= res.AlwaysAcceptedSkewS[0] && d <= res.AlwaysAcceptedSkewS[1]
					wantSome := d > res.SometimesAcceptedSkewS[0] && d < res.SometimesAcceptedSkewS[1]
					if always != wantAlways || some != wantSome {
						t.Fatalf("d=%+gs: always %v (range %v) sometimes %v (range %v)", d, always, res.AlwaysAcceptedSkewS, some, res.SometimesAcceptedSkewS)
					}
				}
			})
		}
	}
}

func TestWindowSkewBoundaries(t *testing.T) {
	// Named boundary cases: window [-1,+1] at 30 s.
	w := windowResult(-1, 1, 30, 10)
	for _, tc := range []struct {
		name string
		got  [2]float64
		want [2]float64
	}{
		{"always back1 fwd1 P30", w.AlwaysAcceptedSkewS, [2]float64{-30, 30}},
		{"sometimes back1 fwd1 P30", w.SometimesAcceptedSkewS, [2]float64{-60, 60}},
		{"always back0 fwd0 P30", windowResult(0, 0, 30, 10).AlwaysAcceptedSkewS, [2]float64{0, 0}},
		{"sometimes back0 fwd0 P30", windowResult(0, 0, 30, 10).SometimesAcceptedSkewS, [2]float64{-30, 30}},
		{"always back3 fwd2 P60", windowResult(-3, 2, 60, 10).AlwaysAcceptedSkewS, [2]float64{-180, 120}},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if !windowResult(-10, 3, 30, 10).BackAtLimit || windowResult(-9, 3, 30, 10).BackAtLimit {
		t.Error("back at limit wrong at max-steps 10")
	}
}
