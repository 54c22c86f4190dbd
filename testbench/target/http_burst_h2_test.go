package target

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/totpemu/totpemu/emulator"
	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/refserver"
)

// startH2Console serves the console in lab mode over TLS with HTTP/2 on
// loopback (httptest's certificate), its clock set to at, and returns a
// target for it and an enrolled, bound device.
func startH2Console(t *testing.T, opts refserver.Options, h2 bool) (*HTTPTarget, *testbench.Enrollment, *emulator.Account, uint64) {
	t.Helper()
	ctx := context.Background()
	opts.Lab = true
	srv, err := refserver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv)
	ts.EnableHTTP2 = h2
	ts.StartTLS()
	t.Cleanup(ts.Close)
	tgt, lab, err := RefConsole(ctx, ts.URL, ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1_800_000_015, 0)
	if err := lab.SetLabClock(ctx, at); err != nil {
		t.Fatal(err)
	}
	bb := enrollAndBind(t, tgt, "h2", at)
	return bb.tgt, bb.enr, bb.acct, bb.step
}

// TestH2BurstSinglePacket: over https to a server speaking HTTP/2, the
// burst is the single-packet attack on one connection; a correct console
// accepts the code once, the toctou-replay console many times; a server
// without HTTP/2 gets the HTTP/1.1 last-byte sync instead.
func TestH2BurstSinglePacket(t *testing.T) {
	cases := []struct {
		name   string
		h2     bool
		flaw   bool
		method string
		check  func(accepted int) bool
	}{
		{"h2 correct", true, false, "HTTP/2 single packet", func(n int) bool { return n == 1 }},
		{"h2 toctou-replay", true, true, "HTTP/2 single packet", func(n int) bool { return n > 1 }},
		{"https/1.1 correct", false, false, "HTTP/1.1 last-byte sync", func(n int) bool { return n == 1 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := refserver.DefaultOptions()
			opts.Flaws.TOCTOUReplay = c.flaw
			tgt, enr, acct, step := startH2Console(t, opts, c.h2)
			res := tgt.VerifyBurst(context.Background(), enr, slices.Repeat([]string{acct.CodeAtStep(step)}, 20))
			n := map[testbench.Outcome]int{}
			for _, v := range res.Verdicts {
				n[v.Outcome]++
			}
			if !strings.HasPrefix(res.Method, c.method) || n[testbench.Error] > 0 || !c.check(n[testbench.Accepted]) {
				t.Errorf("%s: %v by %q (%v)", c.name, n, res.Method, res.Verdicts)
			}
			if !res.Measured || res.Spread > 50*time.Millisecond {
				t.Errorf("spread %v measured %v", res.Spread, res.Measured)
			}
			t.Logf("%s: %s, spread %v, %v", c.name, res.Method, res.Spread, n)
		})
	}
}
