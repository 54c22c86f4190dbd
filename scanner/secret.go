package scanner

import (
	"encoding/base32"
	"errors"
	"fmt"
)

// maxSecretChars caps the length of a base32 secret before anything is
// decoded (1024 characters is 5120 bits, far above any real key).
const maxSecretChars = 1024

// rawBase32 is RFC 4648 base32 without padding, the form Google
// Authenticator expects.
var rawBase32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// secretForm records how a base32 secret was written, for lint: the forms
// DecodeSecret tolerates but some authenticators do not.
type secretForm struct {
	padded bool // ends with '=' padding
	lower  bool // has lower-case letters
	spaced bool // has spaces or hyphens (as printed for typing by hand)
}

// DecodeSecret decodes a base32 (RFC 4648) TOTP secret, tolerating what
// people and consoles add to it: spaces and hyphens between groups, lower
// case, and missing or present '=' padding. Characters outside the base32
// alphabet (the digits 0, 1, 8 and 9 among them) are refused with an error
// naming their position; the error never contains the secret or any of its
// characters.
func DecodeSecret(s string) ([]byte, error) {
	b, _, err := decodeSecret(s)
	return b, err
}

func decodeSecret(s string) ([]byte, secretForm, error) {
	var form secretForm
	if len(s) > maxSecretChars {
		return nil, form, fmt.Errorf("base32 secret is %d characters long, more than the %d accepted", len(s), maxSecretChars)
	}
	clean := make([]byte, 0, len(s))
	pad := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		pos := i + 1
		switch {
		case c == ' ' || c == '-' || c == '\t':
			form.spaced = true
			continue
		case c == '=':
			form.padded = true
			pad++
			continue
		case pad > 0:
			return nil, form, fmt.Errorf("base32 secret: character %d follows '=' padding, which may only end the secret", pos)
		case c >= 'a' && c <= 'z':
			form.lower = true
			c -= 'a' - 'A'
		case c >= 'A' && c <= 'Z', c >= '2' && c <= '7':
		case c == '0' || c == '1' || c == '8' || c == '9':
			return nil, form, fmt.Errorf("base32 secret: character %d is one of the digits 0, 1, 8, 9, which base32 does not use (A-Z and 2-7 only; O, I, B were perhaps meant)", pos)
		default:
			return nil, form, fmt.Errorf("base32 secret: character %d is not in the base32 alphabet (A-Z and 2-7)", pos)
		}
		clean = append(clean, c)
	}
	if len(clean) == 0 {
		return nil, form, errors.New("base32 secret is empty")
	}
	switch len(clean) % 8 {
	case 1, 3, 6:
		return nil, form, fmt.Errorf("base32 secret has %s, a length base32 cannot produce (it is truncated or has extra characters)", characters(len(clean)))
	}
	if pad > 0 && (len(clean)+pad)%8 != 0 {
		return nil, form, fmt.Errorf("base32 secret has %d padding characters where %d are needed", pad, (8-len(clean)%8)%8)
	}
	out, err := rawBase32.DecodeString(string(clean))
	if err != nil {
		// Not reachable after the checks above; do not wrap err, whose text
		// may quote the input.
		return nil, form, errors.New("base32 secret does not decode")
	}
	return out, form, nil
}

// EncodeSecret returns the canonical form of a secret: base32, upper case,
// no padding, as Google Authenticator expects it.
func EncodeSecret(b []byte) string { return rawBase32.EncodeToString(b) }

// secretPreview is what output shows of a secret when it is not revealed:
// its length in bits and its first 4 base32 characters.
func secretPreview(b []byte) string {
	s := EncodeSecret(b)
	if len(s) > 4 {
		s = s[:4]
	}
	return fmt.Sprintf("%d bits, %s...", len(b)*8, s)
}

// Secret is a secret held outside a Key (an expectation, a seed): its
// String, GoString and Format show only its length.
type Secret []byte

func (s Secret) String() string   { return fmt.Sprintf("<redacted %d bits>", len(s)*8) }
func (s Secret) GoString() string { return s.String() }

// Format makes every fmt verb print the redacted form.
func (s Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// characters is "1 character" or "n characters", for messages.
func characters(n int) string {
	if n == 1 {
		return "1 character"
	}
	return fmt.Sprintf("%d characters", n)
}
