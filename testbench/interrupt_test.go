package testbench_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/internal/fake"
)

// interrupting is the fake with an interruption: at its n-th code it
// cancels the run's context (as Ctrl-C does) and then answers that code
// as usual, an answer in flight when the run stops.
type interrupting struct {
	*fake.Server
	n      int32
	seen   atomic.Int32
	cancel context.CancelCauseFunc
	late   atomic.Int32 // answers given with an already ended context
}

func (t *interrupting) Verify(ctx context.Context, e *testbench.Enrollment, code string) testbench.Verdict {
	t.count(ctx)
	return t.Server.Verify(ctx, e, code)
}

func (t *interrupting) Bind(ctx context.Context, e *testbench.Enrollment, codes []string) testbench.Verdict {
	t.count(ctx)
	return t.Server.Bind(ctx, e, codes)
}

func (t *interrupting) count(ctx context.Context) {
	if t.seen.Add(1) == t.n {
		t.cancel(errors.New("interrupt (SIGINT)"))
	}
	if ctx.Err() != nil {
		t.late.Add(1)
	}
}

// TestInterruptedRunKeepsReport is the regression test for a bench stopped
// by Ctrl-C or a CI job's SIGTERM that printed "context canceled" and
// wrote no report: the report has every scenario that finished, each
// unfinished one is "incomplete", the run fails, and the answer in flight
// at the interruption is kept (every code sent is counted).
func TestInterruptedRunKeepsReport(t *testing.T) {
	// A run to the end counts the requests; interruptions fall at its
	// first, a quarter, half way and three quarters. (The count varies a
	// little from run to run with the order the probes go in; a run that
	// ends before its n-th request is not interrupted, and says so.)
	full := &interrupting{Server: fake.New(), n: -1}
	full.Clock = clock.NewManual(base.Add(5 * time.Second))
	tm, err := testbench.VirtualTime(context.Background(), full)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testbench.Run(context.Background(), testbench.Config{Target: full, Time: tm}); err != nil {
		t.Fatal(err)
	}
	r := full.seen.Load()
	for _, n := range []int32{1, r / 4, r / 2, 3 * r / 4} {
		f := fake.New()
		f.Clock = clock.NewManual(base.Add(5 * time.Second))
		ctx, cancel := context.WithCancelCause(context.Background())
		tgt := &interrupting{Server: f, n: n, cancel: cancel}
		tm, err := testbench.VirtualTime(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := testbench.Run(ctx, testbench.Config{Target: tgt, Time: tm})
		if err != nil {
			t.Fatalf("interrupted at code %d: Run error %v; want a report", n, err)
		}
		if tgt.seen.Load() < n {
			if rep.Interrupted {
				t.Errorf("a run of %d requests, never interrupted, says it was", tgt.seen.Load())
			}
			continue
		}
		if !rep.Interrupted {
			t.Errorf("interrupted at code %d: Interrupted not set", n)
		}
		incomplete := 0
		for _, c := range rep.Checks {
			if c.Status == testbench.Incomplete {
				incomplete++
				if !strings.HasSuffix(c.ID, ".incomplete") || !strings.Contains(c.Detail, "interrupt") {
					t.Errorf("interrupted at code %d: check %s %q", n, c.ID, c.Detail)
				}
			}
		}
		// Near the end the scenarios may all finish with what they
		// have; before it some cannot.
		if (incomplete == 0 && n <= r/2) || rep.Failed() != (incomplete > 0) {
			t.Errorf("interrupted at code %d of %d: %d incomplete checks, Failed %t: %+v", n, r, incomplete, rep.Failed(), rep.Checks)
		}
		total := 0
		for _, v := range rep.Submissions {
			total += v
		}
		if total != f.Codes {
			t.Errorf("interrupted at code %d: the report counts %d codes, the target saw %d", n, total, f.Codes)
		}
		if tgt.late.Load() != 0 {
			t.Errorf("interrupted at code %d: %d requests made with an ended context", n, tgt.late.Load())
		}
	}
}

// TestInterruptedRealTimeDrains: in real time, a run interrupted while it
// waits for instants stops at once with its report, and one interrupted
// with a request in flight waits for that answer (up to DrainTimeout).
func TestInterruptedRealTimeDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := fake.New()
		f.Clock = clock.System{}
		sys := clock.System{}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(40 * time.Second)
			cancel()
		}()
		start := sys.Now()
		rep, err := testbench.Run(ctx, testbench.Config{Target: f, Time: testbench.RealTime(sys, sys, testbench.TimeSystem, nil)})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if took := sys.Now().Sub(start); took > 40*time.Second+testbench.DrainTimeout {
			t.Errorf("interrupted after 40 s, Run returned after %v", took)
		}
		if !rep.Interrupted || !rep.Failed() {
			t.Errorf("Interrupted %t, Failed %t; want both", rep.Interrupted, rep.Failed())
		}
		var finished, incomplete []string
		for _, c := range rep.Checks {
			if c.Status == testbench.Incomplete {
				incomplete = append(incomplete, c.ID)
			} else {
				finished = append(finished, c.ID)
			}
		}
		if len(finished) == 0 || len(incomplete) == 0 {
			t.Errorf("after 40 s of a real-time run: finished %v, incomplete %v; want some of each", finished, incomplete)
		}
	})
}
