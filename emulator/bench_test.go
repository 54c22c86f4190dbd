package emulator

import (
	"encoding/base32"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

var benchAlgs = []struct {
	name string
	alg  Algorithm
	otp  otp.Algorithm
}{
	{"SHA1", SHA1, otp.AlgorithmSHA1},
	{"SHA256", SHA256, otp.AlgorithmSHA256},
	{"SHA512", SHA512, otp.AlgorithmSHA512},
}

var benchSink string

// BenchmarkCode measures Account.Code: one code from a time, returned as a
// string (the one allocation).
func BenchmarkCode(b *testing.B) {
	for _, ba := range benchAlgs {
		b.Run(ba.name, func(b *testing.B) {
			a := mustAccount(b, rfcSeed, ba.alg, 6, 30)
			t0 := time.Unix(1111111111, 0)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s, err := a.Code(t0.Add(time.Duration(i) * 30 * time.Second))
				if err != nil {
					b.Fatal(err)
				}
				benchSink = s
				i++
			}
		})
	}
}

// BenchmarkAppendCode measures the allocation-free form.
func BenchmarkAppendCode(b *testing.B) {
	for _, ba := range benchAlgs {
		b.Run(ba.name, func(b *testing.B) {
			a := mustAccount(b, rfcSeed, ba.alg, 6, 30)
			buf := make([]byte, 0, MaxDigits)
			b.ReportAllocs()
			s := uint64(37037037)
			for b.Loop() {
				buf = a.AppendCode(buf[:0], s)
				s++
			}
		})
	}
}

// BenchmarkPquerna measures totp.GenerateCodeCustom, the baseline, on the
// same secret and times.
func BenchmarkPquerna(b *testing.B) {
	for _, ba := range benchAlgs {
		b.Run(ba.name, func(b *testing.B) {
			secret := base32.StdEncoding.EncodeToString(rfcSeed)
			opts := totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: ba.otp}
			t0 := time.Unix(1111111111, 0)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s, err := totp.GenerateCodeCustom(secret, t0.Add(time.Duration(i)*30*time.Second), opts)
				if err != nil {
					b.Fatal(err)
				}
				benchSink = s
				i++
			}
		})
	}
}
