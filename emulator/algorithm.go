package emulator

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"strings"
)

// Algorithm is the HMAC hash of an account. The zero value is SHA1, the
// algorithm of Google Authenticator and of nearly every console.
type Algorithm uint8

// The algorithms of RFC 6238.
const (
	SHA1 Algorithm = iota
	SHA256
	SHA512
)

// String returns the name used in otpauth URIs: SHA1, SHA256 or SHA512.
func (a Algorithm) String() string {
	switch a {
	case SHA1:
		return "SHA1"
	case SHA256:
		return "SHA256"
	case SHA512:
		return "SHA512"
	}
	return fmt.Sprintf("Algorithm(%d)", uint8(a))
}

// ParseAlgorithm parses SHA1, SHA256 or SHA512 (case-insensitive, an
// optional dash after SHA allowed). The empty string is refused: callers that
// want the default use the zero Algorithm.
func ParseAlgorithm(s string) (Algorithm, error) {
	u := strings.ToUpper(s)
	u = strings.Replace(u, "SHA-", "SHA", 1)
	switch u {
	case "SHA1":
		return SHA1, nil
	case "SHA256":
		return SHA256, nil
	case "SHA512":
		return SHA512, nil
	}
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return 0, fmt.Errorf("unknown algorithm %q: want SHA1, SHA256 or SHA512", s)
}

// MarshalText encodes the algorithm as its name.
func (a Algorithm) MarshalText() ([]byte, error) {
	if !a.valid() {
		return nil, fmt.Errorf("unknown algorithm %d", uint8(a))
	}
	return []byte(a.String()), nil
}

// UnmarshalText decodes a name accepted by ParseAlgorithm.
func (a *Algorithm) UnmarshalText(b []byte) error {
	v, err := ParseAlgorithm(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

func (a Algorithm) valid() bool { return a <= SHA512 }

func (a Algorithm) newHash() func() hash.Hash {
	switch a {
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	}
	return sha1.New
}
