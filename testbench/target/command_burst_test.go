package target

import (
	"context"
	"os"
	"testing"

	"github.com/totpemu/totpemu/testbench"
)

// TestCommandBurst: a burst of processes released by one pipe, each
// judged by its own exit status, in the order of the codes; a verifier
// that cannot start is no verdict.
func TestCommandBurst(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh: command bursts need it")
	}
	c := &CommandTarget{Command: []string{"sh", "-c", `test "$1" = 111111`, "sh", "{code}"}, Env: os.Environ()}
	e := &testbench.Enrollment{ID: "1", Vars: map[string]string{"TOTPEMU_ENROLLMENT": "1"}}
	codes := []string{"111111", "222222", "111111", "333333"}
	res := c.VerifyBurst(context.Background(), e, codes)
	want := []testbench.Outcome{testbench.Accepted, testbench.Rejected, testbench.Accepted, testbench.Rejected}
	for i, v := range res.Verdicts {
		if v.Outcome != want[i] {
			t.Errorf("code %s: %v, want %v", codes[i], v, want[i])
		}
	}
	if res.Measured || res.Method == "" {
		t.Errorf("method %q, measured %v: a process burst's spread is not measured", res.Method, res.Measured)
	}
	bad := &CommandTarget{Command: []string{"/nonexistent/verify"}, Env: os.Environ()}
	for i, v := range bad.VerifyBurst(context.Background(), e, []string{"1", "2"}).Verdicts {
		if v.Outcome != testbench.Error {
			t.Errorf("a verifier that cannot start, submission %d: %v, want no verdict", i, v)
		}
	}
}
