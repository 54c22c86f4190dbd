package clock

import (
	"math"
	"time"
)

// Drift is a clock that runs fast or slow: a hardware token whose crystal
// is off by some parts per million, counted from the instant it was
// programmed. Its zero value is the System clock with no drift.
//
// Now is
//
//	Base.Now() + (Base.Now() - Since) * PPM / 1e6 + jitter
//
// truncated to Resolution. Drift is a value: it keeps no state, so the same
// base time always gives the same reading, and it is safe for concurrent use.
type Drift struct {
	// Base is the true time the drifting clock is measured against; nil
	// means System.
	Base Clock

	// PPM is the rate error in parts per million: positive runs fast,
	// negative runs slow. A typical token crystal is within 20 ppm
	// (about 52 s a month).
	PPM float64

	// Since is the reference instant at which the clock was exactly right
	// (when the token was programmed). Drift accumulates from here, and
	// before it the clock is behind by the same rate. The zero value means
	// no reference instant: no drift accumulates and PPM has no effect.
	Since time.Time

	// Resolution truncates every reading to a multiple of it, as a token's
	// 1 s real-time clock does. Zero or negative means no truncation.
	Resolution time.Duration

	// JitterSeed seeds the jitter; the same seed gives the same jitter at
	// the same base time.
	JitterSeed int64

	// Jitter is the largest jitter added to a reading: each reading gets a
	// value in [-Jitter, +Jitter] drawn deterministically from JitterSeed
	// and the base time's bucket (Resolution wide, or 1 s when there is no
	// resolution), so readings within one bucket share their jitter. Zero
	// or negative means none.
	Jitter time.Duration
}

// Now returns the drifting clock's time.
func (d Drift) Now() time.Time {
	base := d.Base
	if base == nil {
		base = System{}
	}
	t := base.Now()
	out := t.Add(d.Error(t))
	if d.Jitter > 0 {
		out = out.Add(d.jitter(t))
	}
	if d.Resolution > 0 {
		out = out.Truncate(d.Resolution)
	}
	return out
}

// Error returns the accumulated rate error at base time t, without jitter
// or truncation: (t - Since) * PPM / 1e6, rounded to the nanosecond.
func (d Drift) Error(t time.Time) time.Duration {
	if d.Since.IsZero() || d.PPM == 0 {
		return 0
	}
	elapsed := t.Sub(d.Since)
	// Split whole seconds from the rest so a year of nanoseconds keeps its
	// precision in the float64 product.
	sec := elapsed / time.Second
	rest := elapsed % time.Second
	var ns float64
	if sec != 0 {
		ns = float64(sec) * d.PPM * 1e3
	}
	if rest != 0 {
		ns += float64(rest) * d.PPM / 1e6
	}
	if math.IsNaN(ns) {
		return 0
	}
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	if ns <= math.MinInt64 {
		return math.MinInt64
	}
	return time.Duration(math.Round(ns))
}

// jitter returns the deterministic jitter for base time t.
func (d Drift) jitter(t time.Time) time.Duration {
	width := d.Resolution
	if width <= 0 {
		width = time.Second
	}
	j := min(d.Jitter, time.Duration(1<<61))
	h := splitmix64(uint64(d.JitterSeed) ^ splitmix64(uint64(bucketIndex(t, width))))
	// Map the hash onto [-j, +j].
	span := uint64(j)*2 + 1
	return time.Duration(h%span) - j
}

// bucketIndex returns the index of the bucket of width w (> 0) holding t,
// rounding towards minus infinity so times before 1970 bucket correctly.
func bucketIndex(t time.Time, w time.Duration) int64 {
	if w%time.Second == 0 {
		ws := int64(w / time.Second)
		return floorDiv(t.Unix(), ws)
	}
	return floorDiv(t.UnixNano(), int64(w))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// splitmix64 is a small, well-mixed hash (the SplitMix64 finaliser).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
