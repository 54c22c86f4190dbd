package target

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/internal/testenv"
	"github.com/totpemu/totpemu/testbench"
)

// buildVerifier builds testdata/verifier into a temporary directory.
func buildVerifier(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "verifier")
	gocmd := testenv.LookPath(t, "to build the test verifier", "go")
	out, err := exec.Command(gocmd, "build", "-o", bin, "./testdata/verifier").CombinedOutput()
	if err != nil {
		t.Fatalf("building the verifier: %v\n%s", err, out)
	}
	return bin
}

// manualLab is a lab clock that is just a manual clock: the command
// target hands its time to the verifier in $TOTPEMU_NOW_MS.
type manualLab struct{ m *clock.Manual }

func (l manualLab) LabNow(context.Context) (time.Time, error) { return l.m.Now(), nil }

func (l manualLab) SetLabClock(_ context.Context, t time.Time) error { l.m.Set(t); return nil }

func TestCommandTargetVirtual(t *testing.T) {
	bin := buildVerifier(t)
	tests := []struct {
		name          string
		env           []string
		back, fwd     int
		sameRejected  bool
		olderRejected bool
	}{
		{"stateless", []string{"VERIFIER_BACK=2", "VERIFIER_FORWARD=1"}, 2, 1, false, false},
		{"per-code memory", []string{"VERIFIER_BACK=1", "VERIFIER_FORWARD=0", "VERIFIER_STATE=" + t.TempDir()}, 1, 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			lab := manualLab{clock.NewManual(time.Date(2026, 7, 1, 0, 0, 11, 0, time.UTC))}
			target := &CommandTarget{Command: []string{bin, "--code"}, Env: append(os.Environ(), tt.env...), Clock: lab.m}
			tm, err := testbench.VirtualTime(ctx, lab)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := testbench.Run(ctx, testbench.Config{Target: target, Time: tm, MaxAttempts: 20})
			if err != nil {
				t.Fatal(err)
			}
			w := rep.Results.Window
			if w == nil || w.TrueBackSteps != tt.back || w.TrueForwardSteps != tt.fwd || w.Kind != testbench.KindSteps {
				t.Fatalf("%v: window %+v, checks %+v", tt.env, w, rep.Checks)
			}
			rp := rep.Results.Replay
			if *rp.SameCodeRejected != tt.sameRejected || *rp.OlderCodeRejected != tt.olderRejected {
				t.Errorf("%v: replay %+v", tt.env, rp)
			}
			if rep.Results.Lockout.FailuresBeforeLock != nil || checkStatus(rep, "lockout.limit") != testbench.Warn {
				t.Errorf("%v: lockout %+v (20 attempts, no lock)", tt.env, rep.Results.Lockout)
			}
			if checkStatus(rep, "enroll.login") != testbench.Pass {
				t.Errorf("%v: checks %+v", tt.env, rep.Checks)
			}
			t.Logf("submissions %v", rep.Submissions)
		})
	}
}

// TestEnrollCommand: the key comes from an enroll command printing an
// otpauth URI or a bare base32 key; the verifier keeps it per enrollment.
func TestEnrollCommand(t *testing.T) {
	bin := buildVerifier(t)
	for _, form := range []string{"uri", "base32"} {
		t.Run(form, func(t *testing.T) {
			ctx := context.Background()
			lab := manualLab{clock.NewManual(time.Date(2026, 7, 1, 0, 0, 11, 0, time.UTC))}
			env := append(os.Environ(), "VERIFIER_KEYS="+t.TempDir(), "VERIFIER_BACK=0", "VERIFIER_FORWARD=1")
			target := &CommandTarget{Command: []string{bin}, EnrollCommand: []string{bin, "enroll", form}, Env: env, Clock: lab.m}
			tm, err := testbench.VirtualTime(ctx, lab)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := testbench.Run(ctx, testbench.Config{Target: target, Time: tm, Scenarios: []string{testbench.ScenarioEnroll, testbench.ScenarioWindow}})
			if err != nil {
				t.Fatal(err)
			}
			if w := rep.Results.Window; w == nil || w.TrueBackSteps != 0 || w.TrueForwardSteps != 1 {
				t.Fatalf("%s: window %+v, checks %+v", form, w, rep.Checks)
			}
			if checkStatus(rep, "enroll.login") != testbench.Pass {
				t.Errorf("%s: checks %+v", form, rep.Checks)
			}
		})
	}
	t.Run("qr image", func(t *testing.T) {
		qrencode := testenv.LookPath(t, "to draw the enroll command's QR code", "qrencode")
		dir := t.TempDir()
		ctx := context.Background()
		lab := manualLab{clock.NewManual(time.Date(2026, 7, 1, 0, 0, 11, 0, time.UTC))}
		script := `"$1" enroll uri | tail -n 1 | "$2" -o "$3/qr-$TOTPEMU_ENROLLMENT.png" && echo "$3/qr-$TOTPEMU_ENROLLMENT.png"`
		target := &CommandTarget{Command: []string{bin}, EnrollCommand: []string{"sh", "-c", script, "sh", bin, qrencode, dir},
			Env: append(os.Environ(), "VERIFIER_KEYS="+dir), Clock: lab.m}
		tm, err := testbench.VirtualTime(ctx, lab)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := testbench.Run(ctx, testbench.Config{Target: target, Time: tm, Scenarios: []string{testbench.ScenarioEnroll}})
		if err != nil {
			t.Fatal(err)
		}
		if checkStatus(rep, "enroll.qr") != testbench.Pass || checkStatus(rep, "enroll.login") != testbench.Pass {
			t.Errorf("checks %+v", rep.Checks)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		target := &CommandTarget{Command: []string{bin}, EnrollCommand: []string{"echo", "not a key!"}}
		if _, err := target.Enroll(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "neither an otpauth URI") {
			t.Errorf("enroll printing garbage: %v", err)
		}
	})
}

// TestCommandTargetRealTime runs the stateless verifier on the system
// clock: without replay protection no scenario needs to wait.
func TestCommandTargetRealTime(t *testing.T) {
	bin := buildVerifier(t)
	ctx := context.Background()
	target := &CommandTarget{Command: []string{bin}, Env: append(os.Environ(), "VERIFIER_BACK=1", "VERIFIER_FORWARD=1")}
	tm := testbench.RealTime(clock.System{}, clock.System{}, testbench.TimeSystem, nil)
	rep, err := testbench.Run(ctx, testbench.Config{Target: target, Time: tm, MaxAttempts: 5, Scenarios: []string{testbench.ScenarioWindow, testbench.ScenarioReplay}})
	if err != nil {
		t.Fatal(err)
	}
	w := rep.Results.Window
	if w == nil || w.TrueBackSteps != 1 || w.TrueForwardSteps != 1 {
		t.Fatalf("window %+v, checks %+v", w, rep.Checks)
	}
	if *rep.Results.Replay.SameCodeRejected {
		t.Errorf("replay %+v", rep.Results.Replay)
	}
	// Without replay protection nothing waits for steps to be clean: the
	// edges are crossed at the next step edge (the hypothesis of a synced
	// server, confirmed), so at most a period and a few seconds.
	if rep.Timing.WaitingS > 35 {
		t.Errorf("waited %.1f s", rep.Timing.WaitingS)
	}
}

// TestRealVerifiers runs the bench in virtual time against verifiers
// written by others, through the command target (the time is handed over
// in $TOTPEMU_NOW_MS): Ruby's ROTP with a window in seconds and with
// replay protection, as devise-two-factor and GitLab use it, and
// oath-toolkit's oathtool with a window of steps. Each must come out as
// the model says: ROTP's drift_behind B, drift_ahead A accept the code of
// step n from nP - A to nP + P + B; oathtool's -w W from nP - WP to
// nP + (W+1)P.
func TestRealVerifiers(t *testing.T) {
	ruby := testenv.LookPath(t, "Ruby's ROTP (Debian ruby-rotp)", "ruby")
	if out, err := exec.Command(ruby, "-e", `require "rotp"`).CombinedOutput(); err != nil {
		testenv.Missing(t, "Ruby's ROTP (Debian ruby-rotp) is not installed: "+strings.TrimSpace(string(out)))
	}
	oathtool := testenv.LookPath(t, "oath-toolkit's oathtool (Debian oathtool)", "oathtool")
	script, err := filepath.Abs("testdata/rotp/verify.rb")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name        string
		argv        []string
		env         []string
		from, until float64
		kind        string
		same        bool // the same code refused again
	}{
		{"rotp behind 15", []string{ruby, script}, []string{"ROTP_BEHIND=15"}, 0, 45, testbench.KindSeconds, false},
		{"rotp behind 30 ahead 30, replay", []string{ruby, script}, []string{"ROTP_BEHIND=30", "ROTP_AHEAD=30", "ROTP_STATE=" + t.TempDir()}, -30, 60, testbench.KindSteps, true},
		{"rotp behind 10 ahead 20", []string{ruby, script}, []string{"ROTP_BEHIND=10", "ROTP_AHEAD=20"}, -20, 40, testbench.KindSeconds, false},
		{"oathtool -w 2", []string{"sh", "-c", `exec "$0" --totp -b "$TOTPEMU_SECRET" -w 2 -N "@$((TOTPEMU_NOW_MS / 1000))" "$1" >/dev/null`, oathtool}, nil, -60, 90, testbench.KindSteps, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			lab := manualLab{clock.NewManual(time.Date(2026, 7, 1, 0, 0, 11, 0, time.UTC))}
			target := &CommandTarget{Command: tc.argv, Env: append(os.Environ(), tc.env...), Clock: lab.m}
			tm, err := testbench.VirtualTime(ctx, lab)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := testbench.Run(ctx, testbench.Config{Target: target, Time: tm, Scenarios: []string{testbench.ScenarioWindow, testbench.ScenarioReplay}})
			if err != nil {
				t.Fatal(err)
			}
			w := rep.Results.Window
			if w == nil || math.Abs(w.AcceptedFromS-tc.from) > 0.01 || math.Abs(w.AcceptedUntilS-tc.until) > 0.01 || w.Kind != tc.kind {
				t.Fatalf("%s: window %+v, want edges %+g s, %+g s (%s); checks %+v", tc.name, w, tc.from, tc.until, tc.kind, rep.Checks)
			}
			if rp := rep.Results.Replay; rp == nil || *rp.SameCodeRejected != tc.same {
				t.Errorf("%s: replay %+v, want the same code rejected %v", tc.name, rp, tc.same)
			}
			t.Logf("%s: edges %+.3f s, %+.3f s; always accepted %v; %v codes", tc.name, w.AcceptedFromS, w.AcceptedUntilS, w.AlwaysAcceptedSkewS, rep.Submissions)
		})
	}
}
