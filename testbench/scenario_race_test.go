package testbench_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/internal/fake"
)

// TestRaceScenarios runs race and reuse against the fake with each flaw
// and without, at every phase: each flaw is found by its check, and the
// correct server passes them all.
func TestRaceScenarios(t *testing.T) {
	cases := []struct {
		name string
		set  func(*fake.Server)
		want map[string]testbench.Status
	}{
		{"correct", func(*fake.Server) {}, map[string]testbench.Status{
			"race.replay": testbench.Pass, "race.lockout": testbench.Pass, "race.replay-lockout": testbench.Pass, "reuse.bind-code": testbench.Pass}},
		{"replay-race", func(f *fake.Server) { f.ReplayRace = true }, map[string]testbench.Status{
			"race.replay": testbench.Fail, "race.lockout": testbench.Pass, "reuse.bind-code": testbench.Pass}},
		{"lockout-race", func(f *fake.Server) { f.LockoutRace = true }, map[string]testbench.Status{
			"race.replay": testbench.Pass, "race.lockout": testbench.Fail}},
		{"replay-fails", func(f *fake.Server) { f.ReplayFails = true }, map[string]testbench.Status{
			"race.replay": testbench.Pass, "race.replay-lockout": testbench.Warn}},
		{"bind-reuse", func(f *fake.Server) { f.BindReuse = true }, map[string]testbench.Status{
			"race.replay": testbench.Pass, "reuse.bind-code": testbench.Fail}},
		{"replay-by-code", func(f *fake.Server) { f.Replay = "code" }, map[string]testbench.Status{
			"race.replay": testbench.Pass, "race.lockout": testbench.Pass, "reuse.bind-code": testbench.Pass}},
	}
	for _, tc := range cases {
		for _, ph := range phases {
			t.Run(fmt.Sprintf("%s/phase=%v", tc.name, ph), func(t *testing.T) {
				f := fake.New()
				tc.set(f)
				rep := runFake(t, f, ph, nil, testbench.ScenarioLockout, testbench.ScenarioWindow, testbench.ScenarioRace, testbench.ScenarioReuse)
				got := map[string]testbench.Check{}
				for _, c := range rep.Checks {
					got[c.ID] = c
				}
				for id, want := range tc.want {
					if got[id].Status != want {
						t.Errorf("%s: %s (%s), want %s", id, got[id].Status, got[id].Detail, want)
					}
				}
				r := rep.Results.Race
				if r == nil || r.Bursts != testbench.DefaultBursts || r.Burst != testbench.DefaultBurst {
					t.Fatalf("race result %+v", r)
				}
				switch tc.name {
				case "replay-race":
					if r.ReplayMaxAccepted < 2 || r.ReplayBurstsOverOne != r.Bursts {
						t.Errorf("replay race: %d bursts over one, max %d accepted", r.ReplayBurstsOverOne, r.ReplayMaxAccepted)
					}
				case "lockout-race":
					if *r.WrongEvaluatedBeforeLock != 15 || !*r.RightAcceptedAfterLimit {
						t.Errorf("lockout race: %d wrong judged, right accepted after limit %v", *r.WrongEvaluatedBeforeLock, *r.RightAcceptedAfterLimit)
					}
				case "replay-fails":
					if r.ReplaysToLock == nil || *r.ReplaysToLock != 5 {
						t.Errorf("replays to lock %v, want 5", r.ReplaysToLock)
					}
				case "correct":
					if r.ReplayMaxAccepted != 1 || *r.WrongEvaluatedBeforeLock != 5 || *r.RightAccepted {
						t.Errorf("correct: max accepted %d, wrong judged %d, right accepted %v", r.ReplayMaxAccepted, *r.WrongEvaluatedBeforeLock, *r.RightAccepted)
					}
				}
			})
		}
	}
}

// TestRaceAloneRunsLockout is the regression test for "--scenario race"
// skipping race.lockout ("no lockout count was measured"): race and
// bruteforce stand on the lockout count, so the lockout scenario runs too
// and the report says why.
func TestRaceAloneRunsLockout(t *testing.T) {
	for _, sc := range []string{testbench.ScenarioRace, testbench.ScenarioBruteForce} {
		f := fake.New()
		rep := runFake(t, f, 0, nil, sc)
		got := map[string]testbench.Status{}
		for _, c := range rep.Checks {
			got[c.ID] = c.Status
		}
		want := "race.lockout"
		if sc == testbench.ScenarioBruteForce {
			want = "bruteforce.odds"
		}
		if got[want] != testbench.Pass || got["lockout.limit"] != testbench.Pass {
			t.Errorf("--scenario %s: %s %s, lockout.limit %s, want both pass (checks %v)", sc, want, got[want], got["lockout.limit"], got)
		}
		if len(rep.Notes) == 0 || !strings.Contains(strings.Join(rep.Notes, "; "), "lockout scenario ran too") {
			t.Errorf("--scenario %s: notes %q, want the reason lockout ran", sc, rep.Notes)
		}
	}
}

// TestBruteForceThrottleNoted: a target that answers "slow down" has a
// rate limit the odds do not model; the report says so instead of
// passing the odds off as exact.
func TestBruteForceThrottleNoted(t *testing.T) {
	f := fake.New()
	f.ThrottleEvery = 7
	rep := runFake(t, f, 0, nil, testbench.ScenarioWindow, testbench.ScenarioLockout, testbench.ScenarioBruteForce)
	if bf := rep.Results.BruteForce; bf == nil || !strings.Contains(bf.Limit, "slow down") {
		t.Errorf("bruteforce %+v: want the 429s named", bf)
	}
}
