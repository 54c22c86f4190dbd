// Command totpemu is a virtual phone authenticator and a test bench for
// TOTP (RFC 6238) servers. Run "totpemu help" for the commands.
//
// main stays thin: run maps a command's returned error to an exit status
// (0 success; 1 the thing checked failed; 2 usage error or unreadable
// input). Each command is a value in its own file with its own tests; its
// writers and environment come from an env, never from os directly.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal asks a command to stop (a bench writes what it
	// measured); a second one kills, as usual.
	context.AfterFunc(ctx, stop)
	code := run(ctx, newEnv(os.Stdin, os.Stdout, os.Stderr, os.Getenv), os.Args[1:])
	stop()
	os.Exit(code)
}
