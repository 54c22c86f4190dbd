package target

import (
	"fmt"
	"math"
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
