package scanner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Options shapes ScanInput. The zero value works.
type Options struct {
	// Decode bounds image decoding (bytes, pixels); see DecodeOptions.
	Decode DecodeOptions
	// MaxInputBytes caps one input as read. Zero means DefaultMaxInputBytes.
	MaxInputBytes int64
	// MinModulePx is the module size under which qr-small fires. Zero
	// means DefaultMinModulePx.
	MinModulePx float64
	// ExpectIssuer and ExpectAccount, when set, must equal every key's
	// issuer and account (expect-issuer, expect-account).
	ExpectIssuer, ExpectAccount string
	// ExpectSecret, when set, must equal every key's secret (expect-secret).
	// Its type redacts it when printed.
	ExpectSecret Secret
	// Margin measures each image's margin (see Margin; dozens of decodes
	// per image) into InputResult.Margins.
	Margin bool
	// MinMargin, when set, is the margin each image must reach (margin-low);
	// it implies Margin.
	MinMargin *MarginLimits
	// MarginSeed seeds the noise of the margin sweeps when Decode.Camera
	// is not set (whose Seed is used otherwise). Zero means 1.
	MarginSeed int64
	// BaseDir is where the relative <img src> of an HTML input are read
	// from (a page saved with its page_files/ folder); the files must lie
	// inside it. ScanPath sets it to a file input's directory; empty means
	// linked images are not read. Remote images are never fetched.
	BaseDir string
}

// Status is the overall shape of what an input held.
type Status string

// Statuses of an InputResult: each bad shape has its own name.
const (
	StatusOK            Status = "ok"             // one code (or text payloads), otpauth
	StatusNoCode        Status = "no-code"        // images without any QR code
	StatusMultipleCodes Status = "multiple-codes" // more than one QR code in the images
	StatusNotOTPAuth    Status = "not-otpauth"    // codes found, none holds an otpauth payload (a web URL, say)
)

// Kind is what a code's payload is.
type Kind string

// Kinds of payload.
const (
	KindOTPAuth   Kind = "otpauth"           // otpauth://totp/ or hotp/
	KindMigration Kind = "otpauth-migration" // Google Authenticator export
	KindURL       Kind = "url"               // http:// or https://
	KindOther     Kind = "other"             // anything else
)

// QRFacts is what was measured of a QR code in an image (QR without its
// text, which holds the secret).
type QRFacts struct {
	Bounds           image.Rectangle `json:"bounds"`
	Version          int             `json:"version"`
	ECLevel          string          `json:"ec_level"`
	ModulePx         float64         `json:"module_px"`
	QuietZoneModules float64         `json:"quiet_zone_modules"`
	Strategy         string          `json:"strategy"`
}

// MarshalJSON writes Bounds as {"x0","y0","x1","y1"}.
func (q QRFacts) MarshalJSON() ([]byte, error) {
	type bounds struct {
		X0 int `json:"x0"`
		Y0 int `json:"y0"`
		X1 int `json:"x1"`
		Y1 int `json:"y1"`
	}
	type view struct {
		Bounds           bounds  `json:"bounds"`
		Version          int     `json:"version"`
		ECLevel          string  `json:"ec_level"`
		ModulePx         float64 `json:"module_px"`
		QuietZoneModules float64 `json:"quiet_zone_modules"`
		Strategy         string  `json:"strategy"`
	}
	b := q.Bounds
	return json.Marshal(view{bounds{b.Min.X, b.Min.Y, b.Max.X, b.Max.Y}, q.Version, q.ECLevel, q.ModulePx, q.QuietZoneModules, q.Strategy})
}

// Code is one payload found in an input, parsed and linted.
type Code struct {
	// Source names where in the input the code was found (the file, an
	// <img> of a page, a JSON key, a line of text).
	Source string `json:"source"`
	Kind   Kind   `json:"kind"`
	// TextRedacted is the payload with its secret (or export data) replaced.
	TextRedacted string `json:"text_redacted"`
	// QR holds the image facts; nil when the payload came as text.
	QR *QRFacts `json:"qr,omitempty"`
	// Key is the parsed key of an otpauth payload (nil when unusable or
	// another kind).
	Key *Key `json:"key,omitempty"`
	// Migration is the decoded export of an otpauth-migration payload.
	Migration *Migration `json:"migration,omitempty"`
	// Findings are about this code: payload lint, image lint, expectations.
	// The findings of a migration's accounts are in Migration.Accounts.
	Findings []Finding `json:"findings"`

	// text is behind a pointer so that printing a Code with %v shows an
	// address, not the secret.
	text *string
}

// Text is the payload as decoded. It holds the secret.
func (c *Code) Text() string {
	if c.text == nil {
		return ""
	}
	return *c.text
}

// Keys returns every usable key of the code: its Key, or the accounts of an
// export.
func (c *Code) Keys() []*Key {
	if c.Key != nil {
		return []*Key{c.Key}
	}
	var ks []*Key
	if c.Migration != nil {
		for _, e := range c.Migration.Accounts {
			if e.Key != nil {
				ks = append(ks, e.Key)
			}
		}
	}
	return ks
}

// AllFindings returns the code's findings and those of its export's
// accounts.
func (c *Code) AllFindings() []Finding {
	fs := append([]Finding(nil), c.Findings...)
	if c.Migration != nil {
		for _, e := range c.Migration.Accounts {
			fs = append(fs, e.Findings...)
		}
	}
	return fs
}

// InputResult is everything found in one input.
type InputResult struct {
	Name   string `json:"name"`
	Form   Form   `json:"form"`
	Status Status `json:"status"`
	// HasSeed is true when the input (a JSON response) carried a
	// Base32StringSeed that the codes were checked against.
	HasSeed bool   `json:"has_seed"`
	Codes   []Code `json:"codes"`
	// Findings are about the input as a whole (input-no-code,
	// input-multiple-codes, seed-invalid, margin-low).
	Findings []Finding `json:"findings"`
	// Margins holds the margin of each image with a code, when
	// Options.Margin or MinMargin asked for it.
	Margins []ImageMargin `json:"margins,omitempty"`
}

// AllFindings returns the input's findings and all its codes'.
func (r *InputResult) AllFindings() []Finding {
	fs := append([]Finding(nil), r.Findings...)
	for i := range r.Codes {
		fs = append(fs, r.Codes[i].AllFindings()...)
	}
	return fs
}

// ScanInput reads one input of any supported form (detected from data, not
// name), decodes every QR code in it, parses and lints each payload, and
// checks the expectations in opts and the seed of a JSON response.
//
// The error is for input that cannot be read at all (ErrUnreadable,
// ErrTooLarge, an image that does not decode, the context's deadline); a
// readable input without a QR code (an image without one, an HTML page
// embedding no image, a JSON response without a QR field) is a result with
// StatusNoCode and an input-no-code finding, not an error.
func ScanInput(ctx context.Context, name string, data []byte, opts Options) (*InputResult, error) {
	maxIn := opts.MaxInputBytes
	if maxIn <= 0 {
		maxIn = DefaultMaxInputBytes
	}
	if int64(len(data)) > maxIn {
		return nil, fmt.Errorf("%s: %w: %d bytes, the limit is %d", name, ErrTooLarge, len(data), maxIn)
	}
	p, err := detect(name, data, opts)
	if err != nil {
		return nil, err
	}
	res := &InputResult{Name: name, Form: p.form, HasSeed: p.hasSeed, Codes: []Code{}, Findings: []Finding{}}
	var seed []byte
	if p.hasSeed {
		s, err := DecodeSecret(p.seed)
		if err != nil {
			res.Findings = append(res.Findings, finding(RuleSeedInvalid, "", "Base32StringSeed: %v", err))
		} else {
			seed = s
		}
	}
	images, qrCodes := 0, 0
	var svgNotes []string
	for _, src := range p.sources {
		if src.image == nil && src.svg == nil {
			res.Codes = append(res.Codes, lintPayload(src.name, src.text, nil, opts))
			continue
		}
		images++
		if len(src.alts) > 0 {
			src.image = pickAlt(ctx, src, opts.Decode)
		}
		var qrs []QR
		var err error
		if src.svg != nil {
			qrs, src, err = decodeSVG(ctx, src, opts.Decode)
		} else {
			qrs, err = decodeSource(ctx, src, opts.Decode)
		}
		if errors.Is(err, ErrNoCode) {
			if src.svg != nil {
				for _, n := range src.svg.notes {
					if !slices.Contains(svgNotes, n) {
						svgNotes = append(svgNotes, n)
					}
				}
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if opts.Margin || opts.MinMargin != nil {
			if err := measureMargin(ctx, res, src, opts); err != nil {
				return nil, err
			}
		}
		// Reading order (top to bottom, left to right) makes the output
		// stable whatever order the detector found them in.
		sort.SliceStable(qrs, func(i, j int) bool {
			a, b := qrs[i].Bounds.Min, qrs[j].Bounds.Min
			if a.Y/16 != b.Y/16 {
				return a.Y < b.Y
			}
			return a.X < b.X
		})
		for i := range qrs {
			qrCodes++
			srcName := src.name
			if len(qrs) > 1 {
				srcName = fmt.Sprintf("%s code %d", src.name, i+1)
			}
			res.Codes = append(res.Codes, lintPayload(srcName, qrs[i].Text, &qrs[i], opts))
		}
	}
	if seed != nil {
		for i := range res.Codes {
			c := &res.Codes[i]
			for _, k := range c.Keys() {
				if !bytes.Equal(k.Secret, seed) {
					c.Findings = append(c.Findings, finding(RuleSeedMismatch, "the console must show the same secret in the QR code as in the text and the API",
						"the secret in the code (%d bits) differs from Base32StringSeed (%d bits)", k.SecretBits(), len(seed)*8))
				}
			}
		}
	}
	res.Status = StatusOK
	switch {
	case len(res.Codes) == 0:
		res.Status = StatusNoCode
		through := ""
		if c := opts.Decode.Camera; c != nil {
			through = " through camera " + c.Name
		}
		if p.noCode != "" {
			res.Findings = append(res.Findings, finding(RuleInputNoCode, "give the page or response that carries the QR code (an <img> with a data: URL, QRCodePNG)",
				"%s", p.noCode))
			break
		}
		svgNote := ""
		if len(svgNotes) > 0 {
			svgNote = "; in the SVG: " + strings.Join(svgNotes, ", ")
		}
		res.Findings = append(res.Findings, finding(RuleInputNoCode, "the image must show the QR code whole, uncropped and in focus",
			"no QR code found in %d image(s)%s%s", images, through, svgNote))
	case qrCodes > 1:
		res.Status = StatusMultipleCodes
		res.Findings = append(res.Findings, finding(RuleInputMultiple, "show one QR code at a time",
			"%d QR codes found", qrCodes))
	}
	if res.Status == StatusOK {
		otp := false
		for _, c := range res.Codes {
			if c.Kind == KindOTPAuth || c.Kind == KindMigration {
				otp = true
			}
		}
		if !otp {
			res.Status = StatusNotOTPAuth
		}
	}
	return res, nil
}

// pickAlt returns the first of a terminal block's renderings that
// decodes (the first when none does).
func pickAlt(ctx context.Context, src source, opts DecodeOptions) []byte {
	plain := opts
	plain.Camera = nil
	for _, alt := range src.alts {
		if qrs, err := DecodeImageBytes(ctx, src.name, alt, plain); err == nil && len(qrs) > 0 {
			return alt
		}
	}
	return src.alts[0]
}

// decodeSource decodes the codes of one image. Through a camera, the codes
// are those the camera reads, but their facts (module size, quiet zone,
// bounds) are those of the image as given, on which the image rules are
// meant to judge; a code only the camera reads keeps the camera's facts.
// src.facts, when set (an SVG's rendering), maps the facts of the codes
// found in the image as given.
func decodeSource(ctx context.Context, src source, opts DecodeOptions) ([]QR, error) {
	mapFacts := func(qrs []QR) []QR {
		if src.facts != nil {
			for i := range qrs {
				qrs[i] = src.facts(qrs[i])
			}
		}
		return qrs
	}
	if opts.Camera == nil {
		qrs, err := DecodeImageBytes(ctx, src.name, src.image, opts)
		return mapFacts(qrs), err
	}
	plainOpts := opts
	plainOpts.Camera = nil
	plain, err := DecodeImageBytes(ctx, src.name, src.image, plainOpts)
	if err != nil {
		return nil, err
	}
	plain = mapFacts(plain)
	seen, err := DecodeImageBytes(ctx, src.name, src.image, opts)
	if err != nil {
		return nil, err
	}
	for i := range seen {
		for _, p := range plain {
			if p.Text == seen[i].Text {
				strategy := seen[i].Strategy
				seen[i] = p
				seen[i].Strategy = "camera " + opts.Camera.Name + ": " + strategy
				break
			}
		}
	}
	return seen, nil
}

// ScanPath reads the input named by path ("-" for stdin) with the caps of
// opts and scans it.
func ScanPath(ctx context.Context, path string, stdin io.Reader, opts Options) (*InputResult, error) {
	data, err := ReadPath(path, stdin, opts.MaxInputBytes)
	if err != nil {
		return nil, err
	}
	name := path
	if path == "-" {
		name = "stdin"
	} else if opts.BaseDir == "" {
		opts.BaseDir = filepath.Dir(path)
	}
	return ScanInput(ctx, name, data, opts)
}

// lintPayload parses one payload text, with the facts of its QR code when
// it came from an image.
func lintPayload(src, text string, qr *QR, opts Options) Code {
	c := Code{Source: src, Kind: kindOf(text), TextRedacted: redactPayload(text), text: &text, Findings: []Finding{}}
	if qr != nil {
		c.QR = &QRFacts{Bounds: qr.Bounds, Version: qr.Version, ECLevel: qr.ECLevel, ModulePx: qr.ModulePx,
			QuietZoneModules: qr.QuietZoneModules, Strategy: qr.Strategy}
		c.Findings = append(c.Findings, LintQR(*qr, opts.MinModulePx)...)
	}
	switch c.Kind {
	case KindMigration:
		m, fs := ParseMigration(text)
		c.Migration = m
		c.Findings = append(c.Findings, fs...)
		if m != nil {
			for i := range m.Accounts {
				e := &m.Accounts[i]
				if e.Key != nil {
					e.Findings = append(e.Findings, expectations(e.Key, opts)...)
				}
			}
		}
	default:
		k, fs := ParseURI(text)
		c.Key = k
		c.Findings = append(c.Findings, fs...)
		if k != nil {
			c.Findings = append(c.Findings, expectations(k, opts)...)
		}
	}
	return c
}

// expectations checks a key against what the pipeline expects.
func expectations(k *Key, opts Options) []Finding {
	var fs []Finding
	if opts.ExpectIssuer != "" && k.Issuer != opts.ExpectIssuer {
		fs = append(fs, finding(RuleExpectIssuer, "", "the issuer is %q, expected %q", truncate(k.Issuer, 64), truncate(opts.ExpectIssuer, 64)))
	}
	if opts.ExpectAccount != "" && k.Account != opts.ExpectAccount {
		fs = append(fs, finding(RuleExpectAccount, "", "the account is %q, expected %q", truncate(k.Account, 64), truncate(opts.ExpectAccount, 64)))
	}
	if opts.ExpectSecret != nil && !bytes.Equal(k.Secret, opts.ExpectSecret) {
		fs = append(fs, finding(RuleExpectSecret, "", "the secret (%d bits) is not the expected one (%d bits)", k.SecretBits(), len(opts.ExpectSecret)*8))
	}
	return fs
}

// kindOf classifies a payload by its scheme.
func kindOf(text string) Kind {
	t := strings.ToLower(strings.TrimSpace(text))
	switch {
	case strings.HasPrefix(t, "otpauth://"):
		return KindOTPAuth
	case strings.HasPrefix(t, "otpauth-migration://"):
		return KindMigration
	case strings.HasPrefix(t, "http://"), strings.HasPrefix(t, "https://"):
		return KindURL
	}
	return KindOther
}

// redactPayload replaces the values of parameters that may hold a secret:
// secret= in an otpauth URI, data= in an export, every query value of
// anything else. A payload that is not a URI is described by its length.
func redactPayload(text string) string {
	t := strings.TrimSpace(text)
	if !hasScheme(t) {
		return fmt.Sprintf("<%d bytes of text>", len(text))
	}
	base, query, hasQuery := strings.Cut(t, "?")
	if len(base) > 256 {
		base = base[:256] + "..."
	}
	if !hasQuery {
		return base
	}
	if i := strings.IndexByte(query, '#'); i >= 0 {
		query = query[:i]
	}
	kind := kindOf(t)
	parts := strings.Split(query, "&")
	for i, part := range parts {
		k, _, hasValue := strings.Cut(part, "=")
		if len(k) > 32 {
			k = k[:32] + "..."
		}
		lk := strings.ToLower(k)
		switch {
		case !hasValue:
			parts[i] = k
		case kind == KindOTPAuth && lk != "secret":
			parts[i] = truncate(part, 128)
		case kind == KindMigration && lk != "data":
			parts[i] = truncate(part, 128)
		default:
			parts[i] = k + "=REDACTED"
		}
	}
	return base + "?" + strings.Join(parts, "&")
}
