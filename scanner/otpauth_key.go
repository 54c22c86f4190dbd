package scanner

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
)

// Key is a parsed OTP key: what an authenticator stores after scanning a
// QR code. Its String, GoString, Format and LogValue methods redact the
// secret, so printing or logging a Key never shows it; MarshalJSON gives
// its length in bits instead.
type Key struct {
	Type       string // "totp" or "hotp"
	Issuer     string
	Account    string
	Secret     []byte `json:"-"`
	Algorithm  string // "SHA1", "SHA256", "SHA512"
	Digits     int    // 6, 7 or 8
	Period     int    // seconds, TOTP only
	Counter    uint64 // HOTP only
	HasCounter bool   // whether Counter was given (HOTP)
}

// SecretBits is the length of the secret in bits.
func (k *Key) SecretBits() int { return len(k.Secret) * 8 }

// Label is the account as an authenticator lists it: "Issuer:Account", or
// the account alone when there is no issuer.
func (k *Key) Label() string {
	if k.Issuer == "" {
		return k.Account
	}
	return k.Issuer + ":" + k.Account
}

// String describes the key with its secret redacted.
func (k Key) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q %s %d digits", k.Type, k.Label(), k.Algorithm, k.Digits)
	if k.Type == "hotp" {
		if k.HasCounter {
			fmt.Fprintf(&b, " counter %d", k.Counter)
		}
	} else {
		fmt.Fprintf(&b, " %ds", k.Period)
	}
	fmt.Fprintf(&b, " secret <redacted %d bits>", len(k.Secret)*8)
	return b.String()
}

// GoString is the %#v form, with the secret redacted.
func (k Key) GoString() string {
	return fmt.Sprintf("scanner.Key{Type:%q, Issuer:%q, Account:%q, Secret:<redacted %d bits>, Algorithm:%q, Digits:%d, Period:%d, Counter:%d, HasCounter:%t}",
		k.Type, k.Issuer, k.Account, len(k.Secret)*8, k.Algorithm, k.Digits, k.Period, k.Counter, k.HasCounter)
}

// Format makes every fmt verb (%v, %+v, %s, %q, %x, ...) print the
// redacted forms.
func (k Key) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, k.GoString())
	case verb == 'q':
		fmt.Fprintf(f, "%q", k.String())
	default:
		fmt.Fprint(f, k.String())
	}
}

// MarshalJSON writes the key without its secret, giving its length in
// bits instead.
func (k Key) MarshalJSON() ([]byte, error) {
	type view struct {
		Type       string `json:"type"`
		Issuer     string `json:"issuer"`
		Account    string `json:"account"`
		Algorithm  string `json:"algorithm"`
		Digits     int    `json:"digits"`
		Period     int    `json:"period,omitempty"`
		Counter    uint64 `json:"counter,omitempty"`
		HasCounter bool   `json:"has_counter,omitempty"`
		SecretBits int    `json:"secret_bits"`
	}
	return json.Marshal(view{k.Type, k.Issuer, k.Account, k.Algorithm, k.Digits, k.Period, k.Counter, k.HasCounter, len(k.Secret) * 8})
}

// LogValue keeps the secret out of log/slog output.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("type", k.Type),
		slog.String("issuer", k.Issuer),
		slog.String("account", k.Account),
		slog.String("algorithm", k.Algorithm),
		slog.Int("digits", k.Digits),
		slog.Int("period", k.Period),
		slog.Int("secret_bits", len(k.Secret)*8),
	)
}
