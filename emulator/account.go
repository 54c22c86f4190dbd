package emulator

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/totpemu/totpemu/scanner"
)

// Limits on an account's parameters.
const (
	MinSecretBytes = 10   // 80 bits: shorter keys are refused (RFC 4226 asks for 128)
	MaxSecretBytes = 1024 // a cap on what is kept and hashed
	MinDigits      = 6
	MaxDigits      = 8
	DefaultDigits  = 6
	MinPeriod      = scanner.MinPeriod // seconds
	MaxPeriod      = scanner.MaxPeriod // seconds; one range everywhere
	DefaultPeriod  = 30                // seconds
	maxLabelPart   = 256               // bytes of Issuer or Name
	maxNextCodes   = 10000
)

// ErrBeforeEpoch is wrapped by the errors for instants before the Unix epoch:
// TOTP has no steps there.
var ErrBeforeEpoch = errors.New("time is before the Unix epoch (1970-01-01T00:00:00Z)")

// Account is one TOTP account held by the device: what a phone shows as one
// row of Google Authenticator. Build it with NewAccount, ManualEntry or
// AccountFromURI; the secret is unexported and set only there.
//
// The exported fields may be read freely. Changing Digits or Period after
// construction changes the codes; Validate tells whether the result is still
// a valid account. An Account is safe for concurrent use as long as its
// fields are not written concurrently.
//
// Printing an Account (any fmt verb), encoding it as JSON or logging it
// with log/slog never shows the secret.
type Account struct {
	Issuer    string    // the service, e.g. "Alibaba Cloud"; may be empty
	Name      string    // the account name, e.g. "alice@example.com"
	Algorithm Algorithm // HMAC hash; zero value SHA1
	Digits    int       // code length, MinDigits..MaxDigits
	Period    int       // seconds per step, MinPeriod..MaxPeriod

	secret Secret
	key    *keyCache // set by the constructors; shared by copies
}

// keyCache holds the precomputed HMAC state of an account. Reads are
// lock-free; mu serialises building it.
type keyCache struct {
	mu sync.Mutex
	ks atomic.Pointer[keyState]
}

// NewAccount returns an account, validating every parameter. digits 0
// means DefaultDigits and period 0 means DefaultPeriod; the zero Algorithm
// is SHA1. The secret is copied. Errors never contain the secret.
func NewAccount(issuer, name string, secret []byte, alg Algorithm, digits, period int) (*Account, error) {
	if digits == 0 {
		digits = DefaultDigits
	}
	if period == 0 {
		period = DefaultPeriod
	}
	a := &Account{Issuer: issuer, Name: name, Algorithm: alg, Digits: digits, Period: period,
		secret: newSecret(secret), key: new(keyCache)}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}

// Validate reports whether the account's parameters are usable. The error
// names the account and the parameter, never the secret.
func (a *Account) Validate() error {
	if err := checkLabelPart("name", a.Name); err != nil {
		return fmt.Errorf("account %s: %w", quoteShort(a.Name), err)
	}
	if a.Name == "" {
		return errors.New("account name is empty")
	}
	if err := checkLabelPart("issuer", a.Issuer); err != nil {
		return fmt.Errorf("account %s: %w", quoteShort(a.Label()), err)
	}
	if strings.Contains(a.Issuer, ":") {
		return fmt.Errorf("account %s: issuer %s contains a colon", quoteShort(a.Label()), quoteShort(a.Issuer))
	}
	if !a.Algorithm.valid() {
		return fmt.Errorf("account %q: unknown algorithm %d", a.Label(), uint8(a.Algorithm))
	}
	if a.Digits < MinDigits || a.Digits > MaxDigits {
		return fmt.Errorf("account %q: digits %d out of range %d..%d", a.Label(), a.Digits, MinDigits, MaxDigits)
	}
	if a.Period < MinPeriod || a.Period > MaxPeriod {
		return fmt.Errorf("account %q: period %d s out of range %d..%d", a.Label(), a.Period, MinPeriod, MaxPeriod)
	}
	if n := a.secret.Len(); n < MinSecretBytes {
		return fmt.Errorf("account %q: secret is %d bits, need at least %d", a.Label(), 8*n, 8*MinSecretBytes)
	} else if n > MaxSecretBytes {
		return fmt.Errorf("account %q: secret is %d bytes, at most %d allowed", a.Label(), n, MaxSecretBytes)
	}
	return nil
}

func checkLabelPart(what, s string) error {
	if len(s) > maxLabelPart {
		return fmt.Errorf("%s is %d bytes, at most %d allowed", what, len(s), maxLabelPart)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", what)
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("%s %s has leading or trailing space", what, quoteShort(s))
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s %s contains a control character", what, quoteShort(s))
		}
	}
	return nil
}

// quoteShort quotes s for an error message, cut to 64 bytes.
func quoteShort(s string) string {
	const max = 64
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}

// Label is how the account is named on the device: "Issuer:Name", or
// "Name" when there is no issuer.
func (a *Account) Label() string {
	if a.Issuer == "" {
		return a.Name
	}
	return a.Issuer + ":" + a.Name
}

// Secret returns the account's key as a Secret, which redacts itself.
func (a *Account) Secret() Secret { return a.secret }

// SecretBase32 REVEALS the key as unpadded base32: for the state file and
// for an explicit --reveal only.
func (a *Account) SecretBase32() string { return a.secret.Base32() }

// usable reports cheaply whether codes can be computed.
func (a *Account) usable() bool {
	n := a.secret.Len()
	return n >= MinSecretBytes && n <= MaxSecretBytes && a.Algorithm.valid() &&
		a.Digits >= MinDigits && a.Digits <= MaxDigits && a.Period >= MinPeriod && a.Period <= MaxPeriod
}

// keyState returns the precomputed HMAC state, computing it on first use
// (and again if Algorithm was changed).
func (a *Account) keyState() *keyState {
	c := a.key
	if c == nil { // not built by a constructor: compute without caching
		return newKeyState(a.Algorithm, a.secret.bytes())
	}
	if ks := c.ks.Load(); ks != nil && ks.alg == a.Algorithm {
		return ks
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ks := c.ks.Load()
	if ks == nil || ks.alg != a.Algorithm {
		ks = newKeyState(a.Algorithm, a.secret.bytes())
		c.ks.Store(ks)
	}
	return ks
}

// AppendCode appends the code of the given step (the HOTP counter) to dst
// and returns the extended slice. It allocates nothing when dst has room
// for Digits bytes. On an account that Validate refuses it returns dst
// unchanged.
func (a *Account) AppendCode(dst []byte, step uint64) []byte {
	if !a.usable() {
		return dst
	}
	return appendDigits(dst, a.keyState().truncate(step), a.Digits)
}

// CodeAtStep returns the code of the given step, leading zeros kept, or ""
// on an account that Validate refuses.
func (a *Account) CodeAtStep(step uint64) string {
	var buf [MaxDigits]byte
	return string(a.AppendCode(buf[:0], step))
}

// Step returns the step (the RFC 6238 counter T) at t: whole periods since
// the Unix epoch. Instants before the epoch are an error.
func (a *Account) Step(t time.Time) (uint64, error) {
	if !a.usable() {
		if err := a.Validate(); err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("account %q: unusable", a.Label())
	}
	return step(t, a.Period)
}

func step(t time.Time, period int) (uint64, error) {
	s := t.Unix() // floor for instants before the epoch too
	if s < 0 {
		return 0, fmt.Errorf("time %s: %w", t.UTC().Format(time.RFC3339), ErrBeforeEpoch)
	}
	return uint64(s) / uint64(period), nil
}

// Code returns the code at t.
func (a *Account) Code(t time.Time) (string, error) {
	s, err := a.Step(t)
	if err != nil {
		return "", err
	}
	return a.CodeAtStep(s), nil
}

// ValidFor returns how long the code at t stays valid: the time from t to
// the end of its step (at most Period seconds). It is 0 for instants before
// the epoch and for an account that Validate refuses.
func (a *Account) ValidFor(t time.Time) time.Duration {
	s, err := a.Step(t)
	if err != nil {
		return 0
	}
	return a.stepStart(s + 1).Sub(t)
}

// stepStart returns the instant step s begins.
func (a *Account) stepStart(s uint64) time.Time {
	return time.Unix(int64(s*uint64(a.Period)), 0).UTC()
}

// Code is one code with the interval it is valid in.
type Code struct {
	Value string    // the digits, leading zeros kept
	Step  uint64    // the RFC 6238 counter
	Start time.Time // first instant the code is current
	End   time.Time // first instant it no longer is
}

// ValidFor returns how long the code stays current after now (0 once it
// has expired; the whole period if now is before Start).
func (c Code) ValidFor(now time.Time) time.Duration {
	if !now.Before(c.End) {
		return 0
	}
	if now.Before(c.Start) {
		return c.End.Sub(c.Start)
	}
	return c.End.Sub(now)
}

// codeAt returns the code of step s with its interval.
func (a *Account) codeAt(s uint64) Code {
	return Code{Value: a.CodeAtStep(s), Step: s, Start: a.stepStart(s), End: a.stepStart(s + 1)}
}

// Current returns the code at t with its interval.
func (a *Account) Current(t time.Time) (Code, error) {
	s, err := a.Step(t)
	if err != nil {
		return Code{}, err
	}
	return a.codeAt(s), nil
}

// Next returns n codes starting with the one current at t (n = 1 is the
// current code alone). n must be 0..10000.
func (a *Account) Next(t time.Time, n int) ([]Code, error) {
	if n < 0 || n > maxNextCodes {
		return nil, fmt.Errorf("account %q: %d codes asked, want 0..%d", a.Label(), n, maxNextCodes)
	}
	s, err := a.Step(t)
	if err != nil {
		return nil, err
	}
	codes := make([]Code, n)
	for i := range codes {
		codes[i] = a.codeAt(s + uint64(i))
	}
	return codes, nil
}

// BindCodes returns two consecutive codes for APIs that bind a device with
// AuthenticationCode1 and AuthenticationCode2 (Alibaba Cloud BindMFADevice,
// AWS EnableMFADevice): the code of the step current at t and the next
// step's.
func (a *Account) BindCodes(t time.Time) (code1, code2 string, err error) {
	s, err := a.Step(t)
	if err != nil {
		return "", "", err
	}
	return a.CodeAtStep(s), a.CodeAtStep(s + 1), nil
}
