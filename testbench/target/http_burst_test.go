package target

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/totpemu/totpemu/emulator"
	"github.com/totpemu/totpemu/scanner"
	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/refserver"
)

// startLab starts the console with opts in lab mode on loopback, its
// clock set to at; it stops with the test.
func startLab(t *testing.T, opts refserver.Options, at time.Time) *Embedded {
	t.Helper()
	ctx := context.Background()
	opts.Lab = true
	emb, err := StartEmbedded(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emb.Close() })
	if err := emb.Lab.SetLabClock(ctx, at); err != nil {
		t.Fatal(err)
	}
	return emb
}

// burstBench is a bound enrollment on a lab console stopped at a step's
// middle, and the codes of its device.
type burstBench struct {
	tgt  *HTTPTarget
	enr  *testbench.Enrollment
	acct *emulator.Account
	step uint64
}

// startBurstBench starts the console with opts in lab mode, enrolls and
// binds one device at a time 15 s into a step.
func startBurstBench(t *testing.T, opts refserver.Options) *burstBench {
	t.Helper()
	at := time.Unix(1_800_000_015, 0)
	return enrollAndBind(t, startLab(t, opts, at).Target, "burst", at)
}

// enrollAndBind enrolls account on tgt, whose lab clock reads at, and
// binds it with the two codes before at's step.
func enrollAndBind(t *testing.T, tgt *HTTPTarget, account string, at time.Time) *burstBench {
	t.Helper()
	ctx := context.Background()
	enr, err := tgt.Enroll(ctx, account)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := scanner.DecodeSecret(enr.ManualKey)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := emulator.NewAccount("", account, secret, emulator.SHA1, 6, 30)
	if err != nil {
		t.Fatal(err)
	}
	step, _ := acct.Step(at)
	if v := tgt.Bind(ctx, enr, []string{acct.CodeAtStep(step - 2), acct.CodeAtStep(step - 1)}); v.Outcome != testbench.Accepted {
		t.Fatalf("bind: %v", v)
	}
	return &burstBench{tgt: tgt, enr: enr, acct: acct, step: step}
}

// TestHTTPBurstReplay: 20 copies of one valid code released together on
// a correct console: exactly one accepted, the rest refused (not errors),
// and the release spread measured.
func TestHTTPBurstReplay(t *testing.T) {
	bb := startBurstBench(t, refserver.DefaultOptions())
	codes := slices.Repeat([]string{bb.acct.CodeAtStep(bb.step)}, 20)
	res := bb.tgt.VerifyBurst(context.Background(), bb.enr, codes)
	n := map[testbench.Outcome]int{}
	for _, v := range res.Verdicts {
		n[v.Outcome]++
	}
	if n[testbench.Accepted] != 1 || n[testbench.Error] != 0 || len(res.Verdicts) != 20 {
		t.Errorf("20 copies of one code in a burst: %v (%v), want 1 accepted and no error", n, res.Verdicts)
	}
	if !res.Measured || res.Spread <= 0 || res.Spread > 50*time.Millisecond {
		t.Errorf("spread %v measured %v: want a few hundred microseconds", res.Spread, res.Measured)
	}
	t.Logf("%s: spread %v, outcomes %v", res.Method, res.Spread, n)
}

// TestHTTPBurstSpread measures the spread of 20-request bursts over
// loopback: its median is the figure the README gives (p50 under 1 ms).
func TestHTTPBurstSpread(t *testing.T) {
	bb := startBurstBench(t, refserver.DefaultOptions())
	var spreads []time.Duration
	for i := range 15 {
		codes := make([]string, 20)
		for j := range codes {
			codes[j] = bb.acct.CodeAtStep(bb.step + 1000 + uint64(i*20+j)) // wrong now: refused
		}
		res := bb.tgt.VerifyBurst(context.Background(), bb.enr, codes)
		for _, v := range res.Verdicts {
			if v.Outcome == testbench.Error {
				t.Fatalf("burst %d: %v", i, v)
			}
		}
		spreads = append(spreads, res.Spread)
	}
	slices.Sort(spreads)
	p50, max := spreads[len(spreads)/2], spreads[len(spreads)-1]
	t.Logf("burst of 20 over loopback, 15 bursts: spread p50 %v, max %v", p50, max)
	if p50 >= time.Millisecond {
		t.Errorf("spread p50 %v, want under 1 ms (all %v)", p50, spreads)
	}
}

// TestHTTPBurstUnreachable: a burst to a closed port is an error verdict
// per submission naming the connection, not a hang or a panic.
func TestHTTPBurstUnreachable(t *testing.T) {
	tgt, err := NewHTTPTarget(RefConsoleConfig("http://127.0.0.1:1", 2), nil)
	if err != nil {
		t.Fatal(err)
	}
	res := tgt.VerifyBurst(context.Background(), &testbench.Enrollment{ID: "x", Vars: map[string]string{"serial": "x"}}, []string{"123456", "654321"})
	for i, v := range res.Verdicts {
		if v.Outcome != testbench.Error || v.Err == nil {
			t.Errorf("verdict %d: %v, want an error", i, v)
		}
	}
}
