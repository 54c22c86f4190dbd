package refserver

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReplay: the same code twice; an older in-window code after a newer
// success; for each replay policy.
func TestReplay(t *testing.T) {
	for _, tc := range []struct {
		replay             string
		sameTwice, olderOK bool
	}{
		{ReplayNone, true, true},
		{ReplayCode, false, true},
		{ReplayStep, false, false},
	} {
		t.Run("replay="+tc.replay, func(t *testing.T) {
			f := newFixture(t, Options{WindowBack: 1, WindowForward: 1, Replay: tc.replay})
			serial, secret := f.device()
			f.clk.Advance(10 * time.Minute)
			want := func(ok bool) int {
				if ok {
					return http.StatusOK
				}
				return http.StatusForbidden
			}
			c := f.code(secret, 0)
			if w := f.verify(serial, c); w.Code != http.StatusOK {
				t.Fatalf("replay=%s: first use of %s: status %d", tc.replay, c, w.Code)
			}
			if w := f.verify(serial, c); w.Code != want(tc.sameTwice) {
				t.Errorf("replay=%s: same code twice: status %d, want %d", tc.replay, w.Code, want(tc.sameTwice))
			}
			if w := f.verify(serial, f.code(secret, -1)); w.Code != want(tc.olderOK) {
				t.Errorf("replay=%s: older in-window code after a newer success: status %d, want %d", tc.replay, w.Code, want(tc.olderOK))
			}
			if w := f.verify(serial, f.code(secret, 1)); w.Code != http.StatusOK {
				t.Errorf("replay=%s: newer code: status %d, want 200", tc.replay, w.Code)
			}
		})
	}
}

// TestReplayConcurrent: 50 concurrent submissions of one valid code,
// lockout after 5: exactly one succeeds under step and code replay, all
// under none. The refused replays are not failures by default; with
// ReplayCountsAsFailure (the console's behaviour before it was a policy)
// the fifth locks the device: 1 accepted, 5 refused, 44 locked.
func TestReplayConcurrent(t *testing.T) {
	for _, tc := range []struct {
		replay string
		counts bool
		want   map[int]int
	}{
		{ReplayStep, false, map[int]int{http.StatusOK: 1, http.StatusForbidden: 49}},
		{ReplayCode, false, map[int]int{http.StatusOK: 1, http.StatusForbidden: 49}},
		{ReplayNone, false, map[int]int{http.StatusOK: 50}},
		{ReplayStep, true, map[int]int{http.StatusOK: 1, http.StatusForbidden: 5, http.StatusTooManyRequests: 44}},
		{ReplayCode, true, map[int]int{http.StatusOK: 1, http.StatusForbidden: 5, http.StatusTooManyRequests: 44}},
		{ReplayNone, true, map[int]int{http.StatusOK: 50}},
	} {
		name := fmt.Sprintf("replay=%s/counts=%t", tc.replay, tc.counts)
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, Options{WindowBack: 1, WindowForward: 1, Replay: tc.replay, Lockout: 5, ReplayCountsAsFailure: tc.counts})
			serial, secret := f.device()
			f.clk.Advance(10 * time.Minute)
			c := f.code(secret, 0)
			var wg sync.WaitGroup
			var mu sync.Mutex
			counts := map[int]int{}
			start := make(chan struct{})
			for range 50 {
				wg.Go(func() {
					<-start
					w := f.verify(serial, c)
					mu.Lock()
					counts[w.Code]++
					mu.Unlock()
				})
			}
			close(start)
			wg.Wait()
			if fmt.Sprint(counts) != fmt.Sprint(tc.want) {
				t.Errorf("%s: 50 concurrent submissions of one code: statuses %v, want %v", name, counts, tc.want)
			}
		})
	}
}

// TestLockout: the Nth consecutive failure locks; a right code is then 429
// with Retry-After; the lock ends after LockoutFor; a success resets the
// count.
func TestLockout(t *testing.T) {
	const n = 3
	f := newFixture(t, Options{WindowBack: 1, WindowForward: 1, Lockout: n, LockoutFor: time.Minute})
	serial, secret := f.device()
	f.clk.Advance(10 * time.Minute)
	wrong := func(k int64) string { // a well-formed code that is not the device's
		c := f.code(secret, k)
		return fmt.Sprintf("%06d", (mustAtoi(t, c)+1)%1_000_000)
	}

	// A success resets the count: n-1 failures, a success, n-1 failures.
	for i := range n - 1 {
		if w := f.verify(serial, wrong(0)); w.Code != http.StatusForbidden {
			t.Fatalf("failure %d: status %d, want 403", i+1, w.Code)
		}
	}
	if w := f.verify(serial, f.code(secret, 0)); w.Code != http.StatusOK {
		t.Fatalf("right code after %d failures: status %d, want 200", n-1, w.Code)
	}
	for i := range n - 1 {
		if w := f.verify(serial, wrong(0)); w.Code != http.StatusForbidden {
			t.Fatalf("failure %d after a success: status %d, want 403 (the success reset the count)", i+1, w.Code)
		}
	}
	// The nth consecutive failure locks.
	if w := f.verify(serial, wrong(0)); w.Code != http.StatusForbidden {
		t.Fatalf("failure %d: status %d, want 403", n, w.Code)
	}
	w := f.verify(serial, f.code(secret, 1))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "60" || errorCode(w) != ErrLocked {
		t.Fatalf("right code while locked: status %d, Retry-After %q, error %q; want 429, 60, locked", w.Code, w.Header().Get("Retry-After"), errorCode(w))
	}
	f.clk.Advance(59*time.Second + 500*time.Millisecond)
	if w := f.verify(serial, f.code(secret, 1)); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("right code 0.5 s before the lock ends: status %d, Retry-After %q; want 429, 1", w.Code, w.Header().Get("Retry-After"))
	}
	f.clk.Advance(500 * time.Millisecond)
	if w := f.verify(serial, f.code(secret, 1)); w.Code != http.StatusOK {
		t.Fatalf("right code when the lock ends: status %d, want 200", w.Code)
	}
}

// TestLockout101Wrong: 101 wrong codes under the defaults: locked after 5,
// 429 with Retry-After from then on; with lockout off, every one is 403.
func TestLockout101Wrong(t *testing.T) {
	for _, lockout := range []int{5, 0} {
		t.Run(fmt.Sprintf("lockout=%d", lockout), func(t *testing.T) {
			o := DefaultOptions()
			o.Lockout = lockout
			f := newFixture(t, o)
			serial, _ := f.device()
			counts := map[int]int{}
			for i := range 101 {
				w := f.verify(serial, fmt.Sprintf("%06d", i*7919%1_000_000))
				counts[w.Code]++
				if w.Code == http.StatusTooManyRequests && w.Header().Get("Retry-After") != "300" {
					t.Fatalf("lockout=%d: attempt %d: Retry-After %q, want 300", lockout, i+1, w.Header().Get("Retry-After"))
				}
			}
			want := map[int]int{http.StatusForbidden: 5, http.StatusTooManyRequests: 96}
			if lockout == 0 {
				want = map[int]int{http.StatusForbidden: 101}
			}
			if fmt.Sprint(counts) != fmt.Sprint(want) {
				t.Errorf("lockout=%d: 101 wrong codes: statuses %v, want %v", lockout, counts, want)
			}
		})
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBind: two consecutive codes bind; non-consecutive, reversed,
// repeated codes and codes of another secret are refused.
func TestBind(t *testing.T) {
	f := newFixture(t, Options{WindowBack: 1, WindowForward: 1, Lockout: 100})
	f.clk.Advance(10 * time.Minute)
	_, other := f.enroll("mallory")
	for _, tc := range []struct {
		name         string
		code1, code2 func(secret string) string
		want         int
	}{
		{"steps=-1,0", at(f, -1), at(f, 0), http.StatusOK},
		{"steps=0,+1", at(f, 0), at(f, 1), http.StatusOK},
		{"steps=-2,-1 (first just before the window)", at(f, -2), at(f, -1), http.StatusOK},
		{"steps=+1,+2 (second after the window)", at(f, 1), at(f, 2), http.StatusForbidden},
		{"steps=-3,-2 (second before the window)", at(f, -3), at(f, -2), http.StatusForbidden},
		{"non-consecutive steps=-1,+1", at(f, -1), at(f, 1), http.StatusForbidden},
		{"reversed steps=0,-1", at(f, 0), at(f, -1), http.StatusForbidden},
		{"repeated steps=0,0", at(f, 0), at(f, 0), http.StatusForbidden},
		{"wrong secret steps=-1,0", func(string) string { return testCode(other, f.srv.stepOf(f.clk.Now())-1, 6, "SHA1") },
			func(string) string { return testCode(other, f.srv.stepOf(f.clk.Now()), 6, "SHA1") }, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			serial, secret := f.enroll("alice")
			if w := f.verify(serial, f.code(secret, 0)); w.Code != http.StatusConflict || errorCode(w) != ErrNotBound {
				t.Errorf("%s: verify before bind: status %d %q, want 409 not_bound", tc.name, w.Code, errorCode(w))
			}
			body := fmt.Sprintf(`{"code1":%q,"code2":%q}`, tc.code1(secret), tc.code2(secret))
			if w := f.do("POST", "/api/v1/devices/"+serial+"/bind", body); w.Code != tc.want {
				t.Fatalf("%s: bind: status %d, want %d (body %s)", tc.name, w.Code, tc.want, w.Body)
			}
			if tc.want == http.StatusOK {
				if w := f.do("POST", "/api/v1/devices/"+serial+"/bind", body); w.Code != http.StatusConflict || errorCode(w) != ErrAlreadyBound {
					t.Errorf("%s: bind twice: status %d %q, want 409 already_bound", tc.name, w.Code, errorCode(w))
				}
			}
		})
	}
}

func at(f *fixture, k int64) func(string) string {
	return func(secret string) string { return f.code(secret, k) }
}

// TestBindOneCode: with BindCodes 1, {"code"} binds and code1/code2 is
// malformed; with 2, {"code"} is malformed.
func TestBindOneCode(t *testing.T) {
	f := newFixture(t, Options{BindCodes: 1})
	serial, secret := f.enroll("carol")
	if w := f.do("POST", "/api/v1/devices/"+serial+"/bind", fmt.Sprintf(`{"code1":%q,"code2":%q}`, f.code(secret, -1), f.code(secret, 0))); w.Code != http.StatusBadRequest {
		t.Errorf("bind-codes=1 with code1 and code2: status %d, want 400", w.Code)
	}
	if w := f.do("POST", "/api/v1/devices/"+serial+"/bind", fmt.Sprintf(`{"code":%q}`, f.code(secret, 0))); w.Code != http.StatusOK {
		t.Errorf("bind-codes=1 with code: status %d, want 200", w.Code)
	}
	if w := f.verify(serial, f.code(secret, 0)); w.Code != http.StatusForbidden {
		t.Errorf("bind-codes=1: the bind code again at verify: status %d, want 403 (step replay)", w.Code)
	}
	// The test bench tells a one-code server by this answer to an empty
	// two-code bind on any serial: 400 and "one code" in the message.
	if w := f.do("POST", "/api/v1/devices/bench-probe/bind", `{"code1": "", "code2": ""}`); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "one code") {
		t.Errorf("bind-codes=1, probe with code1 and code2 on an unknown serial: %d %s, want 400 naming one code", w.Code, w.Body)
	}
	g := newFixture(t, Options{})
	serial, secret = g.enroll("carol")
	if w := g.do("POST", "/api/v1/devices/"+serial+"/bind", fmt.Sprintf(`{"code":%q}`, g.code(secret, 0))); w.Code != http.StatusBadRequest {
		t.Errorf("bind-codes=2 with code alone: status %d, want 400", w.Code)
	}
}
