package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/totpemu/totpemu/testbench"
)

// maxAnswerBytes caps an answer body (a base64 QR PNG fits easily).
const maxAnswerBytes = 16 << 20

// HTTPTarget is a Target driven by a TargetConfig. When the config names a
// lab clock and the server answers it, it is also a LabClock (see Lab).
type HTTPTarget struct {
	cfg     *TargetConfig
	client  *http.Client
	timeout time.Duration

	smu      sync.Mutex
	sessions map[string]*session // by the enrollment's _session (flow.go)
	nSession int
}

// NewHTTPTarget returns a target for cfg. client nil means a new client
// with the config's timeout.
func NewHTTPTarget(cfg *TargetConfig, client *http.Client) (*HTTPTarget, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	timeout := 10 * time.Second
	if cfg.Timeout != "" {
		d, err := time.ParseDuration(cfg.Timeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("timeout %q: want a positive Go duration such as 10s", cfg.Timeout)
		}
		timeout = d
	}
	if client == nil {
		// One keep-alive client for every submission: enough idle
		// connections for the bench's parallel probes.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		client = &http.Client{Timeout: timeout, Transport: tr}
	}
	return &HTTPTarget{cfg: cfg, client: client, timeout: timeout}, nil
}

// Describe names the target.
func (t *HTTPTarget) Describe() string {
	if t.cfg.Name != "" {
		return t.cfg.Name
	}
	return t.cfg.BaseURL
}

// Capabilities follow the config's bind section.
func (t *HTTPTarget) Capabilities() testbench.Capabilities {
	c := testbench.Capabilities{FreshEnrollments: true}
	for _, u := range t.cfg.Users {
		c.Accounts = append(c.Accounts, u.Name)
	}
	if t.cfg.Bind != nil {
		c.BindCodes = t.cfg.Bind.Codes
	}
	return c
}

// answer is a response read in full (capped).
type answer struct {
	status  int
	header  http.Header
	body    []byte
	json    any
	cookies []*http.Cookie
}

// placeholder matches a template's {{name}}; compiled on first use (a
// one-shot "totpemu code" links this package and should not pay for it at
// start-up).
var placeholder = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}`) })

// fill replaces {{name}} in tmpl with vars, escaping each value with esc.
func fill(tmpl string, vars map[string]string, esc func(string) string) (string, error) {
	var missing []string
	out := placeholder().ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[2 : len(m)-2]
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return esc(v)
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("template %q: no value for {{%s}}", tmpl, strings.Join(missing, "}}, {{"))
	}
	return out, nil
}

// escapePath escapes s as one path segment ("/" included).
func escapePath(s string) string { return strings.ReplaceAll(url.PathEscape(s), "/", "%2F") }

// jsonEscape escapes s as the content of a JSON string (no quotes).
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func (t *HTTPTarget) do(ctx context.Context, r Request, vars map[string]string) (*answer, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	req, err := t.request(ctx, r, vars)
	if err != nil {
		return nil, err
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	return readAnswer(req, resp)
}

// request builds the request r with vars filled in: values in the path
// and query are escaped as such, in the body as its content type wants.
func (t *HTTPTarget) request(ctx context.Context, r Request, vars map[string]string) (*http.Request, error) {
	p, q, hasQuery := strings.Cut(r.Path, "?")
	path, err := fill(p, vars, escapePath)
	if err != nil {
		return nil, err
	}
	if hasQuery {
		q, err = fill(q, vars, url.QueryEscape)
		if err != nil {
			return nil, err
		}
		path += "?" + q
	}
	ctype := r.ContentType
	if ctype == "" && r.Body != "" {
		ctype = "application/json"
	}
	esc := func(s string) string { return s }
	if strings.Contains(ctype, "json") {
		esc = jsonEscape
	} else if strings.Contains(ctype, "x-www-form-urlencoded") {
		esc = url.QueryEscape
	}
	body, err := fill(r.Body, vars, esc)
	if err != nil {
		return nil, err
	}
	switch {
	case len(r.Form) > 0:
		if body, err = formBody(r.Form, vars); err != nil {
			return nil, err
		}
		ctype = "application/x-www-form-urlencoded"
	case len(r.Multipart) > 0:
		if body, ctype, err = multipartBody(r.Multipart, vars); err != nil {
			return nil, err
		}
	}
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.cfg.BaseURL+path, rd)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range t.cfg.Headers {
		req.Header.Set(k, v)
	}
	for k, v := range r.Headers {
		if v, err = fill(v, vars, func(s string) string { return s }); err != nil {
			return nil, err
		}
		req.Header.Set(k, v)
	}
	return req, nil
}

// readAnswer reads resp in full (capped) and closes its body.
func readAnswer(req *http.Request, resp *http.Response) (*answer, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", req.Method, req.URL.Path, err)
	}
	if len(b) > maxAnswerBytes {
		return nil, fmt.Errorf("%s %s: answer over %d bytes", req.Method, req.URL.Path, maxAnswerBytes)
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: b, json: decodeJSON(b)}, nil
}

// Enroll posts the enroll request and takes the key forms from the answer.
func (t *HTTPTarget) Enroll(ctx context.Context, account string) (*testbench.Enrollment, error) {
	spec := t.cfg.Enroll
	var sid string
	var sess *session
	if t.flows() {
		var err error
		if sid, sess, err = t.begin(ctx, account); err != nil {
			return nil, err
		}
	}
	a, err := t.doIn(ctx, sess, "enroll", spec.Request, varsIn(nil, sess, map[string]string{"account": account}))
	if err != nil {
		return nil, err
	}
	ok := slices.Contains(spec.Status, a.status)
	if len(spec.Status) == 0 {
		ok = a.status == http.StatusOK || a.status == http.StatusCreated
	}
	if !ok {
		return nil, fmt.Errorf("enroll answered %d: %s", a.status, brief(a))
	}
	if a.json == nil {
		return nil, fmt.Errorf("enroll answered %d without a JSON body", a.status)
	}
	e := &testbench.Enrollment{Vars: map[string]string{}}
	if sid != "" {
		e.Vars[sessionVar] = sid
	}
	get := func(path string) string {
		if path == "" {
			return ""
		}
		v, _ := lookup(a.json, path)
		return v
	}
	for name, path := range spec.Vars {
		v, ok := lookup(a.json, path)
		if !ok {
			return nil, fmt.Errorf("enroll answer has no %q (for {{%s}})", path, name)
		}
		e.Vars[name] = v
	}
	e.ID = e.Vars["serial"]
	e.Account, e.Issuer = get(spec.Account), get(spec.Issuer)
	if e.Account == "" {
		e.Account = account
	}
	e.URI, e.ManualKey = get(spec.URI), get(spec.ManualKey)
	if img := get(spec.QRImage); img != "" {
		b, err := decodeImageText(img)
		if err != nil {
			return nil, fmt.Errorf("enroll answer's %s: %w", spec.QRImage, err)
		}
		e.QRImage = b
	}
	if e.URI == "" && e.ManualKey == "" && len(e.QRImage) == 0 {
		return nil, fmt.Errorf("enroll answer carries no key at %s", strings.Join(nonEmpty(spec.QRImage, spec.URI, spec.ManualKey), ", "))
	}
	return e, nil
}

// Bind posts the bind request with the codes.
func (t *HTTPTarget) Bind(ctx context.Context, e *testbench.Enrollment, codes []string) testbench.Verdict {
	if t.cfg.Bind == nil {
		return testbench.Verdict{Outcome: testbench.Error, Err: errors.New("this target has no bind step")}
	}
	vars := t.vars(e)
	vars["code"] = codes[len(codes)-1]
	vars["code1"] = codes[0]
	vars["code2"] = codes[len(codes)-1]
	vs := t.cfg.Verdicts
	if t.cfg.Bind.Verdicts != nil {
		vs = *t.cfg.Bind.Verdicts
	}
	return t.judgeBy(ctx, "bind", t.cfg.Bind.Request, vars, vs, t.sessionOf(e))
}

// Verify posts the verify request with the code.
func (t *HTTPTarget) Verify(ctx context.Context, e *testbench.Enrollment, code string) testbench.Verdict {
	if len(t.cfg.Login) > 0 {
		return t.login(ctx, e, code)
	}
	vars := t.vars(e)
	vars["code"] = code
	return t.judgeBy(ctx, "verify", t.cfg.Verify, vars, t.cfg.Verdicts, t.sessionOf(e))
}

// vars is what e's requests may use: its account and variables, and what
// its session captured.
func (t *HTTPTarget) vars(e *testbench.Enrollment) map[string]string {
	return varsIn(e.Vars, t.sessionOf(e), map[string]string{"account": e.Account})
}

func (t *HTTPTarget) judgeBy(ctx context.Context, key string, r Request, vars map[string]string, vs Verdicts, s *session) testbench.Verdict {
	a, err := t.doIn(ctx, s, key, r, vars)
	if a == nil {
		return testbench.Verdict{Outcome: testbench.Error, Err: err}
	}
	v := t.verdictBy(a, vs)
	if err != nil && v.Outcome == testbench.Accepted {
		return testbench.Verdict{Outcome: testbench.Error, Err: err}
	}
	return v
}

// verdictBy maps an answer to a Verdict by vs.
func (t *HTTPTarget) verdictBy(a *answer, vs Verdicts) testbench.Verdict {
	v := testbench.Verdict{Reason: brief(a)}
	if d, err := http.ParseTime(a.header.Get("Date")); err == nil {
		v.Date = d
	}
	switch {
	case matches(vs.Locked, a):
		v.Outcome = testbench.Locked
	case matches(vs.Throttled, a):
		v.Outcome = testbench.Throttled
	case matches(vs.Accepted, a):
		v.Outcome = testbench.Accepted
	case matches(vs.Rejected, a):
		v.Outcome = testbench.Rejected
	default:
		v.Outcome = testbench.Error
		v.Err = fmt.Errorf("answer %d matches no verdict", a.status)
	}
	if v.Outcome == testbench.Locked || v.Outcome == testbench.Throttled {
		v.RetryAfter = retryAfter(a.header)
	}
	return v
}

// Date asks the server for its time without judging a code: a GET of the
// config's date_path ("/" by default); any status will do. It returns the
// answer's Date header, zero when there is none.
func (t *HTTPTarget) Date(ctx context.Context) (time.Time, error) {
	p := t.cfg.DatePath
	if p == "" {
		p = "/"
	}
	a, err := t.do(ctx, Request{Method: http.MethodGet, Path: p}, nil)
	if err != nil {
		return time.Time{}, err
	}
	d, err := http.ParseTime(a.header.Get("Date"))
	if err != nil {
		return time.Time{}, nil
	}
	return d, nil
}

// CloseIdleConnections closes the client's idle keep-alive connections.
func (t *HTTPTarget) CloseIdleConnections() { t.client.CloseIdleConnections() }
