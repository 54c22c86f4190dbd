package target

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/testbench"
)

// TestCommandVerdicts: exit statuses, the JSON verdict line and the
// placeholders, one run of a shell each.
func TestCommandVerdicts(t *testing.T) {
	sh := "/bin/sh"
	e := &testbench.Enrollment{ID: "7", Account: "alice", Vars: map[string]string{"TOTPEMU_SECRET": "JBSWY3DPEHPK3PXP", "TOTPEMU_URI": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP"}}
	for _, tc := range []struct {
		script     string
		locked     int
		want       testbench.Outcome
		retryAfter time.Duration
	}{
		{`exit 0`, 0, testbench.Accepted, 0},
		{`exit 1`, 0, testbench.Rejected, 0},
		{`exit 2`, 0, testbench.Rejected, 0}, // oathtool's "not found"
		{`exit 3`, 3, testbench.Locked, 0},
		{`exit 127`, 0, testbench.Error, 0},
		{`kill -9 $$`, 0, testbench.Error, 0},
		{`echo checking; echo '{"verdict": "locked", "retry_after_s": 60}'; exit 1`, 0, testbench.Locked, time.Minute},
		{`echo '{"verdict": "throttled", "retry_after_s": 2.5}'`, 0, testbench.Throttled, 2500 * time.Millisecond},
		{`echo '{"verdict": "accepted"}'; exit 1`, 0, testbench.Accepted, 0},
		{`echo '{"verdict": "maybe"}'`, 0, testbench.Error, 0},
		{`echo '{"not": "a verdict"}'; exit 1`, 0, testbench.Rejected, 0},
		// placeholders: the code in the middle, not appended
		{`[ "$1" = 123456 ] && [ "$2" = alice ] && [ "$3" = JBSWY3DPEHPK3PXP ] && [ "$4" = 7 ] && [ $# = 4 ]`, 0, testbench.Accepted, 0},
	} {
		c := &CommandTarget{Command: []string{sh, "-c", tc.script, "sh", "{code}", "{account}", "{secret}", "{enrollment}"}, Env: os.Environ(), LockedExit: tc.locked}
		if tc.script[0] != '[' {
			c.Command = []string{sh, "-c", tc.script}
		}
		v := c.Verify(context.Background(), e, "123456")
		if v.Outcome != tc.want || v.RetryAfter != tc.retryAfter {
			t.Errorf("%s: %v (retry after %v); want %v (%v)", tc.script, v, v.RetryAfter, tc.want, tc.retryAfter)
		}
	}
}

// TestCheckPlaceholders: a typo is refused; shell braces are not
// placeholders.
func TestCheckPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		ok   bool
	}{
		{[]string{"./verify", "--otp", "{code}", "--user", "{account}"}, true},
		{[]string{"sh", "-c", `echo "${TOTPEMU_CODE}" | { read x; test "$x"; }`}, true},
		{[]string{"aws", "iam", "enable-mfa-device", "--authentication-code1", "{code1}", "--authentication-code2", "{code2}"}, true},
		{[]string{"./verify", "{cdoe}"}, false},
		{[]string{"./verify", "--user={Account}"}, false},
	} {
		if err := CheckPlaceholders(tc.argv); (err == nil) != tc.ok {
			t.Errorf("CheckPlaceholders(%q) = %v; want ok %t", tc.argv, err, tc.ok)
		}
	}
}

// TestCommandTargetBindAndLockout is the regression test for command
// targets that could not bind with two codes (aws iam enable-mfa-device
// --authentication-code1 X --authentication-code2 Y) nor say "locked": the
// bench binds through --bind-cmd, reads a lock from an exit status or a
// JSON verdict line, and measures the verifier's window, replay and
// lockout through them, in virtual time.
func TestCommandTargetBindAndLockout(t *testing.T) {
	bin := buildVerifier(t)
	for _, tc := range []struct {
		name   string
		locked string // $VERIFIER_LOCKED
		exit   int    // LockedExit
	}{{"locked-exit-3", "exit:3", 3}, {"json-verdict", "json", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			lab := manualLab{clock.NewManual(time.Date(2026, 7, 1, 0, 0, 11, 0, time.UTC))}
			env := append(os.Environ(), "VERIFIER_BACK=1", "VERIFIER_FORWARD=1", "VERIFIER_STATE="+t.TempDir(),
				"VERIFIER_REQUIRE_BIND=1", "VERIFIER_LOCKOUT=4", "VERIFIER_LOCKED="+tc.locked)
			target := &CommandTarget{Command: []string{bin, "--code", "{code}", "--user", "{account}"},
				BindCommand: []string{bin, "bind", "{code1}", "{code2}"}, LockedExit: tc.exit, Env: env, Clock: lab.m}
			if target.Capabilities().BindCodes != 2 {
				t.Fatalf("bind command with {code1} {code2}: %d bind codes", target.Capabilities().BindCodes)
			}
			tm, err := testbench.VirtualTime(ctx, lab)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := testbench.Run(ctx, testbench.Config{Target: target, Time: tm, MaxAttempts: 20,
				Scenarios: []string{testbench.ScenarioEnroll, testbench.ScenarioLockout, testbench.ScenarioWindow, testbench.ScenarioReplay}})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"enroll.bind", "enroll.login", "lockout.limit", "replay.same-code"} {
				if s := checkStatus(rep, id); s != testbench.Pass {
					t.Errorf("%s: %s", id, s)
				}
			}
			if l := rep.Results.Lockout; l == nil || l.FailuresBeforeLock == nil || *l.FailuresBeforeLock != 4 {
				t.Errorf("lockout %+v; want locked after 4", l)
			}
			w := rep.Results.Window
			if w == nil || w.TrueBackSteps != 1 || w.TrueForwardSteps != 1 {
				t.Errorf("window %+v; want 1 back, 1 forward", w)
			}
			if t.Failed() {
				t.Logf("checks %+v", rep.Checks)
			}
		})
	}
}
