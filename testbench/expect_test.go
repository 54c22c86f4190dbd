package testbench

import (
	"os"
	"strings"
	"testing"
)

func expectLines(t testing.TB, name string) []string {
	b, err := os.ReadFile("testdata/expect/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestParseExpectation(t *testing.T) {
	for _, s := range expectLines(t, "valid.txt") {
		if _, err := ParseExpectation(s); err != nil {
			t.Errorf("ParseExpectation(%q): %v", s, err)
		}
	}
	for _, s := range expectLines(t, "invalid.txt") {
		if e, err := ParseExpectation(s); err == nil {
			t.Errorf("ParseExpectation(%q) = %+v, want an error", s, e)
		}
	}
	e, err := ParseExpectation(" boundary-refusal@10s <= 0.05 ")
	if err != nil || e.Name != "boundary-refusal" || e.Arg != "10" || e.Op != "<=" || e.Value != "0.05" {
		t.Errorf("ParseExpectation(boundary-refusal@10s <= 0.05) = %+v, %v", e, err)
	}
}

// TestCheckExpectations: met, unmet (the measured value beside the
// expected one) and not measured, against a report made by hand.
func TestCheckExpectations(t *testing.T) {
	day := 18
	rep := &Report{Results: Results{
		Window: &WindowResult{BackSteps: ptr(1), ForwardSteps: ptr(1), PeriodS: 30, AcceptedFromS: -30, AcceptedUntilS: 60,
			AlwaysAcceptedSkewS: [2]float64{-30, 30}, SometimesAcceptedSkewS: [2]float64{-60, 60}, Kind: KindSteps, TrueBackSteps: 1, TrueForwardSteps: 1},
		Replay:  &ReplayResult{SameCodeRejected: ptr(true)},
		Lockout: &LockoutResult{FailuresBeforeLock: ptr(5)},
		Drift:   &DriftResult{FirstRefusedDay: &day, ServerTracksDrift: ptr(false)},
		Boundary: &BoundaryResult{PeriodS: 30, AcceptedFromS: -30, AcceptedUntilS: 30,
			RefusalCurve: []float64{0, 1.0 / 30, 2.0 / 30, 3.0 / 30, 4.0 / 30, 5.0 / 30, 6.0 / 30, 7.0 / 30, 8.0 / 30, 9.0 / 30, 10.0 / 30}},
	}, Checks: []Check{{ID: "window.back", Status: Pass}}}
	for _, tc := range []struct {
		expr   string
		status Status
		detail string
	}{
		{"window-back=1", Pass, "measured 1, expected = 1"},
		{"window-forward>1", Fail, "measured 1, expected > 1"},
		{"skew-always-lo=-30", Pass, "measured -30"},
		{"skew-always-hi>=30", Pass, "measured 30"},
		{"skew-sometimes-hi<60", Fail, "measured 60, expected < 60"},
		{"accepted-until=60", Pass, "measured 60"},
		{"accepted-from>-30", Fail, "measured -30"},
		{"window-kind=steps", Pass, "measured steps"},
		{"window-kind=seconds", Fail, "measured steps"},
		{"true-window-back=1", Pass, "measured 1"},
		{"window-back-seconds=15", Fail, "not measured"},
		{"replay=rejected", Pass, "measured rejected"},
		{"lockout<=5", Pass, "measured 5"},
		{"lockout<5", Fail, "measured 5, expected < 5"},
		{"boundary-refusal@10s<=0.05", Fail, "measured 0.333"},
		{"boundary-refusal@0s=0", Pass, "measured 0,"},
		{"boundary-latest-read@10s=19.9", Pass, "measured 19.9"},
		{"drift-first-refused-day>30", Fail, "measured 18, expected > 30"},
		{"drift-tracks=no", Pass, "measured no"},
		{"server-clock-offset<0.5", Fail, "not measured"},
		{"check@window.back=pass", Pass, "measured pass"},
		{"check@nothing.here=pass", Fail, "not measured"},
	} {
		e, err := ParseExpectation(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		r := *rep
		r.Checks = append([]Check(nil), rep.Checks...)
		CheckExpectations(&r, []Expectation{e})
		c := r.Checks[len(r.Checks)-1]
		if c.Status != tc.status || !strings.Contains(c.Detail, tc.detail) || c.ID != "expect."+tc.expr {
			t.Errorf("%s: check %+v, want status %s with %q", tc.expr, c, tc.status, tc.detail)
		}
	}
}

func FuzzParseExpectation(f *testing.F) {
	for _, name := range []string{"valid.txt", "invalid.txt"} {
		for _, s := range expectLines(f, name) {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseExpectation(s)
		if err != nil {
			return
		}
		// A parsed expectation can always be checked, measured or not.
		r := &Report{}
		CheckExpectations(r, []Expectation{e})
		if len(r.Checks) != 1 || r.Checks[0].Status != Fail {
			t.Fatalf("%q on an empty report: %+v", s, r.Checks)
		}
	})
}
