package emulator

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
)

// Child processes of the state file tests: the test binary re-executed
// with childEnv set runs one action on the state file and exits.
const (
	childEnv      = "TOTPEMU_EMULATOR_TEST_CHILD" // "enroll" or "stall-write"
	childStateEnv = "TOTPEMU_EMULATOR_TEST_STATE" // state file path
	childIndexEnv = "TOTPEMU_EMULATOR_TEST_INDEX" // which account to enroll
	stallMarker   = "temp file written in part"
)

func TestMain(m *testing.M) {
	if action := os.Getenv(childEnv); action != "" {
		os.Exit(runChild(action))
	}
	os.Exit(m.Run())
}

func runChild(action string) int {
	path := os.Getenv(childStateEnv)
	switch action {
	case "enroll":
		i, _ := strconv.Atoi(os.Getenv(childIndexEnv))
		err := Update(path, func(s *State) error {
			a, err := NewAccount("Child", fmt.Sprintf("acct-%02d", i), rfcSeed, SHA1, 6, 30)
			if err != nil {
				return err
			}
			return s.Add(a)
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	case "stall-write":
		// Write part of a big state, tell the parent, and stall until
		// killed.
		stateWriteHook = func(w io.Writer) io.Writer { return &stallWriter{w: w, out: bufio.NewWriter(os.Stdout)} }
		err := Update(path, func(s *State) error {
			for i := range 300 {
				a, err := NewAccount("Big", fmt.Sprintf("acct-%03d", i), rfcSeed, SHA1, 6, 30)
				if err != nil {
					return err
				}
				if err := s.Add(a); err != nil {
					return err
				}
			}
			return nil
		})
		fmt.Fprintln(os.Stderr, "stall-write returned:", err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "unknown child action", action)
	return 2
}

// stallWriter writes the first half of what it is given, syncs it, says so
// on out, and blocks reading stdin, which the parent keeps open until it
// has killed the process. (Blocking in a system call, not in select{},
// which the runtime would report as a deadlock.)
type stallWriter struct {
	w   io.Writer
	out *bufio.Writer
}

func (s *stallWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p[:len(p)/2])
	if err != nil {
		return n, err
	}
	if f, ok := s.w.(*os.File); ok {
		f.Sync()
	}
	fmt.Fprintln(s.out, stallMarker)
	s.out.Flush()
	io.Copy(io.Discard, os.Stdin)
	return n, fmt.Errorf("stdin closed before the kill")
}
