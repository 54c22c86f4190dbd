package emulator

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// rfcSeedB32 is base32 of "12345678901234567890".
const rfcSeedB32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

func TestManualEntryAcceptsWhatPeopleType(t *testing.T) {
	want := mustAccount(t, rfcSeed, SHA1, 6, 30).CodeAtStep(1)
	for _, key := range []string{
		rfcSeedB32,
		strings.ToLower(rfcSeedB32),
		"gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
		"GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ",
		" " + rfcSeedB32 + " ",
	} {
		a, err := ManualEntry("alice@example.com", key, "Example")
		if err != nil {
			t.Errorf("ManualEntry(key=%q): %v", key, err)
			continue
		}
		if got := a.CodeAtStep(1); got != want || a.Label() != "Example:alice@example.com" || a.Digits != 6 || a.Period != 30 || a.Algorithm != SHA1 {
			t.Errorf("ManualEntry(key=%q) = %v code %q; want Example:alice@example.com, code %q", key, a, got, want)
		}
	}
	// 16 base32 characters = 80 bits, the minimum; padding accepted.
	if _, err := ManualEntry("n", "JBSWY3DPEHPK3PXP", ""); err != nil {
		t.Errorf("ManualEntry(80-bit key): %v", err)
	}
	if _, err := ManualEntry("n", "MFRGGZDFMZTWQ2LK", ""); err != nil {
		t.Errorf("ManualEntry(80-bit key, lower entropy): %v", err)
	}
	if _, err := ManualEntry("n", "GEZDGNBVGY3TQOJQGEZA====", ""); err != nil {
		t.Errorf("ManualEntry(padded key): %v", err)
	}
}

func TestManualEntryRefusesWithoutLeakingKey(t *testing.T) {
	tests := []struct{ name, key string }{
		{"digit 1", "GEZDGNBVGY3TQOJ1GEZDGNBVGY3TQOJQ"},
		{"digit 0 and 8", "GEZDGNBVGY3TQ0J8GEZDGNBVGY3TQOJQ"},
		{"punctuation", "GEZDGNBV!Y3TQOJQGEZDGNBVGY3TQOJQ"},
		{"72 bits", "GEZDGNBVGY3TQOI"},
		{"48 bits", "GEZDGNBVGY"},
		{"empty", ""},
		{"spaces only", "    "},
		{"url-safe base64", "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA_"},
		{"too long", strings.Repeat("A", 5000)},
		{"non-ASCII", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJÉ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ManualEntry("alice", tt.key, "Example")
			if err == nil {
				t.Fatalf("ManualEntry(key=%q) = %v; want error", tt.key, a)
			}
			msg := err.Error()
			if strings.TrimSpace(tt.key) != "" && len(tt.key) >= 8 && strings.Contains(strings.ToUpper(msg), strings.ToUpper(strings.TrimSpace(tt.key))[:8]) {
				t.Errorf("ManualEntry(key=%q) error %q contains the key", tt.key, msg)
			}
			if !strings.Contains(msg, "alice") {
				t.Errorf("ManualEntry(key=%q) error %q does not name the account", tt.key, msg)
			}
		})
	}
	if _, err := ManualEntry("  ", rfcSeedB32, ""); err == nil {
		t.Error("ManualEntry with empty name: no error")
	}
	if _, err := ManualEntry("alice", "GEZDGNBVGY", ""); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("ManualEntry(48-bit key) error = %v; want ErrInvalidKey", err)
	}
}

func TestAccountFromURI(t *testing.T) {
	a, err := AccountFromURI("otpauth://totp/Example:alice@example.com?secret=" + rfcSeedB32 + "&issuer=Example&algorithm=SHA256&digits=8&period=60")
	if err != nil {
		t.Fatal(err)
	}
	if a.Label() != "Example:alice@example.com" || a.Algorithm != SHA256 || a.Digits != 8 || a.Period != 60 {
		t.Errorf("AccountFromURI = %v; want Example:alice@example.com SHA256 8 digits 60 s", a)
	}
	if got, want := a.CodeAtStep(5), pquernaCode(t, rfcSeed, 300, SHA256, 8, 60); got != want {
		t.Errorf("CodeAtStep(5) = %q, pquerna %q", got, want)
	}
	d, err := AccountFromURI("otpauth://totp/alice?secret=" + rfcSeedB32)
	if err != nil || d.Issuer != "" || d.Name != "alice" || d.Algorithm != SHA1 || d.Digits != 6 || d.Period != 30 {
		t.Errorf("AccountFromURI(defaults) = %v, %v; want alice SHA1 6 digits 30 s", d, err)
	}
	if c, err := d.Code(time.Unix(59, 0)); err != nil || c != "287082" {
		t.Errorf("Code(59) = %q, %v; want RFC 4226 counter 1 code 287082", c, err)
	}
}

func TestAccountFromURIRefuses(t *testing.T) {
	const secret = rfcSeedB32
	for name, uri := range map[string]string{
		"https":          "https://example.com/totp/a?secret=" + secret,
		"derp type":      "otpauth://derp/a?secret=" + secret,
		"hotp":           "otpauth://hotp/a?secret=" + secret + "&counter=0",
		"no secret":      "otpauth://totp/a",
		"empty secret":   "otpauth://totp/a?secret=",
		"72-bit secret":  "otpauth://totp/a?secret=GEZDGNBVGY3TQOI",
		"digits 5":       "otpauth://totp/a?secret=" + secret + "&digits=5",
		"digits 19":      "otpauth://totp/a?secret=" + secret + "&digits=19",
		"period 0":       "otpauth://totp/a?secret=" + secret + "&period=0",
		"period -30":     "otpauth://totp/a?secret=" + secret + "&period=-30",
		"MD5":            "otpauth://totp/a?secret=" + secret + "&algorithm=MD5",
		"issuer differs": "otpauth://totp/A:a?secret=" + secret + "&issuer=B",
		"garbage":        "\x00\xff",
		"empty":          "",
	} {
		t.Run(name, func(t *testing.T) {
			a, err := AccountFromURI(uri)
			if err == nil {
				t.Fatalf("AccountFromURI(%q) = %v; want error", uri, a)
			}
			if strings.Contains(err.Error(), secret[:16]) {
				t.Errorf("AccountFromURI(%q) error %q contains the secret", uri, err)
			}
		})
	}
}

func TestRevealURIRoundTrip(t *testing.T) {
	for _, a := range []*Account{
		mustAccount(t, rfcSeed, SHA1, 6, 30),
		mustAccount(t, []byte("12345678901234567890123456789012"), SHA256, 8, 60),
		func() *Account {
			a, err := NewAccount("ACME Co & Sons", "bob smith/ops?x=1", rfcSeed, SHA512, 7, 45)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}(),
		func() *Account {
			a, err := NewAccount("", "solo", rfcSeed, SHA1, 6, 30)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}(),
	} {
		uri := a.RevealURI()
		b, err := AccountFromURI(uri)
		if err != nil {
			t.Errorf("AccountFromURI(%v.RevealURI()): %v", a, err)
			continue
		}
		if b.Label() != a.Label() || b.Algorithm != a.Algorithm || b.Digits != a.Digits || b.Period != a.Period || b.SecretBase32() != a.SecretBase32() {
			t.Errorf("round trip of %v through its URI gave %v", a, b)
		}
	}
}
