package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"github.com/totpemu/totpemu/clock"
)

// Exit statuses, as in DESIGN.md.
const (
	exitOK     = 0
	exitFailed = 1 // the thing checked failed
	exitUsage  = 2 // usage error or unreadable input
)

// env is what a command may touch of the outside world.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	clock  clock.Waiter // the local clock; tests may replace it
}

func newEnv(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *env {
	return &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, clock: clock.System{}}
}

// command is one verb of the CLI. usage is its hand-written help text
// (printed by "totpemu help NAME" and "NAME --help"); run gets the
// arguments after the verb.
type command struct {
	name    string
	summary string
	usage   string
	run     func(ctx context.Context, e *env, args []string) error
	// graceful commands get SIGINT and SIGTERM as the end of ctx, to
	// stop cleanly; the others die at once (nothing of theirs is left
	// half done: the state file is written atomically).
	graceful bool
}

// commands lists the verbs in the order "totpemu help" shows them. Each
// command file adds itself with register in an init function.
var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// order is the order of the command list in the top-level help.
var order = []string{"code", "enroll", "accounts", "clock", "scan", "serve", "bench", "version", "help"}

// exitError carries an exit status and an optional hint with an error.
type exitError struct {
	code int
	err  error
	hint string
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr reports bad usage (exit 2).
func usageErr(hint string, format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...), hint: hint}
}

// inputErr reports unreadable or invalid input (exit 2).
func inputErr(err error, hint string) error {
	return &exitError{code: exitUsage, err: err, hint: hint}
}

// failedErr reports that the thing checked failed (exit 1).
func failedErr(err error, hint string) error {
	return &exitError{code: exitFailed, err: err, hint: hint}
}

// errSilentFailure is returned by a command that has already printed its
// verdict (a report, findings) and only needs exit status 1.
var errSilentFailure = errors.New("check failed")

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, topUsage())
		return exitUsage
	}
	name := args[0]
	if name == "-h" || name == "--help" {
		fmt.Fprint(e.stdout, topUsage())
		return exitOK
	}
	if name == "--version" {
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(e.stderr, "totpemu: error: unknown command %q\n", name)
		fmt.Fprintf(e.stderr, "totpemu: hint: run \"totpemu help\" for the list of commands\n")
		return exitUsage
	}
	err := c.run(ctx, e, args[1:])
	return report(e, err)
}

// report prints err as DESIGN.md asks and returns the exit status.
func report(e *env, err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, pflag.ErrHelp):
		return exitOK
	case errors.Is(err, errSilentFailure):
		return exitFailed
	}
	code, hint := exitUsage, ""
	var ee *exitError
	if errors.As(err, &ee) {
		code, hint = ee.code, ee.hint
	}
	fmt.Fprintf(e.stderr, "totpemu: error: %v\n", err)
	if hint != "" {
		fmt.Fprintf(e.stderr, "totpemu: hint: %s\n", hint)
	}
	return code
}

// newFlags returns a FlagSet for c that reports errors instead of exiting
// and prints nothing by itself.
func newFlags(c *command) *pflag.FlagSet {
	fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	return fs
}

// parse parses args with fs. On --help it prints c's usage to stdout and
// returns pflag.ErrHelp (exit 0); on a bad flag, a usage error naming it.
func parse(e *env, c *command, fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(e.stdout, c.usage)
			return pflag.ErrHelp
		}
		return usageErr(fmt.Sprintf("run \"totpemu %s --help\" for usage", c.name), "%s: %v", c.name, err)
	}
	return nil
}

func topUsage() string {
	var b strings.Builder
	b.WriteString(`totpemu: a virtual TOTP authenticator and a test bench for MFA servers

Usage:
  totpemu COMMAND [flags] [args]

Commands:
`)
	seen := map[string]bool{}
	for _, n := range order {
		if c, ok := commands[n]; ok {
			fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
			seen[n] = true
		}
	}
	var rest []string
	for n := range commands {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	for _, n := range rest {
		fmt.Fprintf(&b, "  %-9s %s\n", n, commands[n].summary)
	}
	b.WriteString(`
Run "totpemu help COMMAND" or "totpemu COMMAND --help" for a command's flags and examples.
Exit status: 0 success; 1 the thing checked failed; 2 usage error or unreadable input.
`)
	return b.String()
}
