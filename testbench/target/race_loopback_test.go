package target

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/refserver"
)

// raceFlaw is a console with or without a deliberate flaw, and the
// statuses the security checks must have against it.
type raceFlaw struct {
	name string
	set  func(*refserver.Options)
	want map[string]testbench.Status
}

var raceFlaws = []raceFlaw{
	{"correct", func(*refserver.Options) {}, map[string]testbench.Status{
		"race.replay": testbench.Pass, "race.lockout": testbench.Pass, "race.replay-lockout": testbench.Pass, "reuse.bind-code": testbench.Pass}},
	{"toctou-replay", func(o *refserver.Options) { o.Flaws.TOCTOUReplay = true }, map[string]testbench.Status{
		"race.replay": testbench.Fail, "race.replay-lockout": testbench.Pass, "reuse.bind-code": testbench.Pass}},
	{"lockout-race", func(o *refserver.Options) { o.Flaws.LockoutRace = true }, map[string]testbench.Status{
		"race.replay": testbench.Pass, "race.lockout": testbench.Fail, "reuse.bind-code": testbench.Pass}},
	{"bind-reuse", func(o *refserver.Options) { o.Flaws.BindReuse = true }, map[string]testbench.Status{
		"race.replay": testbench.Pass, "race.lockout": testbench.Pass, "reuse.bind-code": testbench.Fail}},
	{"replay-counts", func(o *refserver.Options) { o.ReplayCountsAsFailure = true }, map[string]testbench.Status{
		"race.replay": testbench.Pass, "race.lockout": testbench.Pass, "race.replay-lockout": testbench.Warn}},
	// No replay rule at all: the bursts accept every copy, and the code
	// once more on its own says it is not a race.
	{"replay-none", func(o *refserver.Options) { o.Replay = refserver.ReplayNone }, map[string]testbench.Status{
		"race.replay": testbench.Fail, "race.lockout": testbench.Pass}},
}

// raceRun runs lockout, window, race and reuse against the embedded
// console (a real server on loopback: the bursts race for real; only the
// TOTP clock is the lab's) and returns the report.
func raceRun(t *testing.T, opts refserver.Options, phase time.Duration) *testbench.Report {
	t.Helper()
	ctx := context.Background()
	emb := startLab(t, opts, base.Add(phase))
	tm, err := testbench.VirtualTime(ctx, emb.Lab)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := testbench.Run(ctx, testbench.Config{Target: emb.Target, Time: tm,
		Scenarios: []string{testbench.ScenarioLockout, testbench.ScenarioWindow, testbench.ScenarioRace, testbench.ScenarioReuse}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		if c.ID == "race.error" || c.ID == "reuse.error" || c.ID == "window.error" || c.ID == "lockout.error" {
			t.Fatalf("%s: %s", c.ID, c.Detail)
		}
	}
	return rep
}

// TestRaceFlawsLoopback: each deliberate flaw of the console is found by
// its check over loopback HTTP, and the correct console passes them all;
// phases rotate over the cases. Each run sends about 200 requests.
func TestRaceFlawsLoopback(t *testing.T) {
	for i, fl := range raceFlaws {
		ph := phases[i%len(phases)]
		t.Run(fmt.Sprintf("%s/phase=%v", fl.name, ph), func(t *testing.T) {
			opts := refserver.DefaultOptions()
			fl.set(&opts)
			rep := raceRun(t, opts, ph)
			for _, c := range rep.Checks {
				if want, ok := fl.want[c.ID]; ok && c.Status != want {
					t.Errorf("%s: %s (%s), want %s", c.ID, c.Status, c.Detail, want)
				}
			}
			r := rep.Results.Race
			if r == nil || r.SpreadMSP50 == nil {
				t.Fatalf("race result %+v: the loopback burst's spread must be measured", r)
			}
			alone := r.ReplayAcceptedOneAtATime
			switch {
			case fl.name == "toctou-replay" && (alone == nil || *alone):
				t.Errorf("toctou-replay: the code on its own after the burst: %v, want refused (a race, not a missing rule)", alone)
			case fl.name == "replay-none" && (alone == nil || !*alone):
				t.Errorf("replay none: the code on its own after the burst: %v, want accepted (no replay rule)", alone)
			}
			t.Logf("spread p50 %.3f ms, max %.3f ms; replay max %d accepted (%d of %d bursts over one); lockout burst: %d wrong judged, right accepted %v",
				*r.SpreadMSP50, *r.SpreadMSMax, r.ReplayMaxAccepted, r.ReplayBurstsOverOne, r.Bursts, *r.WrongEvaluatedBeforeLock, *r.RightAccepted)
		})
	}
}

// TestRaceDetectionRate counts, over many runs of the race scenario, how
// often each flaw is detected and how often the correct console is
// flagged. TOTPEMU_RACE_RUNS sets the runs (100 for the README's figure);
// the default, 3, keeps CI bounded. Skipped with -short.
func TestRaceDetectionRate(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: many bench runs")
	}
	runs := 3
	if s := os.Getenv("TOTPEMU_RACE_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			t.Fatalf("TOTPEMU_RACE_RUNS=%q: want 1 to 1000", s)
		}
		runs = n
	}
	for _, fl := range raceFlaws[:3] {
		check := map[string]string{"correct": "race.replay", "toctou-replay": "race.replay", "lockout-race": "race.lockout"}[fl.name]
		flagged, lockFlagged := 0, 0
		for i := range runs {
			opts := refserver.DefaultOptions()
			fl.set(&opts)
			rep := raceRun(t, opts, phases[i%len(phases)])
			for _, c := range rep.Checks {
				if c.ID == check && c.Status == testbench.Fail {
					flagged++
				}
				if fl.name == "correct" && c.ID == "race.lockout" && c.Status == testbench.Fail {
					lockFlagged++
				}
			}
		}
		t.Logf("%s: %s failed in %d of %d runs", fl.name, check, flagged, runs)
		switch {
		case fl.name == "correct" && (flagged > 0 || lockFlagged > 0):
			t.Errorf("the correct console flagged: race.replay in %d, race.lockout in %d of %d runs", flagged, lockFlagged, runs)
		case fl.name != "correct" && flagged*100 < runs*99:
			t.Errorf("%s detected in %d of %d runs, want at least 99 %%", fl.name, flagged, runs)
		}
	}
}
