package target

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// flowBase is a valid config with flows; cases append to or replace it.
const flowBase = `base_url: http://127.0.0.1:1
password: pw
signin:
  - name: sign in
    path: /login
    form: {user: "{{user}}", password: "{{password}}"}
    capture:
      csrf: {cookie: csrftoken}
enroll:
  path: /api/mfa/setup
  headers: {X-CSRF-Token: "{{csrf}}"}
  uri: otpauth_uri
verify:
  path: /api/mfa/verify
  body: '{"code": "{{code}}"}'
verdicts:
  accepted: [{status: [200]}]
`

// TestFlowConfigErrors: each mistake in a config with flows is an error
// naming the file, the line and the key, and what is wrong.
func TestFlowConfigErrors(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown placeholder", strings.Replace(flowBase, `{{csrf}}`, `{{csfr}}`, 1),
			`f.yaml:11: enroll.headers.X-CSRF-Token: {{csfr}} is not known here: no earlier step captures it`},
		{"two capture sources", strings.Replace(flowBase, `{cookie: csrftoken}`, `{cookie: csrftoken, header: X}`, 1),
			`f.yaml:8: signin[0].capture.csrf: give exactly one of json, header, cookie, regex, form_field`},
		{"bad regex", strings.Replace(flowBase, `{cookie: csrftoken}`, `{regex: "("}`, 1),
			`f.yaml:8: signin[0].capture.csrf.regex: error parsing regexp`},
		{"body and form", strings.Replace(flowBase, `    form: {user`, "    body: x\n    form: {user", 1),
			`f.yaml:4: signin[0]: give one of body, form and multipart`},
		{"login without code", flowBase + "login:\n  - path: /login/otp\n    form: {c: x}\n",
			`f.yaml:19: login[0]: the code has nowhere to go`},
		{"code before the last login step", flowBase + "login:\n  - path: /a\n    form: {c: \"{{code}}\"}\n  - path: /b\n    form: {c: \"{{code}}\"}\n",
			`f.yaml:19: login[0]: {{code}} goes in the last login step only`},
		{"bad method", strings.Replace(flowBase, "  - name: sign in\n", "  - name: sign in\n    method: FETCH\n", 1),
			`f.yaml:5: signin[0].method: "FETCH": want GET, POST, PUT, PATCH or DELETE`},
		{"bad status", strings.Replace(flowBase, "  - name: sign in\n", "  - name: sign in\n    status: [999]\n", 1),
			`f.yaml:5: signin[0].status: 999 is not an HTTP status`},
		{"bad verdict body", strings.Replace(flowBase, `{status: [200]}`, `{body: "[x"}`, 1),
			`f.yaml:17: verdicts.accepted[0].body: error parsing regexp`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadTargetConfig("f.yaml", strings.NewReader(c.yaml), func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s:\n%s\nerror %v\nwant %q", c.name, c.yaml, err, c.want)
			}
		})
	}
	if _, err := LoadTargetConfig("f.yaml", strings.NewReader(flowBase), func(string) string { return "" }); err != nil {
		t.Errorf("the base config: %v", err)
	}
}

// TestCaptures reads each kind of capture from an answer, and a missing
// one is an error naming the step, the capture and where it looked.
func TestCaptures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "csrftoken", Value: "ck-1"})
		w.Header().Set("X-Challenge", "hd-2")
		if r.URL.Path == "/json" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"a": {"b": ["js-3"]}}`))
			return
		}
		_, _ = w.Write([]byte(`<html><head><meta name="csrf-token" content="mt-4"></head>
<form><input type="hidden" name="challenge" value="ff-5"><p>ref: RX-6.</p></form></html>`))
	}))
	defer srv.Close()
	cfg := &TargetConfig{BaseURL: srv.URL, SignIn: []Step{{Request: Request{Path: "/x"}}}}
	tgt := &HTTPTarget{cfg: cfg, client: srv.Client(), timeout: 5e9}
	_, s := tgt.newSession(nil)
	caps := map[string]Capture{"ck": {Cookie: "csrftoken"}, "hd": {Header: "X-Challenge"}, "mt": {FormField: "csrf-token"},
		"ff": {FormField: "challenge"}, "rx": {Regex: `ref: (RX-\d)`}}
	if _, err := tgt.doIn(context.Background(), s, "step", Request{Method: "GET", Path: "/html", Capture: caps}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tgt.doIn(context.Background(), s, "step", Request{Method: "GET", Path: "/json", Capture: map[string]Capture{"js": {JSON: "a.b[0]"}}}, nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ck": "ck-1", "hd": "hd-2", "js": "js-3", "mt": "mt-4", "ff": "ff-5", "rx": "RX-6"}
	for k, v := range want {
		if s.vars[k] != v {
			t.Errorf("capture %s = %q, want %q", k, s.vars[k], v)
		}
	}
	_, err := tgt.doIn(context.Background(), s, "signin[0]", Request{Method: "GET", Path: "/html", Capture: map[string]Capture{"x": {FormField: "nope"}}}, nil)
	if err == nil || !strings.Contains(err.Error(), `signin[0]: capture x: form field "nope" not in the answer (200`) {
		t.Errorf("a missing capture: %v", err)
	}
}

// TestLoadUsers reads a --users file: NAME:PASSWORD lines, ${ENV}
// passwords, comments; each bad line an error naming it. No password is
// ever in an error.
func TestLoadUsers(t *testing.T) {
	env := map[string]string{"QA_PW": "from-env"}
	getenv := func(k string) string { return env[k] }
	users, err := LoadUsers("u.txt", strings.NewReader("# staging users\nqa-1:plain:with:colons\n\n qa-2 : ${QA_PW}\r\n"), getenv)
	if err != nil || len(users) != 2 || users[0] != (User{"qa-1", "plain:with:colons"}) || users[1] != (User{"qa-2", " from-env"}) {
		t.Errorf("users %+v, %v", users, err)
	}
	for _, c := range []struct{ in, want string }{
		{"qa-1\n", "u.txt:1: want NAME:PASSWORD"},
		{":secret-pw\n", "u.txt:1: want NAME:PASSWORD"},
		{"qa-1:a\nqa-1:b\n", `u.txt:2: user "qa-1" is listed twice`},
		{"qa-1:${NOT_SET}\n", "u.txt:1: environment variable NOT_SET is not set"},
		{"qa-1:\n", `u.txt:1: user "qa-1" has no password`},
		{"# nothing\n", "u.txt: no user"},
	} {
		_, err := LoadUsers("u.txt", strings.NewReader(c.in), getenv)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "secret-pw") {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
}

// TestStagingUsersExample: the shipped --users example loads.
func TestStagingUsersExample(t *testing.T) {
	f, err := os.Open("../examples/staging-users.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{"QA1_PASSWORD": "a", "QA2_PASSWORD": "b"}
	users, err := LoadUsers(f.Name(), f, func(k string) string { return env[k] })
	if err != nil || len(users) != 2 || users[1].Password != "b" {
		t.Errorf("%+v, %v", users, err)
	}
}
