package target

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/refserver"
)

// RefConsole returns a target for a reference-console-compatible API at
// baseURL (what --target URL means) and its lab clock when /healthz says
// lab mode is on (nil otherwise: real time). It finds out whether binding
// takes one code or two with a bind request the server refuses as
// malformed before looking at any code or device, so nothing is counted
// against any device. client nil means a default client.
func RefConsole(ctx context.Context, baseURL string, client *http.Client) (*HTTPTarget, testbench.LabClock, error) {
	baseURL = strings.TrimRight(baseURL, "/")
	probe, err := NewHTTPTarget(RefConsoleConfig(baseURL, 2), client)
	if err != nil {
		return nil, nil, err
	}
	a, err := probe.do(ctx, Request{Method: http.MethodGet, Path: "/healthz"}, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", testbench.ErrUnreachable, err)
	}
	status, _ := lookup(a.json, "status")
	if a.status != http.StatusOK || status != "ok" {
		return nil, nil, fmt.Errorf("%w: %s/healthz answered %s, not a reference console", testbench.ErrUnreachable, baseURL, brief(a))
	}
	lab, _ := lookup(a.json, "lab")
	b, err := probe.do(ctx, Request{Path: "/api/v1/devices/bench-probe/bind", Body: `{"code1": "", "code2": ""}`}, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", testbench.ErrUnreachable, err)
	}
	bindCodes := 2
	if msg, _ := lookup(b.json, "message"); b.status == http.StatusBadRequest && strings.Contains(msg, "one code") {
		bindCodes = 1
	}
	t, err := NewHTTPTarget(RefConsoleConfig(baseURL, bindCodes), client)
	if err != nil {
		return nil, nil, err
	}
	if lab != "true" {
		t.cfg.LabClock = ""
		return t, nil, nil
	}
	lc, err := t.Lab(ctx)
	if err != nil {
		return nil, nil, err
	}
	return t, lc, nil
}

// Embedded is the reference console the bench starts when no target is
// given: a real server on 127.0.0.1:0, normally in lab mode, driven over
// HTTP like any other target.
type Embedded struct {
	Target  *HTTPTarget
	Lab     testbench.LabClock
	running *refserver.Running
}

// StartEmbedded starts the reference console with opts on a free loopback
// port. With opts.Lab (the default run) the bench drives its clock; without
// it the console runs on the system clock and the bench in real time.
func StartEmbedded(ctx context.Context, opts refserver.Options) (*Embedded, error) {
	run, err := refserver.Start(ctx, "127.0.0.1:0", opts)
	if err != nil {
		return nil, fmt.Errorf("starting the embedded reference console: %w", err)
	}
	t, lab, err := RefConsole(ctx, run.URL, nil)
	if err != nil {
		_ = run.Close()
		return nil, err
	}
	t.cfg.Name = "embedded reference console (" + run.Server.Options().Policy() + ")"
	return &Embedded{Target: t, Lab: lab, running: run}, nil
}

// Close stops the server, after closing the target's idle connections: a
// connection the client dialled and never used would hold the server's
// shutdown for 5 s (net/http waits that long for its first request).
func (e *Embedded) Close() error {
	e.Target.CloseIdleConnections()
	return e.running.Close()
}
