package main

import (
	"context"
	"time"

	"github.com/spf13/pflag"
	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/emulator"
)

// timeFlags are the flags that decide what time the virtual device reads:
// shared by code and enroll.
type timeFlags struct {
	at       string
	offset   time.Duration
	profile  string
	ntp      string
	driftPPM float64
	since    string
}

func (tf *timeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&tf.at, "at", "", "")
	fs.DurationVar(&tf.offset, "offset", 0, "")
	fs.StringVar(&tf.profile, "profile", "phone", "")
	fs.StringVar(&tf.ntp, "ntp", "", "")
	fs.Float64Var(&tf.driftPPM, "drift-ppm", 0, "")
	fs.StringVar(&tf.since, "since", "", "")
}

// timeFlagsUsage documents register's flags for a command's usage text.
const timeFlagsUsage = `  --at TIME              the time to compute for; default now. TIME is Unix
                         seconds (59, 1111111109.5), RFC 3339
                         (2026-01-02T15:04:05Z), a date (2026-01-02, midnight
                         UTC), now, or now+30s / now-90s
  --offset DURATION      the device clock's error, e.g. -45s or 2m (sets the
                         profile's offset)
  --profile NAME         how the device keeps time (default phone):
                           phone          synced: reads the true time
                           gauth-android  Google Authenticator on Android: its time
                                          correction rounds to whole minutes
                           phone-manual   clock set by hand: a fixed --offset
                           token          hardware token: 20 ppm drift since --since,
                                          1 s clock resolution
  --ntp SERVER[,SERVER]  take the true time from these NTP servers instead of
                         trusting the system clock
  --drift-ppm PPM        the device clock's rate error in ppm (token: 20)
  --since TIME           when the device clock was set or the token programmed
                         (drift accumulates from here), as --at; default now
`

// device builds the virtual device from the flags: the local clock (or
// --at), the truth (NTP when --ntp is given), the profile and the account.
func (tf *timeFlags) device(ctx context.Context, e *env, fs *pflag.FlagSet, acct *emulator.Account) (*emulator.Device, error) {
	local, truth, p, err := tf.clocks(ctx, e, fs)
	if err != nil {
		return nil, err
	}
	dev, err := emulator.NewDevice(p, local, truth, acct)
	if err != nil {
		return nil, usageErr("", "--profile %s: %w", p.Name, err)
	}
	return dev, nil
}

// clocks returns the local clock (or --at), the truth (NTP when --ntp is
// given) and the profile with the flags' overrides.
func (tf *timeFlags) clocks(ctx context.Context, e *env, fs *pflag.FlagSet) (local, truth clock.Clock, p emulator.Profile, err error) {
	p, err = emulator.ProfileByName(tf.profile)
	if err != nil {
		return nil, nil, p, usageErr("the profiles are phone, gauth-android, phone-manual and token", "--profile: %w", err)
	}
	local = e.clock
	if fs.Changed("at") {
		t, err := parseTime("--at", tf.at, e.clock)
		if err != nil {
			return nil, nil, p, err
		}
		local = clock.NewManual(t)
	}
	truth = local
	if fs.Changed("ntp") {
		if fs.Changed("at") {
			return nil, nil, p, usageErr("--at fixes the time; NTP would only be asked what time it is now", "--ntp and --at cannot be used together")
		}
		servers, err := splitServers("--ntp", tf.ntp)
		if err != nil {
			return nil, nil, p, err
		}
		n, _, err := syncNTP(ctx, e, clock.NTPOptions{Servers: servers, Base: local})
		if err != nil {
			return nil, nil, p, err
		}
		truth = n
	}
	if fs.Changed("offset") {
		p.Offset = tf.offset
	}
	if fs.Changed("drift-ppm") {
		p.DriftPPM = tf.driftPPM
	}
	if fs.Changed("since") {
		t, err := parseTime("--since", tf.since, e.clock)
		if err != nil {
			return nil, nil, p, err
		}
		p.Since = t
	}
	if err := p.Validate(); err != nil {
		return nil, nil, p, usageErr("", "--profile %s: %w", p.Name, err)
	}
	return local, truth, p, nil
}
