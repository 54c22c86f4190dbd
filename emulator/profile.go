package emulator

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/totpemu/totpemu/clock"
)

// Sync is how a device sets its clock.
type Sync string

// The ways a device keeps time.
const (
	// SyncNTP: the device follows true time (a phone synced over NTP or by
	// its network). Drift cannot accumulate, so DriftPPM must be 0.
	SyncNTP Sync = "ntp"

	// SyncMinuteCorrection: Google Authenticator for Android's "time
	// correction for codes". The app reads the true time from an HTTP Date
	// header (whole seconds), computes the offset to the phone's own clock
	// and stores it rounded to whole minutes (Java's Math.round: halves
	// round up), so up to 30 s of the phone's error remain. See
	// MinuteCorrection.
	SyncMinuteCorrection Sync = "minute-correction"

	// SyncNone: set once (by hand, or when a token was programmed) and
	// never again; any drift accumulates.
	SyncNone Sync = "none"
)

// Limits on profile overrides.
const (
	MaxDriftPPM   = 10000     // 1 %: far beyond any crystal
	MaxResolution = time.Hour // coarsest clock resolution
	MaxOffset     = 50 * 365 * 24 * time.Hour
)

// Profile describes how a device keeps time. The values in Profiles are
// documented models of real devices; Offset, DriftPPM, Resolution and
// Since may be overridden (from command-line flags) before calling Clock.
type Profile struct {
	Name    string // e.g. "token"
	Summary string // one line for help text
	Sync    Sync   // how the clock is set

	// Offset is the device clock's error when it was set. For SyncNTP and
	// SyncNone it is relative to the truth clock (a phone set 40 s fast by
	// hand: 40s). For SyncMinuteCorrection it is the error of the phone's
	// own clock relative to the local clock, before the app corrects it.
	Offset time.Duration

	// DriftPPM is the rate error in parts per million from Since: positive
	// runs fast. 20 ppm is about 1.7 s a day, 52 s a month.
	DriftPPM float64

	// Resolution truncates every reading (a token's 1 s real-time clock);
	// 0 means none.
	Resolution time.Duration

	// Since is when the clock was set (a token programmed, a phone set by
	// hand): drift accumulates from here. The zero value means the moment
	// Clock is called.
	Since time.Time
}

var profiles = []Profile{
	{Name: "phone", Summary: "phone synced over NTP: the device clock is the true clock", Sync: SyncNTP},
	{Name: "gauth-android", Summary: "Google Authenticator on Android: time correction from an HTTP Date header, rounded to whole minutes (up to 30 s error left)", Sync: SyncMinuteCorrection},
	{Name: "phone-manual", Summary: "phone whose clock was set by hand: a fixed offset (--offset) from the true time", Sync: SyncNone},
	{Name: "token", Summary: "hardware token: never synced, 20 ppm drift since it was programmed, 1 s real-time clock", Sync: SyncNone, DriftPPM: 20, Resolution: time.Second},
}

// DefaultProfile is the name of the profile used when none is chosen.
const DefaultProfile = "phone"

// Profiles returns the built-in profiles, in a fresh slice.
func Profiles() []Profile { return append([]Profile(nil), profiles...) }

// ProfileByName returns the built-in profile with the given name.
func ProfileByName(name string) (Profile, error) {
	for _, p := range profiles {
		if p.Name == name {
			return p, nil
		}
	}
	names := make([]string, len(profiles))
	for i, p := range profiles {
		names[i] = p.Name
	}
	if len(name) > 64 {
		name = name[:64] + "..."
	}
	return Profile{}, fmt.Errorf("unknown profile %q: want one of %s", name, strings.Join(names, ", "))
}

// Validate reports whether the profile's fields are usable.
func (p Profile) Validate() error {
	name := p.Name
	if name == "" {
		name = "(unnamed)"
	}
	switch p.Sync {
	case SyncNTP, SyncMinuteCorrection, SyncNone:
	default:
		return fmt.Errorf("profile %s: unknown sync %q", name, p.Sync)
	}
	switch {
	case math.IsNaN(p.DriftPPM) || math.Abs(p.DriftPPM) > MaxDriftPPM:
		return fmt.Errorf("profile %s: drift %v ppm out of range -%d..%d", name, p.DriftPPM, MaxDriftPPM, MaxDriftPPM)
	case p.Sync == SyncNTP && p.DriftPPM != 0:
		return fmt.Errorf("profile %s: the clock is synced over NTP, so drift (%v ppm) cannot accumulate; use a profile that is not synced (phone-manual, token)", name, p.DriftPPM)
	case p.Resolution < 0 || p.Resolution > MaxResolution:
		return fmt.Errorf("profile %s: resolution %v out of range 0..%v", name, p.Resolution, MaxResolution)
	case p.Offset < -MaxOffset || p.Offset > MaxOffset:
		return fmt.Errorf("profile %s: offset %v out of range ±%v", name, p.Offset, MaxOffset)
	}
	return nil
}

// Clock builds the device's clock from the local clock (the machine's, or
// the phone's own before any correction) and the truth clock (NTP, or
// virtual time). A nil clock means clock.System. The profile should be
// valid (see Validate); out-of-range values are used as given.
//
//   - SyncNTP: truth + Offset.
//   - SyncMinuteCorrection: the phone's clock is local + Offset; at this
//     call the app reads truth, and from then on shows that clock plus
//     MinuteCorrection(truth, phone clock).
//   - SyncNone: truth + Offset, set at Since.
//
// Then, when DriftPPM or Resolution is set, the clock drifts by DriftPPM
// from Since and is truncated to Resolution (clock.Drift).
func (p Profile) Clock(local, truth clock.Clock) clock.Clock {
	if local == nil {
		local = clock.System{}
	}
	if truth == nil {
		truth = clock.System{}
	}
	var c clock.Clock
	switch p.Sync {
	case SyncMinuteCorrection:
		phone := clock.Offset{Base: local, Offset: p.Offset}
		c = clock.Offset{Base: phone, Offset: MinuteCorrection(truth.Now(), phone.Now())}
	default:
		c = clock.Offset{Base: truth, Offset: p.Offset}
	}
	if p.DriftPPM == 0 && p.Resolution <= 0 {
		return c
	}
	since := p.Since
	if since.IsZero() {
		since = c.Now()
	}
	return clock.Drift{Base: c, PPM: p.DriftPPM, Since: since, Resolution: p.Resolution}
}

// MinuteCorrection is Google Authenticator for Android's time correction:
// the offset from the phone's clock to the true time as an HTTP Date header
// gives it (truncated to the second), rounded to whole minutes with halves
// rounded up (Java's Math.round).
func MinuteCorrection(truth, phone time.Time) time.Duration {
	d := truth.Truncate(time.Second).Sub(phone)
	// floor((d + 30 s) / 60 s), with floor division for negative values.
	n := d + 30*time.Second
	m := n / time.Minute
	if n%time.Minute < 0 {
		m--
	}
	return m * time.Minute
}

// errNoAccounts is returned by lookups on an empty device or state.
var errNoAccounts = errors.New("no accounts: enroll one first")
