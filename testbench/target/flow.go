package target

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/net/html"

	"github.com/totpemu/totpemu/testbench"
)

// sessionVar is the enrollment variable naming its session.
const sessionVar = "_session"

// session is one cookie jar and the values captured in it.
type session struct {
	client *http.Client
	mu     sync.Mutex
	vars   map[string]string
}

// flows reports whether the config has sessions (setup, signin or login
// steps): then every enrollment has its own.
func (t *HTTPTarget) flows() bool {
	return len(t.cfg.Setup)+len(t.cfg.SignIn)+len(t.cfg.Login)+len(t.cfg.Users) > 0
}

// password is the password of account: its test user's, else the
// config's.
func (t *HTTPTarget) password(account string) string {
	for _, u := range t.cfg.Users {
		if u.Name == account {
			return u.Password
		}
	}
	return t.cfg.Password
}

// newSession makes a session with its own cookie jar on the target's
// transport; redirects are answers, not followed.
func (t *HTTPTarget) newSession(base map[string]string) (string, *session) {
	jar, _ := cookiejar.New(nil) // never fails without options
	s := &session{vars: maps.Clone(base), client: &http.Client{Transport: t.client.Transport, Jar: jar, Timeout: t.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if s.vars == nil {
		s.vars = map[string]string{}
	}
	t.smu.Lock()
	defer t.smu.Unlock()
	if t.sessions == nil {
		t.sessions = map[string]*session{}
	}
	t.nSession++
	id := strconv.Itoa(t.nSession)
	t.sessions[id] = s
	return id, s
}

// dropSession forgets a session made for one burst submission.
func (t *HTTPTarget) dropSession(id string) {
	t.smu.Lock()
	delete(t.sessions, id)
	t.smu.Unlock()
}

// sessionOf is e's session, nil without flows.
func (t *HTTPTarget) sessionOf(e *testbench.Enrollment) *session {
	t.smu.Lock()
	defer t.smu.Unlock()
	return t.sessions[e.Vars[sessionVar]]
}

// varsIn is what a request in s may use: the enrollment's variables,
// then what s captured, then extra.
func varsIn(e map[string]string, s *session, extra map[string]string) map[string]string {
	out := maps.Clone(e)
	if out == nil {
		out = map[string]string{}
	}
	if s != nil {
		s.mu.Lock()
		maps.Copy(out, s.vars)
		s.mu.Unlock()
	}
	maps.Copy(out, extra)
	return out
}

// doIn sends r in s (the shared client when s is nil) and captures what
// r asks of the answer into s. key names r in errors.
func (t *HTTPTarget) doIn(ctx context.Context, s *session, key string, r Request, vars map[string]string) (*answer, error) {
	client := t.client
	if s != nil {
		client = s.client
	}
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	req, err := t.request(ctx, r, vars)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %s %s: %w", key, req.Method, req.URL, err)
	}
	a, err := readAnswer(req, resp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	a.cookies = resp.Cookies()
	if len(r.Capture) == 0 {
		return a, nil
	}
	got := map[string]string{}
	for name, cp := range r.Capture {
		v, ok := capture(cp, a, client, req)
		if !ok {
			return a, fmt.Errorf("%s: capture %s: %s not in the answer (%s)", key, name, cp, brief(a))
		}
		got[name] = v
	}
	if s != nil {
		s.mu.Lock()
		maps.Copy(s.vars, got)
		s.mu.Unlock()
	}
	return a, nil
}

// String names where a capture looks.
func (c Capture) String() string {
	switch {
	case c.JSON != "":
		return "JSON path " + strconv.Quote(c.JSON)
	case c.Header != "":
		return "header " + c.Header
	case c.Cookie != "":
		return "cookie " + c.Cookie
	case c.Regex != "":
		return "a match of " + strconv.Quote(c.Regex)
	}
	return "form field " + strconv.Quote(c.FormField)
}

// regexps caches the config's regular expressions (checked at load).
var regexps sync.Map

func compiled(expr string) *regexp.Regexp {
	if re, ok := regexps.Load(expr); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(expr)
	regexps.Store(expr, re)
	return re
}

// capture finds c's value in a.
func capture(c Capture, a *answer, client *http.Client, req *http.Request) (string, bool) {
	switch {
	case c.JSON != "":
		return lookup(a.json, c.JSON)
	case c.Header != "":
		v := a.header.Get(c.Header)
		return v, v != ""
	case c.Cookie != "":
		for _, ck := range a.cookies {
			if ck.Name == c.Cookie && ck.Value != "" {
				return ck.Value, true
			}
		}
		if client.Jar != nil {
			for _, ck := range client.Jar.Cookies(req.URL) {
				if ck.Name == c.Cookie {
					return ck.Value, true
				}
			}
		}
		return "", false
	case c.Regex != "":
		m := compiled(c.Regex).FindSubmatch(a.body)
		switch {
		case m == nil:
			return "", false
		case len(m) > 1:
			return string(m[1]), true
		}
		return string(m[0]), true
	}
	return formField(a.body, c.FormField)
}

// formField is the value of <input name=NAME value=...> (or <meta
// name=NAME content=...>, where Rails puts its CSRF token) in an HTML
// page.
func formField(page []byte, name string) (string, bool) {
	z := html.NewTokenizer(strings.NewReader(string(page)))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return "", false
		case html.StartTagToken, html.SelfClosingTagToken:
			tag, hasAttr := z.TagName()
			if !hasAttr || (string(tag) != "input" && string(tag) != "meta") {
				continue
			}
			attrs := map[string]string{}
			for {
				k, v, more := z.TagAttr()
				attrs[string(k)] = string(v)
				if !more {
					break
				}
			}
			if attrs["name"] != name {
				continue
			}
			if string(tag) == "meta" {
				return attrs["content"], true
			}
			return attrs["value"], true
		}
	}
}

// step runs a flow step in s; an answer it does not expect is an error
// naming the step, unless it says locked or "slow down" (then that
// verdict, for a login step).
func (t *HTTPTarget) step(ctx context.Context, s *session, key string, st Step, vars map[string]string) (*answer, error) {
	if st.Name != "" {
		key += " (" + st.Name + ")"
	}
	a, err := t.doIn(ctx, s, key, st.Request, vars)
	if err != nil {
		return a, err
	}
	ok := a.status >= 200 && a.status < 400
	if len(st.Status) > 0 {
		ok = false
		for _, want := range st.Status {
			ok = ok || a.status == want
		}
	}
	if ok && st.Expect != "" {
		ok = compiled(st.Expect).Match(a.body)
	}
	if !ok {
		return a, &stepError{key: key, a: a}
	}
	return a, nil
}

// stepError is a flow step that got an answer it does not expect.
type stepError struct {
	key string
	a   *answer
}

func (e *stepError) Error() string { return fmt.Sprintf("%s answered %s", e.key, brief(e.a)) }

// begin makes e's session for account: setup steps, then signin steps.
func (t *HTTPTarget) begin(ctx context.Context, account string) (string, *session, error) {
	base := map[string]string{"account": account, "user": account, "password": t.password(account)}
	id, s := t.newSession(base)
	// A test user may have MFA on (an earlier enrollment, an earlier
	// run), and then cannot sign in without a code: reset first (an
	// administrator's call). Unchecked unless the step says what it
	// wants.
	for i, st := range t.cfg.Reset {
		key := fmt.Sprintf("reset[%d]", i)
		if len(st.Status) > 0 || st.Expect != "" {
			if _, err := t.step(ctx, s, key, st, varsIn(nil, s, nil)); err != nil {
				return "", nil, err
			}
		} else if _, err := t.doIn(ctx, s, key, st.Request, varsIn(nil, s, nil)); err != nil {
			return "", nil, err
		}
	}
	for i, st := range t.cfg.Setup {
		if _, err := t.step(ctx, s, fmt.Sprintf("setup[%d]", i), st, varsIn(nil, s, nil)); err != nil {
			return "", nil, err
		}
	}
	if err := t.signIn(ctx, s); err != nil {
		return "", nil, err
	}
	return id, s, nil
}

func (t *HTTPTarget) signIn(ctx context.Context, s *session) error {
	for i, st := range t.cfg.SignIn {
		if _, err := t.step(ctx, s, fmt.Sprintf("signin[%d]", i), st, varsIn(nil, s, nil)); err != nil {
			return err
		}
	}
	return nil
}

// login verifies code through the login steps in e's session: each step
// but the last must work (a locked or "slow down" answer on the way is
// that verdict); the last one's answer is judged.
func (t *HTTPTarget) login(ctx context.Context, e *testbench.Enrollment, code string) testbench.Verdict {
	s := t.sessionOf(e)
	n := len(t.cfg.Login)
	for i, st := range t.cfg.Login[:n-1] {
		a, err := t.step(ctx, s, fmt.Sprintf("login[%d]", i), st, varsIn(e.Vars, s, nil))
		var se *stepError
		if errors.As(err, &se) {
			if v := t.verdictBy(se.a, t.cfg.Verdicts); v.Outcome == testbench.Locked || v.Outcome == testbench.Throttled {
				return v
			}
		}
		if err != nil {
			return testbench.Verdict{Outcome: testbench.Error, Err: err}
		}
		_ = a
	}
	last := t.cfg.Login[n-1]
	a, err := t.doIn(ctx, s, fmt.Sprintf("login[%d]", n-1), last.Request, varsIn(e.Vars, s, map[string]string{"code": code}))
	if a == nil {
		return testbench.Verdict{Outcome: testbench.Error, Err: err}
	}
	vs := t.cfg.Verdicts
	if last.Verdicts != nil {
		vs = *last.Verdicts
	}
	v := t.verdictBy(a, vs)
	if err != nil && v.Outcome == testbench.Accepted {
		// Accepted, but a value the config captures from a success is
		// missing: say so rather than trust it.
		return testbench.Verdict{Outcome: testbench.Error, Err: err}
	}
	return v
}

// SecondSession opens another session for e's account (a new cookie jar,
// the signin steps again) and returns e as seen from it: the reuse
// scenario submits a code used in e's session there. A config without
// signin or login steps has no sessions: testbench.ErrNoSession.
func (t *HTTPTarget) SecondSession(ctx context.Context, e *testbench.Enrollment) (*testbench.Enrollment, error) {
	if len(t.cfg.SignIn)+len(t.cfg.Login) == 0 {
		return nil, testbench.ErrNoSession
	}
	first := t.sessionOf(e)
	var base map[string]string
	if first != nil {
		first.mu.Lock()
		base = maps.Clone(first.vars)
		first.mu.Unlock()
	}
	id, s := t.newSession(base)
	if err := t.signIn(ctx, s); err != nil {
		return nil, fmt.Errorf("a second session: %w", err)
	}
	e2 := *e
	e2.Vars = maps.Clone(e.Vars)
	e2.Vars[sessionVar] = id
	return &e2, nil
}
