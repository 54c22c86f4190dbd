package emulator

import (
	"encoding"
	"encoding/binary"
	"hash"
	"sync"
)

// keyState is an account's HMAC key, precomputed: the hash states after
// the inner (key XOR ipad) and outer (key XOR opad) blocks, saved with
// encoding.BinaryMarshaler. A code restores each state, hashes 8 bytes and
// 20..64 bytes, so each code costs two compression-function calls instead of
// the four (plus key decoding and allocations) of building an HMAC per code.
//
// Measured alternative: keeping a crypto/hmac hash and calling Reset per
// code (which restores marshaled states the same way) ran at the same speed;
// this form is kept because it states the precomputation and does not rely
// on crypto/hmac internals. Both make 0 allocations per code.
type keyState struct {
	mu           sync.Mutex
	alg          Algorithm
	inner, outer hash.Hash
	innerState   []byte
	outerState   []byte
	innerRestore encoding.BinaryUnmarshaler
	outerRestore encoding.BinaryUnmarshaler
	msg          [8]byte
	sum          [64]byte
}

// newKeyState precomputes the HMAC states of key under alg. It fails only
// if the hash cannot save its state, which the standard library's can.
func newKeyState(alg Algorithm, key []byte) *keyState {
	newHash := alg.newHash()
	inner, outer := newHash(), newHash()
	bs := inner.BlockSize()
	if len(key) > bs {
		h := newHash()
		h.Write(key)
		key = h.Sum(nil)
	}
	pad := make([]byte, bs)
	copy(pad, key)
	for i := range pad {
		pad[i] ^= 0x36
	}
	inner.Write(pad)
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	outer.Write(pad)
	clear(pad)
	k := &keyState{alg: alg, inner: inner, outer: outer}
	// The standard library's SHA-1 and SHA-2 hashes implement both
	// interfaces; the assertions cannot fail.
	k.innerState, _ = inner.(encoding.BinaryMarshaler).MarshalBinary()
	k.outerState, _ = outer.(encoding.BinaryMarshaler).MarshalBinary()
	k.innerRestore = inner.(encoding.BinaryUnmarshaler)
	k.outerRestore = outer.(encoding.BinaryUnmarshaler)
	return k
}

// truncate returns the 31-bit value of RFC 4226's dynamic truncation of
// HMAC(key, counter).
func (k *keyState) truncate(counter uint64) uint32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	binary.BigEndian.PutUint64(k.msg[:], counter)
	_ = k.innerRestore.UnmarshalBinary(k.innerState)
	k.inner.Write(k.msg[:])
	s := k.inner.Sum(k.sum[:0])
	_ = k.outerRestore.UnmarshalBinary(k.outerState)
	k.outer.Write(s)
	s = k.outer.Sum(k.sum[:0])
	off := s[len(s)-1] & 0x0f
	return binary.BigEndian.Uint32(s[off:]) & 0x7fffffff
}

var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}

// appendDigits appends v mod 10^digits as exactly digits decimal digits,
// leading zeros kept. digits is 1..9.
func appendDigits(dst []byte, v uint32, digits int) []byte {
	v %= pow10[digits]
	var buf [10]byte
	for i := digits - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[:digits]...)
}
