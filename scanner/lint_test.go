package scanner

import (
	"fmt"
	"strings"
	"testing"
)

// lintCase is one row of the lint table: an input on which rule must fire
// (fire) or must not (!fire). Exactly one of uri, mig, qr is set.
type lintCase struct {
	rule string
	fire bool
	uri  string
	mig  *migAccount
	qr   *QR
}

func (c lintCase) String() string {
	switch {
	case c.mig != nil:
		return fmt.Sprintf("migration account %+v", *c.mig)
	case c.qr != nil:
		return fmt.Sprintf("QR{ModulePx:%v QuietZoneModules:%v Version:%d}", c.qr.ModulePx, c.qr.QuietZoneModules, c.qr.Version)
	}
	return fmt.Sprintf("URI %q", c.uri)
}

func (c lintCase) findings() []Finding {
	switch {
	case c.mig != nil:
		m, fs := ParseMigration(migrationURI(encodePayload(payload{accounts: []migAccount{*c.mig}})))
		if m != nil {
			for _, e := range m.Accounts {
				fs = append(fs, e.Findings...)
			}
		}
		return fs
	case c.qr != nil:
		return LintQR(*c.qr, 0)
	}
	_, fs := ParseURI(c.uri)
	return fs
}

const (
	okLabel  = "otpauth://totp/Example:alice@example.com?issuer=Example&secret=" + rfcSecret
	s80      = "GEZDGNBVGY3TQOJQ"           // 80 bits
	s72      = "GEZDGNBVGY3TQOI"            // 72 bits
	s128     = "GEZDGNBVGY3TQOJQGEZDGNBVGY" // 128 bits
	s120     = "GEZDGNBVGY3TQOJQGEZDGNBV"   // 120 bits
	hotpBase = "otpauth://hotp/Example:alice?issuer=Example&secret=" + rfcSecret
)

func totp(params string) string {
	return "otpauth://totp/Example:alice?issuer=Example&secret=" + rfcSecret + params
}

var lintCases = []lintCase{
	{rule: RuleURISyntax, fire: true, uri: "otpauth:totp/Example:alice?secret=" + rfcSecret},
	{rule: RuleURISyntax, fire: true, uri: totp("&issuer=%G1")},
	{rule: RuleURISyntax, fire: false, uri: totp("&issuer=%41")},

	{rule: RuleURIScheme, fire: true, uri: "https://example.com/otpauth?secret=" + rfcSecret},
	{rule: RuleURIScheme, fire: true, uri: "otpauth-migration://offline?data=AA"},
	{rule: RuleURIScheme, fire: false, uri: "OTPAUTH://totp/Example:alice?issuer=Example&secret=" + rfcSecret},

	{rule: RuleURIWhitespace, fire: true, uri: totp("") + "\n"},
	{rule: RuleURIWhitespace, fire: false, uri: totp("")},

	{rule: RuleTypeInvalid, fire: true, uri: "otpauth://derp/Example:alice?issuer=Example&secret=" + rfcSecret},
	{rule: RuleTypeInvalid, fire: true, mig: &migAccount{secret: []byte("12345678901234567890"), name: "alice", issuer: "Example", typ: 0}},
	{rule: RuleTypeInvalid, fire: false, uri: hotpBase + "&counter=0"},

	{rule: RuleAccountMissing, fire: true, uri: "otpauth://totp/Example:?issuer=Example&secret=" + rfcSecret},
	{rule: RuleAccountMissing, fire: true, uri: "otpauth://totp?issuer=Example&secret=" + rfcSecret},
	{rule: RuleAccountMissing, fire: false, uri: "otpauth://totp/Example:%20a?issuer=Example&secret=" + rfcSecret},

	{rule: RuleAccountColon, fire: true, uri: "otpauth://totp/Example:alice:admin?issuer=Example&secret=" + rfcSecret},
	{rule: RuleAccountColon, fire: true, uri: "otpauth://totp/Example%3Aalice%3Aadmin?issuer=Example&secret=" + rfcSecret},
	{rule: RuleAccountColon, fire: false, uri: "otpauth://totp/Example%3Aalice?issuer=Example&secret=" + rfcSecret},

	{rule: RuleIssuerMismatch, fire: true, uri: "otpauth://totp/Example:alice?issuer=Other&secret=" + rfcSecret},
	{rule: RuleIssuerMismatch, fire: true, uri: "otpauth://totp/Example:alice?issuer=example&secret=" + rfcSecret},
	{rule: RuleIssuerMismatch, fire: true, mig: &migAccount{secret: []byte("12345678901234567890"), name: "Example:alice", issuer: "Other", typ: 2}},
	{rule: RuleIssuerMismatch, fire: false, uri: "otpauth://totp/ACME%20Co:alice?issuer=ACME+Co&secret=" + rfcSecret},

	{rule: RuleIssuerMissing, fire: true, uri: "otpauth://totp/alice?secret=" + rfcSecret},
	{rule: RuleIssuerMissing, fire: true, uri: "otpauth://totp/alice?issuer=&secret=" + rfcSecret},
	{rule: RuleIssuerMissing, fire: false, uri: "otpauth://totp/alice?issuer=Example&secret=" + rfcSecret},

	{rule: RuleIssuerParamMissing, fire: true, uri: "otpauth://totp/Example:alice?secret=" + rfcSecret},
	{rule: RuleIssuerParamMissing, fire: false, uri: okLabel},

	{rule: RuleIssuerLabelMissing, fire: true, uri: "otpauth://totp/alice?issuer=Example&secret=" + rfcSecret},
	{rule: RuleIssuerLabelMissing, fire: false, uri: okLabel},

	{rule: RuleSecretMissing, fire: true, uri: "otpauth://totp/Example:alice?issuer=Example"},
	{rule: RuleSecretMissing, fire: true, uri: "otpauth://totp/Example:alice?issuer=Example&secret="},
	{rule: RuleSecretMissing, fire: true, mig: &migAccount{name: "alice", issuer: "Example", typ: 2}},
	{rule: RuleSecretMissing, fire: false, uri: okLabel},

	{rule: RuleSecretInvalid, fire: true, uri: "otpauth://totp/Example:alice?issuer=Example&secret=JBSWY3DPEHPK3PX0"},
	{rule: RuleSecretInvalid, fire: true, uri: "otpauth://totp/Example:alice?issuer=Example&secret=JBSWY3DPE"},
	{rule: RuleSecretInvalid, fire: false, uri: "otpauth://totp/Example:alice?issuer=Example&secret=gezd+gnbv+gy3t+qojq+gezd+gnbv+gy3t+qojq"},

	{rule: RuleSecretTooShort, fire: true, uri: "otpauth://totp/Example:alice?issuer=Example&secret=" + s72},
	{rule: RuleSecretTooShort, fire: true, mig: &migAccount{secret: []byte("short"), name: "alice", issuer: "Example", typ: 2}},
	{rule: RuleSecretTooShort, fire: false, uri: "otpauth://totp/Example:alice?issuer=Example&secret=" + s80},

	{rule: RuleSecretShort, fire: true, uri: "otpauth://totp/Example:alice?issuer=Example&secret=" + s80},
	{rule: RuleSecretShort, fire: true, uri: "otpauth://totp/Example:alice?issuer=Example&secret=" + s120},
	{rule: RuleSecretShort, fire: false, uri: "otpauth://totp/Example:alice?issuer=Example&secret=" + s128},
	{rule: RuleSecretShort, fire: false, uri: "otpauth://totp/Example:alice?issuer=Example&secret=" + s72},

	{rule: RuleSecretPadding, fire: true, uri: "otpauth://totp/Example:alice?issuer=Example&secret=" + s128 + "======"},
	{rule: RuleSecretPadding, fire: true, uri: "otpauth://totp/Example:alice?issuer=Example&secret=" + s128 + "%3D%3D%3D%3D%3D%3D"},
	{rule: RuleSecretPadding, fire: false, uri: "otpauth://totp/Example:alice?issuer=Example&secret=" + s128},

	{rule: RuleSecretLowercase, fire: true, uri: "otpauth://totp/Example:alice?issuer=Example&secret=" + strings.ToLower(rfcSecret)},
	{rule: RuleSecretLowercase, fire: false, uri: okLabel},

	{rule: RuleSecretSpaces, fire: true, uri: "otpauth://totp/Example:alice?issuer=Example&secret=GEZD%20GNBV%20GY3T%20QOJQ%20GEZD%20GNBV%20GY3T%20QOJQ"},
	{rule: RuleSecretSpaces, fire: true, uri: "otpauth://totp/Example:alice?issuer=Example&secret=GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ"},
	{rule: RuleSecretSpaces, fire: false, uri: okLabel},

	{rule: RuleAlgorithmInvalid, fire: true, uri: totp("&algorithm=MD5")},
	{rule: RuleAlgorithmInvalid, fire: true, mig: &migAccount{secret: []byte("12345678901234567890"), name: "alice", issuer: "Example", typ: 2, algo: 4}},
	{rule: RuleAlgorithmInvalid, fire: true, mig: &migAccount{secret: []byte("12345678901234567890"), name: "alice", issuer: "Example", typ: 2, algo: 9}},
	{rule: RuleAlgorithmInvalid, fire: false, uri: totp("&algorithm=SHA512")},

	{rule: RuleAlgorithmNonstd, fire: true, uri: totp("&algorithm=SHA256")},
	{rule: RuleAlgorithmNonstd, fire: true, mig: &migAccount{secret: []byte("12345678901234567890"), name: "alice", issuer: "Example", typ: 2, algo: 3}},
	{rule: RuleAlgorithmNonstd, fire: false, uri: totp("&algorithm=SHA1")},
	{rule: RuleAlgorithmNonstd, fire: false, mig: &migAccount{secret: []byte("12345678901234567890"), name: "alice", issuer: "Example", typ: 2, algo: 1}},

	{rule: RuleDigitsInvalid, fire: true, uri: totp("&digits=5")},
	{rule: RuleDigitsInvalid, fire: true, uri: totp("&digits=9")},
	{rule: RuleDigitsInvalid, fire: true, mig: &migAccount{secret: []byte("12345678901234567890"), name: "alice", issuer: "Example", typ: 2, digits: 3}},
	{rule: RuleDigitsInvalid, fire: false, uri: totp("&digits=8")},

	{rule: RuleDigitsNonstd, fire: true, uri: totp("&digits=8")},
	{rule: RuleDigitsNonstd, fire: true, uri: totp("&digits=7")},
	{rule: RuleDigitsNonstd, fire: true, mig: &migAccount{secret: []byte("12345678901234567890"), name: "alice", issuer: "Example", typ: 2, digits: 2}},
	{rule: RuleDigitsNonstd, fire: false, uri: totp("&digits=6")},

	{rule: RulePeriodInvalid, fire: true, uri: totp("&period=0")},
	{rule: RulePeriodInvalid, fire: true, uri: totp("&period=301")},
	{rule: RulePeriodInvalid, fire: false, uri: totp("&period=300")},
	{rule: RulePeriodInvalid, fire: false, uri: totp("&period=1")},

	{rule: RulePeriodNonstd, fire: true, uri: totp("&period=60")},
	{rule: RulePeriodNonstd, fire: false, uri: totp("&period=30")},
	{rule: RulePeriodNonstd, fire: false, uri: hotpBase + "&counter=1"},

	{rule: RuleCounterMissing, fire: true, uri: hotpBase},
	{rule: RuleCounterMissing, fire: false, uri: hotpBase + "&counter=0"},
	{rule: RuleCounterMissing, fire: false, mig: &migAccount{secret: []byte("12345678901234567890"), name: "alice", issuer: "Example", typ: 1}},

	{rule: RuleCounterInvalid, fire: true, uri: hotpBase + "&counter=x"},
	{rule: RuleCounterInvalid, fire: false, uri: hotpBase + "&counter=18446744073709551615"},

	{rule: RuleParamDuplicate, fire: true, uri: totp("&secret=" + rfcSecret)},
	{rule: RuleParamDuplicate, fire: true, uri: totp("&digits=6&digits=8")},
	{rule: RuleParamDuplicate, fire: false, uri: totp("&digits=6")},

	{rule: RuleParamUnknown, fire: true, uri: totp("&Digits=6")},
	{rule: RuleParamUnknown, fire: true, uri: totp("&foo=bar")},
	{rule: RuleParamUnknown, fire: false, uri: totp("&image=https%3A%2F%2Fexample.com%2Flogo.png")},

	{rule: RuleParamIgnored, fire: true, uri: totp("&counter=5")},
	{rule: RuleParamIgnored, fire: true, uri: hotpBase + "&counter=0&period=30"},
	{rule: RuleParamIgnored, fire: false, uri: hotpBase + "&counter=0"},

	{rule: RuleQRQuietZone, fire: true, qr: &QR{Version: 3, ModulePx: 6, QuietZoneModules: 3.5}},
	{rule: RuleQRQuietZone, fire: true, qr: &QR{Version: 3, ModulePx: 6, QuietZoneModules: 0}},
	{rule: RuleQRQuietZone, fire: false, qr: &QR{Version: 3, ModulePx: 6, QuietZoneModules: 4}},

	{rule: RuleQRSmall, fire: true, qr: &QR{Version: 5, ModulePx: 1.5, QuietZoneModules: 4}},
	{rule: RuleQRSmall, fire: false, qr: &QR{Version: 5, ModulePx: 2, QuietZoneModules: 4}},
	{rule: RuleQRSmall, fire: false, qr: &QR{Version: 5, ModulePx: 8, QuietZoneModules: 10}},
}

func TestLintTable(t *testing.T) {
	for _, c := range lintCases {
		fs := c.findings()
		if got := hasRule(fs, c.rule); got != c.fire {
			t.Errorf("%s: rule %s fired=%v, want %v; findings %v", c, c.rule, got, c.fire, fs)
		}
		for _, f := range fs {
			if f.Severity != ruleSeverity[f.Rule] || f.Message == "" {
				t.Errorf("%s: finding %+v: severity or message not from the rule table", c, f)
			}
			if strings.Contains(f.Message, rfcSecret[:8]) || strings.Contains(f.Message, "12345678") {
				t.Errorf("%s: finding %v shows the secret", c, f)
			}
		}
	}
}

// TestRulesTable: IDs are unique, severities valid, and every rule has a
// firing and a non-firing case in the lint table or the scan table.
func TestRulesTable(t *testing.T) {
	seen := map[string]bool{}
	covered := map[string][2]bool{}
	for _, c := range lintCases {
		v := covered[c.rule]
		if c.fire {
			v[0] = true
		} else {
			v[1] = true
		}
		covered[c.rule] = v
	}
	for _, c := range scanRuleCases {
		v := covered[c.rule]
		if c.fire {
			v[0] = true
		} else {
			v[1] = true
		}
		covered[c.rule] = v
	}
	for _, r := range Rules() {
		if seen[r.ID] {
			t.Errorf("rule %s listed twice", r.ID)
		}
		seen[r.ID] = true
		switch r.Severity {
		case SeverityError, SeverityWarning, SeverityInfo:
		default:
			t.Errorf("rule %s has severity %q", r.ID, r.Severity)
		}
		if r.Summary == "" {
			t.Errorf("rule %s has no summary", r.ID)
		}
		if v := covered[r.ID]; !v[0] || !v[1] {
			t.Errorf("rule %s: firing case %v, non-firing case %v; want both", r.ID, v[0], v[1])
		}
	}
	for id := range covered {
		if !seen[id] {
			t.Errorf("table case for %s, which is not in Rules()", id)
		}
	}
}
