package refserver

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// throttleFactors are the factors the throttle tests run with: django-otp's
// default and a shorter one.
var throttleFactors = []time.Duration{time.Second, 500 * time.Millisecond}

// wrongCode is a well-formed code that is none of secret's codes around
// the fixture's current step.
func (f *fixture) wrongCode(secret string) string {
	f.t.Helper()
	for i := range 1000 {
		c := fmt.Sprintf("%06d", (123456+i*7919)%1_000_000)
		hit := false
		for k := int64(-2); k <= 2; k++ {
			hit = hit || c == f.code(secret, k)
		}
		if !hit {
			return c
		}
	}
	f.t.Fatal("no wrong code found")
	return ""
}

// wantStatus fails the test unless w has status want.
func wantStatus(t *testing.T, w *httptest.ResponseRecorder, want int, what string) {
	t.Helper()
	if got := w.Code; got != want {
		t.Errorf("%s: status %d, want %d", what, got, want)
	}
}

// TestThrottle: django-otp's silent exponential throttling, for each
// factor: the delay after n failures in a row is factor * 2^(n-1); a
// throttled refusal looks like a wrong code and is not a failure; a
// success resets the count.
func TestThrottle(t *testing.T) {
	for _, factor := range throttleFactors {
		t.Run(fmt.Sprintf("factor=%v", factor), func(t *testing.T) {
			newDevice := func(t *testing.T, lockout int) (*fixture, string, string) {
				f := newFixture(t, Options{WindowBack: 1, WindowForward: 1, Replay: ReplayNone, Lockout: lockout, ThrottleFactor: factor})
				serial, secret := f.device()
				f.clk.Advance(10 * time.Minute)
				return f, serial, secret
			}

			t.Run("one failure", func(t *testing.T) {
				f, serial, secret := newDevice(t, 0)
				wrong := f.verify(serial, f.wrongCode(secret))
				wantStatus(t, wrong, http.StatusForbidden, "wrong code")
				w := f.verify(serial, f.code(secret, 0))
				wantStatus(t, w, http.StatusForbidden, "right code at once")
				if w.Body.String() != wrong.Body.String() || w.Header().Get("Retry-After") != "" {
					t.Errorf("throttled refusal %q (Retry-After %q), want the wrong code's answer %q", w.Body, w.Header().Get("Retry-After"), wrong.Body)
				}
				f.clk.Advance(factor - time.Millisecond)
				wantStatus(t, f.verify(serial, f.code(secret, 0)), http.StatusForbidden, "right code 1 ms before factor")
				f.clk.Advance(time.Millisecond)
				wantStatus(t, f.verify(serial, f.code(secret, 0)), http.StatusOK, "right code at factor")
			})

			t.Run("three failures", func(t *testing.T) {
				f, serial, secret := newDevice(t, 0)
				for n := 1; n <= 3; n++ {
					wantStatus(t, f.verify(serial, f.wrongCode(secret)), http.StatusForbidden, fmt.Sprintf("wrong code %d", n))
					if n < 3 {
						f.clk.Advance(factor << (n - 1)) // the previous throttle expired: the next one counts
					}
				}
				f.clk.Advance(factor * 4 * 9 / 10)
				wantStatus(t, f.verify(serial, f.code(secret, 0)), http.StatusForbidden, "right code at 0.9*factor*4")
				f.clk.Advance(factor*4 - factor*4*9/10)
				wantStatus(t, f.verify(serial, f.code(secret, 0)), http.StatusOK, "right code at factor*4")
			})

			t.Run("throttled refusal is no failure", func(t *testing.T) {
				f, serial, secret := newDevice(t, 3)
				wantStatus(t, f.verify(serial, f.wrongCode(secret)), http.StatusForbidden, "wrong code")
				for i := range 5 {
					f.clk.Advance(factor / 10)
					wantStatus(t, f.verify(serial, f.code(secret, 0)), http.StatusForbidden, fmt.Sprintf("right code %d inside the throttle", i+1))
				}
				f.clk.Advance(factor - 5*(factor/10)) // factor after the wrong code: one failure's delay
				wantStatus(t, f.verify(serial, f.code(secret, 0)), http.StatusOK, "right code after the delay (not locked)")
			})

			t.Run("success resets", func(t *testing.T) {
				f, serial, secret := newDevice(t, 0)
				for n := 1; n <= 2; n++ {
					wantStatus(t, f.verify(serial, f.wrongCode(secret)), http.StatusForbidden, fmt.Sprintf("wrong code %d", n))
					f.clk.Advance(factor << (n - 1))
				}
				wantStatus(t, f.verify(serial, f.code(secret, 0)), http.StatusOK, "right code after two failures")
				wantStatus(t, f.verify(serial, f.wrongCode(secret)), http.StatusForbidden, "wrong code after the success")
				wantStatus(t, f.verify(serial, f.code(secret, 0)), http.StatusForbidden, "right code at once")
				f.clk.Advance(factor)
				wantStatus(t, f.verify(serial, f.code(secret, 0)), http.StatusOK, "right code at factor*1")
			})

			t.Run("bind", func(t *testing.T) {
				f := newFixture(t, Options{WindowBack: 1, WindowForward: 1, Replay: ReplayNone, ThrottleFactor: factor})
				serial, secret := f.enroll("alice@example.com")
				bind := func(c1, c2 string) *httptest.ResponseRecorder {
					return f.do("POST", "/api/v1/devices/"+serial+"/bind", fmt.Sprintf(`{"code1":%q,"code2":%q}`, c1, c2))
				}
				bad := f.wrongCode(secret)
				wantStatus(t, bind(f.code(secret, -1), bad), http.StatusForbidden, "bind with a wrong second code")
				wantStatus(t, bind(f.code(secret, -1), f.code(secret, 0)), http.StatusForbidden, "bind with right codes at once")
				f.clk.Advance(factor)
				wantStatus(t, bind(f.code(secret, -1), f.code(secret, 0)), http.StatusOK, "bind with right codes at factor")
			})

			t.Run("replay counts", func(t *testing.T) {
				f := newFixture(t, Options{WindowBack: 1, WindowForward: 1, Replay: ReplayStep, ThrottleFactor: factor})
				serial, secret := f.device()
				f.clk.Advance(10 * time.Minute)
				c := f.code(secret, 0)
				wantStatus(t, f.verify(serial, c), http.StatusOK, "first use")
				wantStatus(t, f.verify(serial, c), http.StatusForbidden, "replay")
				wantStatus(t, f.verify(serial, f.code(secret, 1)), http.StatusForbidden, "next step's code at once")
				f.clk.Advance(factor)
				wantStatus(t, f.verify(serial, f.code(secret, 1)), http.StatusOK, "next step's code at factor")
			})

			t.Run("with lockout", func(t *testing.T) {
				f, serial, secret := newDevice(t, 3)
				for n := 1; n <= 3; n++ {
					wantStatus(t, f.verify(serial, f.wrongCode(secret)), http.StatusForbidden, fmt.Sprintf("wrong code %d", n))
					f.clk.Advance(factor << (n - 1))
				}
				wantStatus(t, f.verify(serial, f.code(secret, 0)), http.StatusTooManyRequests, "right code after the third failure")
				f.clk.Advance(f.srv.Options().LockoutFor)
				wantStatus(t, f.verify(serial, f.code(secret, 0)), http.StatusOK, "right code after the lock")
			})
		})
	}
}

// TestThrottleOff: without ThrottleFactor a right code after a wrong one
// is accepted at once.
func TestThrottleOff(t *testing.T) {
	f := newFixture(t, Options{WindowBack: 1, WindowForward: 1, Replay: ReplayNone})
	serial, secret := f.device()
	wantStatus(t, f.verify(serial, f.wrongCode(secret)), http.StatusForbidden, "wrong code")
	wantStatus(t, f.verify(serial, f.code(secret, 0)), http.StatusOK, "right code at once")
}

// TestThrottleOptions: the factor's range and its place in Policy.
func TestThrottleOptions(t *testing.T) {
	for _, tc := range []struct {
		factor time.Duration
		err    string // "" for valid
		policy string // in Policy when valid
	}{
		{0, "", ""},
		{time.Second, "", "lockout 5 failures for 5m0s, throttle exponential 1s,"},
		{500 * time.Millisecond, "", "throttle exponential 500ms"},
		{time.Hour, "", "throttle exponential 1h0m0s"},
		{-time.Second, "throttle factor -1s: want 0 (off) to 1h0m0s", ""},
		{time.Hour + time.Nanosecond, "throttle factor 1h0m0.000000001s: want 0 (off) to 1h0m0s", ""},
	} {
		t.Run(tc.factor.String(), func(t *testing.T) {
			o := DefaultOptions()
			o.ThrottleFactor = tc.factor
			s, err := New(o)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("New(ThrottleFactor %v) = %v, want an error with %q", tc.factor, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(ThrottleFactor %v): %v", tc.factor, err)
			}
			p := s.Options().Policy()
			if tc.policy == "" && strings.Contains(p, "throttle") {
				t.Errorf("Policy() = %q, want no throttle", p)
			}
			if tc.policy != "" && !strings.Contains(p, tc.policy) {
				t.Errorf("Policy() = %q, want %q in it", p, tc.policy)
			}
		})
	}
}

// TestThrottleDelay: factor * 2^(n-1), saturating instead of overflowing.
func TestThrottleDelay(t *testing.T) {
	for _, tc := range []struct {
		factor time.Duration
		n      int
		want   time.Duration
	}{
		{time.Second, 0, 0},
		{time.Second, 1, time.Second},
		{time.Second, 2, 2 * time.Second},
		{time.Second, 4, 8 * time.Second},
		{500 * time.Millisecond, 3, 2 * time.Second},
		{time.Hour, 22, time.Hour << 21},
		{time.Hour, 23, math.MaxInt64},
		{time.Second, 63, math.MaxInt64},
		{time.Second, 1 << 30, math.MaxInt64},
		{0, 5, 0},
	} {
		if got := throttleDelay(tc.factor, tc.n); got != tc.want {
			t.Errorf("throttleDelay(%v, %d) = %v, want %v", tc.factor, tc.n, got, tc.want)
		}
	}
}
