package emulator

import (
	"crypto/hmac"
	"encoding"
	"encoding/binary"
	"hash"
	"sync"
)

// keyState is an account's HMAC key, precomputed: the hash states after
// the inner (key XOR ipad) and outer (key XOR opad) blocks, saved with
// encoding.BinaryMarshaler. A code restores each state and hashes one more
// block into each, so it costs two compression-function calls, against four
// (plus key decoding and a dozen allocations) when an HMAC is built per
// code as pquerna/otp does.
//
// The fast path goes one step further: the message (8 counter bytes, then
// the inner digest) always fits one block, so the padded blocks are laid
// out once and written whole; the digest is then read from the hash's
// saved state (encoding.BinaryAppender: a 4-byte magic, then the state
// words big-endian, which for SHA-1 and SHA-2 are the digest). That skips
// Sum's copy of the hash and its padding writes. newKeyState checks the
// fast path against crypto/hmac and falls back to Write+Sum if a future
// standard library saves its state differently.
//
// Measured (see bench_test.go and the package's report): crypto/hmac with
// Reset per code (which also restores marshaled states) and the Write+Sum
// path ran at the same speed; the fast path is faster for SHA-1 and
// SHA-256, where the compression function is cheap (SHA-NI) and Sum's
// overhead showed. All three make no allocation per code.
type keyState struct {
	mu           sync.Mutex
	alg          Algorithm
	inner, outer hash.Hash
	innerState   []byte
	outerState   []byte
	innerRestore encoding.BinaryUnmarshaler
	outerRestore encoding.BinaryUnmarshaler

	// Fast path; direct is false when it is not usable.
	direct                 bool
	innerSave, outerSave   encoding.BinaryAppender
	innerBlock, outerBlock []byte // padded single blocks
	saved                  []byte // scratch for AppendBinary
	size                   int    // digest size

	msg [8]byte
	sum [64]byte
}

// stateMagicLen is the length of the magic prefix of the standard
// library's saved SHA-1/SHA-2 states.
const stateMagicLen = 4

// newKeyState precomputes the HMAC states of key under alg.
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
	// The standard library's SHA-1 and SHA-2 hashes implement these
	// interfaces; the assertions cannot fail.
	k.innerState, _ = inner.(encoding.BinaryMarshaler).MarshalBinary()
	k.outerState, _ = outer.(encoding.BinaryMarshaler).MarshalBinary()
	k.innerRestore = inner.(encoding.BinaryUnmarshaler)
	k.outerRestore = outer.(encoding.BinaryUnmarshaler)
	k.setupDirect(key, newHash)
	return k
}

// setupDirect prepares the fast path and enables it if it agrees with
// crypto/hmac.
func (k *keyState) setupDirect(key []byte, newHash func() hash.Hash) {
	is, ok1 := k.inner.(encoding.BinaryAppender)
	os, ok2 := k.outer.(encoding.BinaryAppender)
	if !ok1 || !ok2 {
		return
	}
	bs, size := k.inner.BlockSize(), k.inner.Size()
	k.size = size
	k.innerSave, k.outerSave = is, os
	// SHA-1 and SHA-2 padding: 0x80, zeros, the message length in bits
	// big-endian in the block's last 8 bytes (SHA-512's 16-byte length has
	// its high half zero here).
	k.innerBlock = make([]byte, bs)
	k.innerBlock[8] = 0x80
	binary.BigEndian.PutUint64(k.innerBlock[bs-8:], uint64(bs+8)*8)
	k.outerBlock = make([]byte, bs)
	k.outerBlock[size] = 0x80
	binary.BigEndian.PutUint64(k.outerBlock[bs-8:], uint64(bs+size)*8)
	k.saved = make([]byte, 0, len(k.innerState)+bs)
	if size+9 > bs || len(k.innerState) < stateMagicLen+size {
		return
	}
	k.direct = true
	for _, c := range []uint64{0, 1, 1 << 40} {
		m := hmac.New(newHash, key)
		binary.BigEndian.PutUint64(k.msg[:], c)
		m.Write(k.msg[:])
		if string(k.digestDirect(c)) != string(m.Sum(nil)) {
			k.direct = false
			return
		}
	}
}

// digestDirect computes HMAC(key, counter) on the fast path. The result
// aliases k.saved.
func (k *keyState) digestDirect(counter uint64) []byte {
	size := k.size
	binary.BigEndian.PutUint64(k.innerBlock, counter)
	_ = k.innerRestore.UnmarshalBinary(k.innerState)
	k.inner.Write(k.innerBlock)
	st, _ := k.innerSave.AppendBinary(k.saved[:0])
	copy(k.outerBlock, st[stateMagicLen:stateMagicLen+size])
	_ = k.outerRestore.UnmarshalBinary(k.outerState)
	k.outer.Write(k.outerBlock)
	st, _ = k.outerSave.AppendBinary(k.saved[:0])
	return st[stateMagicLen : stateMagicLen+size]
}

// digestSum computes HMAC(key, counter) with Write and Sum. The result
// aliases k.sum.
func (k *keyState) digestSum(counter uint64) []byte {
	binary.BigEndian.PutUint64(k.msg[:], counter)
	_ = k.innerRestore.UnmarshalBinary(k.innerState)
	k.inner.Write(k.msg[:])
	s := k.inner.Sum(k.sum[:0])
	_ = k.outerRestore.UnmarshalBinary(k.outerState)
	k.outer.Write(s)
	return k.outer.Sum(k.sum[:0])
}

// truncate returns the 31-bit value of RFC 4226's dynamic truncation of
// HMAC(key, counter).
func (k *keyState) truncate(counter uint64) uint32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	var s []byte
	if k.direct {
		s = k.digestDirect(counter)
	} else {
		s = k.digestSum(counter)
	}
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
