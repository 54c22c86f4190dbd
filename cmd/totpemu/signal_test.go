package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdInterruptOn is "interrupt-on SIGNAL N REGEXP PROGRAM ARGS...": run
// PROGRAM in $WORK, send it SIGNAL (INT or TERM) as soon as a line of its
// stderr matches REGEXP, require exit status N, and leave its output in
// $WORK/interrupted.stdout and .stderr. Event-driven: nothing sleeps; a
// program that never prints the line is killed after a minute.
func cmdInterruptOn(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 4 {
		ts.Fatalf("usage: interrupt-on INT|TERM N REGEXP PROGRAM [ARGS...]")
	}
	sig := map[string]syscall.Signal{"INT": syscall.SIGINT, "TERM": syscall.SIGTERM}[args[0]]
	want, err := strconv.Atoi(args[1])
	if sig == 0 || err != nil {
		ts.Fatalf("interrupt-on: bad signal %q or status %q", args[0], args[1])
	}
	re, err := regexp.Compile(args[2])
	ts.Check(err)
	prog := lookPath(ts, args[3])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args[4:]...)
	cmd.Dir = ts.Getenv("WORK")
	cmd.Env = append(os.Environ(), "PATH="+ts.Getenv("PATH"), "TOTPEMU_STATE="+ts.Getenv("TOTPEMU_STATE"), "HOME="+ts.Getenv("HOME"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	pipe, err := cmd.StderrPipe()
	ts.Check(err)
	ts.Check(cmd.Start())
	sent := false
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		stderr.WriteString(sc.Text() + "\n")
		if !sent && re.MatchString(sc.Text()) {
			ts.Check(cmd.Process.Signal(sig))
			sent = true
		}
	}
	err = cmd.Wait()
	got := 0
	if ee, ok := err.(*exec.ExitError); ok {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("interrupt-on: %v", err)
	}
	ts.Check(os.WriteFile(filepath.Join(cmd.Dir, "interrupted.stdout"), stdout.Bytes(), 0o600))
	ts.Check(os.WriteFile(filepath.Join(cmd.Dir, "interrupted.stderr"), stderr.Bytes(), 0o600))
	if !sent {
		ts.Fatalf("interrupt-on: no stderr line matched %q:\n%s", args[2], stderr.String())
	}
	if got != want {
		ts.Fatalf("%s exited %d after SIG%s, want %d:\n%s", strings.Join(args[3:], " "), got, args[0], want, stderr.String())
	}
}

// lookPath finds name on the script's $PATH (where testscript puts the
// programs it runs as commands).
func lookPath(ts *testscript.TestScript, name string) string {
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	ts.Fatalf("%s not found on the script's PATH", name)
	return ""
}
