package scanner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"

func TestParseURIKey(t *testing.T) {
	tests := []struct {
		uri  string
		want Key
	}{
		{"otpauth://totp/Example:alice@google.com?secret=" + rfcSecret + "&issuer=Example",
			Key{Type: "totp", Issuer: "Example", Account: "alice@google.com", Algorithm: "SHA1", Digits: 6, Period: 30}},
		{"otpauth://totp/ACME%20Co:john.doe@email.com?secret=" + rfcSecret + "&issuer=ACME%20Co&algorithm=SHA512&digits=8&period=60",
			Key{Type: "totp", Issuer: "ACME Co", Account: "john.doe@email.com", Algorithm: "SHA512", Digits: 8, Period: 60}},
		{"otpauth://totp/Example%3A%20alice?secret=" + rfcSecret + "&issuer=Example&algorithm=sha256&digits=7",
			Key{Type: "totp", Issuer: "Example", Account: "alice", Algorithm: "SHA256", Digits: 7, Period: 30}},
		{"otpauth://hotp/Example:bob?secret=" + rfcSecret + "&issuer=Example&counter=18446744073709551615",
			Key{Type: "hotp", Issuer: "Example", Account: "bob", Algorithm: "SHA1", Digits: 6, Counter: 18446744073709551615, HasCounter: true}},
		{"otpauth://TOTP/bob?secret=" + rfcSecret + "&issuer=Param",
			Key{Type: "totp", Issuer: "Param", Account: "bob", Algorithm: "SHA1", Digits: 6, Period: 30}},
	}
	for _, tt := range tests {
		k, fs := ParseURI(tt.uri)
		if k == nil {
			t.Errorf("ParseURI(%q) = nil key, findings %v", tt.uri, fs)
			continue
		}
		if !bytes.Equal(k.Secret, []byte("12345678901234567890")) {
			t.Errorf("ParseURI(%q) secret = %x", tt.uri, k.Secret)
		}
		got := *k
		got.Secret = nil
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.want) {
			t.Errorf("ParseURI(%q)\n got %#v\nwant %#v", tt.uri, got, tt.want)
		}
		if HasError(fs) {
			t.Errorf("ParseURI(%q) has error findings %v", tt.uri, fs)
		}
	}
}

// TestParseURIUnusable: what pquerna/otp's NewKeyFromURL accepts and
// silently defaults is refused here with no key and an error finding.
func TestParseURIUnusable(t *testing.T) {
	good := "otpauth://totp/Example:alice?issuer=Example&secret=" + rfcSecret
	tests := []struct {
		uri, rule string
	}{
		{"https://example.com/totp/Example:alice?secret=" + rfcSecret, RuleURIScheme},
		{"http://example.com/", RuleURIScheme},
		{"otpauth-migration://offline?data=AAAA", RuleURIScheme},
		{"JBSWY3DPEHPK3PXP", RuleURIScheme},
		{"mailto:alice@example.com", RuleURIScheme},
		{"otpauth:totp/Example:alice?secret=" + rfcSecret, RuleURISyntax},
		{"otpauth://derp/Example:alice?secret=" + rfcSecret, RuleTypeInvalid},
		{"otpauth:///Example:alice?secret=" + rfcSecret, RuleTypeInvalid},
		{"otpauth://totp/Example:alice?issuer=Example", RuleSecretMissing},
		{"otpauth://totp/Example:alice?issuer=Example&secret=", RuleSecretMissing},
		{"otpauth://totp/Example:alice?issuer=Example&secret===", RuleSecretMissing},
		{"otpauth://totp/Example:alice?issuer=Example&secret=0189ABCDEFGHIJKL", RuleSecretInvalid},
		{good + "&digits=0", RuleDigitsInvalid},
		{good + "&digits=5", RuleDigitsInvalid},
		{good + "&digits=9", RuleDigitsInvalid},
		{good + "&digits=19", RuleDigitsInvalid},
		{good + "&digits=-6", RuleDigitsInvalid},
		{good + "&digits=six", RuleDigitsInvalid},
		{good + "&period=0", RulePeriodInvalid},
		{good + "&period=-30", RulePeriodInvalid},
		{good + "&period=301", RulePeriodInvalid},
		{good + "&period=99999999999999999999", RulePeriodInvalid},
		{good + "&algorithm=MD5", RuleAlgorithmInvalid},
		{good + "&algorithm=SHA3-256", RuleAlgorithmInvalid},
		{good + "&algorithm=", RuleAlgorithmInvalid},
		{"otpauth://hotp/Example:alice?issuer=Example&secret=" + rfcSecret + "&counter=-1", RuleCounterInvalid},
		{"otpauth://hotp/Example:alice?issuer=Example&secret=" + rfcSecret + "&counter=18446744073709551616", RuleCounterInvalid},
		{good + "&issuer=%zz", RuleURISyntax},
		{"otpauth://totp/a\x7fb?secret=" + rfcSecret, RuleURISyntax},
		{"otpauth://totp/x?secret=" + strings.Repeat("A", maxURIBytes), RuleURISyntax},
	}
	for _, tt := range tests {
		k, fs := ParseURI(tt.uri)
		if k != nil {
			t.Errorf("ParseURI(%q) = %v; want nil key", tt.uri, k)
		}
		if !hasRule(fs, tt.rule) || !HasError(fs) {
			t.Errorf("ParseURI(%q) findings %v; want error %s", tt.uri, fs, tt.rule)
		}
		for _, f := range fs {
			if strings.Contains(f.Message+f.Hint, rfcSecret[:10]) {
				t.Errorf("ParseURI(%q) finding %v shows the secret", tt.uri, f)
			}
		}
	}
}

func hasRule(fs []Finding, id string) bool {
	for _, f := range fs {
		if f.Rule == id {
			return true
		}
	}
	return false
}

// TestKeyRedacted: no fmt verb, slog or JSON shows the secret.
func TestKeyRedacted(t *testing.T) {
	k, _ := ParseURI("otpauth://totp/Example:alice?issuer=Example&secret=" + rfcSecret)
	if k == nil {
		t.Fatal("no key")
	}
	secret := string(k.Secret)
	forms := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		forms[verb+" value"] = fmt.Sprintf(verb, *k)
		forms[verb+" pointer"] = fmt.Sprintf(verb, k)
		forms[verb+" in struct"] = fmt.Sprintf(verb, struct{ K Key }{*k})
		forms[verb+" in slice"] = fmt.Sprintf(verb, []*Key{k})
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("enrolled", "key", k)
	forms["slog"] = logBuf.String()
	j, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	forms["json"] = string(j)
	hexSecret := fmt.Sprintf("%x", k.Secret)
	for name, s := range forms {
		for _, leak := range []string{secret, rfcSecret, hexSecret, strings.ToUpper(hexSecret), "49 50 51"} {
			if strings.Contains(s, leak) {
				t.Errorf("%s shows the secret: %s", name, s)
			}
		}
	}
	if !strings.Contains(forms["%v value"], "redacted 160 bits") {
		t.Errorf("%%v = %q, want the redacted length", forms["%v value"])
	}
	if !strings.Contains(forms["slog"], "secret_bits=160") {
		t.Errorf("slog = %q", forms["slog"])
	}
}
