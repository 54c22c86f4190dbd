package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"
	"github.com/totpemu/totpemu/emulator"
)

// accountSource is where a command takes one account from: --key (manual
// entry), --uri, --qr, or the device's state file by name.
type accountSource struct {
	key, uri, qr   string
	digits, period int
	algorithm      string
	browser        browserFlags // --qr URL --browser: a live page
}

func (s *accountSource) register(fs *pflag.FlagSet) {
	fs.StringVar(&s.key, "key", "", "")
	fs.StringVar(&s.uri, "uri", "", "")
	fs.StringVar(&s.qr, "qr", "", "")
	fs.IntVar(&s.digits, "digits", 6, "")
	fs.StringVar(&s.algorithm, "algorithm", "SHA1", "")
	fs.IntVar(&s.period, "period", 30, "")
	s.browser.register(fs)
}

// given reports how many of --key, --uri and --qr were given.
func (s *accountSource) given(fs *pflag.FlagSet) int {
	n := 0
	for _, f := range []string{"key", "uri", "qr"} {
		if fs.Changed(f) {
			n++
		}
	}
	return n
}

// fromFlags builds the account from --key, --uri or --qr; name and issuer
// label a --key account.
func (s *accountSource) fromFlags(ctx context.Context, e *env, fs *pflag.FlagSet, name, issuer string) (*emulator.Account, error) {
	if s.given(fs) > 1 {
		return nil, usageErr("give one of them", "--key, --uri and --qr cannot be used together")
	}
	if !fs.Changed("key") {
		for _, f := range []string{"digits", "algorithm", "period"} {
			if fs.Changed(f) {
				return nil, usageErr("the URI or QR code carries its own parameters", "--%s goes with --key only", f)
			}
		}
	}
	switch {
	case fs.Changed("key"):
		a, err := emulator.ManualEntry(name, s.key, issuer)
		if errors.Is(err, emulator.ErrInvalidKey) {
			return nil, inputErr(fmt.Errorf("--key: %w", err), "type the key as the console shows it; spaces and lower case are fine")
		}
		if err != nil {
			// The label, not the key: say what a label may hold.
			return nil, usageErr(`the issuer may not hold a colon (the Key Uri Format separates issuer and account with one), and neither may hold control characters; e.g. --issuer "Example Cloud" --account alice@example.com`,
				"--issuer/--account: %w", err)
		}
		alg, err := emulator.ParseAlgorithm(s.algorithm)
		if err != nil {
			return nil, usageErr("use SHA1, SHA256 or SHA512", "--algorithm: %w", err)
		}
		a.Algorithm, a.Digits, a.Period = alg, s.digits, s.period
		if err := a.Validate(); err != nil {
			return nil, usageErr("", "--key: %w", err)
		}
		return a, nil
	case fs.Changed("uri"):
		a, err := emulator.AccountFromURI(s.uri)
		if err != nil {
			return nil, inputErr(fmt.Errorf("--uri: %w", err), `run "totpemu scan" on the URI for every finding`)
		}
		return a, nil
	case fs.Changed("qr"):
		return accountFromQR(ctx, e, s.qr, &s.browser)
	}
	return nil, nil
}

// account returns the account a code command is about: from the flags, or
// the enrolled account named query.
func (s *accountSource) account(ctx context.Context, e *env, fs *pflag.FlagSet, query, statePath string) (*emulator.Account, error) {
	if s.given(fs) > 0 {
		if query != "" {
			return nil, usageErr("give an enrolled ACCOUNT or --key/--uri/--qr, not both", "code: ACCOUNT %q given with --key, --uri or --qr", query)
		}
		name := "key"
		return s.fromFlags(ctx, e, fs, name, "")
	}
	st, path, err := loadState(e, statePath)
	if err != nil {
		return nil, err
	}
	a, err := st.Find(query)
	if err != nil {
		return nil, inputErr(fmt.Errorf("%s: %w", path, err), `run "totpemu accounts" to list them, or "totpemu enroll" to add one`)
	}
	return a, nil
}

// statePath resolves --state, $TOTPEMU_STATE and the default location.
func statePath(e *env, flag string) (string, error) {
	if flag == "" {
		flag = e.getenv("TOTPEMU_STATE")
	}
	p, err := emulator.DefaultStatePath(flag)
	if err != nil {
		return "", inputErr(fmt.Errorf("state file: %w", err), "give --state PATH or set TOTPEMU_STATE")
	}
	return p, nil
}

func loadState(e *env, flag string) (*emulator.State, string, error) {
	path, err := statePath(e, flag)
	if err != nil {
		return nil, "", err
	}
	st, err := emulator.Load(path)
	if err != nil {
		return nil, path, stateErr(err, "")
	}
	return st, path, nil
}

// stateErr reports a state file error (exit 2), with the emulator's hint
// when it refused the file, else with hint.
func stateErr(err error, hint string) error {
	var se *emulator.StateError
	if errors.As(err, &se) && se.Hint != "" {
		hint = se.Hint
	}
	return inputErr(err, hint)
}
