package testbench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Window kinds.
const (
	KindSteps   = "steps"   // the edges sit a whole number of steps from the server's step edges
	KindSeconds = "seconds" // a window in seconds (Ruby's ROTP): no whole-step window describes it
)

// WindowResult is the acceptance interval of a code and what follows from
// it (MEASURING.md): the code of true step n is accepted while the true
// time is in [nP + AcceptedFromS, nP + AcceptedUntilS).
type WindowResult struct {
	AcceptedFromS    float64 `json:"accepted_from_s"`
	AcceptedUntilS   float64 `json:"accepted_until_s"`
	EdgeUncertaintyS float64 `json:"edge_uncertainty_s"` // half the wider edge's last bracket (round trips included)
	// AlwaysAcceptedSkewS is the range of device clock errors (seconds,
	// inclusive) accepted at every phase: [P - until, -from].
	AlwaysAcceptedSkewS [2]float64 `json:"always_accepted_skew_s"`
	// SometimesAcceptedSkewS is the open range accepted at some phases:
	// (-until, P - from).
	SometimesAcceptedSkewS [2]float64 `json:"sometimes_accepted_skew_s"`
	Kind                   string     `json:"kind"` // "steps" or "seconds"
	// BackSteps and ForwardSteps are the window in the server's own steps;
	// null when the window is in seconds or no Date header gave the
	// server's clock.
	BackSteps    *int `json:"back_steps"`
	ForwardSteps *int `json:"forward_steps"`
	// BackSeconds and ForwardSeconds are a window in seconds as ROTP takes
	// it (drift_behind, drift_ahead), on the server's clock; null for a
	// window in steps or without the server's clock.
	BackSeconds    *float64 `json:"back_seconds"`
	ForwardSeconds *float64 `json:"forward_seconds"`
	// TrueBackSteps and TrueForwardSteps are the steps of true time
	// accepted at every phase of the true step.
	TrueBackSteps    int  `json:"true_back_steps"`
	TrueForwardSteps int  `json:"true_forward_steps"`
	PeriodS          int  `json:"period_s"`
	MaxSteps         int  `json:"max_steps"`
	BackAtLimit      bool `json:"back_at_limit"`    // accepted as far back as the search went: the window may be wider
	ForwardAtLimit   bool `json:"forward_at_limit"` // likewise forward
}

// view is what the edges and the Date clock say together: the kind of
// window and the server's clock (MEASURING.md "The server's own clock").
type view struct {
	iv            interval
	unc           time.Duration // the edges' uncertainty
	kind          string
	theta         *time.Duration // the server's clock offset, when known
	thetaUnc      time.Duration
	source        string         // "date-header", "codes" or "date-header+codes"
	thetaMod      *time.Duration // theta modulo P from the edges (a step window), in [-P/2, P/2)
	dateTheta     *time.Duration
	dateDisagrees bool
	back, forward *int     // server steps
	backS, fwdS   *float64 // window in seconds, server clock
	assumed       bool     // no Date header: the server's clock was taken to be right
}

// classify decides the window's kind and the server's clock: the edges of
// a step window sit on the server's step edges, a whole number of periods
// apart. With a Date header that agrees, its theta (to milliseconds)
// gives the whole steps; one that disagrees (a proxy's clock) is said and
// the codes' figures kept; edges not a whole number of steps apart are a
// window in seconds, placed on the server's clock by the Date header.
func classify(e *edges, dc *dateClock, virtual bool) view {
	iv := e.interval()
	P := iv.period
	v := view{iv: iv, unc: e.uncertainty()}
	slack := 100 * time.Millisecond
	if virtual {
		slack = time.Millisecond
	}
	tol := 2*v.unc + slack
	if dc != nil {
		tol += dc.uncertainty()
		th := dc.theta()
		v.dateTheta = &th
	}
	W := iv.until - iv.from
	stepLike := (W-time.Duration(math.Round(float64(W)/float64(P)))*P).Abs() <= tol && W >= P/2
	if stepLike {
		m := wrap(-iv.from, P)
		v.thetaMod = &m
	}
	switch {
	case stepLike && dc != nil:
		sigma := math.Round(float64(*v.dateTheta-*v.thetaMod) / float64(P))
		thc := *v.thetaMod + time.Duration(sigma)*P
		v.kind = KindSteps
		if (thc - *v.dateTheta).Abs() > tol {
			// The Date comes from another clock than the verifier's: its
			// whole steps are not the verifier's either.
			v.source, v.dateDisagrees = "codes", true
			break
		}
		v.theta, v.thetaUnc, v.source = v.dateTheta, dc.uncertainty(), "date-header+codes"
		b, f := iv.serverSteps(*v.theta)
		v.back, v.forward = ptr(int(math.Round(b))), ptr(int(math.Round(f)))
	case stepLike && (*v.thetaMod).Abs() <= tol:
		// No Date header: the edges sit on the step edges of a clock that
		// is right (what a local verifier's is).
		v.kind, v.source = KindSteps, "codes"
	case stepLike:
		// No Date header and the edges off the true step edges: a step
		// window on a clock off by a fraction of a step, or a window in
		// seconds on a clock that is right. The second is taken (a local
		// verifier's clock is the machine's), and said.
		v.kind, v.source, v.assumed = KindSeconds, "codes", true
		zero := time.Duration(0)
		v.backS = ptr(math.Round((iv.until+zero-P).Seconds()*100) / 100)
		v.fwdS = ptr(math.Round((-iv.from-zero).Seconds()*100) / 100)
	case dc != nil:
		v.kind, v.theta, v.thetaUnc, v.source = KindSeconds, v.dateTheta, dc.uncertainty(), "date-header"
		// To the hundredth: ROTP and its kin count whole seconds.
		v.backS = ptr(math.Round((iv.until+*v.theta-P).Seconds()*100) / 100)
		v.fwdS = ptr(math.Round((-iv.from-*v.theta).Seconds()*100) / 100)
	default:
		v.kind = KindSeconds
	}
	return v
}

func runWindow(ctx context.Context, a *actor) (any, []Check, error) {
	e, err := a.measuredEdges(ctx)
	if errors.Is(err, errNoneAccepted) {
		return nil, []Check{{ID: "window.found", Status: Fail, Detail: err.Error()}}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	dc, err := a.dateClock(ctx)
	if err != nil {
		return nil, nil, err
	}
	v := classify(e, dc, a.b.tl.tm.Virtual())
	res := windowResult(v, e, a.b.cfg.MaxSteps)
	return res, windowChecks(res, v), nil
}

func windowResult(v view, e *edges, maxSteps int) *WindowResult {
	iv := v.iv
	tb, tf := iv.trueSteps(v.unc + time.Millisecond)
	return &WindowResult{
		AcceptedFromS: round4(iv.from.Seconds()), AcceptedUntilS: round4(iv.until.Seconds()),
		EdgeUncertaintyS:       round4(v.unc.Seconds()),
		AlwaysAcceptedSkewS:    round4s(iv.alwaysSkew()),
		SometimesAcceptedSkewS: round4s(iv.sometimesSkew()),
		Kind:                   v.kind, BackSteps: v.back, ForwardSteps: v.forward,
		BackSeconds: v.backS, ForwardSeconds: v.fwdS,
		TrueBackSteps: tb, TrueForwardSteps: tf,
		PeriodS: int(iv.period / time.Second), MaxSteps: maxSteps,
		BackAtLimit: e.atLimitHi, ForwardAtLimit: e.atLimitLo,
	}
}

// round4 rounds to 4 decimals (and never shows -0).
func round4(f float64) float64 {
	r := math.Round(f*1e4) / 1e4
	if r == 0 {
		return 0
	}
	return r
}

func round4s(a [2]float64) [2]float64 { return [2]float64{round4(a[0]), round4(a[1])} }

func windowChecks(w *WindowResult, v view) []Check {
	var cs []Check
	a := w.AlwaysAcceptedSkewS
	tol := w.EdgeUncertaintyS + 0.001
	span := fmt.Sprintf("a code is accepted from %+.2f s to %+.2f s of its step; device clock error always accepted %s",
		w.AcceptedFromS, w.AcceptedUntilS, skewText(a))
	switch {
	case a[0] <= tol && a[1] >= -tol:
		cs = append(cs, Check{ID: "window.current-step", Status: Pass, Detail: "the code of a correctly set clock is accepted at every moment of its step"})
	default:
		cs = append(cs, Check{ID: "window.current-step", Status: Fail,
			Detail: span + ": the code of a correctly set clock is refused at some moments; the server's clock is probably off"})
	}
	switch {
	case w.Kind == KindSeconds && w.BackSeconds != nil:
		d := fmt.Sprintf("a window in seconds: %g s back and %g s ahead on the server's clock, which no whole-step window describes; %s", *w.BackSeconds, *w.ForwardSeconds, span)
		st := Pass
		if *w.BackSeconds > float64(w.PeriodS) {
			st, d = Warn, d+": RFC 6238 section 5.2 recommends at most one step back for network delay"
		}
		cs = append(cs, Check{ID: "window.back", Status: st, Detail: d})
	case w.BackSteps != nil && *w.BackSteps > 1:
		d := fmt.Sprintf("%d steps back in the server's own steps; %s: RFC 6238 section 5.2 recommends at most one step back for network delay", *w.BackSteps, span)
		if w.BackAtLimit {
			d += " (at least: the probe stopped at --max-steps)"
		}
		cs = append(cs, Check{ID: "window.back", Status: Warn, Detail: d})
	case w.BackSteps != nil:
		cs = append(cs, Check{ID: "window.back", Status: Pass, Detail: fmt.Sprintf("window %s steps of the server's own clock; %s", WindowSteps(*w.BackSteps, *w.ForwardSteps), span)})
	default:
		cs = append(cs, Check{ID: "window.back", Status: Pass, Detail: span + "; in the server's own steps: unknown without its clock"})
	}
	if w.ForwardAtLimit || w.BackAtLimit {
		cs = append(cs, Check{ID: "window.limit", Status: Warn,
			Detail: fmt.Sprintf("codes %d steps away were still accepted (back %t, forward %t): the probe stopped at --max-steps", w.MaxSteps, w.BackAtLimit, w.ForwardAtLimit)})
	}
	if v.assumed {
		cs = append(cs, Check{ID: "window.kind", Status: Pass,
			Detail: fmt.Sprintf("no Date header tells the server's clock: taken to be right, the window is in seconds, %g s back and %g s ahead; a window of %d steps on a clock off by %+.2f s would answer the same codes",
				*w.BackSeconds, *w.ForwardSeconds, int(math.Round((w.AcceptedUntilS-w.AcceptedFromS)/float64(w.PeriodS))), v.thetaMod.Seconds())})
	}
	if v.dateDisagrees {
		cs = append(cs, Check{ID: "window.date-header", Status: Warn,
			Detail: fmt.Sprintf("the Date header puts the server's clock at %+.3f s, but the edges sit on the step edges of a clock at %+.3f s modulo %d s: a Date from another clock (a proxy?); the codes' figures are kept, the window in the server's own steps is unknown (a window in seconds of the same width is the other reading)", v.dateTheta.Seconds(), v.thetaMod.Seconds(), w.PeriodS)})
	}
	return cs
}

// skewText shows a closed range of seconds, or "none".
func skewText(a [2]float64) string {
	if a[0] > a[1] {
		return "none"
	}
	return fmt.Sprintf("%+.2f s to %+.2f s", a[0], a[1])
}

// interval is the acceptance interval the result reports.
func (w *WindowResult) interval() interval {
	return interval{from: secs(w.AcceptedFromS), until: secs(w.AcceptedUntilS), period: time.Duration(w.PeriodS) * time.Second}
}
