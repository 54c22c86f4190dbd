package main

import (
	"context"
	"fmt"

	"github.com/totpemu/totpemu/emulator"
)

func init() {
	register(&command{
		name:    "enroll",
		summary: "add an account to the device from a QR code, a URI or a typed key",
		usage: `Usage: totpemu enroll --qr INPUT [flags]
       totpemu enroll --uri otpauth://totp/... [flags]
       totpemu enroll --account NAME --key KEY [--issuer NAME] [flags]

Adds an account to the virtual device, as a phone does when it scans a
console's QR code or when a person types the account name and key shown
under "Scan failed?". Prints the account and its current code. The device's
state file holds the secret: it is created 0600 and written atomically
under a lock.

Flags:
  --qr INPUT             a QR image (file, - for stdin, base64 PNG, data URL,
                         HTML page or JSON API response with QRCodePNG); a
                         Google Authenticator export adds every TOTP account
                         in it (an HOTP one is skipped with a warning)
                         With --browser, INPUT is a page's URL, loaded in
                         headless Chromium (see "totpemu scan --help" for
                         --cookie, --header, --wait-for, --timeout,
                         --chromium, --scales)
  --uri URI              an otpauth://totp/ URI
  --account NAME         the account name, for manual entry with --key
  --key KEY              the key as shown (spaces, lower case, no padding are fine)
  --issuer NAME          the issuer, for manual entry
  --digits N             code length for --key, 6 to 8 (default 6)
  --algorithm NAME       SHA1, SHA256 or SHA512 for --key (default SHA1)
  --period SECONDS       step length for --key (default 30)
  --state PATH           the device's state file (default $TOTPEMU_STATE, else
                         $XDG_CONFIG_HOME/totpemu/device.json)

Exit status: 0 enrolled; 2 usage error, bad key or URI, unreadable image or
state file, or an account with that label already enrolled.

Examples:
  totpemu enroll --qr scanner/testdata/corpus/console-1920x1080-dark-half.png
  totpemu enroll --qr scanner/testdata/inputs/alibaba-create-virtual-mfa-device.json
  totpemu enroll --uri 'otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example'
  totpemu enroll --qr https://console.example/mfa/enable --browser --cookie session=... --wait-for '#qr'
  totpemu enroll --account alice@example.com --key 'jbsw y3dp ehpk 3pxp' --issuer Example
`,
		run: runEnroll,
	})
}

func runEnroll(ctx context.Context, e *env, args []string) error {
	c := commands["enroll"]
	fs := newFlags(c)
	var src accountSource
	src.register(fs)
	name := fs.String("account", "", "")
	issuer := fs.String("issuer", "", "")
	statePathFlag := fs.String("state", "", "")
	if err := parse(e, c, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr(`run "totpemu enroll --help"`, "enroll: takes no arguments, got %q", fs.Arg(0))
	}
	if src.given(fs) == 0 {
		return usageErr(`give --qr INPUT, --uri URI, or --account NAME --key KEY`, "enroll: nothing to enroll")
	}
	if err := src.browser.check(fs, "enroll"); err != nil {
		return err
	}
	if src.browser.on && !fs.Changed("qr") {
		return usageErr("e.g. --qr https://console.example/mfa --browser", "enroll: --browser goes with --qr URL")
	}
	if fs.Changed("key") && *name == "" {
		return usageErr("name the account the key belongs to, e.g. --account alice@example.com", "enroll: --key needs --account")
	}
	if !fs.Changed("key") && (fs.Changed("account") || fs.Changed("issuer")) {
		return usageErr("the URI or QR code names its own account", "enroll: --account and --issuer go with --key only")
	}
	var accts []*emulator.Account
	if fs.Changed("qr") {
		if src.given(fs) > 1 {
			return usageErr("give one of them", "--key, --uri and --qr cannot be used together")
		}
		keys, err := keysFromQR(ctx, e, src.qr, &src.browser)
		if err != nil {
			return err
		}
		for _, k := range keys {
			a, err := accountFromKey(src.qr, k)
			if err != nil {
				return err
			}
			accts = append(accts, a)
		}
	} else {
		a, err := src.fromFlags(ctx, e, fs, *name, *issuer)
		if err != nil {
			return err
		}
		accts = append(accts, a)
	}
	path, err := statePath(e, *statePathFlag)
	if err != nil {
		return err
	}
	err = emulator.Update(path, func(st *emulator.State) error {
		for _, a := range accts {
			if err := st.Add(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return stateErr(fmt.Errorf("enroll: %w", err), "")
	}
	now := e.clock.Now()
	for _, a := range accts {
		code, err := a.Code(now)
		if err != nil {
			return inputErr(fmt.Errorf("enroll: %w", err), "")
		}
		fmt.Fprintf(e.stdout, "enrolled %s (%s, %d digits, %d s)\ncode %s (valid %d s more)\n",
			a.Label(), a.Algorithm, a.Digits, a.Period, code, int(a.ValidFor(now).Seconds()+0.999))
	}
	return nil
}
