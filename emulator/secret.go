package emulator

import (
	"encoding/base32"
	"fmt"
	"io"
	"log/slog"
)

// Redacted is what a Secret prints as, whatever the verb or encoder.
const Redacted = "REDACTED"

// b32 is the encoding of secrets in the state file and in otpauth URIs:
// RFC 4648 base32, upper case, no padding.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Secret is an account's shared key. It redacts itself when printed with
// any fmt verb, encoded as JSON or text, or logged with log/slog, so that a
// secret cannot reach a log line or an error by accident. The bytes are
// held by a closure, so that even reflection-based printing of a struct
// holding a Secret in an unexported field (which cannot call its methods)
// shows a function address, not the key.
//
// Only Base32 and Bytes reveal it; they exist for the state file and for
// an explicit --reveal.
type Secret struct {
	key func() []byte
}

func newSecret(b []byte) Secret {
	c := append([]byte(nil), b...)
	return Secret{key: func() []byte { return c }}
}

// bytes returns the key itself (not a copy): callers must not modify it.
func (s Secret) bytes() []byte {
	if s.key == nil {
		return nil
	}
	return s.key()
}

// Len returns the key's length in bytes. It reveals nothing else.
func (s Secret) Len() int { return len(s.bytes()) }

// Base32 REVEALS the key, as unpadded upper-case base32 (the form of
// otpauth URIs and of the state file). Use it only to write the state file
// or when the user asked to see the key.
func (s Secret) Base32() string { return b32.EncodeToString(s.bytes()) }

// Bytes REVEALS the key: it returns a copy of its bytes.
func (s Secret) Bytes() []byte { return append([]byte(nil), s.bytes()...) }

// String returns "REDACTED".
func (Secret) String() string { return Redacted }

// GoString returns "REDACTED".
func (Secret) GoString() string { return Redacted }

// Format prints "REDACTED" for every verb and flag.
func (Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, Redacted) }

// MarshalJSON encodes the secret as the string "REDACTED".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText encodes the secret as "REDACTED".
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue makes log/slog print "REDACTED".
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }
