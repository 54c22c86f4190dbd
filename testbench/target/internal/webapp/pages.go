package webapp

import (
	"bytes"
	"crypto/subtle"
	"html/template"
	"net/http"
)

// pages are the HTML pages. The texts the bench matches on ("Invalid
// code", "Too many attempts", "wrong password", "csrf", "Signed in as")
// appear only in the pages that mean them.
var pages = template.Must(template.New("").Parse(`
{{- define "head"}}<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}} · WebApp</title></head>
<body>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>
{{end}}{{end}}

{{- define "foot"}}</body>
</html>
{{end}}

{{- define "signup"}}{{template "head" .}}<form method="post" action="/signup">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<label>User <input name="user" autocomplete="username" required></label>
<label>Password <input type="password" name="password" autocomplete="new-password" required></label>
<button type="submit">Create account</button>
</form>
<p><a href="/login">Sign in instead</a></p>
{{template "foot" .}}{{end}}

{{- define "login"}}{{template "head" .}}<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<label>User <input name="user" autocomplete="username" required></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit">Next</button>
</form>
<p><a href="/signup">Create an account</a></p>
{{template "foot" .}}{{end}}

{{- define "otp"}}{{template "head" .}}<p>Enter the 6-digit code from your authenticator app.</p>
<form method="post" action="/login/otp">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<input type="hidden" name="challenge" value="{{.Challenge}}">
<label>Code <input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required></label>
<button type="submit">Verify</button>
</form>
{{template "foot" .}}{{end}}

{{- define "account"}}{{template "head" .}}<p>Signed in as {{.User}}</p>
<p>Two-factor authentication: {{if .MFA}}on{{else}}off{{end}}</p>
<form method="post" action="/logout">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<button type="submit">Sign out</button>
</form>
{{template "foot" .}}{{end}}

{{- define "error"}}{{template "head" .}}<p><a href="/login">Sign in</a></p>
{{template "foot" .}}{{end}}
`))

// pageData is what the templates show.
type pageData struct {
	Title, Error    string
	CSRF, Challenge string
	User            string
	MFA             bool
}

// page renders template name with status.
func page(status int, name string, d pageData) reply {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, d); err != nil {
		return text(http.StatusInternalServerError, "rendering "+name+": "+err.Error())
	}
	return reply{status: status, ctype: "text/html; charset=utf-8", body: b.Bytes()}
}

// errorPage is an HTML error page whose message is msg.
func errorPage(status int, msg string) reply {
	return page(status, "error", pageData{Title: http.StatusText(status), Error: msg})
}

// same compares two secrets in constant time; empty never matches.
func same(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// formCSRF reports whether the form's csrf_token is the session's.
func (c *call) formCSRF() bool { return same(c.form.Get(csrfField), c.s.formToken) }

func (c *call) home() reply { return text(http.StatusOK, "ok") }

func (c *call) signupForm() reply {
	return page(http.StatusOK, "signup", pageData{Title: "Create an account", CSRF: c.s.formToken})
}

func (c *call) signup() reply {
	if !c.formCSRF() {
		return errorPage(http.StatusForbidden, "csrf")
	}
	name, pw := c.form.Get("user"), c.form.Get("password")
	d := pageData{Title: "Create an account", CSRF: c.s.formToken}
	if err := checkCredentials(name, pw); err != nil {
		d.Error = err.Error()
		return page(http.StatusBadRequest, "signup", d)
	}
	if _, ok := c.a.users[name]; ok {
		d.Error = "user already exists"
		return page(http.StatusConflict, "signup", d)
	}
	c.a.users[name] = &user{name: name, password: pw}
	c.signIn(name)
	return redirect("/account")
}

func (c *call) loginForm() reply {
	return page(http.StatusOK, "login", pageData{Title: "Sign in", CSRF: c.s.formToken})
}

func (c *call) login() reply {
	if !c.formCSRF() {
		return errorPage(http.StatusForbidden, "csrf")
	}
	name, pw := c.form.Get("user"), c.form.Get("password")
	u := c.a.users[name]
	want := "\x00no such user" // compared all the same, so an unknown user takes as long
	if u != nil {
		want = u.password
	}
	if !same(pw, want) || u == nil {
		return page(http.StatusUnauthorized, "login", pageData{Title: "Sign in", Error: "wrong password", CSRF: c.s.formToken})
	}
	if !u.mfa {
		c.signIn(name)
		return redirect("/account")
	}
	s := c.s
	s.state, s.user, s.challenge = awaitingCode, name, token()
	return c.otpPage(http.StatusOK, "")
}

func (c *call) otpPage(status int, msg string) reply {
	return page(status, "otp", pageData{Title: "Two-factor authentication", Error: msg, CSRF: c.s.formToken, Challenge: c.s.challenge})
}

func (c *call) loginOTP() reply {
	if !c.formCSRF() {
		return errorPage(http.StatusForbidden, "csrf")
	}
	s := c.s
	u := c.a.users[s.user]
	if s.state != awaitingCode || !same(c.form.Get("challenge"), s.challenge) || u == nil || !u.mfa {
		return errorPage(http.StatusBadRequest, "no login in progress")
	}
	v := c.check(u, u.secret, c.form.Get("code"))
	switch v.outcome {
	case accepted:
		c.signIn(u.name)
		return redirect("/account")
	case locked:
		rep := c.otpPage(http.StatusTooManyRequests, "Too many attempts: try again later")
		rep.retryAfter = v.retryAfter
		return rep
	}
	return c.otpPage(http.StatusOK, "Invalid code")
}

func (c *call) account() reply {
	s := c.s
	if s.state != signedIn {
		return redirect("/login")
	}
	u := c.a.users[s.user]
	return page(http.StatusOK, "account", pageData{Title: "Account", User: s.user, MFA: u != nil && u.mfa, CSRF: s.formToken})
}

func (c *call) logout() reply {
	if c.s != nil {
		delete(c.a.sessions, c.s.id)
		c.s = nil
	}
	c.cleared = true
	return redirect("/login")
}
