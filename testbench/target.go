package testbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Outcome is what a target made of a code.
type Outcome int

// Outcomes of a bind or verify.
const (
	Accepted  Outcome = iota // the code was right
	Rejected                 // the code was refused (wrong, replayed, malformed)
	Locked                   // the enrollment is locked: codes are not even judged
	Throttled                // "slow down" (HTTP 429 without a lock): not a judgement of the code
	Error                    // no verdict: a transport error, a 5xx, an unexpected answer
)

func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Rejected:
		return "rejected"
	case Locked:
		return "locked"
	case Throttled:
		return "throttled"
	case Error:
		return "error"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Verdict is a target's answer to a bind or a verify.
type Verdict struct {
	Outcome    Outcome
	Reason     string        // the target's own words, e.g. "403 rejected: code rejected"
	RetryAfter time.Duration // when Locked or Throttled, how long the target asked to wait (0: not said)
	Err        error         // when Error, the cause
	// Date is the answer's HTTP Date header (the server's own clock, to the
	// second), zero when there was none.
	Date time.Time
}

func (v Verdict) String() string {
	s := v.Outcome.String()
	if v.Reason != "" {
		s += " (" + v.Reason + ")"
	}
	if v.RetryAfter > 0 {
		s += fmt.Sprintf(" retry after %v", v.RetryAfter)
	}
	if v.Err != nil {
		s += ": " + v.Err.Error()
	}
	return s
}

// Enrollment is one device enrolled on a target: the key material the
// target showed, in whichever forms it showed it. It holds a secret: its
// String method shows none of it.
type Enrollment struct {
	ID        string // the target's name for the device (a serial), if any
	Account   string // the account name the target reported, if any
	Issuer    string // the issuer the target reported, if any
	URI       string // the otpauth URI, when the target gave it as text
	QRImage   []byte // the QR code image (PNG, JPEG or GIF), when given
	ManualKey string // the key for manual entry (base32), when given

	// Vars are the values a request template may use ({{serial}} and
	// whatever the target's config extracts).
	Vars map[string]string
}

// String names the enrollment without its key material.
func (e Enrollment) String() string {
	var forms []string
	if e.URI != "" {
		forms = append(forms, "uri")
	}
	if len(e.QRImage) > 0 {
		forms = append(forms, "qr")
	}
	if e.ManualKey != "" {
		forms = append(forms, "manual key")
	}
	return fmt.Sprintf("enrollment %q account %q (%s)", e.ID, e.Account, strings.Join(forms, ", "))
}

// GoString is String: %#v shows no key material either.
func (e Enrollment) GoString() string { return e.String() }

// Format prints String for every verb, so no fmt verb shows the key.
func (e Enrollment) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, e.String()) }

// Capabilities say what a target needs and offers.
type Capabilities struct {
	// BindCodes is how many codes binding takes: 0 when a fresh enrollment
	// can be verified at once, 1, or 2 consecutive codes.
	BindCodes int

	// FreshEnrollments is false when every enrollment is the same device
	// (a command target without --enroll-cmd's fresh keys): replay and
	// lockout state then carry over between enrollments.
	FreshEnrollments bool

	// Accounts, when set, are the only accounts Enroll may be asked for
	// (a staging server's test users): an enrollment of one replaces the
	// one before it, so at most len(Accounts) enrollments are alive at
	// once and the bench plans within them. Nil: any account name.
	Accounts []string
}

// Target is the server under test. Its methods must be safe for
// concurrent use: the bench submits up to Config.Parallel codes at once,
// on different enrollments (never two at once on one enrollment).
type Target interface {
	// Describe names the target for the report (a URL, a command).
	Describe() string
	Capabilities() Capabilities
	// Enroll creates a fresh device for account. An error means the target
	// could not be reached or answered nonsense.
	Enroll(ctx context.Context, account string) (*Enrollment, error)
	// Bind completes the enrollment with len(codes) == BindCodes codes,
	// oldest first.
	Bind(ctx context.Context, e *Enrollment, codes []string) Verdict
	// Verify judges one code for a bound enrollment.
	Verify(ctx context.Context, e *Enrollment, code string) Verdict
}

// ErrNoSession is SecondSession's answer for a target without sessions.
var ErrNoSession = errors.New("the target has no sessions")

// Sessioner is implemented by targets with sessions (a cookie per sign
// in): SecondSession signs e's account in again, in a new session, and
// returns e as seen from there (the reuse scenario submits a code used in
// e's session in it), or ErrNoSession.
type Sessioner interface {
	SecondSession(ctx context.Context, e *Enrollment) (*Enrollment, error)
}

// Dater is implemented by targets that can ask the server for its own
// time without judging a code: the HTTP Date header of a cheap request.
// Date returns the header's time (whole seconds of the server's clock),
// or the zero time when the server sends none.
type Dater interface {
	Date(ctx context.Context) (time.Time, error)
}

// LabClock is implemented by targets whose true clock the bench can read
// and set (the reference console's lab mode). With it, the bench runs in
// virtual time.
type LabClock interface {
	LabNow(ctx context.Context) (time.Time, error)
	SetLabClock(ctx context.Context, t time.Time) error
}

// LabSaver is implemented by lab clocks that can be put back as the bench
// found them: SaveLabClock reads the clock's state (running with the
// server's real clock, or stopped at a time) and returns what restores
// it. Without it, the bench restores the time it found.
type LabSaver interface {
	SaveLabClock(ctx context.Context) (restore func(context.Context) error, err error)
}
