package scanner

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestDecodeSecret(t *testing.T) {
	want := []byte("12345678901234567890") // RFC 6238 test key
	const canon = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	tests := []struct {
		name string
		in   string
	}{
		{"canonical", canon},
		{"lower case", strings.ToLower(canon)},
		{"grouped with spaces", "gezd gnbv gy3t qojq gezd gnbv gy3t qojq"},
		{"grouped with hyphens", "GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ"},
		{"tab", "GEZDGNBVGY3TQOJQ\tGEZDGNBVGY3TQOJQ"},
	}
	for _, tt := range tests {
		got, err := DecodeSecret(tt.in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("DecodeSecret(%q) = %x, %v; want %x", tt.in, got, err, want)
		}
	}
	// Lengths that need padding, with and without it.
	for n := 1; n <= 11; n++ {
		b := bytes.Repeat([]byte{0xA5}, n)
		s := EncodeSecret(b)
		padded := s + strings.Repeat("=", (8-len(s)%8)%8)
		for _, in := range []string{s, padded} {
			got, err := DecodeSecret(in)
			if err != nil || !bytes.Equal(got, b) {
				t.Errorf("DecodeSecret(%q) = %x, %v; want %x", in, got, err, b)
			}
		}
	}
}

func TestDecodeSecretRefused(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{"", "empty"},
		{"   ", "empty"},
		{"JBSW Y3DP EHPK 3PX0", "character 19 is one of the digits 0, 1, 8, 9"},
		{"1BSWY3DPEHPK3PXP", "character 1 is one of the digits"},
		{"JBSWY3DPEHPK3PX8", "character 16 is one of the digits"},
		{"JBSWY3DPEHPK3PX9", "character 16"},
		{"JBSWY3DP!HPK3PXP", "character 9 is not in the base32 alphabet"},
		{"JBSWY3DP\u00e9HPK3PXP", "character 9 is not in the base32 alphabet"},
		{"JBSWY3DP=HPK3PXP", "character 10 follows '=' padding"},
		{"JBSWY3DPE", "9 characters"},      // 9 % 8 == 1
		{"J", "has 1 character, a length"}, // regression: "has 1 characters"
		{"JBSWY3DPEHP", "11 characters"},   // 11 % 8 == 3
		{"JBSWY3DPEHPK3P", "14 characters"},
		{"JBSWY3DPEH==", "padding characters where 6 are needed"},
		{strings.Repeat("A", maxSecretChars+1), "more than the 1024 accepted"},
	}
	for _, tt := range tests {
		got, err := DecodeSecret(tt.in)
		if err == nil {
			t.Errorf("DecodeSecret(%q) = %x, nil; want error containing %q", tt.in, got, tt.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("DecodeSecret(%q) error = %q; want it to contain %q", tt.in, err, tt.wantErr)
		}
		if len(tt.in) >= 8 && strings.Contains(err.Error(), tt.in[:8]) {
			t.Errorf("DecodeSecret(%q) error %q echoes the secret", tt.in, err)
		}
	}
}

func TestSecretPreview(t *testing.T) {
	got := secretPreview([]byte("12345678901234567890"))
	if got != "160 bits, GEZD..." {
		t.Errorf("secretPreview = %q", got)
	}
}

func TestSecretRedacted(t *testing.T) {
	s := Secret("12345678901234567890")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q", "%d"} {
		for _, v := range []any{s, Options{ExpectSecret: s}, &Options{ExpectSecret: s}} {
			got := fmt.Sprintf(verb, v)
			if strings.Contains(got, "1234") || strings.Contains(got, "3132") || strings.Contains(got, "49 50") {
				t.Errorf("Sprintf(%s, %T) = %s shows the secret", verb, v, got)
			}
		}
	}
}
