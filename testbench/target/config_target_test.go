package target

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/internal/fake"
)

// ramLike serves an API shaped like Alibaba Cloud RAM's MFA calls (the
// testdata/config/alibaba.yaml config), answering with the in-memory
// fake's verdicts. It checks the bearer token and the request encodings.
type ramLike struct {
	mu     sync.Mutex
	f      *fake.Server
	token  string
	errors []string
}

func (s *ramLike) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		s.errors = append(s.errors, "bad token "+r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	answer := func(v testbench.Verdict) {
		switch v.Outcome {
		case testbench.Accepted:
			json.NewEncoder(w).Encode(map[string]any{"Success": true})
		case testbench.Locked:
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(map[string]any{"Code": "EntityLocked"})
		case testbench.Throttled:
			w.WriteHeader(http.StatusTooManyRequests)
		case testbench.Rejected:
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]any{"Code": "InvalidAuthenticationCode"})
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}
	q := r.URL.Query()
	switch {
	case q.Get("Action") == "CreateVirtualMFADevice":
		name := q.Get("VirtualMFADeviceName")
		if !strings.Contains(name, "&") {
			s.errors = append(s.errors, "the account's & was not escaped in the query: "+name)
		}
		e, _ := s.f.Enroll(r.Context(), name)
		json.NewEncoder(w).Encode(map[string]any{"VirtualMFADevice": map[string]any{
			"SerialNumber": "acs:ram::1:mfa/" + e.ID, "Base32StringSeed": e.ManualKey}})
	case q.Get("Action") == "BindMFADevice":
		if err := r.ParseForm(); err != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			s.errors = append(s.errors, "bind body not a form")
		}
		id := strings.TrimPrefix(q.Get("SerialNumber"), "acs:ram::1:mfa/")
		answer(s.f.Bind(r.Context(), &testbench.Enrollment{ID: id}, []string{r.PostForm.Get("AuthenticationCode1"), r.PostForm.Get("AuthenticationCode2")}))
	case r.URL.Path == "/login":
		var body struct{ Serial, Code string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			s.errors = append(s.errors, "login body: "+err.Error())
		}
		answer(s.f.Verify(r.Context(), &testbench.Enrollment{ID: strings.TrimPrefix(body.Serial, "acs:ram::1:mfa/")}, body.Code))
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// TestConfigTargetRAMShaped drives an API of another shape than the
// reference console through a config file: nested JSON paths, a form
// body, query escaping, JSON verdict matches, a token from the
// environment, and "slow down" answers backed off.
func TestConfigTargetRAMShaped(t *testing.T) {
	f := fake.New()
	f.Back, f.Forward, f.Replay, f.Lockout = 2, 1, "code", 4
	f.ThrottleEvery = 7
	api := &ramLike{f: f, token: "s3cret-token"}
	srv := httptest.NewServer(api)
	defer srv.Close()
	env := map[string]string{"RAM_URL": srv.URL, "RAM_TOKEN": api.token}
	cfg, err := LoadTargetConfigFile("testdata/config/alibaba.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	target, err := NewHTTPTarget(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tm, err := testbench.VirtualTime(ctx, f) // the fake's clock stands for the API's
	if err != nil {
		t.Fatal(err)
	}
	rep, err := testbench.Run(ctx, testbench.Config{Target: target, Time: tm, Account: "qa&bench"})
	if err != nil {
		t.Fatal(err)
	}
	if len(api.errors) > 0 {
		t.Errorf("API saw: %q", api.errors)
	}
	w := rep.Results.Window
	// The API's Date header is the real clock, not the fake's lab clock:
	// the window is measured by the codes alone.
	if w == nil || w.TrueBackSteps != 2 || w.TrueForwardSteps != 1 || w.AcceptedFromS != -30 || w.AcceptedUntilS != 90 {
		t.Fatalf("window %+v, checks %+v", w, rep.Checks)
	}
	if l := rep.Results.Lockout; l.FailuresBeforeLock == nil || *l.FailuresBeforeLock != 4 {
		t.Errorf("lockout %+v", l)
	}
	if rp := rep.Results.Replay; !*rp.SameCodeRejected || *rp.OlderCodeRejected {
		t.Errorf("replay %+v", rp)
	}
	if strings.Contains(rep.Target+strings.Join(rep.Notes, ""), api.token) {
		t.Error("the token is in the report")
	}
}
