package emulator

import (
	"crypto/hmac"
	"encoding/binary"
	"fmt"
	"testing"
)

// TestKeyStatePaths checks both ways of computing the HMAC (the fast path
// reading the digest from the saved state, and Write+Sum) against
// crypto/hmac, for short, block-sized and long keys.
func TestKeyStatePaths(t *testing.T) {
	for _, alg := range []Algorithm{SHA1, SHA256, SHA512} {
		for _, keyLen := range []int{10, 20, 64, 128, 200} {
			key := make([]byte, keyLen)
			for i := range key {
				key[i] = byte(i*7 + keyLen)
			}
			k := newKeyState(alg, key)
			if !k.direct {
				t.Errorf("%s, %d-byte key: the fast path is disabled (did the standard library's saved hash state change?)", alg, keyLen)
			}
			for _, c := range []uint64{0, 1, 59 / 30, 1 << 32, ^uint64(0)} {
				m := hmac.New(alg.newHash(), key)
				var msg [8]byte
				binary.BigEndian.PutUint64(msg[:], c)
				m.Write(msg[:])
				want := fmt.Sprintf("%x", m.Sum(nil))
				if got := fmt.Sprintf("%x", k.digestSum(c)); got != want {
					t.Errorf("%s, %d-byte key, counter %d: Write+Sum HMAC %s, crypto/hmac %s", alg, keyLen, c, got, want)
				}
				if got := fmt.Sprintf("%x", k.digestDirect(c)); got != want {
					t.Errorf("%s, %d-byte key, counter %d: fast-path HMAC %s, crypto/hmac %s", alg, keyLen, c, got, want)
				}
			}
		}
	}
}

// TestSumPathRFCVectors runs the RFC 6238 vectors with the fast path off,
// the fallback a changed standard library would use.
func TestSumPathRFCVectors(t *testing.T) {
	for _, v := range rfc6238Vectors(t) {
		a := mustAccount(t, v.secret, v.alg, v.digits, v.period)
		ks := a.keyState()
		ks.direct = false
		s := uint64(v.unix) / uint64(v.period)
		if got := a.CodeAtStep(s); got != v.code {
			t.Errorf("line %d: Write+Sum path: %s at %d = %q, want %q", v.line, v.alg, v.unix, got, v.code)
		}
	}
}
