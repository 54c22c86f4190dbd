package testbench

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// TestBruteForceClosedForm checks the odds against the closed form
// 1 - (1 - k/10^d)^n for the limits the bench meets.
func TestBruteForceClosedForm(t *testing.T) {
	cases := []struct {
		k      float64
		digits int
		rate   float64
		lf     lockoutFacts
		hours  float64 // to 50 %; NaN: never
		p1h    float64
	}{
		// The figure: window 3 steps, 6 digits, no limit, 10/s: 6.4 h.
		{3, 6, 10, lockoutFacts{none: true}, math.Log(0.5) / math.Log1p(-3e-6) / 36000, 1 - math.Pow(1-3e-6, 36000)},
		// AuthQuake-like: a 3-minute window (6 steps), no limit.
		{6, 6, 10, lockoutFacts{none: true}, math.Log(0.5) / math.Log1p(-6e-6) / 36000, 1 - math.Pow(1-6e-6, 36000)},
		// The reference console: 3 steps, locked 5 min after 5: 5 guesses every 300.5 s.
		{3, 6, 10, lockoutFacts{limit: 5, lockFor: 5 * time.Minute}, math.Log(0.5) / math.Log1p(-3e-6) / (5 * 3600 / 300.5), 1 - math.Pow(1-3e-6, 5*3600/300.5)},
		// 8 digits, 1 step, 1 guess per second.
		{1, 8, 1, lockoutFacts{none: true}, math.Log(0.5) / math.Log1p(-1e-8) / 3600, 1 - math.Pow(1-1e-8, 3600)},
		// A lock for good after 10: never 50 %.
		{3, 6, 10, lockoutFacts{limit: 10}, math.NaN(), 1 - math.Pow(1-3e-6, 10)},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("k=%v,digits=%d,rate=%v,limit=%d,for=%v", c.k, c.digits, c.rate, c.lf.limit, c.lf.lockFor), func(t *testing.T) {
			r := bruteForce(c.k, c.digits, c.rate, c.lf)
			switch {
			case math.IsNaN(c.hours):
				if r.HoursTo50Pct != nil {
					t.Errorf("hours to 50 %% %v, want never", *r.HoursTo50Pct)
				}
			case r.HoursTo50Pct == nil || math.Abs(*r.HoursTo50Pct-c.hours) > 0.001:
				t.Errorf("hours to 50 %% %v, want %.3f", r.HoursTo50Pct, c.hours)
			}
			if math.Abs(r.P1h-c.p1h) > 1e-9 {
				t.Errorf("p in 1 h %v, want %v", r.P1h, c.p1h)
			}
			if !(r.P1h <= r.P1d && r.P1d <= r.P30d && r.P30d <= 1) {
				t.Errorf("odds not increasing: %v %v %v", r.P1h, r.P1d, r.P30d)
			}
		})
	}
	// The example in words: about 6.4 hours.
	if r := bruteForce(3, 6, 10, lockoutFacts{none: true}); math.Abs(*r.HoursTo50Pct-6.4) > 0.05 {
		t.Errorf("3 steps, 6 digits, 10/s: 50 %% after %v h, want about 6.4", *r.HoursTo50Pct)
	}
}

// TestBruteForceChecks: the bar is 30 days; a lock for good passes.
func TestBruteForceChecks(t *testing.T) {
	cases := []struct {
		lf   lockoutFacts
		want Status
	}{
		{lockoutFacts{none: true}, Fail},                                 // 6.4 h
		{lockoutFacts{limit: 5, lockFor: 5 * time.Minute}, Pass},         // 60 an hour: 160.7 days
		{lockoutFacts{limit: 100, lockFor: time.Minute}, Fail},           // 5455 an hour: 1.8 days
		{lockoutFacts{limit: 3, lockFor: 24 * time.Hour}, Pass},          // years
		{lockoutFacts{limit: 5}, Pass},                                   // for good
		{lockoutFacts{limit: 1000, lockFor: 365 * 24 * time.Hour}, Pass}, // 231 years, NIST figure shown
	}
	for _, c := range cases {
		r := bruteForce(3, 6, 10, c.lf)
		cs := bruteForceChecks(r, c.lf)
		if len(cs) != 1 || cs[0].Status != c.want || cs[0].ID != "bruteforce.odds" || !containsAll(cs[0].Detail, "computed, not attempted") {
			t.Errorf("limit %d for %v: %+v, want %s", c.lf.limit, c.lf.lockFor, cs, c.want)
		}
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
