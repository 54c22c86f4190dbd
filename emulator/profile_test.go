package emulator

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/totpemu/totpemu/clock"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestProfilesAreValidAndFindable(t *testing.T) {
	ps := Profiles()
	if len(ps) != 4 {
		t.Errorf("Profiles() has %d profiles, want phone, gauth-android, phone-manual, token", len(ps))
	}
	for _, p := range ps {
		if err := p.Validate(); err != nil {
			t.Errorf("profile %s: Validate: %v", p.Name, err)
		}
		if p.Summary == "" {
			t.Errorf("profile %s has no summary", p.Name)
		}
		q, err := ProfileByName(p.Name)
		if err != nil || q.Name != p.Name {
			t.Errorf("ProfileByName(%q) = %v, %v", p.Name, q.Name, err)
		}
	}
	ps[0].Name = "changed"
	if p, err := ProfileByName(DefaultProfile); err != nil || p.Name != DefaultProfile {
		t.Errorf("ProfileByName(%q) after changing the returned slice = %v, %v", DefaultProfile, p.Name, err)
	}
	if _, err := ProfileByName("iphone"); err == nil {
		t.Error(`ProfileByName("iphone"): no error`)
	}
}

func TestProfileValidateRefuses(t *testing.T) {
	phone, _ := ProfileByName("phone")
	token, _ := ProfileByName("token")
	tests := []struct {
		name string
		p    Profile
	}{
		{"phone drift 5 ppm", func() Profile { p := phone; p.DriftPPM = 5; return p }()},
		{"token drift NaN", func() Profile { p := token; p.DriftPPM = math.NaN(); return p }()},
		{"token drift 1e5 ppm", func() Profile { p := token; p.DriftPPM = 1e5; return p }()},
		{"token resolution -1s", func() Profile { p := token; p.Resolution = -time.Second; return p }()},
		{"token resolution 2h", func() Profile { p := token; p.Resolution = 2 * time.Hour; return p }()},
		{"token offset 100 years", func() Profile { p := token; p.Offset = 100 * 365 * 24 * time.Hour; return p }()},
		{"sync bogus", Profile{Name: "x", Sync: "bogus"}},
		{"sync empty", Profile{Name: "x"}},
	}
	for _, tt := range tests {
		if err := tt.p.Validate(); err == nil {
			t.Errorf("%s: Validate(%+v): no error", tt.name, tt.p)
		}
		if _, err := NewDevice(tt.p, nil, nil); err == nil {
			t.Errorf("%s: NewDevice: no error", tt.name)
		}
	}
}

func TestPhoneFollowsTruth(t *testing.T) {
	truth := clock.NewManual(t0.Add(400 * time.Millisecond))
	local := clock.NewManual(t0.Add(-7 * time.Minute)) // the machine's clock is wrong; NTP is not
	p, _ := ProfileByName("phone")
	c := p.Clock(local, truth)
	for _, adv := range []time.Duration{0, time.Hour, 90 * 24 * time.Hour} {
		truth.Advance(adv)
		if got, want := c.Now(), truth.Now(); !got.Equal(want) {
			t.Errorf("phone after %v: clock %v, truth %v", adv, got, want)
		}
	}
}

func TestPhoneManualOffset(t *testing.T) {
	truth := clock.NewManual(t0)
	p, _ := ProfileByName("phone-manual")
	for _, off := range []time.Duration{0, 40 * time.Second, -95 * time.Second} {
		p.Offset = off
		c := p.Clock(nil, truth)
		truth.Advance(30 * 24 * time.Hour)
		if got := c.Now().Sub(truth.Now()); got != off {
			t.Errorf("phone-manual offset %v: error after 30 days %v, want %v", off, got, off)
		}
	}
}

// TestTokenDrift simulates a token for days of virtual time: its error is
// 20 ppm of the elapsed time, within its 1 s resolution.
func TestTokenDrift(t *testing.T) {
	for _, tt := range []struct {
		ppm  float64
		days int
	}{{20, 1}, {20, 30}, {20, 90}, {20, 365}, {-20, 90}, {50, 7}} {
		t.Run(fmt.Sprintf("ppm=%v/days=%d", tt.ppm, tt.days), func(t *testing.T) {
			truth := clock.NewManual(t0.Add(123 * time.Millisecond))
			p, _ := ProfileByName("token")
			p.DriftPPM = tt.ppm
			c := p.Clock(nil, truth)
			elapsed := time.Duration(tt.days) * 24 * time.Hour
			truth.Advance(elapsed)
			want := time.Duration(float64(elapsed) * tt.ppm / 1e6)
			got := c.Now().Sub(truth.Now())
			if diff := got - want; diff <= -time.Second || diff > time.Second {
				t.Errorf("token at %v ppm after %d days: error %v, want %v (within the 1 s resolution)", tt.ppm, tt.days, got, want)
			}
			if c.Now().Nanosecond() != 0 {
				t.Errorf("token reading %v is not whole seconds", c.Now())
			}
		})
	}
	// 20 ppm for 90 days is 155.52 s: enough to leave a ±1 step window.
	truth := clock.NewManual(t0)
	p, _ := ProfileByName("token")
	c := p.Clock(nil, truth)
	truth.Advance(90 * 24 * time.Hour)
	if got := c.Now().Sub(truth.Now()); got != 155*time.Second {
		t.Errorf("token after 90 days: error %v, want 155s (155.52 s truncated by the 1 s RTC)", got)
	}
}

func TestTokenSince(t *testing.T) {
	truth := clock.NewManual(t0)
	p, _ := ProfileByName("token")
	p.Since = t0.Add(-10 * 24 * time.Hour) // programmed ten days ago
	c := p.Clock(nil, truth)
	if got, want := c.Now().Sub(truth.Now()), 17*time.Second; got != want { // 17.28 s truncated
		t.Errorf("token programmed 10 days ago: error %v, want %v", got, want)
	}
}

// TestGAuthAndroidRounding checks the error Google Authenticator's
// minute-rounded time correction leaves, for phones whose own clock is off
// by various amounts. Truth stands 0.4 s into a second: the Date header
// drops those 0.4 s.
func TestGAuthAndroidRounding(t *testing.T) {
	tests := []struct {
		phone time.Duration // the phone's own clock error
		left  time.Duration // error after correction
	}{
		{0, 0},
		{29 * time.Second, 29 * time.Second},                   // -29.4 s rounds to 0 min
		{-29 * time.Second, -29 * time.Second},                 // +28.6 s rounds to 0 min
		{31 * time.Second, -29 * time.Second},                  // -31.4 s rounds to -1 min
		{89 * time.Second, 29 * time.Second},                   // -89.4 s rounds to -1 min
		{91 * time.Second, -29 * time.Second},                  // -91.4 s rounds to -2 min
		{-45 * time.Second, 15 * time.Second},                  // +44.6 s rounds to +1 min
		{-30 * time.Second, -30 * time.Second},                 // +29.6 s rounds to 0 min
		{30 * time.Second, -30 * time.Second},                  // -30.4 s rounds to -1 min
		{3 * time.Hour, 0},                                     // whole hours correct exactly
		{-(7*time.Minute + 10*time.Second), -10 * time.Second}, // +7m9.6s rounds to 7 min
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("phone%+v", tt.phone), func(t *testing.T) {
			truth := clock.NewManual(t0.Add(400 * time.Millisecond))
			local := clock.NewManual(t0.Add(400 * time.Millisecond))
			p, _ := ProfileByName("gauth-android")
			p.Offset = tt.phone
			c := p.Clock(local, truth)
			// Both clocks run on; the correction stays what it was.
			truth.Advance(time.Hour)
			local.Advance(time.Hour)
			if got := c.Now().Sub(truth.Now()); got != tt.left {
				t.Errorf("gauth-android, phone off by %v: error after correction %v, want %v", tt.phone, got, tt.left)
			}
		})
	}
}

func TestMinuteCorrectionHalvesRoundUp(t *testing.T) {
	for _, tt := range []struct {
		d, want time.Duration
	}{
		{30 * time.Second, time.Minute},
		{-30 * time.Second, 0},
		{90 * time.Second, 2 * time.Minute},
		{-90 * time.Second, -time.Minute},
		{-29999 * time.Millisecond, 0}, // truncation of truth to the second makes -29.999 s -> -30 s
	} {
		phone := t0
		truth := t0.Add(tt.d)
		if got := MinuteCorrection(truth, phone); got != tt.want {
			t.Errorf("MinuteCorrection(truth = phone %+v) = %v, want %v", tt.d, got, tt.want)
		}
	}
}
