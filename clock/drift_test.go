package clock

import (
	"math"
	"testing"
	"time"
)

var programmed = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestDriftAccumulatesFromSince(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		name    string
		ppm     float64
		elapsed time.Duration
		want    time.Duration
	}{
		{"20ppm_30days", 20, 30 * day, 51840 * time.Millisecond},
		{"20ppm_90days", 20, 90 * day, 155520 * time.Millisecond},
		{"20ppm_365days", 20, 365 * day, 630720 * time.Millisecond},
		{"-20ppm_30days", -20, 30 * day, -51840 * time.Millisecond},
		{"-20ppm_365days", -20, 365 * day, -630720 * time.Millisecond},
		{"20ppm_-1day_before_since", 20, -day, -1728 * time.Millisecond},
		{"0.5ppm_1s", 0.5, time.Second, 500 * time.Nanosecond},
		{"20ppm_0", 20, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := NewManual(programmed)
			d := Drift{Base: base, PPM: tc.ppm, Since: programmed}
			at := base.Advance(tc.elapsed)
			if got := d.Now().Sub(at); got != tc.want {
				t.Errorf("Drift{PPM: %v}.Now() after %v: offset %v, want %v", tc.ppm, tc.elapsed, got, tc.want)
			}
			if got := d.Error(at); got != tc.want {
				t.Errorf("Drift{PPM: %v}.Error after %v = %v, want %v", tc.ppm, tc.elapsed, got, tc.want)
			}
		})
	}
}

func TestDriftResolutionTruncates(t *testing.T) {
	// 30 days at 20 ppm is 51.84 s; a 1 s RTC shows whole seconds.
	base := NewManual(programmed)
	d := Drift{Base: base, PPM: 20, Since: programmed, Resolution: time.Second}
	at := base.Advance(30*24*time.Hour + 300*time.Millisecond)
	got := d.Now()
	want := at.Add(51840 * time.Millisecond).Truncate(time.Second)
	if !got.Equal(want) {
		t.Errorf("Now() = %v, want %v", got, want)
	}
	if got.Nanosecond() != 0 {
		t.Errorf("Now() = %v has sub-second part with 1s resolution", got)
	}
	if off := got.Sub(at); off > 51840*time.Millisecond || off <= 51840*time.Millisecond-time.Second {
		t.Errorf("offset %v not within one resolution below 51.84s", off)
	}
}

func TestDriftZeroValue(t *testing.T) {
	// No Since: PPM alone accumulates nothing; nil Base reads the system clock.
	base := NewManual(programmed.Add(1000 * time.Hour))
	if got := (Drift{Base: base, PPM: 20}).Now(); !got.Equal(base.Now()) {
		t.Errorf("Drift without Since: Now() = %v, want base %v", got, base.Now())
	}
	var d Drift
	before := time.Now()
	got := d.Now()
	after := time.Now()
	if got.Before(before) || got.After(after) {
		t.Errorf("zero Drift.Now() = %v, not within [%v, %v]", got, before, after)
	}
}

func TestDriftNaNPPMIsNoDrift(t *testing.T) {
	base := NewManual(programmed.Add(time.Hour))
	d := Drift{Base: base, PPM: math.NaN(), Since: programmed}
	if got := d.Now(); !got.Equal(base.Now()) {
		t.Errorf("PPM NaN: Now() = %v, want %v", got, base.Now())
	}
	d.PPM = math.Inf(1)
	if got := d.Error(base.Now()); got != math.MaxInt64 {
		t.Errorf("PPM +Inf: Error = %v, want saturated", got)
	}
}

func TestDriftJitterRepeatableAndBounded(t *testing.T) {
	const jitter = 50 * time.Millisecond
	base := NewManual(programmed)
	a := Drift{Base: base, Since: programmed, JitterSeed: 42, Jitter: jitter}
	b := a
	other := a
	other.JitterSeed = 43
	var differs, nonzero int
	for i := range 200 {
		at := programmed.Add(time.Duration(i) * 1500 * time.Millisecond)
		base.Set(at)
		ja, jb, jo := a.Now().Sub(at), b.Now().Sub(at), other.Now().Sub(at)
		if ja != jb {
			t.Fatalf("seed 42 at step %d: %v then %v, want repeatable", i, ja, jb)
		}
		if ja < -jitter || ja > jitter {
			t.Fatalf("seed 42 at step %d: jitter %v outside ±%v", i, ja, jitter)
		}
		if ja != jo {
			differs++
		}
		if ja != 0 {
			nonzero++
		}
		// Within one 1 s bucket the jitter is the same.
		if again := a.Now().Sub(at); again != ja {
			t.Fatalf("seed 42 at step %d: second reading %v, first %v", i, again, ja)
		}
	}
	if differs < 190 {
		t.Errorf("seeds 42 and 43 gave the same jitter at %d of 200 steps, want nearly all different", 200-differs)
	}
	if nonzero < 190 {
		t.Errorf("jitter was zero at %d of 200 steps", 200-nonzero)
	}
}

func TestDriftJitterBeforeEpoch(t *testing.T) {
	// Bucketing rounds down, so -0.5 s and -0.9 s share a bucket and -1.5 s does not.
	base := NewManual(time.Unix(0, -500_000_000))
	d := Drift{Base: base, JitterSeed: 7, Jitter: time.Second}
	j1 := d.Now().Sub(base.Now())
	base.Set(time.Unix(0, -900_000_000))
	j2 := d.Now().Sub(base.Now())
	if j1 != j2 {
		t.Errorf("-0.5s and -0.9s: jitter %v and %v, want the same bucket", j1, j2)
	}
}
