package testbench

import (
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
}

// MaxQRImageBytes caps a QR image a target hands over.
const MaxQRImageBytes = 8 << 20

// readKey decodes an enrollment's key forms. decodeQR says whether to
// decode the QR image when a manual key is also there.
func readKey(ctx context.Context, enr *Enrollment, decodeQR bool) (*keyMaterial, error) {
	km := &keyMaterial{uri: strings.TrimSpace(enr.URI)}
	if enr.ManualKey != "" {
		b, err := scanner.DecodeSecret(enr.ManualKey)
		if err != nil {
			return nil, fmt.Errorf("manual key of %s: %w", enr, err)
		}
		km.manual = b
	}
	if km.uri == "" && len(enr.QRImage) > 0 && (decodeQR || km.manual == nil) {
		if len(enr.QRImage) > MaxQRImageBytes {
			return nil, fmt.Errorf("QR image of %s is %d bytes, over %d", enr, len(enr.QRImage), MaxQRImageBytes)
		}
		qrs, err := scanner.DecodeImageBytes(ctx, "enrollment QR", enr.QRImage, scanner.DecodeOptions{})
		if err != nil {
			return nil, fmt.Errorf("decoding the QR image of %s: %w", enr, err)
		}
		if len(qrs) == 0 {
			return nil, fmt.Errorf("the QR image of %s holds no QR code", enr)
		}
		km.uri, km.fromQR = qrs[0].Text, true
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
