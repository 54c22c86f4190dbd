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
	clockRoundPoints   = 9                      // real time: submissions per round, each on its own enrollment
	clockRealRounds    = 3                      // real time: rounds at most (one period each)
	clockVirtualRounds = 24                     // virtual time: rounds are free, so it bisects (one code each)
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
	// DurationS is the true time from the first submission to the last
	// answer of the search.
	DurationS float64 `json:"duration_s"`
	PeriodS   int     `json:"period_s"`
	RTTMS     float64 `json:"rtt_ms"` // the longest round trip of the bracketing submissions
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
	var firstSent, lastRecv time.Time
	// The first round covers a whole period, ends included. In virtual
	// time the window was measured at mid-step, so the flip of code n+lo
	// is inside it; in real time the window's probes sat anywhere in the
	// step, so lo may be a step off: the first round also submits codes
	// n+lo-1 and n+lo+1 at the same instants (on their own enrollments),
	// and exactly one of the three flips inside. Its offset is j.
	js := []int64{0}
	if !p.tm.Virtual() {
		js = []int64{-1, 0, 1}
	}
	var j int64
	for round := 0; round < maxRounds && b-a > width; round++ {
		res.Rounds++
		whole := round == 0
		points := clockRoundPoints
		if p.tm.Virtual() {
			// Waiting is free: bisect, one code a round (three in the
			// first, its ends and middle), sparing enrollments.
			points = 1
			if whole {
				points = 3
			}
		}
		xs := make([]time.Duration, points)
		for i := range xs {
			if whole {
				xs[i] = a + time.Duration(i)*(b-a)/time.Duration(points-1)
			} else {
				xs[i] = a + time.Duration(i+1)*(b-a)/time.Duration(points+1)
			}
		}
		type slot struct {
			jj  int64
			dev *device
		}
		var slots [][]slot // per instant
		for i := range xs {
			var row []slot
			for _, jj := range js {
				d, err := p.spareDevice(ctx, fmt.Sprintf("clock-%d-%d", jj, i))
				if err != nil {
					return nil, nil, err
				}
				row = append(row, slot{jj, d})
			}
			slots = append(slots, row)
		}
		// The first step n whose codes are clean on every device (after
		// the steps they consumed, unless the target ignores those) and
		// whose first instant is still ahead.
		n := max(lastN+1, p.stepAt(p.tm.Now())-1)
		for {
			ok := time.Unix(0, 0).Add(time.Duration(n+1)*P + xs[0]).After(p.tm.Now().Add(500 * time.Millisecond))
			for _, row := range slots {
				for _, sl := range row {
					st := n + int64(r.lo) + sl.jj
					ok = ok && st >= 0 && p.clean(sl.dev, sl.dev.code(st), st)
				}
			}
			if ok {
				break
			}
			n++
		}
		lastN = n
		edge := time.Unix(0, 0).Add(time.Duration(n+1) * P)
		type side struct {
			na, nb         time.Duration
			rttA, rttB     time.Duration
			anyAcc, anyRej bool
		}
		sides := map[int64]*side{}
		for _, jj := range js {
			sides[jj] = &side{na: a, nb: b}
		}
		for i, row := range slots {
			for _, sl := range row {
				jj := sl.jj
				t, err := p.submitAt(ctx, sl.dev, edge.Add(xs[i]), "the server's step edge", func(time.Time) int64 { return n + int64(r.lo) + jj })
				if err != nil {
					return nil, nil, err
				}
				if firstSent.IsZero() {
					firstSent = t.sent
				}
				lastRecv = t.recv
				if !t.v.Date.IsZero() {
					dates = append(dates, t.v.Date.Add(500*time.Millisecond).Sub(t.mid()))
				}
				e, sd := t.mid().Sub(edge), sides[jj]
				switch t.v.Outcome {
				case Accepted:
					sd.anyAcc = true
					if e > sd.na {
						sd.na, sd.rttA = e, t.recv.Sub(t.sent)
					}
				case Rejected:
					sd.anyRej = true
					if e < sd.nb {
						sd.nb, sd.rttB = e, t.recv.Sub(t.sent)
					}
				default:
					return nil, nil, fmt.Errorf("server clock: a submission at the step edge answered %v", t.v)
				}
			}
		}
		var got *side
		for _, jj := range js {
			if sd := sides[jj]; !whole || (sd.anyAcc && sd.anyRej) {
				if got == nil {
					got, j = sd, jj
				}
			}
		}
		if got == nil {
			return nil, nil, fmt.Errorf("server clock: no flip of acceptance found within a step of where the window puts it")
		}
		if got.na >= got.nb {
			return nil, nil, fmt.Errorf("server clock: accepted at %v and refused at %v around the step edge: no single flip", got.na, got.nb)
		}
		a, b, rttA, rttB = got.na, got.nb, got.rttA, got.rttB
		js = []int64{j}
	}
	flip := a + (b-a)/2
	if p.tm.Virtual() {
		// No round trip: the flip is in (a, b]; a whole millisecond there
		// is the likeliest (clocks are set in whole units).
		if ms := time.Duration(floorDiv(int64(b), int64(time.Millisecond))) * time.Millisecond; ms > a {
			flip = ms
		}
	}
	// The flip of code n+lo+j at (n+1)P + flip is that of code n+lo at
	// (n+1)P + flip - jP: r = jP - flip in the window's frame.
	rmod := time.Duration(j)*P - flip
	rtt := max(rttA, rttB)
	norm := rmod - time.Duration(floorDiv(int64(rmod+P/2), int64(P)))*P // in [-P/2, P/2)
	res.OffsetModS = norm.Seconds()
	res.OffsetS = res.OffsetModS
	res.UncertaintyS = ((b-a)/2 + rtt/2).Seconds()
	res.RTTMS = float64(rtt.Microseconds()) / 1000
	res.DurationS = lastRecv.Sub(firstSent).Seconds()
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
