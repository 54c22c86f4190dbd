package webapp

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/totpemu/totpemu/clock"
)

// t0 is the lab clock's start, 7 s into a step.
var t0 = time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC)

// lab is an app on a manual clock behind a test server.
type lab struct {
	app   *App
	clock *clock.Manual
	srv   *httptest.Server
}

func newLab(t *testing.T, opts Options) *lab {
	t.Helper()
	m := clock.NewManual(t0)
	opts.Clock = m
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return &lab{app: a, clock: m, srv: srv}
}

// code is secret's code at the lab clock's time plus d.
func (l *lab) code(t *testing.T, secret string, d time.Duration) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, l.clock.Now().Add(d), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// client is a browser: a cookie jar, redirects not followed.
type client struct {
	t    *testing.T
	base *url.URL
	hc   *http.Client
}

func (l *lab) client(t *testing.T) *client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(l.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &client{t: t, base: u, hc: hc}
}

// answer is a response with its body read.
type answer struct {
	*http.Response
	body string
}

func (c *client) do(method, path, ctype, body string, hdr map[string]string) answer {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base.String()+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return answer{resp, string(b)}
}

func (c *client) get(path string) answer { return c.do(http.MethodGet, path, "", "", nil) }

func (c *client) postForm(path string, v url.Values) answer {
	return c.do(http.MethodPost, path, "application/x-www-form-urlencoded", v.Encode(), nil)
}

// api posts JSON to path, echoing the csrftoken cookie in X-CSRF-Token.
func (c *client) api(path, body string) answer {
	return c.do(http.MethodPost, path, "application/json", body, map[string]string{csrfHeader: c.cookie(csrfCookie)})
}

// cookie is the jar's cookie name for the server, "" when none.
func (c *client) cookie(name string) string {
	for _, ck := range c.hc.Jar.Cookies(c.base) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// hidden is the value of the page's hidden input name.
func hidden(t *testing.T, page, name string) string {
	t.Helper()
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	t.Fatalf("no hidden %s in page:\n%s", name, page)
	return ""
}

// want checks an answer's status and that its body holds each of texts.
func (a answer) want(t *testing.T, status int, texts ...string) {
	t.Helper()
	if a.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body:\n%s", a.Request.Method, a.Request.URL.Path, a.StatusCode, status, a.body)
	}
	for _, s := range texts {
		if !strings.Contains(a.body, s) {
			t.Fatalf("%s %s: body lacks %q:\n%s", a.Request.Method, a.Request.URL.Path, s, a.body)
		}
	}
}

// wantRedirect checks a 303 to path.
func (a answer) wantRedirect(t *testing.T, path string) {
	t.Helper()
	a.want(t, http.StatusSeeOther)
	if got := a.Header.Get("Location"); got != path {
		t.Fatalf("%s %s: Location %q, want %q", a.Request.Method, a.Request.URL.Path, got, path)
	}
}

// signup creates name and signs c in as it.
func (c *client) signup(name, password string) {
	c.t.Helper()
	tok := hidden(c.t, c.get("/signup").body, csrfField)
	c.postForm("/signup", url.Values{"user": {name}, "password": {password}, csrfField: {tok}}).wantRedirect(c.t, "/account")
}

// setupAnswer is POST /api/mfa/setup's JSON.
type setupAnswer struct {
	URI    string `json:"otpauth_uri"`
	Secret string `json:"secret"`
	QR     string `json:"qr_png"`
}

// password signs in with name's password up to the code step and returns
// the challenge.
func (c *client) password(name, password string) string {
	c.t.Helper()
	tok := hidden(c.t, c.get("/login").body, csrfField)
	a := c.postForm("/login", url.Values{"user": {name}, "password": {password}, csrfField: {tok}})
	a.want(c.t, http.StatusOK)
	if strings.Contains(a.body, "Invalid code") {
		c.t.Fatalf("the step-two page says Invalid code before any code:\n%s", a.body)
	}
	if got := hidden(c.t, a.body, csrfField); got != tok {
		c.t.Fatalf("step-two csrf_token %q, want the session's %q", got, tok)
	}
	return hidden(c.t, a.body, "challenge")
}

// otp posts the login's second step.
func (c *client) otp(challenge, code string) answer {
	c.t.Helper()
	tok := hidden(c.t, c.get("/login").body, csrfField)
	return c.postForm("/login/otp", url.Values{"challenge": {challenge}, "code": {code}, csrfField: {tok}})
}

func (c *client) logout() {
	c.t.Helper()
	c.do(http.MethodPost, "/logout", "", "", nil).wantRedirect(c.t, "/login")
}
