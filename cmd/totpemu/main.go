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
	ctx := context.Background()
	if len(os.Args) > 1 {
		if c, ok := commands[os.Args[1]]; ok && c.graceful {
			// The first signal asks the command to stop (serve finishes
			// the requests in flight, a bench writes what it measured); a
			// second one kills, as usual. Other commands keep the
			// default, which costs a one-shot "code" nothing at start.
			var stop context.CancelFunc
			ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			context.AfterFunc(ctx, stop)
			defer stop()
		}
	}
	code := run(ctx, newEnv(os.Stdin, os.Stdout, os.Stderr, os.Getenv), os.Args[1:])
	os.Exit(code)
}
