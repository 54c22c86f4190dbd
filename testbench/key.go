package testbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/totpemu/totpemu/emulator"
	"github.com/totpemu/totpemu/scanner"
)

// keyMaterial is what the bench made of an enrollment's key forms.
type keyMaterial struct {
	uri      string            // the otpauth URI (given as text or decoded from the QR)
	fromQR   bool              // uri came from the QR image
	key      *scanner.Key      // parsed uri, nil when there was none
	findings []scanner.Finding // lint findings on uri
	manual   []byte            // the decoded manual key, nil when none
	// qrKey is the QR image's key when it was decoded beside a URI given
	// as text, to be compared with it; nil otherwise.
	qrKey *scanner.Key
}

// MaxQRImageBytes caps a QR image a target hands over.
const MaxQRImageBytes = 8 << 20

// readKey decodes an enrollment's key forms. decodeQR says whether to
// decode the QR image when another form (a URI, a manual key) is also
// there: the first enrollment and the enroll scenario read every form, to
// compare them (disagreements); later ones take the cheapest.
func readKey(ctx context.Context, enr *Enrollment, decodeQR bool) (*keyMaterial, error) {
	km := &keyMaterial{uri: strings.TrimSpace(enr.URI)}
	if enr.ManualKey != "" {
		b, err := scanner.DecodeSecret(enr.ManualKey)
		if err != nil {
			return nil, fmt.Errorf("manual key of %s: %w", enr, err)
		}
		km.manual = b
	}
	if len(enr.QRImage) > 0 && (decodeQR || (km.uri == "" && km.manual == nil)) {
		text, err := decodeQRImage(ctx, enr)
		if err != nil {
			return nil, err
		}
		if km.uri == "" {
			km.uri, km.fromQR = text, true
		} else {
			k, fs := scanner.ParseURI(text)
			if k == nil {
				return nil, fmt.Errorf("the QR image of %s holds no usable otpauth URI: %s", enr, findingsText(fs))
			}
			km.qrKey = k
		}
	}
	if km.uri != "" {
		km.key, km.findings = scanner.ParseURI(km.uri)
		if km.key == nil {
			return nil, fmt.Errorf("the otpauth URI of %s is unusable: %s", enr, findingsText(km.findings))
		}
		if km.key.Type != "totp" {
			return nil, fmt.Errorf("the key of %s is %s, not totp", enr, km.key.Type)
		}
	}
	if km.key == nil && km.manual == nil {
		return nil, fmt.Errorf("%s carries no key: no otpauth URI, QR image or manual key", enr)
	}
	return km, nil
}

// decodeQRImage reads the first QR code of an enrollment's image.
func decodeQRImage(ctx context.Context, enr *Enrollment) (string, error) {
	if len(enr.QRImage) > MaxQRImageBytes {
		return "", fmt.Errorf("QR image of %s is %d bytes, over %d", enr, len(enr.QRImage), MaxQRImageBytes)
	}
	qrs, err := scanner.DecodeImageBytes(ctx, "enrollment QR", enr.QRImage, scanner.DecodeOptions{})
	if err != nil {
		return "", fmt.Errorf("decoding the QR image of %s: %w", enr, err)
	}
	if len(qrs) == 0 {
		return "", fmt.Errorf("the QR image of %s holds no QR code", enr)
	}
	return qrs[0].Text, nil
}

// agreement compares every pair of key forms read: the QR code with the
// URI given as text (secret and code parameters), and the manual key with
// the QR code's secret (or the URI's). Each comparison is a check,
// failing on a mismatch: a person who scans one form or types the other
// gets codes the server refuses.
func (km *keyMaterial) agreement() []Check {
	var cs []Check
	if km.qrKey != nil && km.key != nil {
		q, u := km.qrKey, km.key
		var diff []string
		if !bytes.Equal(q.Secret, u.Secret) {
			diff = append(diff, "the secret")
		}
		if q.Algorithm != u.Algorithm {
			diff = append(diff, fmt.Sprintf("the algorithm (%s in the QR code, %s in the URI)", q.Algorithm, u.Algorithm))
		}
		if q.Digits != u.Digits {
			diff = append(diff, fmt.Sprintf("the digits (%d in the QR code, %d in the URI)", q.Digits, u.Digits))
		}
		if q.Period != u.Period {
			diff = append(diff, fmt.Sprintf("the period (%d s in the QR code, %d s in the URI)", q.Period, u.Period))
		}
		if len(diff) > 0 {
			cs = append(cs, Check{ID: "enroll.qr-matches-uri", Status: Fail,
				Detail: "the QR code and the otpauth URI the target gave differ in " + strings.Join(diff, ", ") + ": a phone that scans the code gets codes the server may refuse"})
		} else {
			cs = append(cs, Check{ID: "enroll.qr-matches-uri", Status: Pass, Detail: "the QR code holds the otpauth URI the target gave"})
		}
	}
	if km.manual != nil {
		ref, src := km.key, "the otpauth URI's"
		switch {
		case km.qrKey != nil:
			ref, src = km.qrKey, "the QR code's"
		case km.fromQR:
			src = "the QR code's"
		}
		if ref != nil {
			if bytes.Equal(ref.Secret, km.manual) {
				cs = append(cs, Check{ID: "enroll.manual-key", Status: Pass, Detail: "the manual-entry key equals " + src + " secret"})
			} else {
				cs = append(cs, Check{ID: "enroll.manual-key", Status: Fail,
					Detail: "the manual-entry key differs from " + src + " secret: a person typing it gets codes the server refuses"})
			}
		}
	}
	return cs
}

// keyFormsError stops a run whose first enrollment's key forms disagree:
// no scenario can know which one the server checks codes against.
type keyFormsError struct{ checks []Check }

func (e *keyFormsError) Error() string {
	var ids []string
	for _, c := range e.checks {
		if c.Status == Fail {
			ids = append(ids, c.ID)
		}
	}
	return "the enrollment's key forms disagree (" + strings.Join(ids, ", ") + ")"
}

// params are the code parameters shared by a target's enrollments.
type params struct {
	alg    emulator.Algorithm
	digits int
	period int
}

// account builds the device's account: the URI's parameters and secret
// when there is a URI, else the manual key with p's parameters.
func (km *keyMaterial) account(enr *Enrollment, p params) (*emulator.Account, error) {
	secret, issuer, name := km.manual, enr.Issuer, enr.Account
	if km.key != nil {
		a, err := emulator.ParseAlgorithm(km.key.Algorithm)
		if err != nil {
			return nil, err
		}
		p = params{alg: a, digits: km.key.Digits, period: km.key.Period}
		secret, issuer, name = km.key.Secret, km.key.Issuer, km.key.Account
	}
	if name == "" {
		name = "bench"
	}
	issuer = strings.ReplaceAll(issuer, ":", " ")
	acct, err := emulator.NewAccount(issuer, name, secret, p.alg, p.digits, p.period)
	if err != nil {
		// Labels are cosmetic here: retry with plain ones before giving up.
		if acct2, err2 := emulator.NewAccount("", "bench", secret, p.alg, p.digits, p.period); err2 == nil {
			return acct2, nil
		}
		return nil, fmt.Errorf("key of %s: %w", enr, err)
	}
	return acct, nil
}

func (km *keyMaterial) params() (params, bool) {
	if km.key == nil {
		return params{}, false
	}
	a, err := emulator.ParseAlgorithm(km.key.Algorithm)
	if err != nil {
		return params{}, false
	}
	return params{alg: a, digits: km.key.Digits, period: km.key.Period}, true
}

func findingsText(fs []scanner.Finding) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, f.String())
	}
	if len(parts) == 0 {
		return "no usable key"
	}
	return strings.Join(parts, "; ")
}

// ErrUnreachable marks errors that mean the target could not be used at
// all (the CLI's exit status 2).
var ErrUnreachable = errors.New("target unreachable")

// IsUnreachable reports whether err means the target could not be reached
// or could not enroll a device at all.
func IsUnreachable(err error) bool { return errors.Is(err, ErrUnreachable) }
