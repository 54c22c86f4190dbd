package main

import (
	"context"
	"fmt"
)

func init() {
	register(&command{
		name:    "help",
		summary: "show help for totpemu or one command",
		usage: `Usage: totpemu help [COMMAND]

Shows the list of commands, or one command's flags and examples.

Examples:
  totpemu help
  totpemu help code
`,
		run: runHelp,
	})
}

func runHelp(_ context.Context, e *env, args []string) error {
	if len(args) == 1 && (args[0] == "--help" || args[0] == "-h") {
		args = []string{"help"} // help about help, as COMMAND --help does
	}
	switch len(args) {
	case 0:
		fmt.Fprint(e.stdout, topUsage())
		return nil
	case 1:
		c, ok := commands[args[0]]
		if !ok {
			return usageErr(`run "totpemu help" for the list of commands`, "help: unknown command %q", args[0])
		}
		fmt.Fprint(e.stdout, c.usage)
		return nil
	}
	return usageErr(`run "totpemu help COMMAND"`, "help: takes at most one command, got %d", len(args))
}
