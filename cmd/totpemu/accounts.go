package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/totpemu/totpemu/emulator"
)

func init() {
	register(&command{
		name:    "accounts",
		summary: "list the device's accounts, or remove one",
		usage: `Usage: totpemu accounts [--json] [--state PATH]
       totpemu accounts remove ACCOUNT [--state PATH]

Lists the accounts enrolled on the virtual device (never their secrets),
or removes one. ACCOUNT is "Issuer:name" as listed, or the name alone when
it is unique.

Flags:
  --json         list as JSON
  --state PATH   the device's state file (default $TOTPEMU_STATE, else
                 $XDG_CONFIG_HOME/totpemu/device.json)

Exit status: 0 done; 2 usage error, unknown account or unreadable state file.

Examples:
  totpemu accounts
  totpemu accounts --json
  totpemu accounts remove "Example Cloud:alice@example.com"
`,
		run: runAccounts,
	})
}

type accountJSON struct {
	Label     string `json:"label"`
	Issuer    string `json:"issuer"`
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	Digits    int    `json:"digits"`
	Period    int    `json:"period"`
}

func runAccounts(_ context.Context, e *env, args []string) error {
	c := commands["accounts"]
	fs := newFlags(c)
	asJSON := fs.Bool("json", false, "")
	statePathFlag := fs.String("state", "", "")
	if err := parse(e, c, fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() == 0:
	case fs.Arg(0) == "remove":
		if fs.NArg() != 2 {
			return usageErr(`e.g. totpemu accounts remove "Example:alice"`, "accounts remove: takes one ACCOUNT, got %d", fs.NArg()-1)
		}
		return removeAccount(e, *statePathFlag, fs.Arg(1))
	default:
		return usageErr(`run "totpemu accounts --help"`, "accounts: unknown subcommand %q", fs.Arg(0))
	}
	st, _, err := loadState(e, *statePathFlag)
	if err != nil {
		return err
	}
	if *asJSON {
		list := []accountJSON{}
		for _, a := range st.Accounts {
			list = append(list, accountJSON{a.Label(), a.Issuer, a.Name, a.Algorithm.String(), a.Digits, a.Period})
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	if len(st.Accounts) == 0 {
		fmt.Fprintln(e.stdout, `no accounts (add one with "totpemu enroll")`)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tALGORITHM\tDIGITS\tPERIOD")
	for _, a := range st.Accounts {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%ds\n", a.Label(), a.Algorithm, a.Digits, a.Period)
	}
	return tw.Flush()
}

func removeAccount(e *env, flag, query string) error {
	path, err := statePath(e, flag)
	if err != nil {
		return err
	}
	var removed *emulator.Account
	err = emulator.Update(path, func(st *emulator.State) error {
		a, err := st.Remove(query)
		removed = a
		return err
	})
	if err != nil {
		return stateErr(fmt.Errorf("accounts remove: %w", err), `run "totpemu accounts" to list them`)
	}
	fmt.Fprintf(e.stdout, "removed %s\n", removed.Label())
	return nil
}
