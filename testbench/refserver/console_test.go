package refserver

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// browser is a cookie-keeping client of a console under test.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
	page string // the last page's HTML
	csrf string
}

func newBrowser(t *testing.T, f *fixture) *browser {
	ts := httptest.NewServer(f.srv)
	t.Cleanup(ts.Close)
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar}, base: ts.URL}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func (b *browser) keep(resp *http.Response, err error) int {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b.page = string(body)
	if m := csrfRe.FindStringSubmatch(b.page); m != nil {
		b.csrf = m[1]
	}
	return resp.StatusCode
}

func (b *browser) get(path string) int { return b.keep(b.c.Get(b.base + path)) }

func (b *browser) post(path string, form url.Values) int {
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", b.csrf)
	}
	return b.keep(b.c.PostForm(b.base+path, form))
}

func (b *browser) has(want string, what string) {
	b.t.Helper()
	if !strings.Contains(b.page, want) {
		b.t.Fatalf("%s: the page lacks %q:\n%s", what, want, b.page)
	}
}

var keyRe = regexp.MustCompile(`id="manual-key">([A-Z2-7 ]+)<`)

// TestConsoleFlow walks the Account Protection flow: sign in, enable MFA,
// refused and malformed codes, bind, sign out, sign in with password and
// code (a replayed code refused), remove MFA.
func TestConsoleFlow(t *testing.T) {
	f := newFixture(t, Options{WindowBack: 1, WindowForward: 1, Lab: true})
	b := newBrowser(t, f)

	if st := b.get("/"); st != 200 {
		t.Fatalf("GET /: status %d", st)
	}
	b.has("Demo user <strong id=\"demo-user\">demo</strong>", "sign-in page")
	b.has(`id="lab-banner"`, "lab mode")
	if st := b.post("/console/signin", url.Values{"username": {"demo"}, "password": {"wrong"}}); st != 403 {
		t.Errorf("wrong password: status %d, want 403", st)
	}
	b.has("Wrong user name or password.", "wrong password")
	if st := b.post("/console/signin", url.Values{"username": {"demo"}, "password": {"demo-password"}, "csrf": {"0000"}}); st != 403 {
		t.Errorf("bad CSRF token: status %d, want 403", st)
	}
	if st := b.post("/console/signin", url.Values{"username": {"demo"}, "password": {"demo-password"}}); st != 200 {
		t.Fatalf("sign in: status %d", st)
	}
	b.has("Account Protection", "after sign-in")
	b.has("Not enabled", "before MFA")

	if st := b.post("/console/mfa/enable", nil); st != 200 {
		t.Fatalf("Enable MFA: status %d", st)
	}
	b.has(`src="data:image/png;base64,`, "enrollment page")
	b.has("Scan failed?", "enrollment page")
	b.has(`id="manual-account">demo<`, "enrollment page")
	m := keyRe.FindStringSubmatch(b.page)
	if m == nil {
		t.Fatalf("enrollment page: no manual key:\n%s", b.page)
	}
	if !regexp.MustCompile(`^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$`).MatchString(m[1]) {
		t.Errorf("manual key %q: want groups of 4", m[1])
	}
	secret := strings.ReplaceAll(m[1], " ", "")

	f.clk.Advance(10 * time.Minute)
	for _, tc := range []struct {
		c1, c2 string
		status int
		msg    string
	}{
		{" " + f.code(secret, -1)[1:], f.code(secret, 0), 400, "digits only, no spaces"},
		{f.code(secret, 0), f.code(secret, -1), 403, "The codes were not accepted."},
		{f.code(secret, -1), f.code(secret, 0), 200, "MFA is enabled."},
	} {
		if st := b.post("/console/mfa/bind", url.Values{"code1": {tc.c1}, "code2": {tc.c2}}); st != tc.status {
			t.Fatalf("bind %q %q: status %d, want %d", tc.c1, tc.c2, st, tc.status)
		}
		b.has(html.EscapeString(tc.msg), "bind")
	}
	b.has("<strong>Enabled</strong>", "after bind")

	if st := b.post("/console/signout", nil); st != 200 {
		t.Fatalf("sign out: status %d", st)
	}
	b.has("Sign in", "after sign-out")
	if st := b.get("/console/"); st != 200 || !strings.Contains(b.page, `action="/console/signin"`) {
		t.Fatalf("account page after sign-out: status %d, not the sign-in page", st)
	}
	b.post("/console/signin", url.Values{"username": {"demo"}, "password": {"demo-password"}})
	b.has("Multi-factor authentication", "sign-in with MFA")
	if st := b.post("/console/signin/mfa", url.Values{"code": {f.code(secret, 0)}}); st != 403 {
		t.Errorf("sign in with the code used to bind: status %d, want 403 (replay)", st)
	}
	f.clk.Advance(30 * time.Second)
	if st := b.post("/console/signin/mfa", url.Values{"code": {f.code(secret, 0)}}); st != 200 {
		t.Fatalf("sign in with a fresh code: status %d", st)
	}
	b.has("Account Protection", "signed in with MFA")
	b.post("/console/mfa/remove", nil)
	b.has("Not enabled", "after Remove MFA")

	// A device deleted over the API no longer guards the password.
	b.post("/console/mfa/enable", nil)
	secret = strings.ReplaceAll(keyRe.FindStringSubmatch(b.page)[1], " ", "")
	f.clk.Advance(time.Minute)
	b.post("/console/mfa/bind", url.Values{"code1": {f.code(secret, -1)}, "code2": {f.code(secret, 0)}})
	serial := regexp.MustCompile(`<code>(mfa-[0-9a-f]+)</code>`).FindStringSubmatch(b.page)
	if serial == nil {
		t.Fatalf("no serial on the account page:\n%s", b.page)
	}
	if w := f.do("DELETE", "/api/v1/devices/"+serial[1], ""); w.Code != 200 {
		t.Fatalf("DELETE %s: %d", serial[1], w.Code)
	}
	b.post("/console/signout", nil)
	b.post("/console/signin", url.Values{"username": {"demo"}, "password": {"demo-password"}})
	b.has("Not enabled", "sign-in after the MFA device was deleted over the API")
}

// TestConsoleOneCodeAndGuards: BindCodes 1 shows one code field; pages
// need a session; cookies are HttpOnly and SameSite=Strict; no lab banner
// without lab mode.
func TestConsoleOneCodeAndGuards(t *testing.T) {
	f := newFixture(t, Options{BindCodes: 1})
	b := newBrowser(t, f)
	for _, p := range []string{"/console/", "/console/mfa/enable"} {
		if st := b.get(p); st != 200 || !strings.Contains(b.page, `action="/console/signin"`) {
			t.Errorf("GET %s signed out: status %d, want the sign-in page", p, st)
		}
	}
	if strings.Contains(b.page, "lab-banner") {
		t.Errorf("lab banner without lab mode")
	}
	resp, err := http.Get(b.base + "/console/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ck := resp.Header.Get("Set-Cookie")
	if !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Strict") {
		t.Errorf("session cookie %q: want HttpOnly and SameSite=Strict", ck)
	}
	b.post("/console/signin", url.Values{"username": {"demo"}, "password": {"demo-password"}})
	b.post("/console/mfa/enable", nil)
	if strings.Contains(b.page, `name="code2"`) || !strings.Contains(b.page, `name="code1"`) {
		t.Fatalf("bind-codes 1: want one code field:\n%s", b.page)
	}
	secret := strings.ReplaceAll(keyRe.FindStringSubmatch(b.page)[1], " ", "")
	if st := b.post("/console/mfa/bind", url.Values{"code1": {f.code(secret, 0)}}); st != 200 {
		t.Errorf("bind-codes 1: bind: status %d", st)
	}
	b.has("MFA is enabled.", "bind-codes 1")
}
