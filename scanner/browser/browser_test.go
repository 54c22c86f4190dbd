package browser_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/totpemu/totpemu/internal/testenv"
	"github.com/totpemu/totpemu/scanner"
	"github.com/totpemu/totpemu/scanner/browser"
	"github.com/totpemu/totpemu/testbench/refserver"
)

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// signedInEnrollment signs in to the console through its form, presses
// Enable MFA, and returns the enrollment page's URL and the session's
// cookies.
func signedInEnrollment(t *testing.T, base string) (string, map[string]string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	page := func(resp *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return b.String()
	}
	csrf := func(p string) string {
		m := csrfRe.FindStringSubmatch(p)
		if m == nil {
			t.Fatalf("no csrf field in %.200q", p)
		}
		return m[1]
	}
	p := page(c.Get(base + "/console/signin"))
	p = page(c.PostForm(base+"/console/signin", url.Values{"username": {refserver.DemoUser}, "password": {refserver.DemoPassword}, "csrf": {csrf(p)}}))
	p = page(c.PostForm(base+"/console/mfa/enable", url.Values{"csrf": {csrf(p)}}))
	if !strings.Contains(p, `id="qr"`) {
		t.Fatalf("enabling MFA did not show the QR code: %.300q", p)
	}
	u, _ := url.Parse(base + "/console/mfa/enable")
	cookies := map[string]string{}
	for _, ck := range jar.Cookies(u) {
		cookies[ck.Name] = ck.Value
	}
	return u.String(), cookies
}

// TestLoadConsoleEnrollment loads the console's enrollment page, signed in
// through its form, in headless Chromium: the screenshots at 1x, 1.25x,
// 1.5x and 2x and the page's <img> each hold the same otpauth URI, for the
// demo user.
func TestLoadConsoleEnrollment(t *testing.T) {
	chromium := testenv.FindChromium(t, "scan --browser")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv, err := refserver.Start(ctx, "127.0.0.1:0", refserver.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	page, cookies := signedInEnrollment(t, srv.URL)
	caps, skipped, err := browser.Load(ctx, browser.Options{URL: page, Cookies: cookies, WaitFor: "#qr", Chromium: chromium,
		Scales: []float64{1, 1.25, 1.5, 2}})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, c := range caps {
		res, err := scanner.ScanInput(ctx, c.Source, c.Data, scanner.Options{})
		if err != nil || len(res.Codes) == 0 {
			continue
		}
		found[c.Source] = res.Codes[0].Text()
	}
	t.Logf("captures: %d, skipped %v, decoded %d", len(caps), skipped, len(found))
	var uri string
	// Device scales 1.25 and 1.5 draw the code's modules a fraction of a
	// pixel wide: the regrid rung's case.
	for _, src := range []string{"screenshot at 1x", "screenshot at 1.25x", "screenshot at 1.5x", "screenshot at 2x"} {
		if found[src] == "" {
			t.Errorf("%s: no code", src)
		}
		if uri == "" {
			uri = found[src]
		}
	}
	imgs := 0
	for src, u := range found {
		if u != uri {
			t.Errorf("%s holds another payload than the screenshot", src)
		}
		if strings.HasPrefix(src, "img ") {
			imgs++
		}
	}
	if imgs == 0 {
		t.Errorf("no <img> of the page decoded (captures %d, skipped %v)", len(caps), skipped)
	}
	if k, _ := scanner.ParseURI(uri); k == nil || k.Account != refserver.DemoUser {
		t.Errorf("the page's code: %v, want the demo user's key", k)
	}
}

// TestLoadErrors: a bad URL, a missing browser and a selector that never
// shows are clear errors, not hangs.
func TestLoadErrors(t *testing.T) {
	ctx := context.Background()
	if _, _, err := browser.Load(ctx, browser.Options{URL: "ftp://x"}); err == nil || !strings.Contains(err.Error(), "want an http://") {
		t.Errorf("ftp URL: %v", err)
	}
	if _, _, err := browser.Load(ctx, browser.Options{URL: "http://127.0.0.1:1/", Chromium: "/nonexistent/chromium"}); err == nil || !strings.Contains(err.Error(), "/nonexistent/chromium") {
		t.Errorf("missing browser: %v", err)
	}
	if _, err := browser.Find("no-such-browser-anywhere"); err == nil {
		t.Error("a browser that is not there was found")
	}
	chromium := testenv.FindChromium(t, "scan --browser")
	srv, err := refserver.Start(ctx, "127.0.0.1:0", refserver.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	start := time.Now()
	_, _, err = browser.Load(ctx, browser.Options{URL: srv.URL + "/console/signin", WaitFor: "#never-there", Timeout: 3 * time.Second, Chromium: chromium})
	if err == nil || !strings.Contains(err.Error(), `timed out waiting for "#never-there"`) || time.Since(start) > 20*time.Second {
		t.Errorf("a selector that never shows: %v after %v", err, time.Since(start))
	}
}
