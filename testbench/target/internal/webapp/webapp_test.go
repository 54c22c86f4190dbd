package webapp

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/totpemu/totpemu/clock"
)

// enroll signs c up as name and enables MFA at the lab clock's time; it
// returns the secret.
func (l *lab) enroll(t *testing.T, c *client, name string) string {
	t.Helper()
	c.signup(name, "pw-"+name)
	s := setup(t, c)
	var body string
	if l.app.opts.BindCodes == 2 {
		body = fmt.Sprintf(`{"code1": %q, "code2": %q}`, l.code(t, s.Secret, -30*time.Second), l.code(t, s.Secret, 0))
	} else {
		body = fmt.Sprintf(`{"code": %q}`, l.code(t, s.Secret, 0))
	}
	c.api("/api/mfa/enable", body).want(t, http.StatusOK, `{"ok":true}`)
	return s.Secret
}

func setup(t *testing.T, c *client) setupAnswer {
	t.Helper()
	a := c.api("/api/mfa/setup", "")
	a.want(t, http.StatusOK)
	var s setupAnswer
	if err := json.Unmarshal([]byte(a.body), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFlow(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		// a code used in one session is accepted in another
		crossSession bool
	}{
		{"one code", Options{Back: 1, Forward: 1}, false},
		{"two codes", Options{Back: 1, Forward: 1, BindCodes: 2}, false},
		{"per-session replay flaw", Options{Back: 1, Forward: 1, PerSessionReplay: true}, true},
		{"per-session replay flaw, two codes", Options{BindCodes: 2, PerSessionReplay: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t, tt.opts)
			c := l.client(t)
			c.signup("alice", "correct horse")
			c.get("/account").want(t, http.StatusOK, "Signed in as alice", "Two-factor authentication: off")

			s := setup(t, c)
			wantURI := "otpauth://totp/WebApp:alice?secret=" + s.Secret + "&issuer=WebApp"
			if s.URI != wantURI {
				t.Errorf("otpauth_uri %q, want %q", s.URI, wantURI)
			}
			if got := decodeQR(t, s.QR); got != s.URI {
				t.Errorf("qr_png holds %q, want %q", got, s.URI)
			}
			var enable string
			if tt.opts.BindCodes == 2 {
				enable = fmt.Sprintf(`{"code1": %q, "code2": %q}`, l.code(t, s.Secret, -30*time.Second), l.code(t, s.Secret, 0))
			} else {
				enable = fmt.Sprintf(`{"code": %q}`, l.code(t, s.Secret, 0))
			}
			c.api("/api/mfa/enable", enable).want(t, http.StatusOK, `{"ok":true}`)
			c.get("/account").want(t, http.StatusOK, "Two-factor authentication: on")
			c.logout()
			c.get("/account").wantRedirect(t, "/login")

			l.clock.Advance(30 * time.Second)
			code := l.code(t, s.Secret, 0)
			c.otp(c.password("alice", "correct horse"), code).wantRedirect(t, "/account")
			c.get("/account").want(t, http.StatusOK, "Signed in as alice")
			// The same session refuses it again, whatever the record's scope.
			c.api("/api/mfa/verify", fmt.Sprintf(`{"code": %q}`, code)).want(t, http.StatusForbidden, `{"error":"invalid code"}`)

			other := l.client(t)
			a := other.otp(other.password("alice", "correct horse"), code)
			if tt.crossSession {
				a.wantRedirect(t, "/account")
			} else {
				a.want(t, http.StatusOK, "Invalid code")
				other.get("/account").wantRedirect(t, "/login")
			}
		})
	}
}

func decodeQR(t *testing.T, b64 string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.GetText()
}

// TestBindCodesUsed: the bind's code is recorded as used, so it cannot
// sign in at once; with the per-session flaw, a new session takes it.
func TestBindCodesUsed(t *testing.T) {
	for _, perSession := range []bool{false, true} {
		t.Run(fmt.Sprint("per-session=", perSession), func(t *testing.T) {
			l := newLab(t, Options{Back: 1, Forward: 1, PerSessionReplay: perSession})
			c := l.client(t)
			secret := l.enroll(t, c, "bob")
			c.logout()
			a := c.otp(c.password("bob", "pw-bob"), l.code(t, secret, 0))
			if perSession {
				a.wantRedirect(t, "/account")
			} else {
				a.want(t, http.StatusOK, "Invalid code")
			}
		})
	}
}

// A code of a step before the last accepted one is a replay too (by step,
// not by code), and a replay is not a failure towards the lockout.
func TestReplayByStep(t *testing.T) {
	l := newLab(t, Options{Back: 2, Forward: 0, Lockout: 2})
	c := l.client(t)
	secret := l.enroll(t, c, "carol")
	for _, d := range []time.Duration{-60 * time.Second, -30 * time.Second, 0, 0, 0} {
		c.api("/api/mfa/verify", fmt.Sprintf(`{"code": %q}`, l.code(t, secret, d))).want(t, http.StatusForbidden, `{"error":"invalid code"}`)
	}
	l.clock.Advance(30 * time.Second)
	c.api("/api/mfa/verify", fmt.Sprintf(`{"code": %q}`, l.code(t, secret, 0))).want(t, http.StatusOK, `{"ok":true}`)
}

// submitter sends a code the way a route takes it and says what came
// back: "accepted", "invalid" or "locked N" (N the Retry-After).
type submitter func(t *testing.T, code string) string

var codeRoutes = []struct {
	name string
	// prepare returns a submitter for the user dave, enrolled and signed
	// in with c (the login route signs out and gives the password first).
	prepare func(t *testing.T, l *lab, c *client) submitter
}{
	{"login", func(t *testing.T, l *lab, c *client) submitter {
		c.logout()
		chal := c.password("dave", "pw-dave")
		return func(t *testing.T, code string) string {
			t.Helper()
			a := c.otp(chal, code)
			switch {
			case a.StatusCode == http.StatusSeeOther && a.Header.Get("Location") == "/account":
				return "accepted"
			case a.StatusCode == http.StatusOK && strings.Contains(a.body, "Invalid code"):
				return "invalid"
			case a.StatusCode == http.StatusTooManyRequests && strings.Contains(a.body, "Too many attempts"):
				return "locked " + a.Header.Get("Retry-After")
			}
			t.Fatalf("login: %d %s", a.StatusCode, a.body)
			return ""
		}
	}},
	{"api verify", func(t *testing.T, l *lab, c *client) submitter {
		return func(t *testing.T, code string) string {
			t.Helper()
			a := c.api("/api/mfa/verify", fmt.Sprintf(`{"code": %q}`, code))
			switch {
			case a.StatusCode == http.StatusOK && strings.TrimSpace(a.body) == `{"ok":true}`:
				return "accepted"
			case a.StatusCode == http.StatusForbidden && strings.TrimSpace(a.body) == `{"error":"invalid code"}`:
				return "invalid"
			case a.StatusCode == http.StatusTooManyRequests && strings.TrimSpace(a.body) == `{"error":"locked"}`:
				return "locked " + a.Header.Get("Retry-After")
			}
			t.Fatalf("verify: %d %s", a.StatusCode, a.body)
			return ""
		}
	}},
}

func TestLockout(t *testing.T) {
	for _, rt := range codeRoutes {
		t.Run(rt.name, func(t *testing.T) {
			l := newLab(t, Options{Back: 1, Forward: 1, Lockout: 3, LockFor: 2 * time.Minute})
			c := l.client(t)
			secret := l.enroll(t, c, "dave")
			l.clock.Advance(30 * time.Second)
			submit := rt.prepare(t, l, c)
			steps := []struct {
				advance time.Duration
				code    string // "right" or a wrong code
				want    string
			}{
				{0, "000000", "invalid"},
				{0, "000001", "invalid"},
				{0, "12345", "invalid"}, // malformed: a failure too
				{0, "right", "locked 120"},
				{500 * time.Millisecond, "right", "locked 120"}, // rounded up
				{119 * time.Second, "right", "locked 1"},
				{500 * time.Millisecond, "right", "accepted"},
			}
			for i, s := range steps {
				l.clock.Advance(s.advance)
				code := s.code
				if code == "right" {
					code = l.code(t, secret, 0)
				}
				if got := submit(t, code); got != s.want {
					t.Fatalf("step %d (%s at %v): %s, want %s", i, s.code, l.clock.Now().Format(time.TimeOnly), got, s.want)
				}
			}
		})
	}
}

// The lockout is the user's: a lock taken in one session holds in another,
// and the enable step counts failures too.
func TestLockoutIsPerUser(t *testing.T) {
	l := newLab(t, Options{Lockout: 2})
	c := l.client(t)
	c.signup("erin", "pw")
	s := setup(t, c)
	c.api("/api/mfa/enable", `{"code": "000000"}`).want(t, http.StatusForbidden, `{"error":"invalid code"}`)
	c.api("/api/mfa/enable", `{"code": "000001"}`).want(t, http.StatusForbidden, `{"error":"invalid code"}`)
	a := c.api("/api/mfa/enable", fmt.Sprintf(`{"code": %q}`, l.code(t, s.Secret, 0)))
	a.want(t, http.StatusTooManyRequests, `{"error":"locked"}`)
	if got := a.Header.Get("Retry-After"); got != "300" {
		t.Errorf("Retry-After %q, want 300 (LockFor 0 means 5 minutes)", got)
	}
	l.clock.Advance(5 * time.Minute)
	c.api("/api/mfa/enable", fmt.Sprintf(`{"code": %q}`, l.code(t, s.Secret, 0))).want(t, http.StatusOK)

	other := l.client(t)
	other.otp(other.password("erin", "pw"), "111111").want(t, http.StatusOK, "Invalid code")
	c.api("/api/mfa/verify", `{"code": "111112"}`).want(t, http.StatusForbidden)
	l.clock.Advance(30 * time.Second)
	other.otp(other.password("erin", "pw"), l.code(t, s.Secret, 0)).want(t, http.StatusTooManyRequests, "Too many attempts")
}

func TestThrottle(t *testing.T) {
	for _, rt := range codeRoutes {
		t.Run(rt.name, func(t *testing.T) {
			l := newLab(t, Options{Back: 1, Forward: 1, Throttle: true})
			c := l.client(t)
			secret := l.enroll(t, c, "dave")
			l.clock.Advance(30 * time.Second) // 12:00:37: the next 7 s stay in one step
			submit := rt.prepare(t, l, c)
			for i, delay := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
				if got := submit(t, "000000"); got != "invalid" {
					t.Fatalf("failure %d: %s, want invalid", i+1, got)
				}
				l.clock.Advance(delay - time.Millisecond)
				if got := submit(t, l.code(t, secret, 0)); got != "invalid" {
					t.Fatalf("right code %v after failure %d: %s, want invalid (throttled)", delay-time.Millisecond, i+1, got)
				}
				l.clock.Advance(time.Millisecond)
			}
			if got := submit(t, l.code(t, secret, 0)); got != "accepted" {
				t.Fatalf("right code after the last delay: %s, want accepted", got)
			}
		})
	}
}

// A success resets the throttle: the next failure waits 1 s again.
func TestThrottleResets(t *testing.T) {
	l := newLab(t, Options{Throttle: true})
	c := l.client(t)
	secret := l.enroll(t, c, "frank")
	verify := func(code string) answer { return c.api("/api/mfa/verify", fmt.Sprintf(`{"code": %q}`, code)) }
	l.clock.Advance(30 * time.Second)
	verify("000000").want(t, http.StatusForbidden)
	l.clock.Advance(time.Second)
	verify("000000").want(t, http.StatusForbidden) // the second failure: 2 s
	l.clock.Advance(2 * time.Second)
	verify(l.code(t, secret, 0)).want(t, http.StatusOK)
	l.clock.Advance(30 * time.Second)
	verify("000000").want(t, http.StatusForbidden)
	l.clock.Advance(time.Second)
	verify(l.code(t, secret, 0)).want(t, http.StatusOK)
}

func TestCSRF(t *testing.T) {
	l := newLab(t, Options{})
	c := l.client(t)
	c.signup("gina", "pw")
	formTok := hidden(t, c.get("/login").body, csrfField)
	apiTok := c.cookie(csrfCookie)
	if formTok == apiTok || len(apiTok) != 32 {
		t.Fatalf("form token %q, cookie token %q: want two different 128-bit tokens", formTok, apiTok)
	}
	sid := c.cookie(sidCookie)
	bare := &client{t: t, base: c.base, hc: &http.Client{}} // no jar: the cookies are the test's
	raw := func(cookies, header string) answer {
		return bare.do(http.MethodPost, "/api/mfa/setup", "application/json", "", map[string]string{"Cookie": cookies, csrfHeader: header})
	}

	tests := []struct {
		name   string
		do     func() answer
		status int
		body   string
	}{
		{"signup without token", func() answer {
			return c.postForm("/signup", url.Values{"user": {"h"}, "password": {"pw"}})
		}, 403, "csrf"},
		{"signup with the cookie's token", func() answer {
			return c.postForm("/signup", url.Values{"user": {"h"}, "password": {"pw"}, csrfField: {apiTok}})
		}, 403, "csrf"},
		{"login with a wrong token", func() answer {
			return c.postForm("/login", url.Values{"user": {"gina"}, "password": {"pw"}, csrfField: {"x" + formTok[1:]}})
		}, 403, "csrf"},
		{"login as JSON", func() answer {
			return c.do(http.MethodPost, "/login", "application/json", `{"user":"gina","password":"pw","csrf_token":"`+formTok+`"}`, nil)
		}, 403, "csrf"},
		{"login/otp without token", func() answer {
			return c.postForm("/login/otp", url.Values{"challenge": {"x"}, "code": {"123456"}})
		}, 403, "csrf"},
		{"api without header", func() answer {
			return c.do(http.MethodPost, "/api/mfa/setup", "application/json", "", nil)
		}, 403, `{"error":"csrf"}`},
		{"api with the form's token", func() answer {
			return c.do(http.MethodPost, "/api/mfa/setup", "application/json", "", map[string]string{csrfHeader: formTok})
		}, 403, `{"error":"csrf"}`},
		{"api header without the cookie", func() answer {
			return raw(sidCookie+"="+sid, apiTok)
		}, 403, `{"error":"csrf"}`},
		{"api header and cookie of another value", func() answer {
			return raw(sidCookie+"="+sid+"; "+csrfCookie+"=abc", "abc")
		}, 403, `{"error":"csrf"}`},
		{"api without a session", func() answer {
			return raw(csrfCookie+"="+apiTok, apiTok)
		}, 401, `{"error":"not signed in"}`},
		{"api right", func() answer {
			return raw(sidCookie+"="+sid+"; "+csrfCookie+"="+apiTok, apiTok)
		}, 200, `"otpauth_uri"`},
		{"login as multipart (last: it signs in again, renewing the sid)", func() answer {
			body := "--XX\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\ngina\r\n" +
				"--XX\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\npw\r\n" +
				"--XX\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + formTok + "\r\n--XX--\r\n"
			return c.do(http.MethodPost, "/login", "multipart/form-data; boundary=XX", body, nil)
		}, 303, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t, bare.t = t, t
			tt.do().want(t, tt.status, tt.body)
		})
	}

	c.t = t
	anon := l.client(t)
	anon.get("/login")
	anon.api("/api/mfa/setup", "").want(t, http.StatusUnauthorized, `{"error":"not signed in"}`)
}

func TestLogin(t *testing.T) {
	l := newLab(t, Options{Users: map[string]string{"staging": "s3cret"}})
	tests := []struct {
		name, user, password string
		status               int
		text                 string
	}{
		{"pre-existing user", "staging", "s3cret", 303, ""},
		{"wrong password", "staging", "nope", 401, "wrong password"},
		{"unknown user", "nobody", "s3cret", 401, "wrong password"},
		{"empty password", "staging", "", 401, "wrong password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := l.client(t)
			tok := hidden(t, c.get("/login").body, csrfField)
			a := c.postForm("/login", url.Values{"user": {tt.user}, "password": {tt.password}, csrfField: {tok}})
			a.want(t, tt.status, tt.text)
			if tt.status == 303 {
				a.wantRedirect(t, "/account")
				c.get("/account").want(t, 200, "Signed in as "+tt.user)
			} else {
				hidden(t, a.body, csrfField) // the form again
				c.get("/account").wantRedirect(t, "/login")
			}
		})
	}
}

func TestSignup(t *testing.T) {
	l := newLab(t, Options{Users: map[string]string{"staging": "s3cret"}})
	tests := []struct {
		name, user, password string
		status               int
		text                 string
	}{
		{"new", "new.user@example.com", "pw", 303, ""},
		{"existing", "staging", "pw", 409, "user already exists"},
		{"empty name", "", "pw", 400, "1 to 64 characters"},
		{"bad name", "a b", "pw", 400, "letters, digits"},
		{"empty password", "someone", "", 400, "password is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := l.client(t)
			tok := hidden(t, c.get("/signup").body, csrfField)
			c.postForm("/signup", url.Values{"user": {tt.user}, "password": {tt.password}, csrfField: {tok}}).want(t, tt.status, tt.text)
		})
	}
	c := l.client(t)
	c.otp("whatever", "123456").want(t, http.StatusBadRequest, "no login in progress")
}

func TestChallenge(t *testing.T) {
	l := newLab(t, Options{})
	c := l.client(t)
	secret := l.enroll(t, c, "hank")
	c.logout()
	chal := c.password("hank", "pw-hank")
	l.clock.Advance(30 * time.Second)
	c.otp(chal[1:]+"0", l.code(t, secret, 0)).want(t, http.StatusBadRequest, "no login in progress")
	c.otp(chal, "000000").want(t, http.StatusOK, "Invalid code")
	c.otp(chal, l.code(t, secret, 0)).wantRedirect(t, "/account")
	c.otp(chal, l.code(t, secret, 0)).want(t, http.StatusBadRequest, "no login in progress") // used up
	// Another session cannot finish this one's login.
	c.logout()
	chal = c.password("hank", "pw-hank")
	other := l.client(t)
	other.otp(chal, "000000").want(t, http.StatusBadRequest, "no login in progress")
}

func TestDisableAndSetupAgain(t *testing.T) {
	l := newLab(t, Options{Lockout: 5})
	c := l.client(t)
	first := l.enroll(t, c, "ivy")
	c.api("/api/mfa/setup", "").want(t, http.StatusConflict, `{"error":"mfa already enabled"}`)
	c.api("/api/mfa/enable", `{"code": "123456"}`).want(t, http.StatusConflict, `{"error":"mfa already enabled"}`)
	c.api("/api/mfa/verify", `{"code": "000000"}`).want(t, http.StatusForbidden) // a failure, cleared below

	c.api("/api/mfa/disable", "").want(t, http.StatusOK, `{"ok":true}`)
	c.get("/account").want(t, http.StatusOK, "Two-factor authentication: off")
	c.api("/api/mfa/verify", `{"code": "000000"}`).want(t, http.StatusConflict, `{"error":"mfa not enabled"}`)
	c.api("/api/mfa/enable", `{"code": "123456"}`).want(t, http.StatusConflict, `{"error":"no mfa setup in progress"}`)

	s1 := setup(t, c)
	s2 := setup(t, c) // a restart replaces the pending secret
	for _, s := range []string{first, s1.Secret} {
		if s == s2.Secret {
			t.Fatalf("setup again gave the secret %s again", s)
		}
	}
	c.api("/api/mfa/enable", fmt.Sprintf(`{"code": %q}`, l.code(t, s1.Secret, 0))).want(t, http.StatusForbidden, `{"error":"invalid code"}`)
	// Same step as the first bind: the used-code record was cleared.
	c.api("/api/mfa/enable", fmt.Sprintf(`{"code": %q}`, l.code(t, s2.Secret, 0))).want(t, http.StatusOK)
	c.logout()
	l.clock.Advance(30 * time.Second)
	c.otp(c.password("ivy", "pw-ivy"), l.code(t, first, 0)).want(t, http.StatusOK, "Invalid code")
	c.otp(c.password("ivy", "pw-ivy"), l.code(t, s2.Secret, 0)).wantRedirect(t, "/account")
}

func TestEnableBodies(t *testing.T) {
	tests := []struct {
		name      string
		bindCodes int
		body      func(t *testing.T, l *lab, secret string) string
		status    int
		text      string
	}{
		{"one code", 1, func(t *testing.T, l *lab, s string) string { return `{"code":"` + l.code(t, s, 0) + `"}` }, 200, `{"ok":true}`},
		{"next step's code", 0, func(t *testing.T, l *lab, s string) string { return `{"code":"` + l.code(t, s, 30*time.Second) + `"}` }, 200, ""},
		{"two codes given one", 1, func(t *testing.T, l *lab, s string) string {
			return `{"code1":"` + l.code(t, s, -30*time.Second) + `","code2":"` + l.code(t, s, 0) + `"}`
		}, 400, "send code"},
		{"not JSON", 1, func(*testing.T, *lab, string) string { return `code=123456` }, 400, "bad request"},
		{"a number", 1, func(*testing.T, *lab, string) string { return `{"code":123456}` }, 400, "bad request"},
		{"two codes", 2, func(t *testing.T, l *lab, s string) string {
			return `{"code1":"` + l.code(t, s, -30*time.Second) + `","code2":"` + l.code(t, s, 0) + `"}`
		}, 200, `{"ok":true}`},
		{"two codes, the first just before the window", 2, func(t *testing.T, l *lab, s string) string {
			return `{"code1":"` + l.code(t, s, -60*time.Second) + `","code2":"` + l.code(t, s, -30*time.Second) + `"}`
		}, 200, `{"ok":true}`},
		{"two codes too old", 2, func(t *testing.T, l *lab, s string) string {
			return `{"code1":"` + l.code(t, s, -90*time.Second) + `","code2":"` + l.code(t, s, -60*time.Second) + `"}`
		}, 403, "invalid code"},
		{"two codes swapped", 2, func(t *testing.T, l *lab, s string) string {
			return `{"code1":"` + l.code(t, s, 0) + `","code2":"` + l.code(t, s, -30*time.Second) + `"}`
		}, 403, "invalid code"},
		{"one code given two", 2, func(t *testing.T, l *lab, s string) string { return `{"code":"` + l.code(t, s, 0) + `"}` }, 400, "send code1 and code2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t, Options{Back: 1, Forward: 1, BindCodes: tt.bindCodes})
			c := l.client(t)
			c.signup("jo", "pw")
			s := setup(t, c)
			c.api("/api/mfa/enable", tt.body(t, l, s.Secret)).want(t, tt.status, tt.text)
		})
	}
}

func TestDateHeader(t *testing.T) {
	l := newLab(t, Options{})
	c := l.client(t)
	tests := []struct {
		name   string
		set    time.Time
		method string
		path   string
		status int
	}{
		{"home", t0, "GET", "/", 200},
		{"sub-second", time.Date(2026, 3, 1, 12, 0, 29, 999e6, time.UTC), "GET", "/", 200},
		{"another zone", time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600)), "GET", "/login", 200},
		{"not found", t0.Add(90 * 24 * time.Hour), "GET", "/nope", 404},
		{"wrong method", t0.Add(-time.Hour), "DELETE", "/account", 405},
		{"api", t0.Add(time.Minute), "POST", "/api/mfa/verify", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l.clock.Set(tt.set)
			a := c.do(tt.method, tt.path, "", "", nil)
			a.want(t, tt.status)
			if got, want := a.Header.Get("Date"), tt.set.UTC().Format(http.TimeFormat); got != want {
				t.Errorf("Date %q, want %q", got, want)
			}
		})
	}
}

func TestLabClock(t *testing.T) {
	l := newLab(t, Options{})
	c := l.client(t)
	a := c.get("/lab/clock")
	a.want(t, http.StatusOK, `{"now":"2026-03-01T12:00:07Z"}`)

	set := time.Date(2026, 4, 5, 6, 7, 8, 123456789, time.UTC)
	a = c.do(http.MethodPost, "/lab/clock", "application/json", `{"set": "`+set.Format(time.RFC3339Nano)+`"}`, nil)
	a.want(t, http.StatusOK, `{"now":"2026-04-05T06:07:08.123456789Z"}`)
	if !l.clock.Now().Equal(set) {
		t.Errorf("clock at %v, want %v", l.clock.Now(), set)
	}
	if got, want := a.Header.Get("Date"), set.Format(http.TimeFormat); got != want {
		t.Errorf("Date %q, want the time set, %q", got, want)
	}
	if a := c.get("/"); a.Header.Get("Date") != set.Format(http.TimeFormat) {
		t.Errorf("Date %q after the set", a.Header.Get("Date"))
	}

	for _, body := range []string{``, `{}`, `{"set": "yesterday"}`, `{"run": true}`, `[1]`} {
		t.Run("bad "+body, func(t *testing.T) {
			c.do(http.MethodPost, "/lab/clock", "application/json", body, nil).want(t, http.StatusBadRequest, `"error"`)
		})
	}

	// Not a manual clock: no lab clock, as the bench's client expects (404: real time).
	a2, err := New(Options{Clock: clock.Offset{Base: l.clock}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		req, _ := http.NewRequest(m, "/lab/clock", strings.NewReader(`{"set": "2026-01-01T00:00:00Z"}`))
		w := httptest.NewRecorder()
		a2.ServeHTTP(w, req)
		if w.Code != http.StatusNotFound {
			t.Errorf("%s /lab/clock without a manual clock: %d, want 404", m, w.Code)
		}
	}
}

func TestRoutes(t *testing.T) {
	l := newLab(t, Options{})
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/", 200, ""},
		{"HEAD", "/", 200, ""},
		{"POST", "/", 405, "GET, HEAD"},
		{"GET", "/nope", 404, ""},
		{"GET", "/api/nope", 404, ""},
		{"GET", "/login/", 404, ""},
		{"GET", "/login/otp", 405, "POST"},
		{"PUT", "/login", 405, "GET, HEAD, POST"},
		{"GET", "/logout", 405, "POST"},
		{"GET", "/api/mfa/setup", 405, "POST"},
		{"DELETE", "/lab/clock", 405, "GET, HEAD, POST"},
		{"GET", "/signup", 200, ""},
		{"GET", "/account", 303, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			a := l.client(t).do(tt.method, tt.path, "", "", nil)
			a.want(t, tt.status)
			if got := a.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
		})
	}

	c := l.client(t)
	big := strings.Repeat("a", maxBody+1)
	c.do(http.MethodPost, "/login", "application/x-www-form-urlencoded", "x="+big, nil).want(t, http.StatusRequestEntityTooLarge)
	c.do(http.MethodPost, "/api/mfa/verify", "application/json", big, nil).want(t, http.StatusRequestEntityTooLarge)
}

func TestCookies(t *testing.T) {
	l := newLab(t, Options{})
	c := l.client(t)
	if a := c.get("/"); len(a.Cookies()) != 0 {
		t.Errorf("GET / set cookies %v: only HTML pages make sessions", a.Cookies())
	}
	a := c.get("/login")
	byName := map[string]*http.Cookie{}
	for _, ck := range a.Cookies() {
		byName[ck.Name] = ck
	}
	sid, tok := byName[sidCookie], byName[csrfCookie]
	if sid == nil || !sid.HttpOnly || len(sid.Value) != 32 || sid.Path != "/" {
		t.Errorf("sid cookie %v: want HttpOnly, 128 bits in hex, path /", sid)
	}
	if tok == nil || tok.HttpOnly {
		t.Errorf("csrftoken cookie %v: want one, readable by scripts", tok)
	}
	if a := c.get("/"); len(a.Cookies()) != 1 || a.Cookies()[0].Name != csrfCookie {
		t.Errorf("GET / in a session set %v, want csrftoken alone", a.Cookies())
	}

	// Signing in renews the sid; the old one is gone.
	old := c.cookie(sidCookie)
	c.signup("kim", "pw")
	if c.cookie(sidCookie) == old {
		t.Error("sign-up kept the session id")
	}
	stale := l.client(t)
	stale.hc.Jar.SetCookies(stale.base, []*http.Cookie{{Name: sidCookie, Value: old}})
	stale.get("/account").wantRedirect(t, "/login")

	// Logging out expires both cookies.
	c.logout()
	if c.cookie(sidCookie) != "" || c.cookie(csrfCookie) != "" {
		t.Errorf("after logout the jar holds sid %q, csrftoken %q", c.cookie(sidCookie), c.cookie(csrfCookie))
	}
}

// Many sessions sending one code together: exactly one is accepted.
func TestConcurrentReplay(t *testing.T) {
	l := newLab(t, Options{Back: 1, Forward: 1})
	c := l.client(t)
	secret := l.enroll(t, c, "lee")
	l.clock.Advance(30 * time.Second)
	const n = 8
	clients := make([]*client, n)
	chals := make([]string, n)
	for i := range clients {
		clients[i] = l.client(t)
		chals[i] = clients[i].password("lee", "pw-lee")
	}
	code := l.code(t, secret, 0)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			if clients[i].otp(chals[i], code).StatusCode == http.StatusSeeOther {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Errorf("%d sessions accepted one code, want 1", ok.Load())
	}
}

func TestStats(t *testing.T) {
	l := newLab(t, Options{BindCodes: 2})
	c := l.client(t)
	l.enroll(t, c, "mo")                           // GET /signup, POST /signup, setup, enable (2 codes)
	c.api("/api/mfa/verify", `{"code": "000000"}`) // 1 code
	c.do(http.MethodGet, "/nope", "", "", nil)     // counted too
	if got, want := l.app.Stats(), (Stats{Requests: 6, CodesChecked: 3}); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestNewOptions(t *testing.T) {
	m := clock.NewManual(t0)
	tests := []struct {
		name string
		opts Options
		err  string
	}{
		{"no clock", Options{}, "clock is required"},
		{"negative window", Options{Clock: m, Back: -1}, "window"},
		{"negative lockout", Options{Clock: m, Lockout: -1}, "lockout"},
		{"negative lock", Options{Clock: m, LockFor: -time.Second}, "lock for"},
		{"three codes", Options{Clock: m, BindCodes: 3}, "bind codes"},
		{"bad user", Options{Clock: m, Users: map[string]string{"a b": "pw"}}, `user "a b"`},
		{"no password", Options{Clock: m, Users: map[string]string{"ab": ""}}, "password"},
		{"fine", Options{Clock: m, Users: map[string]string{"ab": "pw"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("New: %v, want an error with %q", err, tt.err)
			}
		})
	}
}
