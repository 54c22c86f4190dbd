package testbench

import (
	"context"
	"fmt"
	"math"
	"time"
)

// ServerClockResult is the server's own clock against the truth: from
// its Date header (the instant its second flips, bracketed by staggered
// requests, as htpdate does) and from where the edges of a code's
// acceptance sit (a step window's edges are the server's step edges).
type ServerClockResult struct {
	// OffsetS is the server clock minus the truth, seconds; null when
	// neither the Date header nor a step window's edges give it.
	OffsetS      *float64 `json:"offset_s"`
	UncertaintyS float64  `json:"uncertainty_s"`
	// Source is where OffsetS comes from: "date-header", "codes" (the
	// edges: modulo a period unless a Date header gave the whole steps)
	// or "date-header+codes" (both, agreeing).
	Source string `json:"source"`
	// DateHeaderOffsetS is what the Date header says, null without one;
	// DateHeaderAgrees is false when it disagrees with the codes by more
	// than the uncertainty (a proxy's clock).
	DateHeaderOffsetS  *float64 `json:"date_header_offset_s"`
	DateHeaderAgrees   *bool    `json:"date_header_agrees"`
	DateHeaderRequests int      `json:"date_header_requests"`
	// OffsetModS is the offset modulo the period from the edges, in
	// [-P/2, P/2); null for a window in seconds.
	OffsetModS *float64 `json:"offset_mod_period_s"`
	Kind       string   `json:"kind"` // the window's: "steps" or "seconds"
	// BackSteps and ForwardSteps are the window in the server's own steps.
	BackSteps    *int `json:"back_steps"`
	ForwardSteps *int `json:"forward_steps"`
	// The device clock errors (seconds, relative to true time) accepted at
	// every phase and at some phases (as in the window's result).
	AlwaysAcceptedSkewS    [2]float64 `json:"always_accepted_skew_s"`
	SometimesAcceptedSkewS [2]float64 `json:"sometimes_accepted_skew_s"`
	PeriodS                int        `json:"period_s"`
	RTTMS                  float64    `json:"rtt_ms"`     // the longest round trip of the Date requests
	DurationS              float64    `json:"duration_s"` // true time from the first Date request to the last answer
}

func runServerClock(ctx context.Context, a *actor) (any, []Check, error) {
	a.startEdges(ctx) // at once: its first probes do not wait for the Date header
	dc, err := a.dateClock(ctx)
	if err != nil {
		return nil, nil, err
	}
	e, err := a.measuredEdges(ctx)
	if err != nil {
		return nil, nil, err
	}
	v := classify(e, dc, a.b.tl.tm.Virtual())
	res := &ServerClockResult{Source: v.source, Kind: v.kind, BackSteps: v.back, ForwardSteps: v.forward,
		AlwaysAcceptedSkewS: round4s(v.iv.alwaysSkew()), SometimesAcceptedSkewS: round4s(v.iv.sometimesSkew()),
		PeriodS: int(v.iv.period / time.Second)}
	if v.theta != nil {
		res.OffsetS = ptr(round4(v.theta.Seconds()))
		res.UncertaintyS = round4(v.thetaUnc.Seconds())
	} else if v.thetaMod != nil {
		res.UncertaintyS = round4(v.unc.Seconds())
	}
	if v.thetaMod != nil {
		res.OffsetModS = ptr(round4(v.thetaMod.Seconds()))
	}
	if dc != nil {
		res.DateHeaderOffsetS = ptr(round4(dc.theta().Seconds()))
		res.DateHeaderAgrees = ptr(!v.dateDisagrees)
		res.DateHeaderRequests = dc.requests
		res.RTTMS = math.Round(float64(dc.rtt.Microseconds())) / 1000
		res.DurationS = round3(dc.dur.Seconds())
	}
	return res, serverClockChecks(res), nil
}

func serverClockChecks(s *ServerClockResult) []Check {
	if s.OffsetS == nil {
		d := "no Date header and no step window: the server's clock is not measured"
		if s.DateHeaderAgrees != nil && !*s.DateHeaderAgrees {
			d = fmt.Sprintf("the Date header says %+.3f s, but the codes put the server's step edges at %+.3f s modulo %d s: the Date comes from another clock (a proxy?); the whole steps are unknown", *s.DateHeaderOffsetS, *s.OffsetModS, s.PeriodS)
		}
		if s.OffsetModS != nil {
			d = fmt.Sprintf("the server's clock is %+.2f s (±%.2f s) from the truth modulo %d s: no Date header gives the whole steps", *s.OffsetModS, s.UncertaintyS, s.PeriodS)
		}
		return []Check{{ID: "server-clock.offset", Status: Skip, Detail: d}}
	}
	src := map[string]string{"date-header+codes": "its Date header, where the codes agree", "date-header": "its Date header", "codes": "the codes"}[s.Source]
	off := fmt.Sprintf("the server's clock is %+.3f s from the truth (±%.3f s, from %s)", *s.OffsetS, s.UncertaintyS, src)
	var cs []Check
	switch a := math.Abs(*s.OffsetS); {
	case a > float64(s.PeriodS):
		cs = append(cs, Check{ID: "server-clock.offset", Status: Fail, Detail: off + ": over a step; devices with correct clocks depend on the window to be accepted"})
	case a > 5:
		cs = append(cs, Check{ID: "server-clock.offset", Status: Warn, Detail: off + ": over 5 s; is the server synced over NTP?"})
	default:
		cs = append(cs, Check{ID: "server-clock.offset", Status: Pass, Detail: off})
	}
	if s.DateHeaderAgrees != nil && !*s.DateHeaderAgrees {
		cs = append(cs, Check{ID: "server-clock.date-header", Status: Warn,
			Detail: fmt.Sprintf("the Date header says %+.3f s, but the codes put the server's step edges at %+.3f s modulo %d s: the Date comes from another clock (a proxy?); the codes' figure is kept", *s.DateHeaderOffsetS, *s.OffsetModS, s.PeriodS)})
	}
	if s.BackSteps != nil {
		cs = append(cs, Check{ID: "server-clock.window", Status: Pass,
			Detail: fmt.Sprintf("in its own steps the server accepts window %s", WindowSteps(*s.BackSteps, *s.ForwardSteps))})
	}
	return cs
}
