package refserver

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/totpemu/totpemu/clock"
)

// base is a step-aligned instant (1_800_000_000 is a multiple of 30).
var base = time.Unix(1_800_000_000, 0).UTC()

// testCode is the test's own RFC 6238 code of step, independent of the
// pquerna/otp code the server uses.
func testCode(secret string, step int64, digits int, alg string) string {
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		panic(err)
	}
	h := map[string]func() hash.Hash{"SHA1": sha1.New, "SHA256": sha256.New, "SHA512": sha512.New}[alg]
	m := hmac.New(h, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, v%mod)
}

// fixture is a server on a manual clock.
type fixture struct {
	t   testing.TB
	srv *Server
	clk *clock.Manual
}

func newFixture(t testing.TB, o Options) *fixture {
	t.Helper()
	clk := clock.NewManual(base)
	if o.Clock == nil {
		o.Clock = clk
	} else if m, ok := o.Clock.(*clock.Manual); ok {
		clk = m
	}
	s, err := New(o)
	if err != nil {
		t.Fatalf("New(%+v): %v", o, err)
	}
	return &fixture{t: t, srv: s, clk: clk}
}

// do sends a request to the handler and returns the recorder.
func (f *fixture) do(method, path, body string) *httptest.ResponseRecorder {
	f.t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	return w
}

// enroll creates a device and returns its serial and secret.
func (f *fixture) enroll(account string) (serial, secret string) {
	f.t.Helper()
	w := f.do("POST", "/api/v1/devices", fmt.Sprintf(`{"account":%q}`, account))
	if w.Code != http.StatusCreated {
		f.t.Fatalf("enroll %q: status %d, body %s", account, w.Code, w.Body)
	}
	var cr CreateResponse
	if err := json.Unmarshal(w.Body.Bytes(), &cr); err != nil {
		f.t.Fatalf("enroll %q: %v", account, err)
	}
	return cr.Serial, cr.Secret
}

// code is the device's code at the server's true step plus k.
func (f *fixture) code(secret string, k int64) string {
	o := f.srv.Options()
	return testCode(secret, f.srv.stepOf(f.clk.Now())+k, o.Digits, o.Algorithm)
}

// bind binds serial with the codes of steps -1 and 0 (or 0 alone) and
// fails the test unless it is accepted.
func (f *fixture) bind(serial, secret string) {
	f.t.Helper()
	body := fmt.Sprintf(`{"code1":%q,"code2":%q}`, f.code(secret, -1), f.code(secret, 0))
	if f.srv.Options().BindCodes == 1 {
		body = fmt.Sprintf(`{"code":%q}`, f.code(secret, 0))
	}
	if w := f.do("POST", "/api/v1/devices/"+serial+"/bind", body); w.Code != http.StatusOK {
		f.t.Fatalf("bind %s: status %d, body %s", serial, w.Code, w.Body)
	}
}

// device enrolls and binds a device.
func (f *fixture) device() (serial, secret string) {
	f.t.Helper()
	serial, secret = f.enroll("alice@example.com")
	f.bind(serial, secret)
	return serial, secret
}

// verify submits code for serial and returns the recorder.
func (f *fixture) verify(serial, code string) *httptest.ResponseRecorder {
	f.t.Helper()
	return f.do("POST", "/api/v1/devices/"+serial+"/verify", fmt.Sprintf(`{"code":%q}`, code))
}

// errorCode returns the "error" field of a JSON error answer.
func errorCode(w *httptest.ResponseRecorder) string {
	var e apiError
	_ = json.Unmarshal(w.Body.Bytes(), &e)
	return e.Error
}
