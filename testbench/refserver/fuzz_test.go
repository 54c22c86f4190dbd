package refserver

import (
	"net/http"
	"os"
	"path/filepath"
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
