package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/totpemu/totpemu/internal/testenv"
	"github.com/totpemu/totpemu/testbench/refserver"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// consoleEnrollPage signs in to a fresh console through its form and
// presses Enable MFA: the page showing the QR code, and the session cookie
// as --cookie takes it.
func consoleEnrollPage(t *testing.T) (page, cookie string) {
	t.Helper()
	srv, err := refserver.Start(t.Context(), "127.0.0.1:0", refserver.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	body := func(resp *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return string(b)
	}
	csrf := func(p string) string {
		m := csrfField.FindStringSubmatch(p)
		if m == nil {
			t.Fatalf("no csrf field in %.200q", p)
		}
		return m[1]
	}
	p := body(c.Get(srv.URL + "/console/signin"))
	p = body(c.PostForm(srv.URL+"/console/signin", url.Values{"username": {refserver.DemoUser}, "password": {refserver.DemoPassword}, "csrf": {csrf(p)}}))
	body(c.PostForm(srv.URL+"/console/mfa/enable", url.Values{"csrf": {csrf(p)}}))
	u, _ := url.Parse(srv.URL + "/console/mfa/enable")
	for _, ck := range jar.Cookies(u) {
		cookie = ck.Name + "=" + ck.Value
	}
	return u.String(), cookie
}

// TestScanBrowser runs "scan --browser" and "enroll --qr URL --browser"
// on the console's enrollment page, signed in with its session cookie:
// the code is found in each screenshot and in the page's <img>, each
// named with where it came from, and enrolled once.
func TestScanBrowser(t *testing.T) {
	testenv.FindChromium(t, "scan --browser")
	page, cookie := consoleEnrollPage(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	e := newEnv(strings.NewReader(""), &out, &errb, os.Getenv)
	if code := run(ctx, e, []string{"scan", "--browser", "--cookie", cookie, "--wait-for", "#qr", page}); code != 0 {
		t.Fatalf("scan --browser: exit %d\n%s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"(screenshot at 1x): ok", "(screenshot at 2x): ok", "(img 1 (data:image/png", `account "demo"`, "3 input(s), 3 code(s): ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("scan --browser: no %q in\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String()+errb.String(), strings.SplitN(cookie, "=", 2)[1]) {
		t.Error("the session cookie was printed")
	}
	out.Reset()
	errb.Reset()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "device.json")
	if code := run(ctx, e, []string{"enroll", "--state", state, "--qr", page, "--browser", "--cookie", cookie, "--wait-for", "#qr"}); code != 0 {
		t.Fatalf("enroll --qr --browser: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if strings.Count(out.String(), "demo") != 1 {
		t.Errorf("enroll --browser: want the account enrolled once:\n%s", out.String())
	}
	// Without the cookie the page is the sign-in form: no code, exit 1.
	out.Reset()
	errb.Reset()
	if code := run(ctx, e, []string{"scan", "--browser", page}); code != 1 || !strings.Contains(out.String(), "no QR code on the page") {
		t.Errorf("signed out: exit %d\n%s%s", code, out.String(), errb.String())
	}
}

// TestBrowserFlagErrors: the companions of --browser without it, a bad
// cookie or header, and a missing browser are usage or input errors.
func TestBrowserFlagErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"scan", "--cookie", "a=b", "x.png"}, 2, "scan: --cookie goes with --browser"},
		{[]string{"scan", "--browser", "--cookie", "novalue", "http://127.0.0.1:1/"}, 2, `--cookie "novalue": want NAME=VALUE`},
		{[]string{"scan", "--browser", "--header", "NoColon", "http://127.0.0.1:1/"}, 2, `want 'NAME: VALUE'`},
		{[]string{"scan", "--browser", "--scales", "9", "http://127.0.0.1:1/"}, 2, "--scales"},
		{[]string{"scan", "--browser", "--chromium", "/nonexistent/chromium", "http://127.0.0.1:1/"}, 2, "/nonexistent/chromium"},
		{[]string{"enroll", "--uri", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP", "--browser"}, 2, "--browser goes with --qr URL"},
		{[]string{"code", "--key", "JBSWY3DPEHPK3PXP", "--wait-for", "#qr"}, 2, "code: --wait-for goes with --browser"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		e := newEnv(strings.NewReader(""), &out, &errb, os.Getenv)
		code := run(t.Context(), e, c.args)
		if code != c.code || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", c.args, code, errb.String(), c.code, c.want)
		}
	}
}
