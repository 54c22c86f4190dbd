package emulator

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/totpemu/totpemu/scanner"
)

// ErrInvalidKey is wrapped by ManualEntry's errors about the key itself.
var ErrInvalidKey = errors.New("invalid key")

// ManualEntry makes an account the way a phone's "enter a setup key" screen
// does when the QR scan fails: an account name, the key as the console
// prints it, and optionally the issuer. The key may have spaces or hyphens
// between groups, lower case and missing or present '=' padding; anything
// outside base32, or a key under 80 bits, is refused. Like Google
// Authenticator's manual entry, the account is time-based with SHA1, 6
// digits and 30 s. Errors never contain the key.
func ManualEntry(name, key, issuer string) (*Account, error) {
	name = strings.TrimSpace(name)
	issuer = strings.TrimSpace(issuer)
	if name == "" {
		return nil, errors.New("manual entry: account name is empty")
	}
	secret, err := scanner.DecodeSecret(key)
	if err != nil {
		return nil, fmt.Errorf("manual entry for %q: %w: %w", name, ErrInvalidKey, err)
	}
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("manual entry for %q: %w: the key is %d bits, at least %d are needed (%d base32 characters)",
			name, ErrInvalidKey, 8*len(secret), 8*MinSecretBytes, (8*MinSecretBytes+4)/5)
	}
	a, err := NewAccount(issuer, name, secret, SHA1, DefaultDigits, DefaultPeriod)
	clear(secret)
	if err != nil {
		return nil, fmt.Errorf("manual entry: %w", err)
	}
	return a, nil
}

// AccountFromURI makes an account from an otpauth://totp/ URI, as scanning
// its QR code would. The URI is parsed and linted by scanner.ParseURI; any
// error finding refuses it (its messages are listed in the error), and so
// does an hotp:// URI: this device is time-based. Warnings are accepted;
// callers that want to show them call scanner.ParseURI themselves and use
// AccountFromKey. Errors never contain the URI, which holds the secret.
func AccountFromURI(uri string) (*Account, error) {
	k, fs := scanner.ParseURI(uri)
	if scanner.HasError(fs) || k == nil {
		var msgs []string
		for _, f := range fs {
			if f.Severity == scanner.SeverityError {
				msgs = append(msgs, f.Message+" ("+f.Rule+")")
			}
		}
		if len(msgs) == 0 {
			msgs = append(msgs, "no usable key")
		}
		return nil, fmt.Errorf("otpauth uri refused: %s", strings.Join(msgs, "; "))
	}
	return AccountFromKey(k)
}

// AccountFromKey makes an account from a key scanned and parsed by the
// scanner package. It refuses HOTP keys and anything NewAccount refuses;
// it does not look at lint findings (see AccountFromURI).
func AccountFromKey(k *scanner.Key) (*Account, error) {
	if k == nil {
		return nil, errors.New("no key")
	}
	if !strings.EqualFold(k.Type, "totp") {
		return nil, fmt.Errorf("key %q is %q, not totp: this device is time-based (TOTP) only", k.Label(), k.Type)
	}
	alg := SHA1
	if k.Algorithm != "" {
		var err error
		if alg, err = ParseAlgorithm(k.Algorithm); err != nil {
			return nil, fmt.Errorf("key %q: %w", k.Label(), err)
		}
	}
	return NewAccount(k.Issuer, k.Account, k.Secret, alg, k.Digits, k.Period)
}

// RevealURI REVEALS the key: it returns the account as an otpauth://totp/
// URI (what its enrollment QR code holds), secret included. For an
// explicit --reveal, or to move the account to another authenticator.
func (a *Account) RevealURI() string {
	label := url.PathEscape(a.Name)
	if a.Issuer != "" {
		label = url.PathEscape(a.Issuer) + ":" + label
	}
	q := url.Values{}
	q.Set("secret", a.SecretBase32())
	if a.Issuer != "" {
		q.Set("issuer", a.Issuer)
	}
	q.Set("algorithm", a.Algorithm.String())
	q.Set("digits", strconv.Itoa(a.Digits))
	q.Set("period", strconv.Itoa(a.Period))
	return "otpauth://totp/" + label + "?" + q.Encode()
}
