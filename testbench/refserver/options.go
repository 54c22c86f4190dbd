package refserver

import (
	"fmt"
	"strings"
	"time"

	"github.com/totpemu/totpemu/clock"
)

// MaxPeriod is the longest step the console takes, in seconds: the same
// as the device's and the scanner's (refserver imports neither; a test in
// testbench/target holds the three equal).
const MaxPeriod = 300

// Replay policies.
const (
	ReplayNone = "none" // every code in the window is accepted, however often
	ReplayCode = "code" // a code accepted once is refused while it could still be in a window
	ReplayStep = "step" // a code at a step not after the device's last accepted step is refused (RFC 6238 section 5.2)
)

// Options are the server's policies. The fields where zero is meaningless
// (Clock, Replay, LockoutFor, Digits, Algorithm, Period, SecretBytes,
// BindCodes, Issuer) take their default when zero. WindowBack,
// WindowForward and Lockout mean what they say, zero included: start from
// DefaultOptions for the usual server (window 1 back and 1 forward, lockout
// after 5 failures), or from Options{} for the strictest one (current step
// only, no lockout).
type Options struct {
	// Clock is the server's true clock. Nil means clock.System{}. With Lab,
	// a *clock.Manual is used as the lab clock as it is; any other clock
	// seeds a new clock.Manual at its current time.
	Clock clock.Clock

	// WindowBack and WindowForward are the steps accepted before and after
	// the current one. DefaultOptions sets 1 and 1; zero means none.
	// Negative values are an error.
	WindowBack, WindowForward int

	// WindowInSeconds replaces the step window by one in seconds, as Ruby's
	// ROTP takes it (verify(code, drift_behind: B, drift_ahead: A), used by
	// devise-two-factor and GitLab): at server time t (whole seconds) the
	// codes of the steps from floor((t-B)/P) to floor((t+A)/P) are
	// accepted, B = WindowSecondsBack and A = WindowSecondsForward. With
	// B = 15 the previous step's code is accepted only in the first 15 s
	// of a step. WindowBack and WindowForward must then be zero.
	WindowInSeconds                         bool
	WindowSecondsBack, WindowSecondsForward time.Duration

	// Replay is ReplayNone, ReplayCode or ReplayStep. "" means ReplayStep.
	Replay string

	// Lockout is how many consecutive refused codes lock a device. Zero
	// means no lockout; DefaultOptions sets 5.
	Lockout int

	// LockoutFor is how long a lock lasts. Zero means 5 minutes.
	LockoutFor time.Duration

	// ThrottleFactor turns on django-otp's silent exponential throttling
	// (ThrottlingMixin, OTP_TOTP_THROTTLE_FACTOR, whose default is 1 s):
	// after a device's n-th refusal in a row (a wrong code, or a replay),
	// every bind or verify of it, right codes too, is refused as a wrong
	// code is (403 "rejected", no 429, no Retry-After) until
	// ThrottleFactor * 2^(n-1) after that refusal. A refusal while
	// throttled is not a failure, for the throttle or the lockout; a
	// success resets the count. It combines with Lockout, which keeps its
	// own count. Zero means off; at most 1 hour.
	ThrottleFactor time.Duration

	// ClockOffset is the server's own clock error, added to Clock's time
	// for every code check (the lab clock reports the time without it).
	ClockOffset time.Duration

	// Digits is the code length, 6 to 8. Zero means 6.
	Digits int

	// Algorithm is the HMAC hash: "SHA1", "SHA256" or "SHA512". "" means SHA1.
	Algorithm string

	// Period is the step length in seconds, 1 to MaxPeriod. Zero means 30.
	Period int

	// SecretBytes is the size of a new device's secret, 10 to 64 bytes.
	// Zero means 20 (160 bits, as RFC 4226 recommends).
	SecretBytes int

	// BindCodes is how many codes binding a device takes: 1, or 2
	// consecutive codes as cloud APIs ask. Zero means 2.
	BindCodes int

	// Resync, when set, remembers after every success how many steps the
	// device is off and centres its window there (RFC 6238 section 6, as
	// django-otp's OTP_TOTP_SYNC does): the drift becomes the matched step
	// minus the current step, unbounded. The three knobs below shape it,
	// so the bench's drift tracking can be tested against servers that
	// differ; each needs Resync (an error without it).
	Resync bool

	// ResyncMax is the most steps, either way, the remembered drift may
	// reach: a success further out sets the drift to the bound. Zero means
	// no bound; at most 100.
	ResyncMax int

	// ResyncAfter is how many successes in a row at the same offset from
	// the current step it takes before the drift moves to that offset. A
	// success at another offset restarts the count (a refusal leaves it
	// alone); until the count is reached the drift stays. Zero or 1 means
	// every success moves it; at most 10.
	ResyncAfter int

	// ResyncForwardOnly: the drift only ever grows. A success at an
	// offset below the current drift leaves the drift where it is: a
	// window that never moves back for a device that was fixed.
	ResyncForwardOnly bool

	// Issuer is the issuer put in the otpauth URI. "" means "totpemu Console".
	Issuer string

	// QREncoder, when set, draws the enrollment QR code (a PNG of a QR code
	// holding the payload) instead of boombuler/barcode, whose choice of
	// mask takes most of an enrollment's 5 ms: tests that enroll tens of
	// thousands of devices pass a faster encoder.
	QREncoder func(payload string) ([]byte, error)

	// Lab adds GET and POST /api/v1/lab/clock, which read and set the
	// server's true clock, and a banner on the console's pages.
	Lab bool

	// Flaws are deliberate bugs for testing the bench's security probes
	// (lab only: any flaw without Lab is an error). The zero value is the
	// correct console.
	Flaws Flaws

	// ReplayCountsAsFailure: a refused replay (a code that matched a step
	// of the window but is refused by the replay policy) counts as a
	// failed attempt towards the lockout, so a burst of replayed codes
	// locks the real user out. Default false: a replay is refused without
	// counting. This is a policy, allowed without Lab.
	ReplayCountsAsFailure bool
}

// DefaultOptions returns the options of the usual server: window 1 back and
// 1 forward, replay by step, lockout after 5 failures for 5 minutes, 6
// digits, SHA1, 30 s, 20-byte secrets, binding with 2 codes.
func DefaultOptions() Options {
	return Options{
		WindowBack:    1,
		WindowForward: 1,
		Replay:        ReplayStep,
		Lockout:       5,
		LockoutFor:    5 * time.Minute,
		Digits:        6,
		Algorithm:     "SHA1",
		Period:        30,
		SecretBytes:   20,
		BindCodes:     2,
		Issuer:        "totpemu Console",
	}
}

// Limits on the options.
const (
	maxWindow      = 1000
	maxLockout     = 1_000_000
	maxIssuerBytes = 128

	// MaxThrottleFactor is the longest Options.ThrottleFactor.
	MaxThrottleFactor = time.Hour

	// MaxResyncMax is the largest Options.ResyncMax, in steps.
	MaxResyncMax = 100

	// MaxResyncAfter is the largest Options.ResyncAfter, in successes.
	MaxResyncAfter = 10
)

// withDefaults fills the zero fields that take a default and checks every
// field.
func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	if o.Replay == "" {
		o.Replay = d.Replay
	}
	if o.LockoutFor == 0 {
		o.LockoutFor = d.LockoutFor
	}
	if o.Digits == 0 {
		o.Digits = d.Digits
	}
	if o.Algorithm == "" {
		o.Algorithm = d.Algorithm
	}
	if o.Period == 0 {
		o.Period = d.Period
	}
	if o.SecretBytes == 0 {
		o.SecretBytes = d.SecretBytes
	}
	if o.BindCodes == 0 {
		o.BindCodes = d.BindCodes
	}
	if o.Issuer == "" {
		o.Issuer = d.Issuer
	}
	if o.Flaws.races() && o.Flaws.Pause == 0 {
		o.Flaws.Pause = DefaultFlawPause
	}
	o.Algorithm = strings.ToUpper(o.Algorithm)
	switch {
	case o.WindowBack < 0 || o.WindowBack > maxWindow:
		return o, fmt.Errorf("window back %d: want 0 to %d steps", o.WindowBack, maxWindow)
	case o.WindowForward < 0 || o.WindowForward > maxWindow:
		return o, fmt.Errorf("window forward %d: want 0 to %d steps", o.WindowForward, maxWindow)
	case o.WindowInSeconds && (o.WindowBack != 0 || o.WindowForward != 0):
		return o, fmt.Errorf("a window in seconds excludes a window in steps (window back %d, forward %d)", o.WindowBack, o.WindowForward)
	case badSeconds(o.WindowSecondsBack, o.Period) || badSeconds(o.WindowSecondsForward, o.Period):
		return o, fmt.Errorf("window in seconds back %v, forward %v: want whole seconds from 0 to %d periods", o.WindowSecondsBack, o.WindowSecondsForward, maxWindow)
	case !o.WindowInSeconds && (o.WindowSecondsBack != 0 || o.WindowSecondsForward != 0):
		return o, fmt.Errorf("window in seconds back %v, forward %v given without WindowInSeconds", o.WindowSecondsBack, o.WindowSecondsForward)
	case o.Replay != ReplayNone && o.Replay != ReplayCode && o.Replay != ReplayStep:
		return o, fmt.Errorf("replay policy %q: want none, code or step", o.Replay)
	case o.Lockout < 0 || o.Lockout > maxLockout:
		return o, fmt.Errorf("lockout %d: want 0 (off) to %d failures", o.Lockout, maxLockout)
	case o.LockoutFor < 0:
		return o, fmt.Errorf("lockout duration %v: must not be negative", o.LockoutFor)
	case o.ThrottleFactor < 0 || o.ThrottleFactor > MaxThrottleFactor:
		return o, fmt.Errorf("throttle factor %v: want 0 (off) to %v", o.ThrottleFactor, MaxThrottleFactor)
	case o.ResyncMax < 0 || o.ResyncMax > MaxResyncMax:
		return o, fmt.Errorf("resync max %d: want 0 (no bound) to %d steps", o.ResyncMax, MaxResyncMax)
	case o.ResyncAfter < 0 || o.ResyncAfter > MaxResyncAfter:
		return o, fmt.Errorf("resync after %d: want 0 to %d successes", o.ResyncAfter, MaxResyncAfter)
	case !o.Resync && o.resyncKnobs() != "":
		return o, fmt.Errorf("resync knobs (%s) without Resync: turn on Resync (--resync)", o.resyncKnobs())
	case o.Digits < 6 || o.Digits > 8:
		return o, fmt.Errorf("digits %d: want 6 to 8", o.Digits)
	case o.Algorithm != "SHA1" && o.Algorithm != "SHA256" && o.Algorithm != "SHA512":
		return o, fmt.Errorf("algorithm %q: want SHA1, SHA256 or SHA512", o.Algorithm)
	case o.Period < 1 || o.Period > MaxPeriod:
		return o, fmt.Errorf("period %d: want 1 to %d seconds", o.Period, MaxPeriod)
	case o.SecretBytes < 10 || o.SecretBytes > 64:
		return o, fmt.Errorf("secret size %d: want 10 to 64 bytes", o.SecretBytes)
	case o.BindCodes != 1 && o.BindCodes != 2:
		return o, fmt.Errorf("bind codes %d: want 1 or 2", o.BindCodes)
	case len(o.Issuer) > maxIssuerBytes || !validLabelPart(o.Issuer):
		return o, fmt.Errorf("issuer %q: want at most %d bytes of printable UTF-8 without ':'", o.Issuer, maxIssuerBytes)
	case o.Flaws.Pause < 0 || o.Flaws.Pause > MaxFlawPause:
		return o, fmt.Errorf("flaw pause %v: want 0 (%v) to %v", o.Flaws.Pause, DefaultFlawPause, MaxFlawPause)
	case o.Flaws.Any() && !o.Lab:
		return o, fmt.Errorf("flaws %s: deliberate bugs are for the lab only: turn on Lab (--lab)", strings.Join(o.Flaws.Names(), ", "))
	}
	return o, nil
}

// badSeconds reports whether d is not a whole number of seconds within
// maxWindow periods of period seconds.
func badSeconds(d time.Duration, period int) bool {
	return d < 0 || d%time.Second != 0 || d > time.Duration(maxWindow)*time.Duration(period)*time.Second
}

// WindowText is the window as the console shows it: "-1/+1 steps" or
// "-15s/+0s (in seconds)".
func (o Options) WindowText() string {
	if o.WindowInSeconds {
		return fmt.Sprintf("-%ds/+%ds (in seconds)", o.WindowSecondsBack/time.Second, o.WindowSecondsForward/time.Second)
	}
	return fmt.Sprintf("-%d/+%d steps", o.WindowBack, o.WindowForward)
}

// Policy returns a one-line description of the policies, for a startup
// line. It holds no secret.
func (o Options) Policy() string {
	lock := "off"
	if o.Lockout > 0 {
		lock = fmt.Sprintf("%d failures for %v", o.Lockout, o.LockoutFor)
	}
	if o.ThrottleFactor > 0 {
		lock += fmt.Sprintf(", throttle exponential %v", o.ThrottleFactor)
	}
	s := fmt.Sprintf("window %s, replay %s, lockout %s, clock offset %v, %d digits, %s, %d s, %d-byte secrets, bind with %d code(s), resync %t",
		o.WindowText(), o.Replay, lock, o.ClockOffset, o.Digits, o.Algorithm, o.Period, o.SecretBytes, o.BindCodes, o.Resync)
	if k := o.resyncKnobs(); k != "" {
		s += " (" + k + ")"
	}
	if o.ReplayCountsAsFailure {
		s += ", replays count as failures"
	}
	if o.Lab {
		s += ", LAB MODE (clock settable over HTTP)"
	}
	if o.Flaws.Any() {
		s += ", DELIBERATELY FLAWED: " + o.Flaws.String()
	}
	return s
}

// resyncKnobs describes the resync knobs that are set, "at most 3 steps,
// after 2 successes, forward only", or is "" when none is.
func (o Options) resyncKnobs() string {
	var k []string
	if o.ResyncMax != 0 {
		k = append(k, fmt.Sprintf("at most %d %s", o.ResyncMax, plural(o.ResyncMax, "step", "steps")))
	}
	if o.ResyncAfter != 0 {
		k = append(k, fmt.Sprintf("after %d %s", o.ResyncAfter, plural(o.ResyncAfter, "success", "successes")))
	}
	if o.ResyncForwardOnly {
		k = append(k, "forward only")
	}
	return strings.Join(k, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
