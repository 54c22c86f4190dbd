package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

func init() {
	register(&command{
		name:    "version",
		summary: "print the version of totpemu",
		usage: `Usage: totpemu version

Prints totpemu's version, the Go version it was built with and the platform.

Example:
  totpemu version
`,
		run: runVersion,
	})
}

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version from the build info is used.
var version = ""

func runVersion(_ context.Context, e *env, args []string) error {
	c := commands["version"]
	fs := newFlags(c)
	if err := parse(e, c, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr(`run "totpemu version"`, "version: takes no arguments, got %q", fs.Arg(0))
	}
	v := version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	fmt.Fprintf(e.stdout, "totpemu %s %s %s/%s\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
