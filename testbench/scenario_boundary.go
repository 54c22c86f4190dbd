package testbench

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// The boundary grid: the phase of the step at which a person reads the
// code, and the latency until the target judges it.
const (
	gridPhaseStep = 100 * time.Millisecond
	gridMaxLatS   = 30
)

// TypingLatenciesS are the typing latencies the report quotes.
var TypingLatenciesS = []int{2, 5, 10, 20}

// BoundaryResult is the 30 s boundary under typing latency: a person reads
// the code at phase p of its step (a correct clock) and the target judges
// it L seconds later. Phases run 0 to P-0.1 s by 0.1 s, latencies 0 to
// 30 s by 1 s; a person reads at a uniformly random phase.
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
	// The model the grid comes from: the window measured (true steps at
	// mid-step) and the server clock's offset modulo the period.
	WindowLo          int     `json:"window_lo"`
	WindowHi          int     `json:"window_hi"`
	ServerOffsetModS  float64 `json:"server_offset_mod_period_s"`
	ServerOffsetKnown bool    `json:"server_offset_known"` // false: assumed 0 (server-clock not run)
	// Samples are grid points checked by real submissions.
	Samples []BoundarySample `json:"samples"`
}

// BoundarySample is one grid point submitted to the target.
type BoundarySample struct {
	PhaseS    float64 `json:"phase_s"`
	LatencyS  float64 `json:"latency_s"`
	Predicted bool    `json:"predicted_accepted"`
	Accepted  bool    `json:"accepted"`
}

// boundaryAccepts is the grid's predicate: a code read at phase ph (of a
// step starting at a true instant that is a whole number of periods) and
// judged lat later.
func boundaryAccepts(f frame, ph, lat time.Duration) bool {
	t := time.Unix(0, 0).Add(ph)
	return f.accepts(f.stepAt(t, 0), t.Add(lat))
}

// boundaryGrid computes the refusal curve and latest safe reads of f.
func boundaryGrid(f frame) (curve []float64, latest []*float64) {
	n := int(f.period / gridPhaseStep)
	for l := 0; l <= gridMaxLatS; l++ {
		lat := time.Duration(l) * time.Second
		refused := 0
		var last *float64
		for i := range n {
			ph := time.Duration(i) * gridPhaseStep
			if boundaryAccepts(f, ph, lat) {
				last = ptr(ph.Seconds())
			} else {
				refused++
			}
		}
		curve = append(curve, float64(refused)/float64(n))
		latest = append(latest, last)
	}
	return curve, latest
}

// boundarySamples picks grid points to submit: for each typing latency,
// the two sides of every flip along the phase (in real time a margin away
// from it), at most max in all.
func boundarySamples(f frame, virtual bool, max int) [][2]time.Duration {
	n := int(f.period / gridPhaseStep)
	margin := 0
	if !virtual {
		margin = 10 // 1 s: the round trip and the truth's error
	}
	var out [][2]time.Duration
	add := func(i, l int) {
		if i < 0 || i >= n || len(out) >= max {
			return
		}
		s := [2]time.Duration{time.Duration(i) * gridPhaseStep, time.Duration(l) * time.Second}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, l := range TypingLatenciesS {
		lat := time.Duration(l) * time.Second
		flips := 0
		for i := 1; i < n; i++ {
			if boundaryAccepts(f, time.Duration(i-1)*gridPhaseStep, lat) != boundaryAccepts(f, time.Duration(i)*gridPhaseStep, lat) {
				add(i-1-margin, l)
				add(i+margin, l)
				flips++
			}
		}
		if flips == 0 {
			add(n/2, l) // all accepted or all refused: one point says which
		}
	}
	return out
}

// boundary computes the grid from the measured window (and the server
// clock, when measured), then checks sample points by submitting codes at
// the chosen instants: each sample on its own enrollment, read in the same
// step and judged in the order of their instants, so the whole check
// takes about two periods of (real or virtual) time.
func (r *runner) boundary(ctx context.Context) (*BoundaryResult, []Check, error) {
	p := r.p
	f := r.frame()
	curve, latest := boundaryGrid(f)
	res := &BoundaryResult{PeriodS: int(p.period / time.Second), RefusalProbabilityByLatencyS: map[string]float64{},
		LatestSafeReadS: map[string]*float64{}, RefusalCurve: curve, WindowLo: f.lo, WindowHi: f.hi,
		ServerOffsetModS: f.r.Seconds(), ServerOffsetKnown: f.rKnown, Samples: []BoundarySample{}}
	for _, l := range TypingLatenciesS {
		res.RefusalProbabilityByLatencyS[strconv.Itoa(l)] = curve[l]
		res.LatestSafeReadS[strconv.Itoa(l)] = latest[l]
	}
	samples := boundarySamples(f, p.tm.Virtual(), 10)
	devs := make([]*device, len(samples))
	var hiStep int64 = -1 << 62
	for i := range samples {
		d, err := p.spareDevice(ctx, fmt.Sprintf("boundary-%d", i))
		if err != nil {
			return nil, nil, err
		}
		devs[i] = d
		hiStep = max(hiStep, p.dirtyUpTo(d))
	}
	// Read every code in step n: after every step consumed on the devices,
	// and starting after now (a margin in real time).
	n := max(hiStep+1, p.stepAt(p.tm.Now().Add(time.Second))+1)
	start := time.Unix(0, 0).Add(time.Duration(n) * p.period)
	order := make([]int, len(samples))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return int((samples[a][0] + samples[a][1]) - (samples[b][0] + samples[b][1]))
	})
	res.Samples = make([]BoundarySample, len(samples))
	disagree := 0
	for _, i := range order {
		ph, lat := samples[i][0], samples[i][1]
		at := start.Add(ph + lat)
		t, err := p.submitAt(ctx, devs[i], at, "a boundary sample's moment", func(time.Time) int64 { return n })
		if err != nil {
			return nil, nil, err
		}
		want := boundaryAccepts(f, ph, lat)
		got := t.v.Outcome == Accepted
		res.Samples[i] = BoundarySample{PhaseS: ph.Seconds(), LatencyS: lat.Seconds(), Predicted: want, Accepted: got}
		if got != want {
			disagree++
		}
	}
	return res, boundaryChecks(res, disagree), nil
}

// dirtyUpTo is the highest step a refusal on d could be blamed on replay
// for: its bind's and its last accepted step. A code of a later step was
// never used there and is after every step consumed, under any replay rule.
func (p *prober) dirtyUpTo(d *device) int64 {
	hi := int64(-1 << 62)
	if d.hasBind {
		hi = max(hi, d.bindHi)
	}
	if d.hasVerify {
		hi = max(hi, d.verifyHi)
	}
	return hi
}

// stepAt is the true step of instant t.
func (p *prober) stepAt(t time.Time) int64 { return floorDiv(t.UnixNano(), int64(p.period)) }

func boundaryChecks(b *BoundaryResult, disagree int) []Check {
	pct := func(l string) string { return fmt.Sprintf("%s s %.1f%%", l, 100*b.RefusalProbabilityByLatencyS[l]) }
	detail := fmt.Sprintf("refused when typing takes %s, %s, %s, %s", pct("2"), pct("5"), pct("10"), pct("20"))
	var cs []Check
	if p := b.RefusalProbabilityByLatencyS["10"]; p > 0.05 {
		cs = append(cs, Check{ID: "boundary.typing", Status: Warn,
			Detail: detail + ": over 5% of people taking 10 s to type are refused (RFC 6238 section 5.2: allow one step back for delay)"})
	} else {
		cs = append(cs, Check{ID: "boundary.typing", Status: Pass, Detail: detail})
	}
	n := len(b.Samples)
	switch {
	case disagree == 0:
		cs = append(cs, Check{ID: "boundary.measured", Status: Pass,
			Detail: fmt.Sprintf("%d grid points submitted at their instants, each answered as predicted", n)})
	case !b.ServerOffsetKnown:
		cs = append(cs, Check{ID: "boundary.measured", Status: Warn,
			Detail: fmt.Sprintf("%d of %d grid points answered otherwise than predicted: the server's clock is probably off by a fraction of a step (run server-clock)", disagree, n)})
	default:
		cs = append(cs, Check{ID: "boundary.measured", Status: Warn,
			Detail: fmt.Sprintf("%d of %d grid points answered otherwise than predicted from the window and the server's clock", disagree, n)})
	}
	return cs
}
