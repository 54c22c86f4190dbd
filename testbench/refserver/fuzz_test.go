package refserver

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzBodies posts arbitrary bodies to every endpoint that reads one: no
// panic, and only the statuses a client can act on.
func FuzzBodies(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/bodies/*.json")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	fx := newFixture(f, Options{Lab: true, BindCodes: 2})
	serial, _ := fx.enroll("fuzz")
	allowed := map[int]bool{200: true, 201: true, 400: true, 403: true, 404: true, 409: true, 413: true, 429: true}
	f.Fuzz(func(t *testing.T, body string) {
		fx.t = t
		for _, p := range []string{"/api/v1/devices", "/api/v1/devices/" + serial + "/bind", "/api/v1/devices/" + serial + "/verify", "/api/v1/lab/clock"} {
			if w := fx.do(http.MethodPost, p, body); !allowed[w.Code] {
				t.Errorf("POST %s %q: status %d", p, body, w.Code)
			}
		}
	})
}

// FuzzFastCode: whenever fastCode reads a body, encoding/json (as the
// general path runs it) reads the same code and nothing else.
func FuzzFastCode(f *testing.F) {
	for _, s := range []string{`{"code":"123456"}`, ` { "code" : "12 34" } `, `{"code":"12\u00334"}`, `{"CODE":"1"}`, `{"code":"1"}x`, "{\"code\":\"\x7f\"}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		code, ok := fastCode([]byte(body))
		if !ok {
			return
		}
		var req codesRequest
		dec := json.NewDecoder(strings.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			t.Fatalf("fastCode read %q from %q; encoding/json refuses it: %v", code, body, err)
		}
		if _, err := dec.Token(); err == nil {
			t.Fatalf("fastCode read %q from %q; encoding/json finds trailing data", code, body)
		}
		if req.Code == nil || *req.Code != code || req.Code1 != nil || req.Code2 != nil {
			t.Fatalf("fastCode read %q from %q; encoding/json reads %+v", code, body, req)
		}
	})
}
