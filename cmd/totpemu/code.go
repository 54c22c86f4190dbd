package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

func init() {
	register(&command{
		name:    "code",
		summary: "print the current code of an account (first line: the code alone)",
		usage: `Usage: totpemu code [flags] [ACCOUNT]
       totpemu code --key BASE32 [flags]
       totpemu code --uri otpauth://totp/... [flags]

Prints the code the virtual device shows now: the first line of stdout is
the code alone, so $(totpemu code) is the code. ACCOUNT names an enrolled
account ("Issuer:name", or the name alone when it is unique); with one
account enrolled it may be left out. --key and --uri compute a code without
touching the device's state.

Flags:
  --key BASE32           a key as typed from a console's "Scan failed?" box
                         (spaces, lower case and missing padding are fine)
  --uri URI              an otpauth://totp/ URI
  --qr INPUT             a QR image (file, - for stdin, base64 PNG, data URL,
                         HTML page or JSON API response) holding the URI
  --digits N             code length for --key, 6 to 8 (default 6)
  --algorithm NAME       SHA1, SHA256 or SHA512 for --key (default SHA1)
  --period SECONDS       step length for --key (default 30)
` + timeFlagsUsage + `  --next N               print N more lines (0 to 1000): the codes of the
                         following steps
  --json                 print an object with code, step, valid_for_s, at, ...
  --state PATH           the device's state file (default $TOTPEMU_STATE, else
                         $XDG_CONFIG_HOME/totpemu/device.json)

Exit status: 0 printed; 2 usage error, bad key or unreadable state file.

Examples:
  totpemu code
  totpemu code "Example Cloud:alice@example.com" --next 2
  totpemu code --key 'jbsw y3dp ehpk 3pxp' --at 59
  totpemu code --key GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ --digits 8 --at 1111111109
  totpemu code --uri 'otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example' --json
  totpemu code --key JBSWY3DPEHPK3PXP --profile token --since 2026-01-01T00:00:00Z
  totpemu code --key JBSWY3DPEHPK3PXP --offset -45s
`,
		run: runCode,
	})
}

// codeJSON is what --json prints.
type codeJSON struct {
	Account   string     `json:"account"`
	Code      string     `json:"code"`
	Step      uint64     `json:"step"`
	ValidForS float64    `json:"valid_for_s"`
	At        time.Time  `json:"at"`
	Period    int        `json:"period"`
	Digits    int        `json:"digits"`
	Algorithm string     `json:"algorithm"`
	Profile   string     `json:"profile"`
	Next      []nextJSON `json:"next,omitempty"`
}

type nextJSON struct {
	Code  string    `json:"code"`
	Step  uint64    `json:"step"`
	Start time.Time `json:"start"`
}

func runCode(ctx context.Context, e *env, args []string) error {
	c := commands["code"]
	fs := newFlags(c)
	var src accountSource
	src.register(fs)
	var tf timeFlags
	tf.register(fs)
	next := fs.Int("next", 0, "")
	asJSON := fs.Bool("json", false, "")
	statePath := fs.String("state", "", "")
	if err := parse(e, c, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usageErr(`name one account, quoted if it has spaces`, "code: takes at most one ACCOUNT, got %d arguments", fs.NArg())
	}
	if err := src.browser.check(fs, "code"); err != nil {
		return err
	}
	if *next < 0 || *next > 1000 {
		return usageErr("e.g. --next 2", "--next: %d is outside 0 to 1000", *next)
	}
	acct, err := src.account(ctx, e, fs, fs.Arg(0), *statePath)
	if err != nil {
		return err
	}
	dev, err := tf.device(ctx, e, fs, acct)
	if err != nil {
		return err
	}
	p := dev.Profile()
	if t := dev.Now(); t.Before(minTime) || t.After(maxTime) {
		return usageErr("give a time that stays within years 1 to 9999 after --offset and drift", "code: the device's time %s is outside years 1 to 9999", t.Format(time.RFC3339))
	}
	codes, err := dev.Next(acct, *next+1)
	if err != nil {
		return inputErr(fmt.Errorf("code: %w", err), "")
	}
	now := dev.Now()
	if !*asJSON {
		for _, cd := range codes {
			fmt.Fprintln(e.stdout, cd.Value)
		}
		return nil
	}
	out := codeJSON{
		Account: acct.Label(), Code: codes[0].Value, Step: codes[0].Step,
		ValidForS: math.Round(codes[0].ValidFor(now).Seconds()*1000) / 1000,
		At:        now.UTC(), Period: acct.Period, Digits: acct.Digits,
		Algorithm: acct.Algorithm.String(), Profile: p.Name,
	}
	for _, cd := range codes[1:] {
		out.Next = append(out.Next, nextJSON{Code: cd.Value, Step: cd.Step, Start: cd.Start.UTC()})
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
