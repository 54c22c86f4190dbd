package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/totpemu/totpemu/emulator"
	"github.com/totpemu/totpemu/scanner"
)

// keysFromQR scans input (a path or "-") the way "totpemu scan" does and
// returns every TOTP key in it. An input without a usable otpauth code, or
// one whose payload has an error finding, is refused. HOTP accounts of an
// export among TOTP ones are skipped, each with a warning on stderr
// naming it and why; an input holding HOTP accounts only is refused.
func keysFromQR(ctx context.Context, e *env, input string, bf *browserFlags) ([]*scanner.Key, error) {
	var results []*scanner.InputResult
	hint := fmt.Sprintf("run \"totpemu scan %s\" to see what the input holds", input)
	if bf != nil && bf.on {
		// A live page: every capture of it, the same key seen in several
		// (a screenshot, the <img>) counted once.
		page, err := bf.scanPage(ctx, e, "--qr", input, scanner.Options{})
		if err != nil {
			return nil, err
		}
		for _, p := range page {
			results = append(results, p.res)
		}
		hint = fmt.Sprintf("run \"totpemu scan --browser %s\" to see what the page holds", input)
	} else {
		res, err := scanner.ScanPath(ctx, input, e.stdin, scanner.Options{})
		if err != nil {
			return nil, inputErr(fmt.Errorf("--qr %s: %w", input, err), "")
		}
		results = append(results, res)
	}
	var keys []*scanner.Key
	seen := map[string]bool{}
	status := results[0].Status
	for _, res := range results {
		for i := range res.Codes {
			c := &res.Codes[i]
			if errs := errorMessages(c.AllFindings()); errs != "" {
				return nil, inputErr(fmt.Errorf("--qr %s: %s: %s", input, c.Source, errs), hint)
			}
			for _, k := range c.Keys() {
				id := k.Type + "\x00" + k.Label() + "\x00" + scanner.EncodeSecret(k.Secret)
				if !seen[id] {
					seen[id] = true
					keys = append(keys, k)
				}
			}
		}
	}
	if len(keys) == 0 {
		return nil, inputErr(fmt.Errorf("--qr %s: no otpauth key found (%s)", input, status), hint)
	}
	var totp, skipped []*scanner.Key
	for _, k := range keys {
		if k.Type == "totp" {
			totp = append(totp, k)
		} else {
			skipped = append(skipped, k)
		}
	}
	if len(totp) == 0 {
		k := skipped[0]
		return nil, inputErr(fmt.Errorf("--qr %s: account %q is %s, and this device holds TOTP accounts only", input, k.Label(), k.Type), "")
	}
	for _, k := range skipped {
		fmt.Fprintf(e.stderr, "totpemu: warning: --qr %s: skipped account %q (%s, counter %d): this device holds TOTP accounts only\n", input, k.Label(), strings.ToUpper(k.Type), k.Counter)
	}
	return totp, nil
}

func errorMessages(fs []scanner.Finding) string {
	var msgs []string
	for _, f := range fs {
		if f.Severity == scanner.SeverityError {
			msgs = append(msgs, f.Rule+": "+f.Message)
		}
	}
	return strings.Join(msgs, "; ")
}

// accountFromQR returns the one account held by a QR input.
func accountFromQR(ctx context.Context, e *env, input string, bf *browserFlags) (*emulator.Account, error) {
	keys, err := keysFromQR(ctx, e, input, bf)
	if err != nil {
		return nil, err
	}
	if len(keys) > 1 {
		return nil, inputErr(fmt.Errorf("--qr %s: holds %d accounts; this command takes one", input, len(keys)), `"totpemu enroll --qr" adds them all`)
	}
	return accountFromKey(input, keys[0])
}

func accountFromKey(input string, k *scanner.Key) (*emulator.Account, error) {
	a, err := emulator.AccountFromKey(k)
	if err != nil {
		return nil, inputErr(fmt.Errorf("--qr %s: %w", input, err), "")
	}
	return a, nil
}
