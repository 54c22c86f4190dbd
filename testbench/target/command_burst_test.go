package target

import (
	"context"
	"os"
	"slices"
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

// TestCommandBurstRunsTogether shows a burst's processes run side by
// side, as the race probe needs: a verifier with a check-then-record
// replay rule and a 0.2 s pause between the two (a TOCTOU flaw, like the
// console's --flaw toctou-replay) accepts one code more than once only
// when its copies overlap; the same verifier run one code at a time
// accepts it once. (That every process is held until the last has
// started is not observable from a verifier, so it is not shown here.)
func TestCommandBurstRunsTogether(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh: command bursts need it")
	}
	dir := t.TempDir()
	script := `used="$2/used-$1"; [ -e "$used" ] && exit 1; sleep 0.2; : > "$used"; exit 0`
	c := &CommandTarget{Command: []string{"sh", "-c", script, "sh", "{code}", dir}, Env: os.Environ()}
	e := &testbench.Enrollment{ID: "1", Vars: map[string]string{"TOTPEMU_ENROLLMENT": "1"}}
	res := c.VerifyBurst(context.Background(), e, slices.Repeat([]string{"123456"}, 6))
	accepted := 0
	for _, v := range res.Verdicts {
		if v.Outcome == testbench.Accepted {
			accepted++
		}
	}
	if accepted < 2 {
		t.Errorf("6 copies released together on a check-then-record verifier: %d accepted, want several (the race): %v", accepted, res.Verdicts)
	}
	t.Logf("6 copies released together: %d accepted", accepted)
	once := 0
	for range 3 {
		if v := c.Verify(context.Background(), e, "654321"); v.Outcome == testbench.Accepted {
			once++
		}
	}
	if once != 1 {
		t.Errorf("the same verifier, one code at a time: %d of 3 accepted, want 1", once)
	}
}
