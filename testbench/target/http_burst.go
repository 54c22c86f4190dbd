package target

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/testbench"
)

// realClock times a burst's release: the spread is real time whatever
// clock the run is in.
var realClock clock.Clock = clock.System{}

// VerifyBurst sends the verify request of each code at once, the way a
// race is provoked. Over https to a server that speaks HTTP/2, the
// single-packet attack (http_burst_h2.go). Otherwise HTTP/1.1 "last-byte
// sync" (PortSwigger's research): each request is written on its own
// fresh connection but for its last byte, so the server has parsed it and
// waits; then the last bytes go out one after another in a tight loop,
// the final code's last. The spread is the real time that loop took.
// Connections go straight to the target's host (no proxy) and close after
// their answer.
func (t *HTTPTarget) VerifyBurst(ctx context.Context, e *testbench.Enrollment, codes []string) testbench.BurstResult {
	if _, ok := t.client.Transport.(*http.Transport); !ok && t.client.Transport != nil {
		return t.clientBurst(ctx, e, codes)
	}
	res := testbench.BurstResult{Verdicts: make([]testbench.Verdict, len(codes)),
		Method: fmt.Sprintf("HTTP/1.1 last-byte sync on %d connections", len(codes))}
	fail := func(err error) testbench.BurstResult {
		for i := range res.Verdicts {
			res.Verdicts[i] = testbench.Verdict{Outcome: testbench.Error, Err: err}
		}
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	reqs := make([]*http.Request, len(codes))
	wires := make([][]byte, len(codes))
	bodies := make([][]byte, len(codes))
	vs := t.cfg.Verdicts
	if n := len(t.cfg.Login); n > 0 && t.cfg.Login[n-1].Verdicts != nil {
		vs = *t.cfg.Login[n-1].Verdicts
	}
	for i, c := range codes {
		req, err := t.burstRequest(ctx, e, c)
		if err != nil {
			return fail(err)
		}
		req.Close = true // one request per connection
		if req.GetBody != nil {
			rc, err := req.GetBody()
			if err != nil {
				return fail(err)
			}
			bodies[i], _ = io.ReadAll(rc)
		}
		var buf bytes.Buffer
		if err := req.Write(&buf); err != nil {
			return fail(fmt.Errorf("preparing a burst request: %w", err))
		}
		reqs[i], wires[i] = req, buf.Bytes()
	}
	if reqs[0].URL.Scheme == "https" {
		h2, err := t.h2Burst(ctx, reqs, bodies, vs)
		if err == nil {
			return h2
		}
		if !errors.Is(err, errNoH2) {
			res.Method += fmt.Sprintf(" (HTTP/2 single packet failed: %v)", err)
		}
	}
	conns := make([]net.Conn, len(codes))
	defer func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make([]error, len(codes))
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := t.dialBurst(ctx, reqs[i])
			if err == nil {
				if d, ok := ctx.Deadline(); ok {
					_ = c.SetDeadline(d)
				}
				_, err = c.Write(wires[i][:len(wires[i])-1])
			}
			conns[i], errs[i] = c, err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fail(fmt.Errorf("%s %s: opening burst connection %d of %d: %w", reqs[i].Method, reqs[i].URL, i+1, len(codes), err))
		}
	}
	// Read every answer concurrently; the server answers in any order.
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.ReadResponse(bufio.NewReader(conns[i]), reqs[i])
			if err != nil {
				res.Verdicts[i] = testbench.Verdict{Outcome: testbench.Error, Err: fmt.Errorf("%s %s: %w", reqs[i].Method, reqs[i].URL, err)}
				return
			}
			a, err := readAnswer(reqs[i], resp)
			if err != nil {
				res.Verdicts[i] = testbench.Verdict{Outcome: testbench.Error, Err: err}
				return
			}
			res.Verdicts[i] = t.verdictBy(a, vs)
		}()
	}
	start := realClock.Now()
	var last time.Time
	for i := range codes {
		if _, err := conns[i].Write(wires[i][len(wires[i])-1:]); err != nil {
			res.Verdicts[i] = testbench.Verdict{Outcome: testbench.Error, Err: fmt.Errorf("releasing burst request %d: %w", i+1, err)}
		}
		last = realClock.Now()
	}
	res.Spread, res.Measured = last.Sub(start), true
	wg.Wait()
	return res
}

// burstRequest is the request that submits code on e, ready to go. With
// a login flow, each submission has a session of its own, taken through
// the login steps before the code's (its own challenge), and the request
// is the last step's; else it is verify's in e's session. The session's
// cookies are on the request: a burst is written by hand, not by a
// client with the jar.
func (t *HTTPTarget) burstRequest(ctx context.Context, e *testbench.Enrollment, code string) (*http.Request, error) {
	s := t.sessionOf(e)
	r := t.cfg.Verify
	if n := len(t.cfg.Login); n > 0 {
		var base map[string]string
		if s != nil {
			s.mu.Lock()
			base = maps.Clone(s.vars)
			s.mu.Unlock()
		}
		var id string
		id, s = t.newSession(base)
		defer t.dropSession(id)
		if err := t.signIn(ctx, s); err != nil {
			return nil, err
		}
		for i, st := range t.cfg.Login[:n-1] {
			if _, err := t.step(ctx, s, fmt.Sprintf("login[%d]", i), st, varsIn(e.Vars, s, nil)); err != nil {
				return nil, err
			}
		}
		r = t.cfg.Login[n-1].Request
	}
	req, err := t.request(ctx, r, varsIn(e.Vars, s, map[string]string{"account": e.Account, "code": code}))
	if err != nil {
		return nil, err
	}
	if s != nil {
		for _, c := range s.client.Jar.Cookies(req.URL) {
			req.AddCookie(c)
		}
	}
	return req, nil
}

// dialBurst opens a connection of its own to req's host, TLS for https
// (HTTP/1.1 only: the burst is written by hand).
func (t *HTTPTarget) dialBurst(ctx context.Context, req *http.Request) (net.Conn, error) {
	host := req.URL.Host
	if req.URL.Port() == "" {
		port := "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(req.URL.Hostname(), port)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil || req.URL.Scheme != "https" {
		return c, err
	}
	tc := tls.Client(c, t.tlsConfig(req, "http/1.1"))
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	return tc, nil
}

// clientBurst is the burst of a client whose transport is not TCP (a
// test's in-process server): one request per goroutine through the
// client, released by one channel; the spread is not measured.
func (t *HTTPTarget) clientBurst(ctx context.Context, e *testbench.Enrollment, codes []string) testbench.BurstResult {
	return testbench.BurstResult{Method: fmt.Sprintf("%d concurrent requests through the client", len(codes)),
		Verdicts: testbench.ReleaseTogether(ctx, codes, func(ctx context.Context, c string) testbench.Verdict { return t.Verify(ctx, e, c) })}
}
