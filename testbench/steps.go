package testbench

import "time"

// Step and phase arithmetic, in one place. A step of period P starts at a
// whole multiple of P since the Unix epoch; the step of instant t is
// floor(t / P), negative instants included.

// floorDiv is floor(a / b) for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// ceilDiv is ceil(a / b) for b > 0.
func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// stepOf is the step of instant t.
func stepOf(t time.Time, p time.Duration) int64 { return floorDiv(t.UnixNano(), int64(p)) }

// stepStart is the instant step n starts.
func stepStart(n int64, p time.Duration) time.Time { return time.Unix(0, n*int64(p)) }

// phaseOf is how far into its step instant t is, in [0, P).
func phaseOf(t time.Time, p time.Duration) time.Duration {
	return time.Duration(t.UnixNano() - floorDiv(t.UnixNano(), int64(p))*int64(p))
}

// sinceStep is t measured from the start of step n: the "x" of
// MEASURING.md, where the code of step n is accepted while x is in
// [from, until).
func sinceStep(t time.Time, n int64, p time.Duration) time.Duration {
	return t.Sub(stepStart(n, p))
}

// firstStepAtOrAfter is the smallest step n >= min whose instant
// stepStart(n) + x is at or after t.
func firstStepAtOrAfter(t time.Time, x time.Duration, p time.Duration, min int64) int64 {
	n := ceilDiv(t.Add(-x).UnixNano(), int64(p))
	return max(n, min)
}

// mod is a modulo b in [0, b).
func mod(a, b time.Duration) time.Duration {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}

// wrap is a modulo b in [-b/2, b/2).
func wrap(a, b time.Duration) time.Duration { return mod(a+b/2, b) - b/2 }
