package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeShutdownInFlight runs "totpemu serve" on 127.0.0.1:0, starts a
// request whose body is still arriving, cancels the context as SIGTERM
// does, then finishes the body: the request is answered and serve exits 0.
func TestServeShutdownInFlight(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	e := newEnv(strings.NewReader(""), io.Discard, pw, func(string) string { return "" })
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, e, []string{"serve", "--addr", "127.0.0.1:0", "--lab", "--window-back", "2"})
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("serve printed no startup line (exit %d)", <-exit)
	}
	startup := lines.Text()
	m := regexp.MustCompile(`^totpemu: serving the reference console on http://(127\.0\.0\.1:\d+)/ \((.*)\)$`).FindStringSubmatch(startup)
	if m == nil || !strings.Contains(m[2], "window -2/+1") || !strings.Contains(m[2], "LAB MODE") {
		t.Fatalf("startup line %q: want the address, the policy and lab mode", startup)
	}
	rest := make(chan string, 1)
	go func() {
		var b strings.Builder
		for lines.Scan() {
			b.WriteString(lines.Text() + "\n")
		}
		rest <- b.String()
	}()

	body := `{"account":"in-flight@example.com"}`
	c, br := startInFlight(t, m[1], body)
	cancel() // what SIGINT/SIGTERM do through signal.NotifyContext
	if _, err := io.WriteString(c, body); err != nil {
		t.Fatalf("sending the body after shutdown began: %v", err)
	}
	r, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("request in flight during shutdown: %v", err)
	}
	var created struct{ Secret string }
	err = json.NewDecoder(r.Body).Decode(&created)
	r.Body.Close()
	if err != nil || created.Secret == "" {
		t.Errorf("request in flight during shutdown: answer without a secret (%v)", err)
	}
	if r.StatusCode != http.StatusCreated {
		t.Errorf("request in flight during shutdown: status %d, want 201", r.StatusCode)
	}
	if code := <-exit; code != exitOK {
		t.Errorf("serve exited %d after shutdown, want 0", code)
	}
	out := <-rest
	if !strings.Contains(out, "lab mode is on") || !strings.Contains(out, "stopped after the requests in flight finished") {
		t.Errorf("serve's stderr after the startup line: %q", out)
	}
	if created.Secret != "" && strings.Contains(out+startup, created.Secret) {
		t.Errorf("serve's stderr mentions a secret: %q", out)
	}
}

// TestServeAddrInUse: a taken address is a failure (exit 1), not a hang.
func TestServeAddrInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var stderr strings.Builder
	e := newEnv(strings.NewReader(""), io.Discard, &stderr, func(string) string { return "" })
	if code := run(t.Context(), e, []string{"serve", "--addr", ln.Addr().String()}); code != exitFailed {
		t.Errorf("serve on a taken address: exit %d, want 1 (stderr %q)", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "totpemu: error: serve: listen on "+ln.Addr().String()) {
		t.Errorf("serve on a taken address: stderr %q", stderr.String())
	}
}

// TestServeSIGTERMProcess builds totpemu and sends the real process SIGTERM
// while a request's body is still arriving: the request is answered and
// the process exits 0. It is skipped with -short (it builds the binary).
func TestServeSIGTERMProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the totpemu binary; skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to build totpemu")
	}
	bin := filepath.Join(t.TempDir(), "totpemu")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stderr)
	if !lines.Scan() {
		t.Fatalf("no startup line")
	}
	m := regexp.MustCompile(`on http://(127\.0\.0\.1:\d+)/`).FindStringSubmatch(lines.Text())
	if m == nil {
		t.Fatalf("startup line %q has no address", lines.Text())
	}
	body := `{"account":"sigterm@example.com"}`
	c, br := startInFlight(t, m[1], body)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, body); err != nil {
		t.Fatalf("sending the body after SIGTERM: %v", err)
	}
	r, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("request in flight at SIGTERM: %v", err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusCreated {
		t.Errorf("request in flight at SIGTERM: status %d, want 201", r.StatusCode)
	}
	_, _ = io.Copy(io.Discard, stderr) // the rest of stderr, before Wait closes it
	if err := cmd.Wait(); err != nil {
		t.Errorf("totpemu serve after SIGTERM: %v, want exit 0", err)
	}
}

// startInFlight sends the headers of a device-creating request for body
// with "Expect: 100-continue" and waits for the server's "100 Continue":
// the server sends it once the handler reads the body, so the request is
// then in flight for certain (a request whose headers are read after
// shutdown began is dropped by net/http, by design). The caller sends the
// body and reads the final answer from the returned reader.
func startInFlight(t *testing.T, addr, body string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /api/v1/devices HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", addr, len(body))
	br := bufio.NewReader(c)
	r, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("waiting for 100 Continue: %v", err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusContinue {
		t.Fatalf("before the body: status %d, want 100 Continue", r.StatusCode)
	}
	return c, br
}

// TestServeFlaws runs "totpemu serve --lab" with flaws: the startup line
// stays first and names them, a warning line follows, /healthz lists them,
// and --replay-counts-as-failure and --flaw replay-counts are the same
// policy, allowed without --lab, as --throttle and the --resync knobs
// are (named in the startup line).
func TestServeFlaws(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		policy  []string // in the startup line
		warning string   // "" for none
		flaws   []string // in /healthz
	}{
		{[]string{"--lab", "--flaw", "toctou-replay:5ms", "--flaw", "lockout-race", "--flaw", "bind-reuse"},
			[]string{"DELIBERATELY FLAWED: toctou-replay (5ms pause), lockout-race, bind-reuse"},
			"totpemu: warning: deliberately flawed console: toctou-replay (5ms pause), lockout-race, bind-reuse — for testing the bench only",
			[]string{"toctou-replay", "lockout-race", "bind-reuse"}},
		{[]string{"--replay-counts-as-failure"}, []string{"replays count as failures"}, "", []string{}},
		{[]string{"--flaw", "replay-counts"}, []string{"replays count as failures"}, "", []string{}},
		{[]string{"--throttle", "exponential:2s"}, []string{"throttle exponential 2s"}, "", []string{}},
		{[]string{"--throttle", "exponential", "--lockout", "0"}, []string{"lockout off, throttle exponential 1s,"}, "", []string{}},
		{[]string{"--resync", "--resync-max", "3", "--resync-after", "2", "--resync-forward-only"},
			[]string{", resync true (at most 3 steps, after 2 successes, forward only)"}, "", []string{}},
		{[]string{"--resync", "--resync-forward-only"}, []string{", resync true (forward only)"}, "", []string{}},
		{nil, nil, "", []string{}},
	} {
		ctx, cancel := context.WithCancel(t.Context())
		pr, pw := io.Pipe()
		e := newEnv(strings.NewReader(""), io.Discard, pw, func(string) string { return "" })
		exit := make(chan int, 1)
		go func() {
			exit <- run(ctx, e, append([]string{"serve", "--addr", "127.0.0.1:0"}, tc.args...))
			pw.Close()
		}()
		want := 1 // the startup line, the lab line, the warning line
		if slices.Contains(tc.args, "--lab") {
			want++
		}
		if tc.warning != "" {
			want++
		}
		lines := bufio.NewScanner(pr)
		var out []string
		for len(out) < want && lines.Scan() {
			out = append(out, lines.Text())
		}
		go func() { _, _ = io.Copy(io.Discard, pr) }()
		m := regexp.MustCompile(`^totpemu: serving the reference console on http://(127\.0\.0\.1:\d+)/ \((.*)\)$`).FindStringSubmatch(strings.Join(out[:min(1, len(out))], ""))
		if m == nil {
			cancel()
			t.Fatalf("serve %q: first stderr lines %q: want the startup line first (exit %d)", tc.args, out, <-exit)
		}
		for _, p := range tc.policy {
			if !strings.Contains(m[2], p) {
				t.Errorf("serve %q: startup line %q lacks %q", tc.args, out[0], p)
			}
		}
		if named := strings.Contains(m[2], "FLAWED"); named != (tc.warning != "") {
			t.Errorf("serve %q: startup line %q: flaws named %t, want %t", tc.args, out[0], named, tc.warning != "")
		}
		if tc.warning != "" && (len(out) < want || out[want-1] != tc.warning) {
			t.Errorf("serve %q: stderr %q: want the warning line %q after the startup line", tc.args, out, tc.warning)
		}
		resp, err := http.Get("http://" + m[1] + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		var h struct{ Flaws []string }
		err = json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if err != nil || h.Flaws == nil || !slices.Equal(h.Flaws, tc.flaws) {
			t.Errorf("serve %q: /healthz flaws %q (%v), want %q", tc.args, h.Flaws, err, tc.flaws)
		}
		cancel()
		if code := <-exit; code != exitOK {
			t.Errorf("serve %q exited %d after shutdown, want 0", tc.args, code)
		}
	}
}

// TestParseThrottle: --throttle is exponential (factor 1s) or
// exponential:FACTOR, FACTOR from 1ns to 1h.
func TestParseThrottle(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"exponential", time.Second, true},
		{"exponential:500ms", 500 * time.Millisecond, true},
		{"exponential:2s", 2 * time.Second, true},
		{"exponential:1h", time.Hour, true},
		{"exponential:1h1s", 0, false},
		{"exponential:0s", 0, false},
		{"exponential:-1s", 0, false},
		{"exponential:", 0, false},
		{"exponential:soon", 0, false},
		{"Exponential", 0, false},
		{"linear", 0, false},
		{"linear:1s", 0, false},
		{"", 0, false},
	} {
		got, err := parseThrottle(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseThrottle(%q) = %v, %v; want %v, ok %t", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "want exponential or exponential:FACTOR") {
			t.Errorf("parseThrottle(%q): error %q does not name the form", tc.in, err)
		}
	}
}
