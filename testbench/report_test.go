package testbench_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/internal/fake"
)

// TestReportsOfABrokenTarget renders the report of a target whose clock
// is 20 minutes off (nothing binds, no window is found): every scenario
// fails with a reason and both formats still come out whole.
func TestReportsOfABrokenTarget(t *testing.T) {
	f := fake.New()
	f.Offset = 20 * time.Minute
	rep := runFakeQuiet(t, f, 0, basic...)
	if !rep.Failed() {
		t.Fatalf("no failed check: %+v", rep.Checks)
	}
	// The bind search runs once (setup's): the scenarios do not spend
	// codes on it again.
	if total := rep.Submissions[testbench.ScenarioEnroll] + rep.Submissions[testbench.ScenarioLockout] + rep.Submissions[testbench.ScenarioWindow]; total != 0 {
		t.Errorf("submissions %v: the bind search was repeated", rep.Submissions)
	}
	var text bytes.Buffer
	if err := testbench.WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"setup.bind", "FAIL", "no bind accepted", "result: "} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := testbench.WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("JSON report does not parse: %v", err)
	}
	for _, key := range []string{"target", "time_source", "results", "checks", "submissions"} {
		if _, ok := back[key]; !ok {
			t.Errorf("JSON report lacks %q", key)
		}
	}
}

// TestReportJSONFields pins the JSON names the issue asks for.
func TestReportJSONFields(t *testing.T) {
	rep := runFake(t, fake.New(), 7*time.Second, nil, basic...)
	var js bytes.Buffer
	if err := testbench.WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Target     string `json:"target"`
		TimeSource struct {
			Kind     string   `json:"kind"`
			OffsetMS *float64 `json:"offset_ms"`
		} `json:"time_source"`
		Results struct {
			Window struct {
				From        *float64    `json:"accepted_from_s"`
				Until       *float64    `json:"accepted_until_s"`
				Uncertainty *float64    `json:"edge_uncertainty_s"`
				Kind        string      `json:"kind"`
				Back        *int        `json:"back_steps"`
				Forward     *int        `json:"forward_steps"`
				TrueBack    *int        `json:"true_back_steps"`
				TrueForward *int        `json:"true_forward_steps"`
				Always      *[2]float64 `json:"always_accepted_skew_s"`
				Sometimes   *[2]float64 `json:"sometimes_accepted_skew_s"`
			} `json:"window"`
			Replay struct {
				Same, Older, Reformatted *bool
			} `json:"replay"`
			Lockout struct {
				Failures *int  `json:"failures_before_lock"`
				Refused  *bool `json:"right_code_refused_when_locked"`
				Resets   *bool `json:"success_resets"`
			} `json:"lockout"`
		} `json:"results"`
		Checks      []testbench.Check `json:"checks"`
		Submissions map[string]int    `json:"submissions"`
		Timing      *struct {
			Wall    *float64 `json:"wall_s"`
			Waiting *float64 `json:"waiting_s"`
		} `json:"timing"`
	}
	dec := json.NewDecoder(bytes.NewReader(js.Bytes()))
	if err := dec.Decode(&r); err != nil {
		t.Fatal(err)
	}
	w := r.Results.Window
	if r.Target != "fake" || r.TimeSource.Kind != string(testbench.TimeVirtual) || w.Back == nil || *w.Back != 1 || *w.Forward != 1 ||
		*w.Always != [2]float64{-30, 30} || *w.Sometimes != [2]float64{-60, 60} || w.Kind != "steps" ||
		w.From == nil || *w.From != -30 || w.Until == nil || *w.Until != 60 || w.Uncertainty == nil ||
		w.TrueBack == nil || *w.TrueBack != 1 || *w.TrueForward != 1 {
		t.Errorf("window JSON %s", js.String())
	}
	if r.Timing == nil || r.Timing.Wall == nil || r.Timing.Waiting == nil || *r.Timing.Waiting <= 0 {
		t.Errorf("timing JSON %s", js.String())
	}
	l := r.Results.Lockout
	if l.Failures == nil || *l.Failures != 5 || !*l.Refused || !*l.Resets {
		t.Errorf("lockout JSON %s", js.String())
	}
	for _, key := range []string{`"same_code_rejected": true`, `"older_code_rejected": true`, `"reformatted_code_rejected": true`} {
		if !strings.Contains(js.String(), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	if len(r.Checks) == 0 || r.Submissions["window"] == 0 {
		t.Errorf("checks %v submissions %v", r.Checks, r.Submissions)
	}
}

func TestEnrollmentRedacts(t *testing.T) {
	e := &testbench.Enrollment{ID: "d1", Account: "alice", URI: "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP", ManualKey: "JBSWY3DPEHPK3PXP",
		Vars: map[string]string{"TOTPEMU_SECRET": "JBSWY3DPEHPK3PXP"}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		for _, v := range []any{e, *e} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, "JBSWY3DP") || strings.Contains(s, "4a425357") {
				t.Errorf("%s of an enrollment shows the key: %s", verb, s)
			}
		}
	}
	if s := fmt.Sprint(e); !strings.Contains(s, `"alice"`) || !strings.Contains(s, "manual key") {
		t.Errorf("enrollment prints as %q", s)
	}
}

// TestServerClockJSON pins the server clock's JSON names.
func TestServerClockJSON(t *testing.T) {
	f := fake.New()
	f.Offset = 13400 * time.Millisecond
	rep := runFake(t, f, 7*time.Second, nil, testbench.ScenarioServerClock)
	var js bytes.Buffer
	if err := testbench.WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Results struct {
			ServerClock struct {
				Offset      *float64 `json:"offset_s"`
				Uncertainty *float64 `json:"uncertainty_s"`
				Source      string   `json:"source"`
			} `json:"server_clock"`
		} `json:"results"`
	}
	if err := json.Unmarshal(js.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	sc := r.Results.ServerClock
	if sc.Offset == nil || *sc.Offset != 13.4 || sc.Uncertainty == nil || sc.Source != "date-header+codes" {
		t.Errorf("server clock JSON %s", js.String())
	}
}
