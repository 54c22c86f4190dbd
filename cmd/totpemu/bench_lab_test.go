package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/testbench/refserver"
)

// startLabConsole serves a lab-mode console on 127.0.0.1:0 whose lab
// clock runs with a manual "real" clock; onLabSet runs at each POST to
// the lab clock.
func startLabConsole(t *testing.T, real clock.Clock, onLabSet func()) (string, *refserver.Server) {
	t.Helper()
	opts := refserver.DefaultOptions()
	opts.Lab, opts.Clock = true, clock.Offset{Base: real}
	srv, err := refserver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/lab/clock" && onLabSet != nil {
			onLabSet()
		}
		srv.ServeHTTP(w, r)
	})
	hs := &http.Server{Handler: h}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String(), srv
}

// TestBenchRestoresLabClock is the regression test for a bench against
// "serve --lab" leaving the console's clock years ahead: when the bench
// ends, and when it is interrupted (Ctrl-C cancels its context), the lab
// clock runs with the real clock again.
func TestBenchRestoresLabClock(t *testing.T) {
	for _, interrupt := range []bool{false, true} {
		name := map[bool]string{false: "run to the end", true: "interrupted"}[interrupt]
		t.Run(name, func(t *testing.T) {
			real := clock.NewManual(time.Date(2026, 12, 1, 10, 0, 7, 0, time.UTC))
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var sets atomic.Int32
			url, srv := startLabConsole(t, real, func() {
				if sets.Add(1) == 20 && interrupt {
					cancel() // as SIGINT does through signal.NotifyContext
				}
			})
			var stderr strings.Builder
			e := newEnv(strings.NewReader(""), io.Discard, &stderr, func(string) string { return "" })
			out := filepath.Join(t.TempDir(), "report.json")
			code := run(ctx, e, []string{"bench", "--target", url, "--scenario", "window,drift", "--format", "json", "--out", out})
			if n := sets.Load(); n < 20 {
				t.Fatalf("the bench set the lab clock %d times; want it moved (exit %d, %s)", n, code, stderr.String())
			}
			lab := srv.LabClock()
			if !lab.Running() || !lab.Now().Equal(real.Now()) {
				t.Errorf("after the bench (exit %d): lab clock running %t at %v; want running with the real clock at %v\n%s",
					code, lab.Running(), lab.Now(), real.Now(), stderr.String())
			}
			if interrupt == (code == 0) {
				t.Errorf("exit %d %s; stderr:\n%s", code, name, stderr.String())
			}
			// Interrupted or not, the report is written: what was measured,
			// the rest incomplete (the regression: "context canceled" and no
			// report at all).
			raw, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%s: no report: %v (stderr %s)", name, err, stderr.String())
			}
			var rep struct {
				Interrupted bool
				Checks      []struct{ ID, Status string }
			}
			if err := json.Unmarshal(raw, &rep); err != nil {
				t.Fatal(err)
			}
			incomplete := 0
			for _, c := range rep.Checks {
				if c.Status == "incomplete" {
					incomplete++
				}
			}
			if rep.Interrupted != interrupt || (incomplete > 0) != interrupt {
				t.Errorf("%s: report interrupted %t with %d incomplete checks", name, rep.Interrupted, incomplete)
			}
			if interrupt && !strings.Contains(stderr.String(), "totpemu: error: bench: interrupted: the report in "+out+" has what was measured") {
				t.Errorf("%s: stderr %q; want it to say where the report is", name, stderr.String())
			}
		})
	}
}
