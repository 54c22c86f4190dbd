package refserver

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestWindowEdges submits the codes of steps -4..+4 around the server's
// step at phases 0, 1, 29 and 29.999 s, for several windows: a code is
// accepted exactly when -back <= k <= forward, whatever the phase.
func TestWindowEdges(t *testing.T) {
	windows := [][2]int{{0, 0}, {1, 1}, {2, 0}, {0, 2}, {3, 1}, {1, 3}}
	phases := []time.Duration{0, time.Second, 29 * time.Second, 29*time.Second + 999*time.Millisecond}
	for _, win := range windows {
		for _, ph := range phases {
			name := fmt.Sprintf("window=-%d+%d/phase=%v", win[0], win[1], ph)
			t.Run(name, func(t *testing.T) {
				o := Options{WindowBack: win[0], WindowForward: win[1], Replay: ReplayNone}
				f := newFixture(t, o)
				serial, secret := f.device()
				f.clk.Set(base.Add(10*time.Minute + ph))
				for k := int64(-4); k <= 4; k++ {
					want := http.StatusForbidden
					if -int64(win[0]) <= k && k <= int64(win[1]) {
						want = http.StatusOK
					}
					if w := f.verify(serial, f.code(secret, k)); w.Code != want {
						t.Errorf("%s k=%+d: status %d, want %d (body %s)", name, k, w.Code, want, w.Body)
					}
				}
			})
		}
	}
}

// TestWindowOtherParameters checks 8 digits, SHA256/SHA512 and a 60 s
// period at the window's edges.
func TestWindowOtherParameters(t *testing.T) {
	for _, o := range []Options{
		{Digits: 8, Algorithm: "SHA256", WindowBack: 1, WindowForward: 1, Replay: ReplayNone},
		{Digits: 7, Algorithm: "sha512", Period: 60, WindowBack: 1, Replay: ReplayNone},
		{Period: 1, WindowForward: 2, Replay: ReplayNone},
	} {
		name := fmt.Sprintf("digits=%d/alg=%s/period=%d/window=-%d+%d", o.Digits, o.Algorithm, o.Period, o.WindowBack, o.WindowForward)
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, o)
			serial, secret := f.device()
			f.clk.Advance(time.Hour + 500*time.Millisecond)
			for k := int64(-3); k <= 3; k++ {
				want := http.StatusForbidden
				if -int64(o.WindowBack) <= k && k <= int64(o.WindowForward) {
					want = http.StatusOK
				}
				if w := f.verify(serial, f.code(secret, k)); w.Code != want {
					t.Errorf("%s k=%+d: status %d, want %d (body %s)", name, k, w.Code, want, w.Body)
				}
			}
		})
	}
}

// TestClockOffset: a server whose clock is off by d accepts the codes of
// the steps around true time + d.
func TestClockOffset(t *testing.T) {
	for _, tc := range []struct {
		offset time.Duration
		steps  int64
	}{{90 * time.Second, 3}, {-90 * time.Second, -3}, {-61 * time.Second, -2}, {15 * time.Second, 1}, {9 * time.Second, 0}} {
		t.Run(fmt.Sprintf("offset=%v", tc.offset), func(t *testing.T) {
			o := Options{ClockOffset: tc.offset, Replay: ReplayNone}
			f := newFixture(t, o)
			f.clk.Set(base.Add(time.Hour + 20*time.Second)) // phase 20 s: +15 s crosses into the next step, +9 s does not
			serial, secret := f.enroll("bob")
			// bind with the codes the server expects: steps tc.steps-1, tc.steps
			body := fmt.Sprintf(`{"code1":%q,"code2":%q}`, f.code(secret, tc.steps-1), f.code(secret, tc.steps))
			if w := f.do("POST", "/api/v1/devices/"+serial+"/bind", body); w.Code != http.StatusOK {
				t.Fatalf("offset %v: bind at steps %d,%d: status %d", tc.offset, tc.steps-1, tc.steps, w.Code)
			}
			for k := tc.steps - 2; k <= tc.steps+2; k++ {
				want := http.StatusForbidden
				if k == tc.steps {
					want = http.StatusOK
				}
				if w := f.verify(serial, f.code(secret, k)); w.Code != want {
					t.Errorf("offset %v: code of true step %+d: status %d, want %d", tc.offset, k, w.Code, want)
				}
			}
			if tc.steps != 0 {
				if w := f.verify(serial, f.code(secret, 0)); w.Code != http.StatusForbidden {
					t.Errorf("offset %v: code of the true step: status %d, want 403", tc.offset, w.Code)
				}
			}
		})
	}
}

// TestResync: after a drifted device's success, the window is centred on
// the device's offset (RFC 6238 section 6); without Resync it is not.
func TestResync(t *testing.T) {
	for _, resync := range []bool{false, true} {
		t.Run(fmt.Sprintf("resync=%t", resync), func(t *testing.T) {
			f := newFixture(t, Options{WindowBack: 1, WindowForward: 1, Resync: resync})
			serial, secret := f.device()
			// The device runs fast: one step ahead, the window's edge.
			f.clk.Advance(5 * time.Minute)
			if w := f.verify(serial, f.code(secret, 1)); w.Code != http.StatusOK {
				t.Fatalf("resync=%t: device 1 step ahead: status %d, want 200", resync, w.Code)
			}
			// It drifts on: two steps ahead, then three.
			f.clk.Advance(5 * time.Minute)
			want := http.StatusForbidden
			if resync {
				want = http.StatusOK
			}
			if w := f.verify(serial, f.code(secret, 2)); w.Code != want {
				t.Fatalf("resync=%t: device 2 steps ahead: status %d, want %d", resync, w.Code, want)
			}
			f.clk.Advance(5 * time.Minute)
			if w := f.verify(serial, f.code(secret, 3)); w.Code != want {
				t.Fatalf("resync=%t: device 3 steps ahead: status %d, want %d", resync, w.Code, want)
			}
			if resync {
				// Centred at +3: +1 is now behind the window.
				f.clk.Advance(5 * time.Minute)
				if w := f.verify(serial, f.code(secret, 1)); w.Code != http.StatusForbidden {
					t.Errorf("resync: device back at +1 after +3: status %d, want 403", w.Code)
				}
			}
		})
	}
}

// TestWindowInSeconds: a window in seconds as ROTP takes it accepts the
// code of true step n while the true time is in [nP - A, nP + P + B)
// (MEASURING.md): for each window {B, A} and each second of a step, the
// previous, current and next step's codes are accepted exactly there.
// The server's clock is exact here; TestWindowInSecondsOffset moves it.
func TestWindowInSeconds(t *testing.T) {
	for _, win := range [][2]int{{15, 0}, {10, 10}, {45, 0}, {0, 20}, {0, 0}, {30, 30}} {
		B, A := win[0], win[1]
		o := Options{WindowInSeconds: true, WindowSecondsBack: time.Duration(B) * time.Second,
			WindowSecondsForward: time.Duration(A) * time.Second, Replay: ReplayNone}
		f := newFixture(t, o)
		serial, secret := f.device()
		start := base.Add(time.Hour) // a step edge (base is a multiple of 30 s)
		for sec := 0; sec < 30; sec++ {
			f.clk.Set(start.Add(time.Duration(sec)*time.Second + 500*time.Millisecond))
			for k := int64(-3); k <= 3; k++ {
				// The code of step n = cur+k; t - nP = sec + 0.5 - 30k.
				x := float64(sec) + 0.5 - 30*float64(k)
				want := http.StatusForbidden
				if x >= -float64(A) && x < 30+float64(B) {
					want = http.StatusOK
				}
				if w := f.verify(serial, f.code(secret, k)); w.Code != want {
					t.Errorf("behind %ds ahead %ds, second %d of the step, code %+d: status %d, want %d", B, A, sec, k, w.Code, want)
				}
			}
		}
	}
}

// TestWindowInSecondsOffset: the edges move with a sub-second clock
// offset: with behind 15 s and the clock 13.4 s fast, the previous step's
// code is accepted until 15 - 13.4 = 1.6 s into the true step.
func TestWindowInSecondsOffset(t *testing.T) {
	o := Options{WindowInSeconds: true, WindowSecondsBack: 15 * time.Second, Replay: ReplayNone, ClockOffset: 13400 * time.Millisecond}
	f := newFixture(t, o)
	serial, secret := f.device()
	start := base.Add(time.Hour)
	for _, tc := range []struct {
		at   time.Duration
		want int
	}{{1590 * time.Millisecond, http.StatusOK}, {1610 * time.Millisecond, http.StatusForbidden}} {
		f.clk.Set(start.Add(tc.at))
		code := testCode(secret, f.srv.stepOf(start)-1, 6, "SHA1") // the previous true step's code
		if w := f.verify(serial, code); w.Code != tc.want {
			t.Errorf("previous step's code at %v into the true step: status %d, want %d", tc.at, w.Code, tc.want)
		}
	}
}

func TestWindowInSecondsOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"steps and seconds", Options{WindowInSeconds: true, WindowBack: 1}, "excludes"},
		{"fractional seconds", Options{WindowInSeconds: true, WindowSecondsBack: 1500 * time.Millisecond}, "whole seconds"},
		{"negative", Options{WindowInSeconds: true, WindowSecondsForward: -time.Second}, "whole seconds"},
		{"seconds without the mode", Options{WindowSecondsBack: time.Second}, "without WindowInSeconds"},
	} {
		if _, err := New(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New(%+v) = %v, want an error with %q", tc.name, tc.o, err, tc.want)
		}
	}
	s, err := New(Options{WindowInSeconds: true, WindowSecondsBack: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Options().Policy(); !strings.Contains(p, "window -15s/+0s (in seconds)") {
		t.Errorf("policy %q does not show the window in seconds", p)
	}
}

// TestResyncKnobs: with window 1/1 and Resync, a device's successes and
// refusals at offsets from the server's step, each probe 10 steps after
// the last (so no code is a replay), and the drift the server ends with.
// Each accepted probe at the edge of the window moves it when the policy
// lets it.
func TestResyncKnobs(t *testing.T) {
	type probe struct {
		k  int64 // the code's offset from the server's step
		ok bool  // accepted
	}
	for _, tc := range []struct {
		name   string
		o      Options
		probes []probe
		drift  int64
	}{
		{"default follows every success", Options{},
			[]probe{{1, true}, {2, true}, {3, true}, {4, true}, {2, false}}, 4},
		{"default moves back", Options{},
			[]probe{{1, true}, {2, true}, {1, true}, {0, true}}, 0},
		{"max 2 stops at 2", Options{ResyncMax: 2},
			[]probe{{1, true}, {2, true}, {3, true}, {4, false}, {3, true}}, 2},
		{"max 2 either way", Options{ResyncMax: 2},
			[]probe{{-1, true}, {-2, true}, {-3, true}, {-4, false}, {-3, true}}, -2},
		{"max 2 clamps a jump", Options{ResyncMax: 2},
			[]probe{{1, true}, {2, true}, {3, true}, {1, true}}, 1},
		{"after 1 is every success", Options{ResyncAfter: 1},
			[]probe{{1, true}, {2, true}}, 2},
		{"after 2 needs two successes", Options{ResyncAfter: 2},
			[]probe{{1, true}, {2, false}, {1, true}, {2, true}, {3, false}, {2, true}, {3, true}}, 2},
		{"after 2 restarts at another offset", Options{ResyncAfter: 2},
			[]probe{{1, true}, {0, true}, {1, true}, {2, false}, {-1, true}, {1, true}, {2, false}}, 0},
		{"after 2 a refusal keeps the count", Options{ResyncAfter: 2},
			[]probe{{1, true}, {3, false}, {1, true}, {2, true}}, 1},
		{"forward only keeps +2 after +1", Options{ResyncForwardOnly: true},
			[]probe{{1, true}, {2, true}, {1, true}, {0, false}, {3, true}}, 3},
		{"forward only never goes below zero", Options{ResyncForwardOnly: true},
			[]probe{{-1, true}, {-2, false}, {-1, true}}, 0},
		{"all three", Options{ResyncMax: 1, ResyncAfter: 2, ResyncForwardOnly: true},
			[]probe{{1, true}, {1, true}, {2, true}, {2, true}, {3, false}, {0, true}, {0, true}, {-1, false}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.WindowBack, o.WindowForward, o.Resync = 1, 1, true
			f := newFixture(t, o)
			serial, secret := f.device()
			for i, p := range tc.probes {
				f.clk.Advance(5 * time.Minute)
				want := http.StatusForbidden
				if p.ok {
					want = http.StatusOK
				}
				if w := f.verify(serial, f.code(secret, p.k)); w.Code != want {
					t.Fatalf("%s: probe %d, offset %+d: status %d, want %d (body %s)", tc.name, i+1, p.k, w.Code, want, w.Body)
				}
			}
			d, _ := f.srv.store.get(serial)
			d.mu.Lock()
			drift := d.drift
			d.mu.Unlock()
			if drift != tc.drift {
				t.Errorf("%s: drift %+d after the probes, want %+d", tc.name, drift, tc.drift)
			}
		})
	}
}

// TestResyncOptions: the knobs' bounds, each refused without Resync
// (naming --resync), and the policy line, unchanged with no knob.
func TestResyncOptions(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Resync: true, ResyncMax: -1}, "resync max -1: want 0 (no bound) to 100 steps"},
		{Options{Resync: true, ResyncMax: 101}, "resync max 101: want 0 (no bound) to 100 steps"},
		{Options{Resync: true, ResyncAfter: -1}, "resync after -1: want 0 to 10 successes"},
		{Options{Resync: true, ResyncAfter: 11}, "resync after 11: want 0 to 10 successes"},
		{Options{ResyncMax: 3}, "resync knobs (at most 3 steps) without Resync: turn on Resync (--resync)"},
		{Options{ResyncAfter: 1}, "resync knobs (after 1 success) without Resync: turn on Resync (--resync)"},
		{Options{ResyncForwardOnly: true}, "resync knobs (forward only) without Resync: turn on Resync (--resync)"},
	} {
		_, err := New(tc.o)
		if err == nil || err.Error() != "refserver options: "+tc.want {
			t.Errorf("New(%+v) = %v, want the error %q", tc.o, err, "refserver options: "+tc.want)
		}
	}
	for _, tc := range []struct {
		o    Options
		want string // the policy line's end
	}{
		{Options{}, ", resync false"},
		{Options{Resync: true}, ", resync true"},
		{Options{Resync: true, ResyncMax: 3, ResyncAfter: 2, ResyncForwardOnly: true}, ", resync true (at most 3 steps, after 2 successes, forward only)"},
		{Options{Resync: true, ResyncMax: 1}, ", resync true (at most 1 step)"},
		{Options{Resync: true, ResyncAfter: 1}, ", resync true (after 1 success)"},
		{Options{Resync: true, ResyncForwardOnly: true}, ", resync true (forward only)"},
	} {
		s, err := New(tc.o)
		if err != nil {
			t.Fatalf("New(%+v): %v", tc.o, err)
		}
		if p := s.Options().Policy(); !strings.HasSuffix(p, tc.want) {
			t.Errorf("Policy() of %+v = %q, want it to end %q", tc.o, p, tc.want)
		}
	}
}
