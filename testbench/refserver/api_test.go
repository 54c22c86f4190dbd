package refserver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/totpemu/totpemu/clock"
)

// TestMalformed: bad codes and bodies are 400 (413 when too large), and
// are not counted as failures.
func TestMalformed(t *testing.T) {
	f := newFixture(t, Options{Lockout: 1})
	serial, secret := f.device()
	f.clk.Advance(time.Hour)
	good := f.code(secret, 0)
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"leading space", `{"code":" ` + good[1:] + `"}`, 400},
		{"space inside", `{"code":"` + good[:3] + " " + good[3:] + `"}`, 400},
		{"space-padded", `{"code":" ` + good + `"}`, 400},
		{"trailing newline", `{"code":"` + good + `\n"}`, 400},
		{"plus sign", `{"code":"+` + good[1:] + `"}`, 400},
		{"minus sign", `{"code":"-` + good[1:] + `"}`, 400},
		{"5 digits", `{"code":"12345"}`, 400},
		{"7 digits", `{"code":"1234567"}`, 400},
		{"letter", `{"code":"12345a"}`, 400},
		{"fullwidth digits", `{"code":"１２３４５６"}`, 400},
		{"empty code", `{"code":""}`, 400},
		{"number not string", `{"code":123456}`, 400},
		{"null code", `{"code":null}`, 400},
		{"no code", `{}`, 400},
		{"code1 at verify", `{"code1":"` + good + `"}`, 400},
		{"unknown field", `{"code":"` + good + `","x":1}`, 400},
		{"trailing data", `{"code":"` + good + `"} {}`, 400},
		{"empty body", ``, 400},
		{"truncated", `{"code":"`, 400},
		{"array", `["` + good + `"]`, 400},
		{"10 MB body", `{"code":"` + strings.Repeat("1", 10<<20) + `"}`, 413},
	} {
		w := f.do("POST", "/api/v1/devices/"+serial+"/verify", tc.body)
		if w.Code != tc.want {
			t.Errorf("verify %s: status %d, want %d (body %.200s)", tc.name, w.Code, tc.want, w.Body)
		}
		var e apiError
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" || e.Message == "" {
			t.Errorf("verify %s: answer %.200q is not {error, message}", tc.name, w.Body)
		}
	}
	// Lockout 1: had any malformed request counted, this would be 429.
	if w := f.verify(serial, good); w.Code != http.StatusOK {
		t.Errorf("right code after malformed requests: status %d, want 200", w.Code)
	}
}

// TestDevices covers create, unknown serials and delete.
func TestDevices(t *testing.T) {
	f := newFixture(t, DefaultOptions())
	for _, tc := range []struct{ name, body string }{
		{"empty account", `{"account":""}`},
		{"colon", `{"account":"evil:alice"}`},
		{"control character", `{"account":"a\u0007b"}`},
		{"129 bytes", `{"account":"` + strings.Repeat("a", 129) + `"}`},
		{"no account", `{}`},
	} {
		if w := f.do("POST", "/api/v1/devices", tc.body); w.Code != http.StatusBadRequest {
			t.Errorf("create with %s: status %d, want 400", tc.name, w.Code)
		}
	}
	serial, secret := f.device()
	for _, p := range []string{"/api/v1/devices/nosuch/verify", "/api/v1/devices/nosuch/bind"} {
		if w := f.do("POST", p, `{"code":"123456"}`); w.Code != http.StatusNotFound && w.Code != http.StatusBadRequest {
			t.Errorf("POST %s: status %d, want 404 (or 400 for a body the endpoint refuses)", p, w.Code)
		}
	}
	if w := f.verify("nosuch", "123456"); w.Code != http.StatusNotFound || errorCode(w) != ErrUnknown {
		t.Errorf("verify unknown serial: status %d %q, want 404 unknown_device", w.Code, errorCode(w))
	}
	if w := f.do("DELETE", "/api/v1/devices/"+serial, ""); w.Code != http.StatusOK {
		t.Errorf("delete: status %d, want 200", w.Code)
	}
	if w := f.verify(serial, f.code(secret, 1)); w.Code != http.StatusNotFound {
		t.Errorf("verify after delete: status %d, want 404", w.Code)
	}
	if w := f.do("DELETE", "/api/v1/devices/"+serial, ""); w.Code != http.StatusNotFound {
		t.Errorf("delete twice: status %d, want 404", w.Code)
	}
	if w := f.do("GET", "/api/v1/nosuch", ""); w.Code != http.StatusNotFound || errorCode(w) != ErrNotFound {
		t.Errorf("GET /api/v1/nosuch: status %d %q, want 404 not_found", w.Code, errorCode(w))
	}
	w := f.do("GET", "/healthz", "")
	if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"flaws":[],"lab":false,"status":"ok"}` {
		t.Errorf("healthz: %d %s", w.Code, w.Body)
	}
}

// TestCreateQR: the QR PNG decodes to the otpauth URI of the account, with
// the secret returned for manual entry, a quiet zone and >= 6 px modules.
func TestCreateQR(t *testing.T) {
	o := Options{Issuer: "ACME Co", Digits: 8, Algorithm: "SHA256", Period: 60, SecretBytes: 32}
	f := newFixture(t, o)
	w := f.do("POST", "/api/v1/devices", `{"account":"alice smith@example.com"}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("create: status %d", w.Code)
	}
	var cr CreateResponse
	if err := json.Unmarshal(w.Body.Bytes(), &cr); err != nil {
		t.Fatal(err)
	}
	if cr.Account != "alice smith@example.com" || cr.Issuer != "ACME Co" || len(cr.Secret) != 52 || strings.Contains(cr.Secret, "=") {
		t.Errorf("create: %+v: want the account, issuer ACME Co and a 52-character unpadded secret", cr)
	}
	if strings.Contains(w.Body.String(), "otpauth") {
		t.Errorf("create: the answer carries the URI outside the QR code: %s", w.Body)
	}
	raw, err := base64.StdEncoding.DecodeString(cr.QRPNG)
	if err != nil {
		t.Fatalf("qr_png: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("qr_png: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("qr_png does not decode: %v", err)
	}
	want := "otpauth://totp/ACME%20Co:alice%20smith@example.com?secret=" + cr.Secret + "&issuer=ACME%20Co&algorithm=SHA256&digits=8&period=60"
	if res.GetText() != want {
		t.Errorf("QR payload\n got %s\nwant %s", res.GetText(), want)
	}
	// Quiet zone: the 4 modules around the code are white.
	b := img.Bounds()
	if g := img.At(b.Min.X+b.Dx()/100, b.Min.Y+b.Dy()/2).(interface{ RGBA() (r, g, b, a uint32) }); grayOf(g) < 0x8000 {
		t.Errorf("QR image: the left margin is not white")
	}
	if b.Dx() < 300 || b.Dx() != b.Dy() {
		t.Errorf("QR image %v: want a square at least 300 px", b)
	}
}

func grayOf(c interface{ RGBA() (r, g, b, a uint32) }) uint32 { r, _, _, _ := c.RGBA(); return r }

// TestOptions: bad options are refused by New; the zero value works.
func TestOptions(t *testing.T) {
	if _, err := New(Options{}); err != nil {
		t.Fatalf("New(Options{}): %v", err)
	}
	for _, o := range []Options{
		{WindowBack: -1}, {WindowForward: 1001}, {Replay: "sometimes"}, {Lockout: -1},
		{LockoutFor: -time.Second}, {Digits: 5}, {Digits: 9}, {Algorithm: "MD5"},
		{Period: -30}, {Period: 3601}, {SecretBytes: 9}, {SecretBytes: 65}, {BindCodes: 3},
		{Issuer: "a:b"}, {Issuer: "bad\x00"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v): no error", o)
		} else if !strings.HasPrefix(err.Error(), "refserver options: ") {
			t.Errorf("New(%+v): error %q lacks context", o, err)
		}
	}
	p := DefaultOptions()
	p.Lab = true
	if s := p.Policy(); !strings.Contains(s, "window -1/+1") || !strings.Contains(s, "LAB MODE") {
		t.Errorf("Policy() = %q", s)
	}
}

// TestLabClock: the lab endpoints read, set and advance the true clock
// (ClockOffset not included) and are 404 when lab mode is off.
func TestLabClock(t *testing.T) {
	off := newFixture(t, Options{})
	if w := off.do("GET", "/api/v1/lab/clock", ""); w.Code != http.StatusNotFound {
		t.Errorf("lab off: GET lab clock: status %d, want 404", w.Code)
	}
	if w := off.do("POST", "/api/v1/lab/clock", `{"advance":"30s"}`); w.Code != http.StatusNotFound {
		t.Errorf("lab off: POST lab clock: status %d, want 404", w.Code)
	}

	m := clock.NewManual(base)
	f := newFixture(t, Options{Lab: true, Clock: m, ClockOffset: time.Hour})
	if f.srv.LabClock().Set(base.Add(time.Second)); !m.Now().Equal(base.Add(time.Second)) {
		t.Errorf("lab mode with a *clock.Manual: LabClock does not set that clock")
	}
	m.Set(base)
	check := func(method, body string, wantStatus int, want time.Time) {
		t.Helper()
		w := f.do(method, "/api/v1/lab/clock", body)
		if w.Code != wantStatus {
			t.Fatalf("%s lab clock %s: status %d, want %d (%s)", method, body, w.Code, wantStatus, w.Body)
		}
		if wantStatus != http.StatusOK {
			return
		}
		var r LabClockResponse
		if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		got, err := time.Parse(time.RFC3339Nano, r.Now)
		if err != nil || !got.Equal(want) || r.UnixMS != want.UnixMilli() {
			t.Fatalf("%s lab clock %s: %+v, want %v", method, body, r, want)
		}
	}
	check("GET", "", 200, base)
	check("POST", `{"advance":"30s"}`, 200, base.Add(30*time.Second))
	check("POST", `{"advance":"-1m"}`, 200, base.Add(-30*time.Second))
	check("POST", `{"set":"2030-01-02T03:04:05.123456789Z"}`, 200, time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC))
	check("POST", `{"unix_ms":1800000000123}`, 200, time.UnixMilli(1800000000123))
	for _, bad := range []string{`{}`, `{"advance":"30s","unix_ms":1}`, `{"advance":"soon"}`, `{"advance":"1000000h"}`, `{"set":"yesterday"}`, `{"unix_ms":"1"}`, `{"run":false}`, `{"run":true,"set":"2030-01-02T03:04:05Z"}`} {
		check("POST", bad, 400, time.Time{})
	}
	if !f.srv.Now().Equal(time.UnixMilli(1800000000123).Add(time.Hour)) {
		t.Errorf("server Now %v: want the lab clock plus the 1 h offset", f.srv.Now())
	}
	w := f.do("GET", "/healthz", "")
	if !strings.Contains(w.Body.String(), `"lab":true`) {
		t.Errorf("healthz in lab mode: %s", w.Body)
	}

	// A lab server on a clock that is not Manual starts a Manual at its time.
	g, err := New(Options{Lab: true, Clock: clock.Offset{Base: m, Offset: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	if g.LabClock() == nil || !g.LabClock().Now().Equal(m.Now().Add(time.Minute)) {
		t.Errorf("lab clock from an Offset clock: %v", g.LabClock())
	}
}

// TestLabClockRuns is the regression test for "serve --lab" leaving its
// console on a stopped clock (years ahead after a bench): the lab clock
// runs with the real clock until set, stops when set, and runs again on
// {"run": true}; GET says which.
func TestLabClockRuns(t *testing.T) {
	real := clock.NewManual(base)
	f := newFixture(t, Options{Lab: true, Clock: clock.Offset{Base: real}})
	get := func(body string) LabClockResponse {
		t.Helper()
		method := "POST"
		if body == "" {
			method = "GET"
		}
		w := f.do(method, "/api/v1/lab/clock", body)
		var r LabClockResponse
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &r) != nil {
			t.Fatalf("%s lab clock %s: %d %s", method, body, w.Code, w.Body)
		}
		return r
	}
	if r := get(""); !r.Running || r.UnixMS != base.UnixMilli() {
		t.Fatalf("fresh lab clock: %+v; want running at %v", r, base)
	}
	real.Advance(10 * time.Second)
	if r := get(""); !r.Running || r.UnixMS != base.Add(10*time.Second).UnixMilli() {
		t.Errorf("after 10 s of real time: %+v; want running, 10 s on", r)
	}
	far := time.Date(2031, 1, 19, 0, 0, 0, 0, time.UTC)
	if r := get(`{"set":"2031-01-19T00:00:00Z"}`); r.Running || r.UnixMS != far.UnixMilli() {
		t.Errorf("after set: %+v; want stopped at %v", r, far)
	}
	real.Advance(time.Minute)
	if r := get(""); r.Running || r.UnixMS != far.UnixMilli() {
		t.Errorf("set, then a minute of real time: %+v; want still stopped at %v", r, far)
	}
	if r := get(`{"advance":"30s"}`); r.Running || r.UnixMS != far.Add(30*time.Second).UnixMilli() {
		t.Errorf("after advance: %+v; want stopped 30 s on", r)
	}
	now := base.Add(70 * time.Second)
	if r := get(`{"run":true}`); !r.Running || r.UnixMS != now.UnixMilli() {
		t.Errorf("after run: %+v; want running at the real %v", r, now)
	}
	if !f.srv.Now().Equal(now) {
		t.Errorf("server Now %v after run; want the real %v", f.srv.Now(), now)
	}
	if r := get(`{"advance":"5s"}`); r.Running || r.UnixMS != now.Add(5*time.Second).UnixMilli() {
		t.Errorf("advance from running: %+v; want stopped 5 s after the real time", r)
	}
}

// TestAPIMediaTypeAndMethod is the regression test for an API that took a
// text/plain body as JSON and answered 404 for GET on a POST route: 415
// for a body not declared JSON, 405 with Allow for a route's wrong
// method, 404 only for no route at all.
func TestAPIMediaTypeAndMethod(t *testing.T) {
	f := newFixture(t, Options{Lab: true})
	for _, tc := range []struct {
		ctype  string
		status int
	}{
		{"application/json", http.StatusCreated},
		{"application/json; charset=utf-8", http.StatusCreated},
		{"application/merge-patch+json", http.StatusCreated},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"", http.StatusUnsupportedMediaType},
		{"application/json; charset", http.StatusUnsupportedMediaType},
	} {
		r := httptest.NewRequest("POST", "/api/v1/devices", strings.NewReader(`{"account":"media@example.com"}`))
		if tc.ctype != "" {
			r.Header.Set("Content-Type", tc.ctype)
		}
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, r)
		if w.Code != tc.status {
			t.Errorf("POST /api/v1/devices with Content-Type %q: %d %s; want %d", tc.ctype, w.Code, w.Body, tc.status)
		}
		if tc.status == http.StatusUnsupportedMediaType && !strings.Contains(w.Body.String(), `"unsupported_media_type"`) {
			t.Errorf("Content-Type %q: body %s; want error unsupported_media_type", tc.ctype, w.Body)
		}
	}
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/api/v1/devices", http.StatusMethodNotAllowed, "POST"},
		{"PUT", "/api/v1/devices/abc/bind", http.StatusMethodNotAllowed, "POST"},
		{"GET", "/api/v1/devices/abc", http.StatusMethodNotAllowed, "DELETE"},
		{"DELETE", "/api/v1/lab/clock", http.StatusMethodNotAllowed, "GET, POST, HEAD"},
		{"GET", "/api/v1/nothing", http.StatusNotFound, ""},
		{"POST", "/api/v2/devices", http.StatusNotFound, ""},
	} {
		w := f.do(tc.method, tc.path, "")
		if w.Code != tc.status || w.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d, Allow %q; want %d, Allow %q (%s)", tc.method, tc.path, w.Code, w.Header().Get("Allow"), tc.status, tc.allow, w.Body)
		}
	}
}
