package target

import (
	"context"
	"testing"

	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/refserver"
)

func TestEmbeddedDefault(t *testing.T) {
	ctx := context.Background()
	opts := refserver.DefaultOptions()
	opts.Lab = true
	emb, err := StartEmbedded(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	tm, err := testbench.VirtualTime(ctx, emb.Lab)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := testbench.Run(ctx, testbench.Config{Target: emb.Target, Time: tm})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		t.Logf("%s %s %s", c.ID, c.Status, c.Detail)
	}
	t.Logf("%+v %+v %+v %v", rep.Results.Window, rep.Results.Replay, rep.Results.Lockout, rep.Submissions)
}

// TestSubmissionsMinimal pins the codes each scenario submits against the
// reference console's default policy (window 1 back and 1 forward, replay
// by step, lockout after 5, bind with 2 codes), each count derived by
// hand as the least that answers the scenario's questions.
func TestSubmissionsMinimal(t *testing.T) {
	rep := benchRefserver(t, refCase{1, 1, refserver.ReplayStep, 5, 2, 0}, testbench.ScenarioEnroll, testbench.ScenarioLockout, testbench.ScenarioWindow, testbench.ScenarioReplay)
	want := map[string]int{
		// bind 2, login 1
		testbench.ScenarioEnroll: 3,
		// bind 2, 5 wrong, the 6th answered "locked", a right code while
		// locked; a fresh enrollment: bind 2, 4 wrong, right, wrong, right
		testbench.ScenarioLockout: 2 + 5 + 1 + 1 + 2 + 4 + 1 + 1 + 1,
		// bind 2, k=0 accepted, +1 accepted, +2 refused, -1 accepted,
		// -2 refused
		testbench.ScenarioWindow: 2 + 5,
		// bind 2, a code accepted, the same again, 2 reformats, the older
		// step
		testbench.ScenarioReplay: 2 + 1 + 1 + 2 + 1,
	}
	for s, n := range want {
		if rep.Submissions[s] != n {
			t.Errorf("%s submitted %d codes, want %d", s, rep.Submissions[s], n)
		}
	}
	if len(rep.Submissions) != len(want) {
		t.Errorf("submissions %v, want only %v", rep.Submissions, want)
	}
	if rep.Enrollments != 5 {
		t.Errorf("%d enrollments, want 5 (enroll, lockout, lockout reset, window, replay)", rep.Enrollments)
	}
}
