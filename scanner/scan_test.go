package scanner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

const (
	goodURI   = "otpauth://totp/Example:alice@example.com?secret=" + rfcSecret + "&issuer=Example"
	otherSeed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
)

// scanRuleCase is a row of the lint table for the rules that need a whole
// input: no code, several codes, expectations, the seed of a JSON response,
// an export.
type scanRuleCase struct {
	rule string
	fire bool
	name string
	data func(t testing.TB) []byte
	opts Options
}

func text(s string) func(testing.TB) []byte { return func(testing.TB) []byte { return []byte(s) } }

func jsonResponse(uri, seed string) func(testing.TB) []byte {
	return func(t testing.TB) []byte {
		return fmt.Appendf(nil, `{"RequestId":"r1","VirtualMFADevice":{"SerialNumber":"acs:ram::1:mfa/alice","Base32StringSeed":%q,"QRCodePNG":%q}}`, seed, b64(qrPNG(t, uri)))
	}
}

var migOne = migrationURI(encodePayload(payload{version: 1, batchSize: 1, accounts: []migAccount{
	{secret: []byte("12345678901234567890"), name: "alice@example.com", issuer: "Example", typ: 2, algo: 1, digits: 1}}}))

var scanRuleCases = []scanRuleCase{
	{rule: RuleInputNoCode, fire: true, name: "blank PNG", data: blankPNG},
	{rule: RuleInputNoCode, fire: false, name: "PNG with a code", data: func(t testing.TB) []byte { return qrPNG(t, goodURI) }},

	{rule: RuleInputMultiple, fire: true, name: "two codes", data: func(t testing.TB) []byte { return twoCodesPNG(t, goodURI, "https://example.com/help") }},
	{rule: RuleInputMultiple, fire: false, name: "one code", data: func(t testing.TB) []byte { return qrPNG(t, goodURI) }},

	{rule: RuleExpectIssuer, fire: true, name: "issuer Example, expect Other", data: text(goodURI), opts: Options{ExpectIssuer: "Other"}},
	{rule: RuleExpectIssuer, fire: false, name: "issuer Example, expect Example", data: text(goodURI), opts: Options{ExpectIssuer: "Example"}},

	{rule: RuleExpectAccount, fire: true, name: "account alice, expect bob", data: text(goodURI), opts: Options{ExpectAccount: "bob@example.com"}},
	{rule: RuleExpectAccount, fire: true, name: "export account alice, expect bob", data: text(migOne), opts: Options{ExpectAccount: "bob@example.com"}},
	{rule: RuleExpectAccount, fire: false, name: "account alice, expect alice", data: text(goodURI), opts: Options{ExpectAccount: "alice@example.com"}},

	{rule: RuleExpectSecret, fire: true, name: "other secret expected", data: text(goodURI), opts: Options{ExpectSecret: []byte("another secret 12345")}},
	{rule: RuleExpectSecret, fire: false, name: "same secret expected", data: text(goodURI), opts: Options{ExpectSecret: []byte("12345678901234567890")}},

	{rule: RuleSeedMismatch, fire: true, name: "JSON seed differs", data: jsonResponse(goodURI, otherSeed)},
	{rule: RuleSeedMismatch, fire: false, name: "JSON seed equal, spaced lower case", data: jsonResponse(goodURI, "gezd gnbv gy3t qojq gezd gnbv gy3t qojq")},

	{rule: RuleSeedMismatch, fire: false, name: "Base32StringSeed wins over secret", data: func(t testing.TB) []byte {
		return fmt.Appendf(nil, `{"secret":%q,"VirtualMFADevice":{"Base32StringSeed":%q,"QRCodePNG":%q}}`, otherSeed, rfcSecret, b64(qrPNG(t, goodURI)))
	}},

	{rule: RuleSeedInvalid, fire: true, name: "JSON seed not base32", data: jsonResponse(goodURI, "0189")},
	{rule: RuleSeedInvalid, fire: false, name: "JSON seed base32", data: jsonResponse(goodURI, rfcSecret)},

	{rule: RuleMarginLow, fire: true, name: "tilt 89 degrees required", data: func(t testing.TB) []byte { return qrPNG(t, goodURI) },
		opts: Options{MinMargin: &MarginLimits{TiltDeg: 89}}},
	{rule: RuleMarginLow, fire: false, name: "rotation 5 degrees required", data: func(t testing.TB) []byte { return qrPNG(t, goodURI) },
		opts: Options{MinMargin: &MarginLimits{RotateDeg: 5}}},

	{rule: RuleMigrationInvalid, fire: true, name: "export data not base64", data: text("otpauth-migration://offline?data=%%%%")},
	{rule: RuleMigrationInvalid, fire: true, name: "export data not protobuf", data: text("otpauth-migration://offline?data=" + b64([]byte{0x0a, 0xff}))},
	{rule: RuleMigrationInvalid, fire: true, name: "export without accounts", data: text("otpauth-migration://offline?data=" + b64(encodePayload(payload{version: 1})))},
	{rule: RuleMigrationInvalid, fire: false, name: "export of one account", data: text(migOne)},

	{rule: RuleMigrationBatch, fire: true, name: "export part 1 of 2", data: text(migrationURI(encodePayload(payload{version: 1, batchSize: 2, accounts: []migAccount{
		{secret: []byte("12345678901234567890"), name: "alice", issuer: "Example", typ: 2}}})))},
	{rule: RuleMigrationBatch, fire: false, name: "export of one code", data: text(migOne)},
}

func TestScanRules(t *testing.T) {
	ctx := context.Background()
	for _, c := range scanRuleCases {
		if raceEnabled && c.opts.MinMargin != nil {
			continue // margin sweeps are pure computation: the plain run has them
		}
		res, err := ScanInput(ctx, c.name, c.data(t), c.opts)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := hasRule(res.AllFindings(), c.rule); got != c.fire {
			t.Errorf("%s: rule %s fired=%v, want %v; findings %v", c.name, c.rule, got, c.fire, res.AllFindings())
		}
	}
}

// TestScanForms: every input form is detected from its content and gives
// the same key.
func TestScanForms(t *testing.T) {
	png := qrPNG(t, goodURI)
	dataURL := "data:image/png;base64," + b64(png)
	tests := []struct {
		name string
		data []byte
		form Form
	}{
		{"raw PNG", png, FormImage},
		{"base64 PNG", []byte(b64(png)), FormBase64},
		{"base64 PNG with line breaks", []byte(wrap(b64(png), 76)), FormBase64},
		{"data URL", []byte(dataURL), FormDataURL},
		{"data URL, type in capitals", []byte("DATA:IMAGE/PNG;BASE64," + b64(png)), FormDataURL},
		{"HTML page", []byte(`<!doctype html><html><body><h1>Account protection</h1><img src="data:image/svg+xml;base64,PHN2Zy8+" alt="logo"><p>Scan this</p><img alt="qr" src="` + dataURL + `"></body></html>`), FormHTML},
		{"Alibaba JSON", jsonResponse(goodURI, rfcSecret)(t), FormJSON},
		{"AWS JSON", fmt.Appendf(nil, `{"VirtualMFADevice":{"SerialNumber":"arn:aws:iam::1:mfa/alice","Base32StringSeed":%q,"QRCodePNG":%q}}`, rfcSecret, b64(png)), FormJSON},
		{"reference console JSON", fmt.Appendf(nil, `{"qr_png":%q,"secret":%q,"account":"alice"}`, b64(png), rfcSecret), FormJSON},
		{"JSON with a data URL", fmt.Appendf(nil, `{"QRCodePNG":%q}`, dataURL), FormJSON},
		{"JSON with a data URL under another key", fmt.Appendf(nil, `{"mfa":{"qrCodeImage":%q}}`, dataURL), FormJSON},
		{"JSON with a URI only", fmt.Appendf(nil, `{"uri":%q}`, goodURI), FormJSON},
		{"otpauth text", []byte(goodURI + "\n"), FormText},
	}
	for _, tt := range tests {
		res, err := ScanInput(context.Background(), tt.name, tt.data, Options{})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if res.Form != tt.form || res.Status != StatusOK || len(res.Codes) != 1 || res.Codes[0].Key == nil {
			t.Errorf("%s: form %s status %s codes %+v; want form %s, one code with a key", tt.name, res.Form, res.Status, res.Codes, tt.form)
			continue
		}
		k := res.Codes[0].Key
		if k.Issuer != "Example" || k.Account != "alice@example.com" || string(k.Secret) != "12345678901234567890" {
			t.Errorf("%s: key %v", tt.name, k)
		}
		if HasError(res.AllFindings()) {
			t.Errorf("%s: error findings %v", tt.name, res.AllFindings())
		}
	}
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\r\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

// TestScanStatuses: no code, two codes, a web URL each have their own
// named result.
func TestScanStatuses(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		status Status
		kinds  []Kind
	}{
		{"blank image", blankPNG(t), StatusNoCode, nil},
		{"two codes", twoCodesPNG(t, goodURI, "https://example.com/help"), StatusMultipleCodes, []Kind{KindOTPAuth, KindURL}},
		{"web URL", qrPNG(t, "https://example.com/enroll?token=abc"), StatusNotOTPAuth, []Kind{KindURL}},
		{"plain text", qrPNG(t, "hello"), StatusNotOTPAuth, []Kind{KindOther}},
		{"export", qrPNG(t, migOne), StatusOK, []Kind{KindMigration}},
	}
	for _, tt := range tests {
		res, err := ScanInput(context.Background(), tt.name, tt.data, Options{})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var kinds []Kind
		for _, c := range res.Codes {
			kinds = append(kinds, c.Kind)
		}
		slicesSort(kinds)
		if res.Status != tt.status || fmt.Sprint(kinds) != fmt.Sprint(tt.kinds) {
			t.Errorf("%s: status %s kinds %v; want %s %v", tt.name, res.Status, kinds, tt.status, tt.kinds)
		}
		if tt.status != StatusOK && !HasWarning(res.AllFindings()) {
			t.Errorf("%s: no finding for status %s", tt.name, res.Status)
		}
	}
}

func slicesSort(k []Kind) {
	for i := 1; i < len(k); i++ {
		for j := i; j > 0 && k[j] < k[j-1]; j-- {
			k[j], k[j-1] = k[j-1], k[j]
		}
	}
}

// TestScanRefused: bad input of every form is an error naming the input,
// never a panic.
func TestScanRefused(t *testing.T) {
	png := qrPNG(t, goodURI)
	urlSafe := strings.NewReplacer("+", "-", "/", "_").Replace(b64(png))
	if urlSafe == b64(png) {
		t.Fatal("test PNG's base64 has neither + nor /")
	}
	tests := []struct {
		name, data, want string
		tooLarge         bool
	}{
		{"empty", "", "empty", false},
		{"spaces", "  \n", "empty", false},
		{"html data URL", "data:text/html;base64,PGgxPg==", `type "text/html"`, false},
		{"svg data URL of no SVG", "data:image/svg+xml;base64,aGVsbG8=", "does not hold an SVG document", false},
		{"svg data URL, malformed", "data:image/svg+xml,%3Csvg%3E%3Crect%3E%3C/svg%3E", "malformed SVG", false},
		{"data URL without base64", "data:image/png,%89PNG", "not ;base64", false},
		{"data URL without comma", "data:image/png;base64", "no ','", false},
		{"data URL of no type", "data:;base64,AAAA", `type "text/plain"`, false},
		{"url-safe base64", urlSafe, "URL-safe", false},
		{"base64 with a quote", `iVBORw0KGgo"AAAA`, "character 12 is not in the base64 alphabet", false},
		{"base64 of text", b64([]byte(strings.Repeat("hello world ", 10))), "not a PNG, JPEG, GIF or WebP", false},
		{"truncated base64", b64(png)[:101], "does not decode", false},
		{"huge base64", "iVBORw0KGgo" + strings.Repeat("A", 28<<20), "decodes to more than", true},
		{"bmp", "BM" + strings.Repeat("\x00", 60), "BMP is not supported", false},
		{"random bytes", "\x00\x01\x02\x03\xfe\xff", "binary data", false},
		{"svg file, malformed", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><rect></svg>`, "malformed SVG", false},
		{"svg file of too many elements", "<svg>" + strings.Repeat("<g/>", maxSVGElements+1) + "</svg>", "more than 20000 elements", true},
		{"html with a malformed svg only", `<img src="data:image/svg+xml;base64,` + b64([]byte("<svg><rect></svg>")) + `">`, "malformed SVG", false},
		{"json qr over the cap", `{"QRCodePNG":"iVBORw0KGgo` + strings.Repeat("A", 28<<20) + `"}`, "decodes to more than", true},
		{"json broken", `{"QRCodePNG": "iVBOR`, "JSON", false},
		{"json qr not base64", `{"QRCodePNG": "not base64!"}`, "QRCodePNG", false},
		{"prose", "please scan the code below\nthank you", "not an image", false},
		{"corrupt png", string(png[:60]), "", false},
	}
	for _, tt := range tests {
		res, err := ScanInput(context.Background(), "input.bin", []byte(tt.data), Options{})
		if err == nil {
			t.Errorf("%s: no error; result %+v", tt.name, res)
			continue
		}
		if !strings.HasPrefix(err.Error(), "input.bin") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q; want it to name the input and contain %q", tt.name, err, tt.want)
		}
		if errors.Is(err, ErrTooLarge) != tt.tooLarge {
			t.Errorf("%s: errors.Is(ErrTooLarge) = %v", tt.name, !tt.tooLarge)
		}
	}
	// Over the input cap: refused before detection.
	_, err := ScanInput(context.Background(), "big", make([]byte, 2048), Options{MaxInputBytes: 1024})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("2048 bytes over a 1024 cap: %v", err)
	}
}

// TestScanRedacted: no output form of a result holds the secret.
func TestScanRedacted(t *testing.T) {
	for _, data := range [][]byte{qrPNG(t, goodURI), []byte(migOne), jsonResponse(goodURI, otherSeed)(t)} {
		res, err := ScanInput(context.Background(), "in", data, Options{ExpectSecret: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal(res)
		for _, s := range []string{string(j), fmt.Sprintf("%v %+v", res, res)} {
			for _, leak := range []string{rfcSecret[:16], "1234567890", otherSeed[:16], migOne[40:60]} {
				if strings.Contains(s, leak) {
					t.Errorf("result shows the secret: %s", s)
				}
			}
		}
	}
}

func TestRedactPayload(t *testing.T) {
	tests := []struct{ in, want string }{
		{goodURI, "otpauth://totp/Example:alice@example.com?secret=REDACTED&issuer=Example"},
		{"otpauth-migration://offline?data=abc%2B", "otpauth-migration://offline?data=REDACTED"},
		{"https://example.com/a?token=abc&x", "https://example.com/a?token=REDACTED&x"},
		{"hello world", "<11 bytes of text>"},
		{"otpauth://totp/x?SECRET=abc#frag", "otpauth://totp/x?SECRET=REDACTED"},
	}
	for _, tt := range tests {
		if got := redactPayload(tt.in); got != tt.want {
			t.Errorf("redactPayload(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestScanReadableNoCode is the regression test for an HTML page with no
// image exiting 2 (unreadable) where the docs say an input without a code
// is 1: a readable page or response holding no code is a result with
// StatusNoCode and an input-no-code finding saying why.
func TestScanReadableNoCode(t *testing.T) {
	for _, tt := range []struct{ name, data, want string }{
		{"html without images", "<html><body>hello</body></html>", "0 <img>"},
		{"html with linked image", `<html><img src="qr.png"></html>`, "1 linked"},
		{"json without qr", `{"RequestId":"x"}`, "no QRCodePNG"},
	} {
		res, err := ScanInput(context.Background(), "input.bin", []byte(tt.data), Options{})
		if err != nil {
			t.Errorf("%s: %v; want a result without a code", tt.name, err)
			continue
		}
		if res.Status != StatusNoCode || !hasRule(res.Findings, RuleInputNoCode) || !strings.Contains(res.Findings[0].Message, tt.want) {
			t.Errorf("%s: status %s, findings %v; want no-code saying %q", tt.name, res.Status, res.Findings, tt.want)
		}
	}
}
