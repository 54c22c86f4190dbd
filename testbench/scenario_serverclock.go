package testbench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// Server-clock search limits.
const (
	clockRoundPoints   = 9                      // submissions per round, each on its own enrollment
	clockRealRounds    = 3                      // real time: rounds at most (one period each)
	clockVirtualRounds = 6                      // virtual time: rounds are free
	clockRealWidth     = 400 * time.Millisecond // real time: stop once the flip is bracketed this tightly
	clockVirtualWidth  = 100 * time.Microsecond
)

// ServerClockResult is the server's own clock offset from the truth.
type ServerClockResult struct {
	// OffsetS is the server clock minus the truth, seconds. Codes alone give
	// it modulo the period; the HTTP Date header gives the whole steps
	// (WholeStepsKnown); without one OffsetS is the value in [-P/2, P/2).
	OffsetS         float64 `json:"offset_s"`
	UncertaintyS    float64 `json:"uncertainty_s"` // half the round trip plus half the search's last bracket
	OffsetModS      float64 `json:"offset_mod_period_s"`
	WholeStepsKnown bool    `json:"whole_steps_known"`
	// DateOffsetS is the offset the Date headers show (1 s resolution),
	// null when the target sent none.
	DateOffsetS *float64 `json:"date_header_offset_s"`
	// BackSteps and ForwardSteps are the window in the server's own steps,
	// null without the whole steps.
	BackSteps    *int `json:"back_steps"`
	ForwardSteps *int `json:"forward_steps"`
	// The device clock errors (seconds, relative to true time) accepted at
	// every phase, and at some phases: the window's skew ranges moved by
	// the fraction of a step the server is off.
	AlwaysAcceptedSkewS    [2]float64 `json:"always_accepted_skew_s"`
	SometimesAcceptedSkewS [2]float64 `json:"sometimes_accepted_skew_s"`
	Rounds                 int        `json:"rounds"`
	PeriodS                int        `json:"period_s"`
	RTTMS                  float64    `json:"rtt_ms"` // the longest round trip of the bracketing submissions
}

// serverClock finds where the oldest accepted code stops being accepted.
// The code of true step n+lo is accepted at mid-step n (the window) and
// refused at mid-step n+1; the flip lies at the true instant
// (n+1)P - r, with r the server's offset modulo P in [-P/2, P/2)
// (MEASURING.md "The server's own clock"). Each round spreads submissions
// over the bracket, one enrollment each, in one period; the next round
// splits the new bracket, a step later.
func (r *runner) serverClock(ctx context.Context) (*ServerClockResult, []Check, error) {
	p := r.p
	P := p.period
	a, b := -P/2, P/2 // the flip lies in (n+1)P + (a, b]
	maxRounds, width := clockRealRounds, clockRealWidth
	if p.tm.Virtual() {
		maxRounds, width = clockVirtualRounds, clockVirtualWidth
	}
	res := &ServerClockResult{PeriodS: int(P / time.Second)}
	var dates []time.Duration
	var rttA, rttB time.Duration
	lastN := int64(-1 << 62)
	for round := 0; round < maxRounds && b-a > width; round++ {
		res.Rounds++
		devs := make([]*device, clockRoundPoints)
		hiStep := int64(-1 << 62)
		for i := range devs {
			d, err := p.spareDevice(ctx, fmt.Sprintf("clock-%d", i))
			if err != nil {
				return nil, nil, err
			}
			devs[i] = d
			hiStep = max(hiStep, p.dirtyUpTo(d))
		}
		// The code of step n+lo must be after every step consumed, and the
		// first submission after now.
		first := a + (b-a)/(clockRoundPoints+1)
		n := max(hiStep-int64(r.lo)+1, lastN+1)
		for time.Unix(0, 0).Add(time.Duration(n+1)*P + first).Before(p.tm.Now().Add(500 * time.Millisecond)) {
			n++
		}
		lastN = n
		edge := time.Unix(0, 0).Add(time.Duration(n+1) * P)
		na, nb := a, b
		for i, d := range devs {
			x := a + time.Duration(i+1)*(b-a)/(clockRoundPoints+1)
			t, err := p.submitAt(ctx, d, edge.Add(x), "the server's step edge", func(time.Time) int64 { return n + int64(r.lo) })
			if err != nil {
				return nil, nil, err
			}
			if !t.v.Date.IsZero() {
				dates = append(dates, t.v.Date.Add(500*time.Millisecond).Sub(t.mid()))
			}
			e := t.mid().Sub(edge)
			switch t.v.Outcome {
			case Accepted:
				if e > na {
					na, rttA = e, t.recv.Sub(t.sent)
				}
			case Rejected:
				if e < nb {
					nb, rttB = e, t.recv.Sub(t.sent)
				}
			default:
				return nil, nil, fmt.Errorf("server clock: a submission at the step edge answered %v", t.v)
			}
		}
		if na >= nb {
			return nil, nil, fmt.Errorf("server clock: accepted at %v and refused at %v around the step edge: no single flip", na, nb)
		}
		a, b = na, nb
	}
	flip := a + (b-a)/2
	if p.tm.Virtual() {
		// No round trip: the flip is in (a, b]; a whole millisecond there
		// is the likeliest (clocks are set in whole units).
		if ms := time.Duration(floorDiv(int64(b), int64(time.Millisecond))) * time.Millisecond; ms > a {
			flip = ms
		}
	}
	rmod := -flip
	rtt := max(rttA, rttB)
	res.OffsetModS = rmod.Seconds()
	res.OffsetS = res.OffsetModS
	res.UncertaintyS = ((b-a)/2 + rtt/2).Seconds()
	res.RTTMS = float64(rtt.Microseconds()) / 1000
	r.serverR = &rmod
	Ps := P.Seconds()
	res.AlwaysAcceptedSkewS = [2]float64{float64(r.lo)*Ps + rmod.Seconds(), float64(r.hi)*Ps + rmod.Seconds()}
	res.SometimesAcceptedSkewS = [2]float64{float64(r.lo-1)*Ps + rmod.Seconds(), float64(r.hi+1)*Ps + rmod.Seconds()}
	if len(dates) > 0 {
		slices.Sort(dates)
		od := dates[len(dates)/2]
		res.DateOffsetS = ptr(math.Round(od.Seconds()*1000) / 1000)
		sigma := int(math.Round((od - rmod).Seconds() / Ps))
		res.OffsetS = rmod.Seconds() + float64(sigma)*Ps
		res.WholeStepsKnown = true
		res.BackSteps, res.ForwardSteps = ptr(sigma-r.lo), ptr(r.hi-sigma)
	}
	return res, serverClockChecks(res), nil
}

func serverClockChecks(s *ServerClockResult) []Check {
	var cs []Check
	off := fmt.Sprintf("the server's clock is %+.2f s from the truth (±%.2f s)", s.OffsetS, s.UncertaintyS)
	if !s.WholeStepsKnown {
		off = fmt.Sprintf("the server's clock is %+.2f s (±%.2f s) from the truth, modulo %d s: no Date header gives the whole steps", s.OffsetModS, s.UncertaintyS, s.PeriodS)
	}
	switch {
	case math.Abs(s.OffsetS) > 30:
		cs = append(cs, Check{ID: "server-clock.offset", Status: Fail, Detail: off + ": over a step; devices with correct clocks depend on the window to be accepted"})
	case math.Abs(s.OffsetS) > 5:
		cs = append(cs, Check{ID: "server-clock.offset", Status: Warn, Detail: off + ": over 5 s; is the server synced over NTP?"})
	default:
		cs = append(cs, Check{ID: "server-clock.offset", Status: Pass, Detail: off})
	}
	if s.WholeStepsKnown {
		cs = append(cs, Check{ID: "server-clock.window", Status: Pass,
			Detail: fmt.Sprintf("in its own steps the server accepts %d step(s) back and %d forward", *s.BackSteps, *s.ForwardSteps)})
	}
	return cs
}
