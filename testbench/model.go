package testbench

import (
	"math"
	"time"
)

// interval is the one model of what a server accepts (MEASURING.md): the
// code of true step n is accepted while the true time t is in
// [nP + from, nP + until), and refused outside. from and until are the
// two edges the bench measures; every figure of the report derives from
// them here.
type interval struct {
	from, until time.Duration
	period      time.Duration
}

// acceptsX reports whether a code is accepted x after its own step began.
func (iv interval) acceptsX(x time.Duration) bool { return x >= iv.from && x < iv.until }

// accepts reports whether the code of step n is accepted at true instant t.
func (iv interval) accepts(n int64, t time.Time) bool {
	return iv.acceptsX(sinceStep(t, n, iv.period))
}

func secondsOf(d time.Duration) float64 { return d.Seconds() }

// alwaysSkew is the range of device clock errors d (seconds, inclusive)
// whose codes are accepted at every phase: [P - until, -from]. It is empty
// (lo > hi) when the interval is shorter than a step.
func (iv interval) alwaysSkew() [2]float64 {
	return [2]float64{secondsOf(iv.period - iv.until), secondsOf(-iv.from)}
}

// sometimesSkew is the open range of device clock errors accepted at some
// phases: (-until, P - from).
func (iv interval) sometimesSkew() [2]float64 {
	return [2]float64{secondsOf(-iv.until), secondsOf(iv.period - iv.from)}
}

// acceptedFraction is the share of phases at which a device whose clock
// is off by d has its code accepted: the device shows the code of step
// floor((t+d)/P), so with t+d = nP + u, u uniform in [0, P), the code is
// judged at x = u - d.
func (iv interval) acceptedFraction(d time.Duration) float64 {
	return overlap(iv.from+d, iv.until+d, 0, iv.period) / secondsOf(iv.period)
}

// overlap is the length in seconds of [a, b) ∩ [c, e).
func overlap(a, b, c, e time.Duration) float64 {
	return math.Max(0, secondsOf(min(b, e)-max(a, c)))
}

// trueSteps are the steps of true time accepted at every phase of the
// true step: the code of step s+k is accepted throughout step s when
// kP + from <= 0 and (1-k)P <= until. An edge within tol of a step edge
// (the measurement's uncertainty) counts as on it.
func (iv interval) trueSteps(tol time.Duration) (back, forward int) {
	P := int64(iv.period)
	return int(floorDiv(int64(iv.until+tol), P)) - 1, int(floorDiv(int64(-iv.from+tol), P))
}

// serverSteps are the window in the server's own steps given the
// server's clock offset theta (server minus truth): a step window [-b,
// +f] has from = -fP - theta and until = (b+1)P - theta. Where they are
// not whole numbers the window is in seconds.
func (iv interval) serverSteps(theta time.Duration) (back, forward float64) {
	P := secondsOf(iv.period)
	return secondsOf(iv.until+theta)/P - 1, -secondsOf(iv.from+theta) / P
}

// refusal is the chance that a code read at a uniformly random phase p of
// its step (a correct clock) and judged lat later is refused: it is
// accepted when p + lat is in [from, until).
func (iv interval) refusal(lat time.Duration) float64 {
	return 1 - overlap(iv.from-lat, iv.until-lat, 0, iv.period)/secondsOf(iv.period)
}

// boundaryPhaseStep is the grid of the latest safe moment to read a code.
const boundaryPhaseStep = 100 * time.Millisecond

// latestSafeRead is the latest phase on a 0.1 s grid at which a code read
// and judged lat later is still accepted; ok is false when none is.
func (iv interval) latestSafeRead(lat time.Duration) (time.Duration, bool) {
	lo, hi := max(0, iv.from-lat), min(iv.period, iv.until-lat) // accepted for p in [lo, hi)
	if hi <= lo {
		return 0, false
	}
	p := time.Duration(ceilDiv(int64(hi), int64(boundaryPhaseStep))-1) * boundaryPhaseStep
	if p < lo {
		return 0, false
	}
	return p, true
}

// firstRefusedDay is the first day in 1..maxDays on which a token drifting
// ppm, used once a day at the worst moment of a step, is refused by a
// server that does not track drift because of its drift: a fast token's
// code is refused when read as soon as it shows (x = -offset < from), a
// slow one's when read just before it changes (x = P - offset >= until).
// (A server that refuses a correct clock's code late in its step refuses
// it from day 0: window.current-step says so, not the drift.) nil when
// none is within maxDays.
func (iv interval) firstRefusedDay(ppm float64, maxDays int) *int {
	for d := 1; d <= maxDays; d++ {
		off := driftOffset(ppm, d)
		if (ppm > 0 && -off < iv.from) || (ppm < 0 && iv.period-off >= iv.until) {
			return ptr(d)
		}
	}
	return nil
}

// driftOffset is how far a token drifting ppm is off after d days.
func driftOffset(ppm float64, d int) time.Duration {
	return time.Duration(float64(d) * float64(day) * ppm / 1e6)
}
