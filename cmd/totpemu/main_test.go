package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/totpemu/totpemu/clock/ntptest"
)

// TestMain lets the testscript files under testdata/script run "totpemu"
// as a real process built from this package, through main (signals
// included).
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"totpemu": main})
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
		Condition: scriptCondition,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":        cmdExits,
			"ntpserver":    cmdNTPServer,
			"interrupt-on": cmdInterruptOn,
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

// cmdNTPServer is "ntpserver VAR [offset=DURATION] [kiss=CODE] [stratum=N]
// [silent]": start a fake NTP server on loopback for the rest of the script
// and put its address in $VAR.
func cmdNTPServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: ntpserver VAR [offset=DURATION] [kiss=CODE] [stratum=N] [silent]")
	}
	b := ntptest.Good()
	for _, a := range args[1:] {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "offset":
			d, err := time.ParseDuration(v)
			ts.Check(err)
			b.Offset = d
		case "kiss":
			b.KissCode = v
		case "stratum":
			n, err := strconv.Atoi(v)
			ts.Check(err)
			b.Stratum = uint8(n)
		case "silent":
			b.Silent = true
		default:
			ts.Fatalf("ntpserver: unknown setting %q", a)
		}
	}
	srv, err := ntptest.Start()
	ts.Check(err)
	srv.Set(b)
	ts.Defer(func() { srv.Close() })
	ts.Setenv(args[0], srv.Addr())
}

// scriptCondition adds [race] to testscript's conditions: true under the
// race detector.
func scriptCondition(cond string) (bool, error) {
	if cond == "race" {
		return raceEnabled, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}
