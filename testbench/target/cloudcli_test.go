package target

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/internal/testenv"
	"github.com/totpemu/totpemu/testbench"
)

// TestCloudCLIExamples runs the shipped command examples shaped for the
// AWS and Alibaba Cloud CLIs (testbench/examples/cloud: create a virtual
// MFA device, bind it with two consecutive codes, verify) against fake
// aws and aliyun commands (testdata/fakecli: the calls, answers and error
// texts as documented; codes checked by oathtool), in virtual time: the
// enrollment binds and logs in, and the window comes out as the fakes
// accept. They are not run against the real clouds.
func TestCloudCLIExamples(t *testing.T) {
	testenv.LookPath(t, "oath-toolkit's oathtool (Debian oathtool)", "oathtool")
	fake, err := filepath.Abs("testdata/fakecli")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := filepath.Abs("../examples/cloud")
	if err != nil {
		t.Fatal(err)
	}
	// The aliyun example has no verify (RAM has no API that checks a code
	// alone): the stand-in for "your own login check" is oathtool.
	check := []string{"sh", "-c", `exec oathtool --totp -b "$(cat "$FAKECLI_STATE/$0.seed")" -N "@$((TOTPEMU_NOW_MS / 1000))" -w 1 "$1" >/dev/null`, "{account}", "{code}"}
	cases := []struct {
		name                 string
		enroll, bind, verify []string
		from, until          float64
	}{
		{"aws", []string{"sh", ex + "/aws-mfa.sh", "enroll", "{account}"}, []string{"sh", ex + "/aws-mfa.sh", "bind", "{account}", "{code1}", "{code2}"},
			[]string{"sh", ex + "/aws-mfa.sh", "verify", "{account}", "{code}"}, -30, 60},
		{"aliyun", []string{"sh", ex + "/aliyun-mfa.sh", "enroll", "{account}"}, []string{"sh", ex + "/aliyun-mfa.sh", "bind", "{account}", "{code1}", "{code2}"},
			check, -30, 60},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := t.TempDir()
			env := append(os.Environ(), "PATH="+fake+string(os.PathListSeparator)+os.Getenv("PATH"), "FAKECLI_STATE="+st,
				"TOTPEMU_AWS_STATE="+filepath.Join(st, "aws"), "TOTPEMU_ALIYUN_STATE="+filepath.Join(st, "aliyun"))
			lab := manualLab{clock.NewManual(time.Date(2026, 7, 1, 0, 0, 11, 0, time.UTC))}
			tgt := &CommandTarget{Command: c.verify, EnrollCommand: c.enroll, BindCommand: c.bind, ThrottledExit: 75, Env: env, Clock: lab.m}
			ctx := context.Background()
			tm, err := testbench.VirtualTime(ctx, lab)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := testbench.Run(ctx, testbench.Config{Target: tgt, Time: tm, MaxEnrollments: 40,
				Scenarios: []string{testbench.ScenarioEnroll, testbench.ScenarioWindow}})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]testbench.Check{}
			for _, ch := range rep.Checks {
				got[ch.ID] = ch
			}
			for _, id := range []string{"enroll.bind", "enroll.login"} {
				if got[id].Status != testbench.Pass {
					t.Errorf("%s: %s %s", id, got[id].Status, got[id].Detail)
				}
			}
			if w := rep.Results.Window; w == nil || w.AcceptedFromS != c.from || w.AcceptedUntilS != c.until {
				t.Errorf("window %+v, want %+g s, %+g s", w, c.from, c.until)
			}
			t.Logf("%s: %v codes, %d enrollments", c.name, rep.Submissions, rep.Enrollments)
		})
	}
}
