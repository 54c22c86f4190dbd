package scanner

import "fmt"

// Severity is how much a finding matters: an error makes the code wrong or
// unusable, a warning makes it fail on some authenticators or in some
// conditions, info is worth knowing.
type Severity string

// Severities, from worst to mildest.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Finding is one problem found in a QR code or its payload. Rule is a
// stable ID from Rules; Message says what was found (never the secret);
// Hint, when set, says what to do about it.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Hint     string   `json:"hint,omitempty"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s %s: %s", f.Severity, f.Rule, f.Message)
}

// HasError reports whether any finding is an error.
func HasError(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}

// HasWarning reports whether any finding is a warning or an error.
func HasWarning(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == SeverityError || f.Severity == SeverityWarning {
			return true
		}
	}
	return false
}

// Rule describes one lint rule: its stable ID, its severity and what it
// checks.
type Rule struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Summary  string   `json:"summary"`
}

// Rule IDs. They are stable: pipelines may match on them.
const (
	RuleURISyntax          = "uri-syntax"
	RuleURIScheme          = "uri-scheme"
	RuleURIWhitespace      = "uri-whitespace"
	RuleTypeInvalid        = "type-invalid"
	RuleAccountMissing     = "account-missing"
	RuleAccountColon       = "account-colon"
	RuleIssuerMismatch     = "issuer-mismatch"
	RuleIssuerMissing      = "issuer-missing"
	RuleIssuerParamMissing = "issuer-param-missing"
	RuleIssuerLabelMissing = "issuer-label-missing"
	RuleSecretMissing      = "secret-missing"
	RuleSecretInvalid      = "secret-invalid"
	RuleSecretTooShort     = "secret-too-short"
	RuleSecretShort        = "secret-short"
	RuleSecretPadding      = "secret-padding"
	RuleSecretLowercase    = "secret-lowercase"
	RuleSecretSpaces       = "secret-spaces"
	RuleAlgorithmInvalid   = "algorithm-invalid"
	RuleAlgorithmNonstd    = "algorithm-nondefault"
	RuleDigitsInvalid      = "digits-invalid"
	RuleDigitsNonstd       = "digits-nondefault"
	RulePeriodInvalid      = "period-invalid"
	RulePeriodNonstd       = "period-nondefault"
	RuleCounterMissing     = "counter-missing"
	RuleCounterInvalid     = "counter-invalid"
	RuleParamDuplicate     = "param-duplicate"
	RuleParamUnknown       = "param-unknown"
	RuleParamIgnored       = "param-ignored"
	RuleMigrationInvalid   = "migration-invalid"
	RuleMigrationBatch     = "migration-batch"
	RuleQRQuietZone        = "qr-quiet-zone"
	RuleQRSmall            = "qr-small"
	RuleMarginLow          = "margin-low"
	RuleInputNoCode        = "input-no-code"
	RuleInputMultiple      = "input-multiple-codes"
	RuleExpectIssuer       = "expect-issuer"
	RuleExpectAccount      = "expect-account"
	RuleExpectSecret       = "expect-secret"
	RuleSeedMismatch       = "seed-mismatch"
	RuleSeedInvalid        = "seed-invalid"
)

// rules is the table behind Rules and every finding's severity.
var rules = []Rule{
	{RuleURISyntax, SeverityError, "the payload is not a well-formed otpauth URI (bad escape, no '//', unparsable)"},
	{RuleURIScheme, SeverityError, "the scheme is not otpauth:// (for example an https:// web address)"},
	{RuleURIWhitespace, SeverityWarning, "the payload has leading or trailing white space, which some scanners keep"},
	{RuleTypeInvalid, SeverityError, "the type is not totp or hotp (otpauth://TYPE/...)"},
	{RuleAccountMissing, SeverityWarning, "the label has no account name, so the authenticator lists an unnamed entry"},
	{RuleAccountColon, SeverityWarning, "the account name contains a colon, which the Key Uri Format reserves to separate the issuer"},
	{RuleIssuerMismatch, SeverityError, "the issuer prefix of the label and the issuer= parameter differ"},
	{RuleIssuerMissing, SeverityWarning, "no issuer at all (neither a label prefix nor issuer=)"},
	{RuleIssuerParamMissing, SeverityWarning, "the label has an issuer prefix but there is no issuer= parameter, which Google Authenticator recommends"},
	{RuleIssuerLabelMissing, SeverityWarning, "there is an issuer= parameter but no issuer prefix in the label, which older authenticators need"},
	{RuleSecretMissing, SeverityError, "no secret, or an empty one"},
	{RuleSecretInvalid, SeverityError, "the secret is not base32 (RFC 4648: A-Z and 2-7)"},
	{RuleSecretTooShort, SeverityError, "the secret is under 80 bits"},
	{RuleSecretShort, SeverityWarning, "the secret is under 128 bits, the minimum RFC 4226 (R6) asks for"},
	{RuleSecretPadding, SeverityWarning, "the secret has '=' padding, which Google Authenticator does not expect"},
	{RuleSecretLowercase, SeverityWarning, "the secret has lower-case letters, which Google Authenticator does not expect"},
	{RuleSecretSpaces, SeverityWarning, "the secret has spaces or hyphens, which belong in the typed form only"},
	{RuleAlgorithmInvalid, SeverityError, "the algorithm is not SHA1, SHA256 or SHA512"},
	{RuleAlgorithmNonstd, SeverityWarning, "the algorithm is not SHA1, which some authenticators ignore"},
	{RuleDigitsInvalid, SeverityError, "digits is not a number from 6 to 8"},
	{RuleDigitsNonstd, SeverityWarning, "digits is not 6, which some authenticators ignore"},
	{RulePeriodInvalid, SeverityError, "period is not a number of seconds from 1 to 300"},
	{RulePeriodNonstd, SeverityWarning, "period is not 30 seconds, which some authenticators ignore"},
	{RuleCounterMissing, SeverityError, "an HOTP key has no counter= parameter, which the Key Uri Format requires"},
	{RuleCounterInvalid, SeverityError, "counter is not an unsigned 64-bit number"},
	{RuleParamDuplicate, SeverityError, "a parameter is given more than once; authenticators differ on which one they use"},
	{RuleParamUnknown, SeverityWarning, "a parameter the Key Uri Format does not define (misspelt or in the wrong case?)"},
	{RuleParamIgnored, SeverityWarning, "a parameter that has no meaning for this type (counter= on TOTP, period= on HOTP)"},
	{RuleMigrationInvalid, SeverityError, "an otpauth-migration:// export that does not decode (bad base64 or protobuf)"},
	{RuleMigrationBatch, SeverityInfo, "the export is one QR code of several; the other accounts are in the other codes"},
	{RuleQRQuietZone, SeverityWarning, "the QR code has a quiet zone (light margin) under 4 modules"},
	{RuleQRSmall, SeverityWarning, "the QR code's modules are too few pixels wide to scan reliably from a phone at the size shown"},
	{RuleMarginLow, SeverityError, "the code stops decoding under a camera degradation before the margin required (--min-margin)"},
	{RuleInputNoCode, SeverityError, "the input holds no QR code"},
	{RuleInputMultiple, SeverityWarning, "the input holds more than one QR code; a phone scans whichever it sees first"},
	{RuleExpectIssuer, SeverityError, "the issuer is not the one expected (--expect-issuer)"},
	{RuleExpectAccount, SeverityError, "the account is not the one expected (--expect-account)"},
	{RuleExpectSecret, SeverityError, "the secret is not the one expected (--expect-secret)"},
	{RuleSeedMismatch, SeverityError, "the secret in the QR code differs from the Base32StringSeed returned with it"},
	{RuleSeedInvalid, SeverityError, "the Base32StringSeed of an API response is not base32"},
}

var ruleSeverity = func() map[string]Severity {
	m := make(map[string]Severity, len(rules))
	for _, r := range rules {
		m[r.ID] = r.Severity
	}
	return m
}()

// Rules lists every rule with its ID, severity and meaning, in a stable
// order (by area: URI, label, secret, parameters, migration, image, input,
// expectations).
func Rules() []Rule { return append([]Rule(nil), rules...) }

// finding makes a Finding for rule id with the severity from the table.
// An ID missing from the table (a bug caught by the tests) gets error.
func finding(id, hint, format string, args ...any) Finding {
	sev, ok := ruleSeverity[id]
	if !ok {
		sev = SeverityError
	}
	return Finding{Rule: id, Severity: sev, Message: fmt.Sprintf(format, args...), Hint: hint}
}
