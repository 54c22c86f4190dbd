package scanner

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// maxURIBytes caps what ParseURI looks at. A QR code holds at most 2953
// bytes; anything much larger is not a scanned payload.
const maxURIBytes = 8192

// Defaults of the Key Uri Format.
const (
	DefaultAlgorithm = "SHA1"
	DefaultDigits    = 6
	DefaultPeriod    = 30
)

// The step lengths totpemu accepts, in seconds, everywhere: the scanner's
// lint, the device, the bench and the reference console. 300 s (5 minutes)
// is the longest step seen in the field; beyond it a code's window is
// longer than most login sessions, which is a misconfiguration.
const (
	MinPeriod = 1
	MaxPeriod = 300
)

// Hints naming the authenticators known to ignore non-default parameters.
const (
	hintIgnoredAlgorithm = "Google Authenticator (some versions) and Microsoft Authenticator ignore algorithm= and compute SHA1 codes, which then never match; keep SHA1 unless every user's app is known to honour it"
	hintIgnoredDigits    = "Google Authenticator (some versions) and Microsoft Authenticator ignore digits= and show 6 digits; keep 6 unless every user's app is known to honour it"
	hintIgnoredPeriod    = "Google Authenticator (some versions) and Microsoft Authenticator ignore period= and use 30 s; keep 30 unless every user's app is known to honour it"
)

// ParseURI parses an otpauth:// URI (the Key Uri Format of Google
// Authenticator) and lints it. It never trusts the payload: every
// parameter is checked and each problem becomes a Finding with a rule ID
// from Rules.
//
// The Key is nil when no faithful key can be made of the payload: wrong
// scheme or type, unparsable URI, missing or non-base32 secret, an
// algorithm other than SHA1/SHA256/SHA512, digits outside 6..8, period
// outside 1..300 s, an unparsable counter. Otherwise the Key is returned
// even when there are error findings (a secret under 80 bits, an issuer
// mismatch, a duplicate parameter, an HOTP key without counter); callers
// that must refuse those check HasError. Defaults: SHA1, 6 digits, 30 s.
func ParseURI(uri string) (*Key, []Finding) {
	var fs []Finding
	if len(uri) > maxURIBytes {
		return nil, append(fs, finding(RuleURISyntax, "", "the payload is %d bytes, more than the %d a QR code payload can be", len(uri), maxURIBytes))
	}
	if t := strings.TrimSpace(uri); t != uri {
		fs = append(fs, finding(RuleURIWhitespace, "remove the white space around the URI", "the payload has leading or trailing white space"))
		uri = t
	}
	u, err := url.Parse(uri)
	if err != nil {
		return nil, append(fs, finding(RuleURISyntax, "", "the payload is not a URI: %s", describeURLError(err)))
	}
	switch scheme := strings.ToLower(u.Scheme); scheme {
	case "otpauth":
	case "":
		return nil, append(fs, finding(RuleURIScheme, "the payload must start with otpauth://totp/", "the payload has no URI scheme"))
	case "otpauth-migration":
		return nil, append(fs, finding(RuleURIScheme, "decode it with ParseMigration (totpemu scan does)", "the payload is a Google Authenticator export (otpauth-migration://), not a single key"))
	case "http", "https":
		return nil, append(fs, finding(RuleURIScheme, "the QR code must hold otpauth://totp/..., not a link", "the payload is a web address (%s://%s), not an otpauth URI", scheme, u.Host))
	default:
		return nil, append(fs, finding(RuleURIScheme, "the payload must start with otpauth://totp/", "the scheme is %q, not otpauth", truncate(u.Scheme, 32)))
	}
	if u.Opaque != "" {
		return nil, append(fs, finding(RuleURISyntax, "write otpauth://totp/LABEL?secret=...", "the URI has no '//' after otpauth:"))
	}
	typ := strings.ToLower(u.Host)
	if typ != "totp" && typ != "hotp" {
		return nil, append(fs, finding(RuleTypeInvalid, "use otpauth://totp/ (or hotp)", "the type is %q, not totp or hotp", truncate(u.Host, 32)))
	}
	k := &Key{Type: typ, Algorithm: DefaultAlgorithm, Digits: DefaultDigits}
	if typ == "totp" {
		k.Period = DefaultPeriod
	}

	label := strings.TrimPrefix(u.Path, "/")
	labelIssuer, account, hasPrefix := strings.Cut(label, ":")
	if !hasPrefix {
		labelIssuer, account = "", label
	}
	account = strings.TrimLeft(account, " ")

	params, pfs, ok := parseQuery(u.RawQuery)
	fs = append(fs, pfs...)
	if !ok {
		return nil, fs
	}
	usable := true
	paramIssuer, hasIssuerParam := params.get("issuer")
	if hasIssuerParam && paramIssuer == "" {
		hasIssuerParam = false
	}
	fs = append(fs, checkLabel(labelIssuer, hasPrefix, paramIssuer, hasIssuerParam, account)...)
	k.Account = account
	k.Issuer = labelIssuer
	if hasIssuerParam {
		k.Issuer = paramIssuer
	}

	secret, hasSecret := params.get("secret")
	switch {
	case !hasSecret || strings.Trim(secret, " =-") == "":
		fs = append(fs, finding(RuleSecretMissing, "add secret=BASE32 (at least 128 bits: 26 base32 characters)", "the URI has no secret"))
		usable = false
	default:
		b, form, err := decodeSecret(secret)
		if err != nil {
			fs = append(fs, finding(RuleSecretInvalid, "encode the secret in RFC 4648 base32 (A-Z, 2-7)", "%v", err))
			usable = false
			break
		}
		k.Secret = b
		if form.padded {
			fs = append(fs, finding(RuleSecretPadding, "remove the trailing '=' from the secret", "the secret has '=' padding"))
		}
		if form.lower {
			fs = append(fs, finding(RuleSecretLowercase, "write the secret in upper case", "the secret has lower-case letters"))
		}
		if form.spaced {
			fs = append(fs, finding(RuleSecretSpaces, "remove spaces and hyphens from the secret in the URI", "the secret has spaces or hyphens"))
		}
	}

	if v, ok := params.get("algorithm"); ok {
		switch a := strings.ToUpper(v); a {
		case "SHA1", "SHA256", "SHA512":
			k.Algorithm = a
		default:
			fs = append(fs, finding(RuleAlgorithmInvalid, "use SHA1 (or SHA256, SHA512)", "the algorithm is %q, not SHA1, SHA256 or SHA512", truncate(v, 16)))
			usable = false
		}
	}
	if v, ok := params.get("digits"); ok {
		n, err := strconv.ParseUint(v, 10, 8)
		if err != nil || n < 6 || n > 8 {
			fs = append(fs, finding(RuleDigitsInvalid, "use digits=6", "digits is %q, not a number from 6 to 8", truncate(v, 16)))
			usable = false
		} else {
			k.Digits = int(n)
		}
	}
	if v, ok := params.get("period"); ok {
		if typ == "hotp" {
			fs = append(fs, finding(RuleParamIgnored, "remove period= from an HOTP URI", "period= has no meaning for an HOTP key"))
		} else {
			n, err := strconv.ParseUint(v, 10, 16)
			if err != nil || n < MinPeriod || n > MaxPeriod {
				fs = append(fs, finding(RulePeriodInvalid, "use period=30", "period is %q, not a number of seconds from %d to %d", truncate(v, 16), MinPeriod, MaxPeriod))
				usable = false
			} else {
				k.Period = int(n)
			}
		}
	}
	if v, ok := params.get("counter"); ok {
		if typ == "totp" {
			fs = append(fs, finding(RuleParamIgnored, "remove counter= from a TOTP URI", "counter= has no meaning for a TOTP key"))
		} else if n, err := strconv.ParseUint(v, 10, 64); err != nil {
			fs = append(fs, finding(RuleCounterInvalid, "use counter=0 (or the next counter value)", "counter is %q, not an unsigned 64-bit number", truncate(v, 24)))
			usable = false
		} else {
			k.Counter, k.HasCounter = n, true
		}
	} else if typ == "hotp" {
		fs = append(fs, finding(RuleCounterMissing, "add counter=0 (or the next counter value)", "the HOTP URI has no counter="))
	}
	if usable {
		fs = append(fs, checkKey(k)...)
	}
	scrub(fs, secret, EncodeSecret(k.Secret))
	if !usable {
		return nil, fs
	}
	return k, fs
}

// scrub removes the secret from findings whose message or hint quotes
// user text (a label, a parameter name) that happens to contain it.
func scrub(fs []Finding, secrets ...string) {
	for _, v := range secrets {
		v = strings.TrimSpace(v)
		if len(v) < 8 {
			continue
		}
		parts := []string{v}
		if len(v) > 16 {
			parts = append(parts, v[:16])
		}
		for i := range fs {
			for _, p := range parts {
				fs[i].Message = strings.ReplaceAll(fs[i].Message, p, "REDACTED")
				fs[i].Hint = strings.ReplaceAll(fs[i].Hint, p, "REDACTED")
			}
		}
	}
}

// checkKey lints the values of a usable key: secret length and the
// parameters some authenticators ignore. Shared by URIs and exports.
func checkKey(k *Key) []Finding {
	var fs []Finding
	switch bits := k.SecretBits(); {
	case bits < 80:
		fs = append(fs, finding(RuleSecretTooShort, "use a random secret of 160 bits (32 base32 characters)", "the secret is %d bits, under 80", bits))
	case bits < 128:
		fs = append(fs, finding(RuleSecretShort, "use a random secret of 160 bits (32 base32 characters)", "the secret is %d bits, under the 128 RFC 4226 (R6) asks for", bits))
	}
	if k.Algorithm != DefaultAlgorithm {
		fs = append(fs, finding(RuleAlgorithmNonstd, hintIgnoredAlgorithm, "the algorithm is %s, not SHA1", k.Algorithm))
	}
	if k.Digits != DefaultDigits {
		fs = append(fs, finding(RuleDigitsNonstd, hintIgnoredDigits, "digits is %d, not 6", k.Digits))
	}
	if k.Type == "totp" && k.Period != DefaultPeriod {
		fs = append(fs, finding(RulePeriodNonstd, hintIgnoredPeriod, "period is %d s, not 30", k.Period))
	}
	return fs
}

// checkLabel lints the label's issuer prefix and account name against the
// issuer= parameter.
func checkLabel(labelIssuer string, hasPrefix bool, paramIssuer string, hasParam bool, account string) []Finding {
	var fs []Finding
	if account == "" {
		fs = append(fs, finding(RuleAccountMissing, "put the user's name or e-mail in the label: otpauth://totp/Issuer:alice@example.com", "the label has no account name"))
	}
	if strings.Contains(account, ":") {
		fs = append(fs, finding(RuleAccountColon, "remove the colon from the account name; the first colon separates the issuer", "the account name %q contains a colon", truncate(account, 64)))
	}
	labelHasIssuer := hasPrefix && labelIssuer != ""
	switch {
	case labelHasIssuer && hasParam && labelIssuer != paramIssuer:
		fs = append(fs, finding(RuleIssuerMismatch, "make the label prefix and issuer= the same", "the label's issuer %q differs from issuer=%q", truncate(labelIssuer, 64), truncate(paramIssuer, 64)))
	case !labelHasIssuer && !hasParam:
		fs = append(fs, finding(RuleIssuerMissing, "add the service name as issuer= and as the label prefix (Issuer:account)", "the key names no issuer"))
	case labelHasIssuer && !hasParam:
		fs = append(fs, finding(RuleIssuerParamMissing, "add issuer= with the same value as the label prefix", "the label has issuer %q but there is no issuer= parameter", truncate(labelIssuer, 64)))
	case !labelHasIssuer && hasParam:
		fs = append(fs, finding(RuleIssuerLabelMissing, "prefix the label with the issuer: Issuer:account", "issuer=%q is not repeated as the label prefix", truncate(paramIssuer, 64)))
	}
	return fs
}

// knownParams are the parameters of the Key Uri Format, plus "image"
// (FreeOTP's icon URL), which authenticators without it ignore.
var knownParams = map[string]bool{
	"secret": true, "issuer": true, "algorithm": true, "digits": true,
	"period": true, "counter": true, "image": true,
}

// query is the parsed query string: the first value of each parameter.
type query map[string]string

func (q query) get(k string) (string, bool) { v, ok := q[k]; return v, ok }

// parseQuery splits a raw query itself (url.ParseQuery hides duplicates and
// refuses ';'), reporting duplicate, unknown and badly escaped parameters.
// ok is false when the query cannot be read.
func parseQuery(raw string) (query, []Finding, bool) {
	q := query{}
	var fs []Finding
	dup := map[string]bool{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			name := paramName(key)
			if err1 != nil {
				name = "?"
			}
			return nil, append(fs, finding(RuleURISyntax, "percent-encode the parameter as %XX", "parameter %s has a bad percent escape", name)), false
		}
		if _, seen := q[key]; seen {
			if !dup[key] {
				fs = append(fs, finding(RuleParamDuplicate, "give each parameter once", "parameter %s is given more than once; the first is used", paramName(key)))
				dup[key] = true
			}
			continue
		}
		q[key] = val
		if !knownParams[key] {
			hint := "remove it, or fix its spelling"
			if knownParams[strings.ToLower(key)] {
				hint = fmt.Sprintf("parameter names are case-sensitive: write %q", strings.ToLower(key))
			}
			fs = append(fs, finding(RuleParamUnknown, hint, "parameter %s is not part of the Key Uri Format", paramName(key)))
		}
	}
	return q, fs, true
}

// paramName quotes a parameter name for a message, unless it is long
// enough to be a secret pasted in the wrong place.
func paramName(k string) string {
	if len(k) >= 16 {
		return fmt.Sprintf("of %d characters", len(k))
	}
	return strconv.Quote(k)
}

// describeURLError gives url.Parse's complaint without quoting the input
// (which may hold the secret).
func describeURLError(err error) string {
	if ue, ok := err.(*url.Error); ok {
		err = ue.Err
	}
	s := err.Error()
	if i := strings.Index(s, ` "`); i >= 0 {
		s = s[:i]
	}
	return s
}

// truncate shortens s to at most n bytes for a message, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
