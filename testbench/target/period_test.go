package target

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/totpemu/totpemu/emulator"
	"github.com/totpemu/totpemu/scanner"
	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/refserver"
)

// TestPeriodRangeOneEverywhere is the regression test for serve taking
// periods up to 3600 s that the device, the scanner's lint and the bench
// refuse: one range, and a console at either end of it is measured.
func TestPeriodRangeOneEverywhere(t *testing.T) {
	if refserver.MaxPeriod != emulator.MaxPeriod || emulator.MaxPeriod != scanner.MaxPeriod || emulator.MinPeriod != scanner.MinPeriod {
		t.Fatalf("periods: refserver up to %d, emulator %d..%d, scanner %d..%d; want one range",
			refserver.MaxPeriod, emulator.MinPeriod, emulator.MaxPeriod, scanner.MinPeriod, scanner.MaxPeriod)
	}
	if _, err := refserver.New(refserver.Options{Period: refserver.MaxPeriod + 1}); err == nil {
		t.Errorf("refserver accepts period %d", refserver.MaxPeriod+1)
	}
	for _, p := range []int{scanner.MinPeriod, 60, scanner.MaxPeriod} {
		o := refserver.Options{Period: p, WindowBack: 1, WindowForward: 1, Replay: refserver.ReplayStep, Lockout: 5}
		t.Run(fmt.Sprintf("period=%d", p), func(t *testing.T) {
			rep := benchOpts(t, o, 0, nil, testbench.ScenarioWindow)
			w := rep.Results.Window
			if w == nil {
				t.Fatalf("period %d: no window result: %+v", p, rep.Checks)
			}
			P := time.Duration(p) * time.Second
			if math.Abs(w.AcceptedFromS+P.Seconds()) > 0.01 || math.Abs(w.AcceptedUntilS-2*P.Seconds()) > 0.01 {
				t.Errorf("period %d: edges %+.3f, %+.3f s; want %+.0f, %+.0f", p, w.AcceptedFromS, w.AcceptedUntilS, -P.Seconds(), 2*P.Seconds())
			}
			if w.BackSteps == nil || *w.BackSteps != 1 || *w.ForwardSteps != 1 {
				t.Errorf("period %d: server steps %s/%s; want 1/1", p, deref(w.BackSteps), deref(w.ForwardSteps))
			}
		})
	}
}

// ticking is a "real" clock that moves 50 ms each time it is read.
type ticking struct {
	mu sync.Mutex
	t  time.Time
}

func (c *ticking) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(50 * time.Millisecond)
	return c.t
}

// TestVirtualTimeStopsRunningLabClock is the regression test for the lab
// clock that runs with the real clock until set: the first probes of a
// virtual run saw it move (edges 25 ms off, the Date header 21 ms off,
// server steps unknown in 1 run of 75). VirtualTime stops it where it is;
// Restore sets it running again.
func TestVirtualTimeStopsRunningLabClock(t *testing.T) {
	for _, ph := range []time.Duration{3 * time.Second, 14900 * time.Millisecond, 29900 * time.Millisecond} {
		o := refserver.Options{WindowBack: 1, WindowForward: 1, Replay: refserver.ReplayStep, Lockout: 5,
			Clock: &ticking{t: base.Add(ph)}}
		var tm *testbench.Time
		rep := benchOpts(t, o, 0, func(c *testbench.Config) { tm = c.Time }, testbench.ScenarioWindow, testbench.ScenarioLockout)
		checkEdges(t, fmt.Sprintf("running lab clock, phase %v", ph), o, rep.Results.Window, 0.001)
		if err := tm.Restore(context.Background()); err != nil {
			t.Fatalf("phase %v: Restore: %v", ph, err)
		}
	}
}
