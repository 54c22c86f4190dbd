package testbench

import (
	"context"
	"testing"

	"github.com/totpemu/totpemu/testbench/refserver"
)

func TestEmbeddedDefault(t *testing.T) {
	ctx := context.Background()
	emb, err := StartEmbedded(ctx, refserver.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	tm, err := VirtualTime(ctx, emb.Lab)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(ctx, Config{Target: emb.Target, Time: tm})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		t.Logf("%s %s %s", c.ID, c.Status, c.Detail)
	}
	t.Logf("%+v %+v %+v %v", rep.Results.Window, rep.Results.Replay, rep.Results.Lockout, rep.Submissions)
}
