package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/totpemu/totpemu/testbench"
)

// placeholders a command's words may hold.
var placeholders = []string{"{code}", "{code1}", "{code2}", "{secret}", "{account}", "{uri}", "{enrollment}"}

// CheckPlaceholders refuses a word holding what looks like a placeholder
// but is none ({cdoe}, {Code}): a typo would otherwise reach the verifier
// as text. Shell braces (${X}, { cmd; }) are left alone.
func CheckPlaceholders(argv []string) error {
	for _, w := range argv {
		for i := 0; i < len(w); i++ {
			if w[i] != '{' || (i > 0 && w[i-1] == '$') {
				continue
			}
			j := strings.IndexByte(w[i:], '}')
			if j < 2 {
				continue
			}
			name := w[i : i+j+1]
			if strings.ContainsAny(name[1:len(name)-1], " \t;{$") {
				continue
			}
			if !slices.Contains(placeholders, name) {
				return fmt.Errorf("%s is not a placeholder: use %s", name, strings.Join(placeholders, ", "))
			}
		}
	}
	return nil
}

// hasCode reports whether argv takes its code(s) through a placeholder.
func hasCode(argv []string) bool {
	for _, w := range argv {
		if strings.Contains(w, "{code}") || strings.Contains(w, "{code1}") || strings.Contains(w, "{code2}") {
			return true
		}
	}
	return false
}

// bindCodes is how many codes the bind command takes: 0 without one.
func (c *CommandTarget) bindCodes() int {
	if len(c.BindCommand) == 0 {
		return 0
	}
	for _, w := range c.BindCommand {
		if strings.Contains(w, "{code2}") {
			return 2
		}
	}
	if hasCode(c.BindCommand) {
		return 1
	}
	return 2 // appended, as two consecutive codes (aws iam enable-mfa-device's two)
}

// expand fills the placeholders of argv for enrollment e and codes; codes
// go last when argv has no code placeholder.
func (c *CommandTarget) expand(argv []string, e *testbench.Enrollment, codes []string) []string {
	code := func(i int) string {
		if i < len(codes) {
			return codes[i]
		}
		return ""
	}
	r := strings.NewReplacer("{code}", code(0), "{code1}", code(0), "{code2}", code(1),
		"{secret}", e.Vars["TOTPEMU_SECRET"], "{account}", e.Account, "{uri}", e.Vars["TOTPEMU_URI"], "{enrollment}", e.ID)
	out := make([]string, 0, len(argv)+len(codes))
	for _, w := range argv {
		out = append(out, r.Replace(w))
	}
	if !hasCode(argv) {
		out = append(out, codes...)
	}
	return out
}

// Bind runs the bind command with the codes (oldest first).
func (c *CommandTarget) Bind(ctx context.Context, e *testbench.Enrollment, codes []string) testbench.Verdict {
	if len(c.BindCommand) == 0 {
		return testbench.Verdict{Outcome: testbench.Error, Err: errors.New("the command target has no bind command (--bind-cmd)")}
	}
	env := envOf(e)
	for i, cd := range codes {
		env = append(env, fmt.Sprintf("TOTPEMU_CODE%d=%s", i+1, cd))
	}
	env = append(env, "TOTPEMU_CODE="+strings.Join(codes, " "))
	return c.verdict(c.run(ctx, c.expand(c.BindCommand, e, codes), env...))
}

// Verify runs the command with the code.
func (c *CommandTarget) Verify(ctx context.Context, e *testbench.Enrollment, code string) testbench.Verdict {
	return c.verdict(c.run(ctx, c.expand(c.Command, e, []string{code}), append(envOf(e), "TOTPEMU_CODE="+code)...))
}

// verdictLine is the JSON a command may print as its last stdout line.
type verdictLine struct {
	Verdict     string   `json:"verdict"`
	RetryAfterS *float64 `json:"retry_after_s"`
	Reason      string   `json:"reason"`
}

// verdict reads a run's outcome: a JSON verdict line first, then the exit
// status.
func (c *CommandTarget) verdict(stdout, stderr []byte, err error) testbench.Verdict {
	if v, ok := jsonVerdict(stdout); ok {
		return v
	}
	if err == nil {
		return testbench.Verdict{Outcome: testbench.Accepted, Reason: "exit 0"}
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !ee.Exited() {
		return testbench.Verdict{Outcome: testbench.Error, Err: err}
	}
	n := ee.ExitCode()
	reason := fmt.Sprintf("exit %d%s", n, lastLine(stderr))
	switch {
	case c.LockedExit != 0 && n == c.LockedExit:
		return testbench.Verdict{Outcome: testbench.Locked, Reason: reason}
	case c.ThrottledExit != 0 && n == c.ThrottledExit:
		return testbench.Verdict{Outcome: testbench.Throttled, Reason: reason}
	case n == 126 || n == 127:
		// The shell could not run what it was asked to: no verdict.
		return testbench.Verdict{Outcome: testbench.Error, Err: fmt.Errorf("%s: the command could not run", reason)}
	}
	return testbench.Verdict{Outcome: testbench.Rejected, Reason: reason}
}

// jsonVerdict reads {"verdict": "accepted"|"rejected"|"locked"|
// "throttled", "retry_after_s": N, "reason": "..."} from the last
// non-empty stdout line, when it is one.
func jsonVerdict(stdout []byte) (testbench.Verdict, bool) {
	s := strings.TrimSpace(string(stdout))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[i+1:])
	}
	if !strings.HasPrefix(s, "{") {
		return testbench.Verdict{}, false
	}
	var vl verdictLine
	if err := json.Unmarshal([]byte(s), &vl); err != nil || vl.Verdict == "" {
		return testbench.Verdict{}, false
	}
	v := testbench.Verdict{Reason: "verdict " + strconv.Quote(vl.Verdict)}
	if vl.Reason != "" {
		v.Reason += ": " + vl.Reason
	}
	switch vl.Verdict {
	case "accepted":
		v.Outcome = testbench.Accepted
	case "rejected":
		v.Outcome = testbench.Rejected
	case "locked":
		v.Outcome = testbench.Locked
	case "throttled":
		v.Outcome = testbench.Throttled
	default:
		return testbench.Verdict{Outcome: testbench.Error, Err: fmt.Errorf("verdict line %q: want accepted, rejected, locked or throttled", vl.Verdict)}, true
	}
	if vl.RetryAfterS != nil && *vl.RetryAfterS > 0 && *vl.RetryAfterS < 1e6 {
		v.RetryAfter = time.Duration(*vl.RetryAfterS * float64(time.Second))
	}
	return v, true
}
