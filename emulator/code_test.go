package emulator

import (
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

var rfcSeed = []byte("12345678901234567890")

func mustAccount(t testing.TB, secret []byte, alg Algorithm, digits, period int) *Account {
	t.Helper()
	a, err := NewAccount("Example", "alice@example.com", secret, alg, digits, period)
	if err != nil {
		t.Fatalf("NewAccount(alg=%s, digits=%d, period=%d): %v", alg, digits, period, err)
	}
	return a
}

func TestRFC6238AppendixB(t *testing.T) {
	for _, v := range rfc6238Vectors(t) {
		t.Run(fmt.Sprintf("%s/%d", v.alg, v.unix), func(t *testing.T) {
			a := mustAccount(t, v.secret, v.alg, v.digits, v.period)
			got, err := a.Code(time.Unix(v.unix, 0))
			if err != nil || got != v.code {
				t.Errorf("line %d: Code(unix=%d, %s, %d digits) = %q, %v; want %q", v.line, v.unix, v.alg, v.digits, got, err, v.code)
			}
		})
	}
}

func TestRFC4226AppendixD(t *testing.T) {
	for _, v := range rfc4226Vectors(t) {
		t.Run(fmt.Sprintf("counter=%d", v.counter), func(t *testing.T) {
			a := mustAccount(t, v.secret, v.alg, v.digits, DefaultPeriod)
			if got := a.CodeAtStep(v.counter); got != v.code {
				t.Errorf("line %d: CodeAtStep(%d) = %q, want %q", v.line, v.counter, got, v.code)
			}
			if got := string(a.AppendCode([]byte("x"), v.counter)); got != "x"+v.code {
				t.Errorf("line %d: AppendCode(%q, %d) = %q, want %q", v.line, "x", v.counter, got, "x"+v.code)
			}
		})
	}
}

// pquernaCode is the reference implementation the emulator is checked
// against (the reference server verifies with it too).
func pquernaCode(t testing.TB, secret []byte, unix int64, alg Algorithm, digits, period int) string {
	t.Helper()
	algs := map[Algorithm]otp.Algorithm{SHA1: otp.AlgorithmSHA1, SHA256: otp.AlgorithmSHA256, SHA512: otp.AlgorithmSHA512}
	code, err := totp.GenerateCodeCustom(base32.StdEncoding.EncodeToString(secret), time.Unix(unix, 0),
		totp.ValidateOpts{Period: uint(period), Digits: otp.Digits(digits), Algorithm: algs[alg]})
	if err != nil {
		t.Fatalf("pquerna GenerateCodeCustom(unix=%d, %s, %d digits, period %d): %v", unix, alg, digits, period, err)
	}
	return code
}

func TestStepBoundaries(t *testing.T) {
	a := mustAccount(t, rfcSeed, SHA1, 6, 30)
	tests := []struct {
		unix     int64
		nsec     int64
		step     uint64
		validFor time.Duration
	}{
		{0, 0, 0, 30 * time.Second},
		{29, 0, 0, 1 * time.Second},
		{29, 999999999, 0, 1 * time.Nanosecond},
		{30, 0, 1, 30 * time.Second},
		{31, 0, 1, 29 * time.Second},
		{59, 0, 1, 1 * time.Second},
		{60, 0, 2, 30 * time.Second},
		{61, 0, 2, 29 * time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("t=%d.%09d", tt.unix, tt.nsec), func(t *testing.T) {
			at := time.Unix(tt.unix, tt.nsec)
			s, err := a.Step(at)
			if err != nil || s != tt.step {
				t.Errorf("Step(%d.%09d) = %d, %v; want %d", tt.unix, tt.nsec, s, err, tt.step)
			}
			code, err := a.Code(at)
			if want := pquernaCode(t, rfcSeed, tt.unix, SHA1, 6, 30); err != nil || code != want {
				t.Errorf("Code(%d.%09d) = %q, %v; want %q (pquerna)", tt.unix, tt.nsec, code, err, want)
			}
			if code != a.CodeAtStep(tt.step) {
				t.Errorf("Code(%d.%09d) = %q, CodeAtStep(%d) = %q", tt.unix, tt.nsec, code, tt.step, a.CodeAtStep(tt.step))
			}
			if got := a.ValidFor(at); got != tt.validFor {
				t.Errorf("ValidFor(%d.%09d) = %v, want %v", tt.unix, tt.nsec, got, tt.validFor)
			}
		})
	}
}

func TestStepBoundariesPeriod60(t *testing.T) {
	a := mustAccount(t, rfcSeed, SHA1, 6, 60)
	for _, tt := range []struct {
		unix int64
		step uint64
	}{{59, 0}, {60, 1}, {61, 1}, {119, 1}, {120, 2}} {
		if s, err := a.Step(time.Unix(tt.unix, 0)); err != nil || s != tt.step {
			t.Errorf("period 60: Step(%d) = %d, %v; want %d", tt.unix, s, err, tt.step)
		}
	}
}

func TestLeadingZerosKept(t *testing.T) {
	for _, digits := range []int{6, 7, 8} {
		a := mustAccount(t, rfcSeed, SHA1, digits, 30)
		zeros := 0
		for s := uint64(0); s < 300; s++ {
			got := a.CodeAtStep(s)
			if len(got) != digits {
				t.Fatalf("digits=%d: CodeAtStep(%d) = %q, want %d characters", digits, s, got, digits)
			}
			if want := pquernaCode(t, rfcSeed, int64(s)*30, SHA1, digits, 30); got != want {
				t.Fatalf("digits=%d: CodeAtStep(%d) = %q, pquerna %q", digits, s, got, want)
			}
			if got[0] == '0' {
				zeros++
			}
		}
		if zeros == 0 {
			t.Errorf("digits=%d: no code with a leading zero in 300 steps; the check proves nothing", digits)
		}
	}
}

func TestBeforeEpochIsError(t *testing.T) {
	a := mustAccount(t, rfcSeed, SHA1, 6, 30)
	for _, at := range []time.Time{time.Unix(-1, 0), time.Unix(0, -1), time.Unix(-30, 0), time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)} {
		if code, err := a.Code(at); !errors.Is(err, ErrBeforeEpoch) {
			t.Errorf("Code(%v) = %q, %v; want ErrBeforeEpoch", at, code, err)
		}
		if _, _, err := a.BindCodes(at); !errors.Is(err, ErrBeforeEpoch) {
			t.Errorf("BindCodes(%v) error = %v; want ErrBeforeEpoch", at, err)
		}
		if _, err := a.Next(at, 3); !errors.Is(err, ErrBeforeEpoch) {
			t.Errorf("Next(%v, 3) error = %v; want ErrBeforeEpoch", at, err)
		}
		if d := a.ValidFor(at); d != 0 {
			t.Errorf("ValidFor(%v) = %v, want 0", at, d)
		}
	}
	if code, err := a.Code(time.Unix(0, 0)); err != nil || len(code) != 6 {
		t.Errorf("Code(epoch) = %q, %v; want a code", code, err)
	}
}

func TestNextAndBindCodes(t *testing.T) {
	seed256 := []byte("12345678901234567890123456789012") // RFC 6238's SHA256 seed
	a := mustAccount(t, seed256, SHA256, 8, 30)
	at := time.Unix(1111111111, 0)
	codes, err := a.Next(at, 4)
	if err != nil || len(codes) != 4 {
		t.Fatalf("Next(%v, 4) = %v, %v", at, codes, err)
	}
	first := uint64(1111111111 / 30)
	for i, c := range codes {
		s := first + uint64(i)
		if c.Step != s || c.Value != a.CodeAtStep(s) || !c.Start.Equal(time.Unix(int64(s)*30, 0)) || c.End.Sub(c.Start) != 30*time.Second {
			t.Errorf("Next[%d] = %+v; want step %d, code %q, start %d", i, c, s, a.CodeAtStep(s), s*30)
		}
	}
	if codes[0].Value != "67062674" {
		t.Errorf("Next[0] at 1111111111 SHA256 = %q, want the RFC 6238 vector 67062674", codes[0].Value)
	}
	c1, c2, err := a.BindCodes(at)
	if err != nil || c1 != codes[0].Value || c2 != codes[1].Value {
		t.Errorf("BindCodes(%v) = %q, %q, %v; want %q, %q", at, c1, c2, err, codes[0].Value, codes[1].Value)
	}
	if got := codes[0].ValidFor(at); got != 29*time.Second {
		t.Errorf("Code.ValidFor(1111111111) = %v, want 29s", got)
	}
	for _, n := range []int{-1, maxNextCodes + 1} {
		if _, err := a.Next(at, n); err == nil {
			t.Errorf("Next(%v, %d): no error", at, n)
		}
	}
	if codes, err := a.Next(at, 0); err != nil || len(codes) != 0 {
		t.Errorf("Next(%v, 0) = %v, %v; want none", at, codes, err)
	}
}

func TestAlgorithmChangeRecomputesKey(t *testing.T) {
	vs := rfc6238Vectors(t)
	a := mustAccount(t, vs[0].secret, SHA1, 8, 30)
	_ = a.CodeAtStep(1) // cache the SHA1 state
	a.Algorithm = SHA256
	want := pquernaCode(t, vs[0].secret, 59, SHA256, 8, 30)
	if got, err := a.Code(time.Unix(59, 0)); err != nil || got != want {
		t.Errorf("after Algorithm = SHA256: Code(59) = %q, %v; want %q", got, err, want)
	}
}

func TestNewAccountRefuses(t *testing.T) {
	long := strings.Repeat("x", maxLabelPart+1)
	tests := []struct {
		name, issuer, account string
		secret                []byte
		alg                   Algorithm
		digits, period        int
	}{
		{"secret 72 bits", "I", "n", make([]byte, 9), SHA1, 6, 30},
		{"secret empty", "I", "n", nil, SHA1, 6, 30},
		{"secret 1025 bytes", "I", "n", make([]byte, MaxSecretBytes+1), SHA1, 6, 30},
		{"digits 5", "I", "n", rfcSeed, SHA1, 5, 30},
		{"digits 9", "I", "n", rfcSeed, SHA1, 9, 30},
		{"digits -6", "I", "n", rfcSeed, SHA1, -6, 30},
		{"period -1", "I", "n", rfcSeed, SHA1, 6, -1},
		{"period 301", "I", "n", rfcSeed, SHA1, 6, 301},
		{"algorithm 3", "I", "n", rfcSeed, Algorithm(3), 6, 30},
		{"name empty", "I", "", rfcSeed, SHA1, 6, 30},
		{"name too long", "I", long, rfcSeed, SHA1, 6, 30},
		{"name newline", "I", "a\nb", rfcSeed, SHA1, 6, 30},
		{"name trailing space", "I", "a ", rfcSeed, SHA1, 6, 30},
		{"name invalid utf8", "I", "a\xff", rfcSeed, SHA1, 6, 30},
		{"issuer colon", "A:B", "n", rfcSeed, SHA1, 6, 30},
		{"issuer control", "A\x00", "n", rfcSeed, SHA1, 6, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAccount(tt.issuer, tt.account, tt.secret, tt.alg, tt.digits, tt.period)
			if err == nil {
				t.Fatalf("NewAccount(%q, %q, %d-byte secret, %v, %d, %d) = %v; want error", tt.issuer, tt.account, len(tt.secret), tt.alg, tt.digits, tt.period, a)
			}
		})
	}
	a, err := NewAccount("", "n", rfcSeed, SHA1, 0, 0)
	if err != nil || a.Digits != DefaultDigits || a.Period != DefaultPeriod || a.Label() != "n" {
		t.Errorf("NewAccount with zero digits and period = %v, %v; want defaults %d, %d", a, err, DefaultDigits, DefaultPeriod)
	}
}

func TestInvalidAccountGivesNoCode(t *testing.T) {
	var zero Account
	if got := zero.CodeAtStep(1); got != "" {
		t.Errorf("zero Account CodeAtStep(1) = %q, want \"\"", got)
	}
	if _, err := zero.Code(time.Unix(59, 0)); err == nil {
		t.Error("zero Account Code(59): no error")
	}
	a := mustAccount(t, rfcSeed, SHA1, 6, 30)
	a.Digits = 10
	if got := a.CodeAtStep(1); got != "" {
		t.Errorf("digits 10: CodeAtStep(1) = %q, want \"\"", got)
	}
	if _, err := a.Code(time.Unix(59, 0)); err == nil {
		t.Error("digits 10: Code(59): no error")
	}
}

func TestCodeConcurrent(t *testing.T) {
	a := mustAccount(t, rfcSeed, SHA512, 8, 30)
	want := make([]string, 64)
	for i := range want {
		want[i] = pquernaCode(t, rfcSeed, int64(i)*30, SHA512, 8, 30)
	}
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func() {
			for r := 0; r < 20; r++ {
				for i, w := range want {
					if got := a.CodeAtStep(uint64(i)); got != w {
						done <- fmt.Errorf("CodeAtStep(%d) = %q, want %q", i, got, w)
						return
					}
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestParseAlgorithm(t *testing.T) {
	for in, want := range map[string]Algorithm{"SHA1": SHA1, "sha1": SHA1, "SHA-256": SHA256, "sha512": SHA512} {
		if got, err := ParseAlgorithm(in); err != nil || got != want {
			t.Errorf("ParseAlgorithm(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MD5", "SHA384", "SHA-1-", strings.Repeat("A", 100)} {
		if got, err := ParseAlgorithm(in); err == nil {
			t.Errorf("ParseAlgorithm(%q) = %v; want error", in, got)
		}
	}
}
