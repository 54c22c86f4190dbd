package testbench

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// The boundary's latencies.
const gridMaxLatS = 30

// TypingLatenciesS are the typing latencies the report quotes.
var TypingLatenciesS = []int{2, 5, 10, 20}

// BoundaryResult is the 30 s boundary under typing latency: a person reads
// the code at phase p of its step (a correct clock) and the target judges
// it L seconds later, so it is accepted when p + L is in [from, until).
// Over a uniformly random p the refusal chance follows in closed form from
// the measured edges; nothing more is submitted.
type BoundaryResult struct {
	PeriodS int `json:"period_s"`
	// RefusalProbabilityByLatencyS is the chance a person taking L seconds
	// (2, 5, 10, 20) to type the code is refused.
	RefusalProbabilityByLatencyS map[string]float64 `json:"refusal_probability_by_latency_s"`
	// LatestSafeReadS is, per latency, the latest phase (seconds into the
	// step, 0.1 s grid) at which a code read is still accepted; null when
	// none is.
	LatestSafeReadS map[string]*float64 `json:"latest_safe_read_s_by_latency_s"`
	// RefusalCurve is the refusal probability for latencies 0, 1, ..., 30 s.
	RefusalCurve []float64 `json:"refusal_curve"`
	// The edges the figures come from.
	AcceptedFromS  float64 `json:"accepted_from_s"`
	AcceptedUntilS float64 `json:"accepted_until_s"`
}

// boundaryFigures computes the curve and the latest safe reads.
func boundaryFigures(iv interval) (curve []float64, latest []*float64) {
	for l := 0; l <= gridMaxLatS; l++ {
		lat := time.Duration(l) * time.Second
		curve = append(curve, round4(iv.refusal(lat)))
		if p, ok := iv.latestSafeRead(lat); ok {
			latest = append(latest, ptr(round4(p.Seconds())))
		} else {
			latest = append(latest, nil)
		}
	}
	return curve, latest
}

func runBoundary(ctx context.Context, a *actor) (any, []Check, error) {
	e, err := a.measuredEdges(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("not run: the window was not measured: %w", err)
	}
	iv := e.interval()
	curve, latest := boundaryFigures(iv)
	res := &BoundaryResult{PeriodS: int(iv.period / time.Second), RefusalProbabilityByLatencyS: map[string]float64{},
		LatestSafeReadS: map[string]*float64{}, RefusalCurve: curve,
		AcceptedFromS: round4(iv.from.Seconds()), AcceptedUntilS: round4(iv.until.Seconds())}
	for _, l := range TypingLatenciesS {
		res.RefusalProbabilityByLatencyS[strconv.Itoa(l)] = curve[l]
		res.LatestSafeReadS[strconv.Itoa(l)] = latest[l]
	}
	return res, boundaryChecks(res), nil
}

func boundaryChecks(b *BoundaryResult) []Check {
	pct := func(l string) string { return fmt.Sprintf("%s s %.1f%%", l, 100*b.RefusalProbabilityByLatencyS[l]) }
	detail := fmt.Sprintf("refused when typing takes %s, %s, %s, %s (from the measured edges %+.2f s and %+.2f s)",
		pct("2"), pct("5"), pct("10"), pct("20"), b.AcceptedFromS, b.AcceptedUntilS)
	if p := b.RefusalProbabilityByLatencyS["10"]; p > 0.05 {
		return []Check{{ID: "boundary.typing", Status: Warn,
			Detail: detail + ": over 5% of people taking 10 s to type are refused (RFC 6238 section 5.2: allow one step back for delay)"}}
	}
	return []Check{{ID: "boundary.typing", Status: Pass, Detail: detail}}
}
