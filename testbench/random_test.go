package testbench

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestFakeRandomPolicies runs the bench against random fake servers,
// faults included (429s, 500s), and requires the window, the replay
// behaviour and the lockout count to match the configuration every time.
func TestFakeRandomPolicies(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	n := 300
	if testing.Short() || raceEnabled {
		n = 60
	}
	for i := 0; i < n; i++ {
		c := randCase{back: rnd.IntN(5), fwd: rnd.IntN(5), replay: []string{"none", "code", "step"}[rnd.IntN(3)],
			lockout: rnd.IntN(7), bind: rnd.IntN(3), offset: time.Duration(rnd.IntN(101)-50) * time.Second}
		throttle, flaky := []int{0, 5, 11}[rnd.IntN(3)], []int{0, 7, 13}[rnd.IntN(3)]
		name := fmt.Sprintf("%v,throttle=%d,flaky=%d", c, throttle, flaky)
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.back, f.forward, f.replay, f.lockout, f.bindCodes, f.offset = c.back, c.fwd, c.replay, c.lockout, c.bind, c.offset
			f.throttleEvery, f.retryAfter, f.flakyEvery = throttle, 3*time.Second, flaky
			rep := runFake(t, f)
			for _, ch := range rep.Checks {
				switch ch.ID {
				case "enroll.error", "lockout.error", "window.error", "replay.error":
					t.Fatalf("%s: %s: %s", name, ch.ID, ch.Detail)
				}
			}
			back, fwd := wantWindow(c)
			if w := rep.Results.Window; w == nil || w.BackSteps != back || w.ForwardSteps != fwd {
				t.Fatalf("%s: window %+v, want %d back %d forward", name, w, back, fwd)
			}
			l := rep.Results.Lockout
			if (c.lockout == 0) != (l.FailuresBeforeLock == nil) || (c.lockout > 0 && *l.FailuresBeforeLock != c.lockout) {
				t.Errorf("%s: failures before lock %v", name, l.FailuresBeforeLock)
			}
			rp := rep.Results.Replay
			if *rp.SameCodeRejected != (c.replay != "none") {
				t.Errorf("%s: same code rejected %v", name, *rp.SameCodeRejected)
			}
			if rp.OlderCodeRejected != nil && *rp.OlderCodeRejected != (c.replay == "step") {
				t.Errorf("%s: older code rejected %v", name, *rp.OlderCodeRejected)
			}
			if (rp.OlderCodeRejected == nil) != (c.back+c.fwd == 0) {
				t.Errorf("%s: older code test ran = %v", name, rp.OlderCodeRejected != nil)
			}
		})
	}
}

// randCase is one random policy.
type randCase struct {
	back, fwd int
	replay    string
	lockout   int
	bind      int
	offset    time.Duration
}

func (c randCase) String() string {
	return fmt.Sprintf("back=%d,fwd=%d,replay=%s,lockout=%d,bind=%d,offset=%v", c.back, c.fwd, c.replay, c.lockout, c.bind, c.offset)
}

// wantWindow is the window the bench sees in true steps at mid-step: a
// server clock off by d moves the server's step by floor((P/2 + d) / P).
func wantWindow(c randCase) (back, fwd int) {
	const P = 30 * time.Second
	n := P/2 + c.offset
	shift := int(n / P)
	if n < 0 && n%P != 0 {
		shift--
	}
	return c.back - shift, c.fwd + shift
}
