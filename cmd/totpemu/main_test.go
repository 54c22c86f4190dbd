package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the testscript files under testdata/script run "totpemu"
// as a real process built from this package.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"totpemu": func() {
			os.Exit(run(context.Background(), newEnv(os.Stdin, os.Stdout, os.Stderr, os.Getenv), os.Args[1:]))
		},
	})
}

// TestScript runs every testdata/script/*.txtar file: each is an end-to-end
// run of the CLI with its expected output and exit status.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("TOTPEMU_STATE", env.WorkDir+"/state/device.json")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits": cmdExits,
		},
	})
}

// cmdExits is "exits N PROGRAM ARGS...": run PROGRAM and require exit
// status N exactly; its stdout and stderr are kept for the next checks.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad status %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		s, ok := strings.CutPrefix(err.Error(), "exit status ")
		if !ok {
			ts.Fatalf("exits: %v", err)
		}
		if got, err = strconv.Atoi(s); err != nil {
			ts.Fatalf("exits: %v", err)
		}
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", strings.Join(args[1:], " "), got, want)
	}
}
