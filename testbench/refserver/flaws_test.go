package refserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// burst submits codes to serial concurrently, goroutines released together
// by closing a channel, and returns the statuses in the order of codes.
// With lastAfter, the last code is sent once every other goroutine is
// about to send its own: last in the burst, as a bench sends the right
// code after its wrong ones.
func burst(f *fixture, serial string, codes []string, lastAfter bool) []int {
	statuses := make([]int, len(codes))
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	n := len(codes)
	if lastAfter {
		n--
		ready.Add(n)
	}
	for i := range n {
		done.Go(func() {
			<-start
			if lastAfter {
				ready.Done()
			}
			statuses[i] = f.verify(serial, codes[i]).Code
		})
	}
	if lastAfter {
		done.Go(func() {
			<-start
			ready.Wait()
			statuses[n] = f.verify(serial, codes[n]).Code
		})
	}
	close(start)
	done.Wait()
	return statuses
}

// count tallies statuses.
func count(statuses []int) map[int]int {
	m := map[int]int{}
	for _, s := range statuses {
		m[s]++
	}
	return m
}

// wrongCodes returns n distinct well-formed codes that are none of the
// device's codes from 3 steps back to 3 ahead.
func wrongCodes(f *fixture, secret string, n int) []string {
	near := map[string]bool{}
	for k := int64(-3); k <= 3; k++ {
		near[f.code(secret, k)] = true
	}
	var out []string
	for i := 1; len(out) < n; i++ {
		if c := fmt.Sprintf("%06d", i*7919%1_000_000); !near[c] {
			out = append(out, c)
		}
	}
	return out
}

// TestFlawTOCTOUReplay: 50 concurrent submissions of one valid code. The
// correct console accepts exactly one, also with the other flaws on;
// with toctou-replay (1 ms pause) more than one is accepted, under both
// replay policies that refuse replays.
func TestFlawTOCTOUReplay(t *testing.T) {
	const n = 50
	for _, tc := range []struct {
		name   string
		flaws  Flaws
		replay string
		racy   bool
	}{
		{"correct", Flaws{}, ReplayStep, false},
		{"correct", Flaws{}, ReplayCode, false},
		{"lockout-race,bind-reuse", Flaws{LockoutRace: true, BindReuse: true}, ReplayStep, false},
		{"lockout-race,bind-reuse", Flaws{LockoutRace: true, BindReuse: true}, ReplayCode, false},
		{"toctou-replay", Flaws{TOCTOUReplay: true}, ReplayStep, true},
		{"toctou-replay", Flaws{TOCTOUReplay: true}, ReplayCode, true},
		{"toctou-replay,lockout-race", Flaws{TOCTOUReplay: true, LockoutRace: true}, ReplayStep, true},
	} {
		t.Run(tc.name+"/replay="+tc.replay, func(t *testing.T) {
			f := newFixture(t, Options{WindowBack: 1, WindowForward: 1, Replay: tc.replay, Lockout: 5, Lab: true, Flaws: tc.flaws})
			serial, secret := f.device()
			f.clk.Advance(10 * time.Minute)
			c := f.code(secret, 0)
			codes := make([]string, n)
			for i := range codes {
				codes[i] = c
			}
			got := count(burst(f, serial, codes, false))
			if got[http.StatusOK]+got[http.StatusForbidden] != n {
				t.Fatalf("flaws %s, replay %s: %d concurrent submissions of one code: statuses %v, want only 200 and 403", tc.name, tc.replay, n, got)
			}
			if tc.racy && got[http.StatusOK] <= 1 {
				t.Errorf("flaws %s, replay %s: %d concurrent submissions of one code: %d accepted, want more than 1 (the race)", tc.name, tc.replay, n, got[http.StatusOK])
			}
			if !tc.racy && got[http.StatusOK] != 1 {
				t.Errorf("flaws %s, replay %s: %d concurrent submissions of one code: %d accepted, want exactly 1", tc.name, tc.replay, n, got[http.StatusOK])
			}
			// After the burst the use is recorded: a replay sent alone is refused.
			if w := f.verify(serial, c); w.Code != http.StatusForbidden {
				t.Errorf("flaws %s, replay %s: the code again after the burst: status %d, want 403", tc.name, tc.replay, w.Code)
			}
		})
	}
}

// TestFlawTOCTOURefusalsCountedAtOnce: with toctou-replay alone, wrong
// codes are counted under the lock as the correct console counts them:
// a burst of 15 wrong codes is 5 refused and 10 locked, then the right
// code is locked.
func TestFlawTOCTOURefusalsCountedAtOnce(t *testing.T) {
	f := newFixture(t, Options{WindowBack: 1, WindowForward: 1, Lockout: 5, Lab: true, Flaws: Flaws{TOCTOUReplay: true}})
	serial, secret := f.device()
	f.clk.Advance(10 * time.Minute)
	got := count(burst(f, serial, wrongCodes(f, secret, 15), false))
	if want := map[int]int{http.StatusForbidden: 5, http.StatusTooManyRequests: 10}; !reflect.DeepEqual(got, want) {
		t.Errorf("toctou-replay: a burst of 15 wrong codes: statuses %v, want %v", got, want)
	}
	if w := f.verify(serial, f.code(secret, 0)); w.Code != http.StatusTooManyRequests {
		t.Errorf("toctou-replay: the right code after the burst: status %d, want 429", w.Code)
	}
}

// TestFlawLockoutRace: lockout after 5; a burst of 15 wrong codes and the
// right code last. The correct console's verdicts follow one serial
// order: the right code is locked after exactly 5 wrong ones, or (when it
// was checked before the fifth) accepted with 5 to 9 wrong ones refused.
// With lockout-race (1 ms pause) more than 9 wrong codes are evaluated
// (refused as wrong, not locked), which no serial order gives, and the
// right code is accepted. A burst answered in full before the right code
// is sent locks both consoles: lockout-race counts late, not wrongly.
func TestFlawLockoutRace(t *testing.T) {
	const lockout, wrongs = 5, 15
	for _, tc := range []struct {
		name  string
		flaws Flaws
		racy  bool
	}{
		{"correct", Flaws{}, false},
		{"toctou-replay,bind-reuse", Flaws{TOCTOUReplay: true, BindReuse: true}, false},
		{"lockout-race", Flaws{LockoutRace: true}, true},
		{"lockout-race,toctou-replay", Flaws{LockoutRace: true, TOCTOUReplay: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			newDevice := func() (*fixture, string, []string) {
				f := newFixture(t, Options{WindowBack: 1, WindowForward: 1, Lockout: lockout, Lab: true, Flaws: tc.flaws})
				serial, secret := f.device()
				f.clk.Advance(10 * time.Minute)
				return f, serial, append(wrongCodes(f, secret, wrongs), f.code(secret, 0))
			}

			f, serial, codes := newDevice()
			statuses := burst(f, serial, codes, true)
			got, right := count(statuses[:wrongs]), statuses[wrongs]
			evaluated := got[http.StatusForbidden]
			if got[http.StatusForbidden]+got[http.StatusTooManyRequests] != wrongs {
				t.Fatalf("flaws %s: %d wrong codes and the right one in a burst: wrong ones %v, want only 403 and 429", tc.name, wrongs, got)
			}
			if tc.racy {
				if evaluated <= 2*lockout-1 || right != http.StatusOK {
					t.Errorf("flaws %s: %d wrong codes and the right one in a burst: %d wrong evaluated (403), right %d; want more than %d and 200 (the race)",
						tc.name, wrongs, evaluated, right, 2*lockout-1)
				}
			} else {
				serial := (right == http.StatusTooManyRequests && evaluated == lockout) ||
					(right == http.StatusOK && evaluated >= lockout && evaluated <= 2*lockout-1)
				if !serial {
					t.Errorf("flaws %s: %d wrong codes and the right one in a burst: %d wrong evaluated (403), right %d; want %d and 429, or %d to %d and 200",
						tc.name, wrongs, evaluated, right, lockout, lockout, 2*lockout-1)
				}
			}

			// The burst answered in full, then the right code: locked.
			f, serial, codes = newDevice()
			got = count(burst(f, serial, codes[:wrongs], false))
			if w := f.verify(serial, codes[wrongs]); w.Code != http.StatusTooManyRequests {
				t.Errorf("flaws %s: the right code after a burst of %d wrong ones (%v): status %d, want 429", tc.name, wrongs, got, w.Code)
			}
			if !tc.racy && got[http.StatusForbidden] != lockout {
				t.Errorf("flaws %s: a burst of %d wrong codes: statuses %v, want %d refused and the rest locked", tc.name, wrongs, got, lockout)
			}
		})
	}
}

// TestFlawBindReuse: bind with the codes of steps -1 and 0, then sign in
// with the bind's codes. The correct console refuses them (replay, by step
// or by code); with bind-reuse they are accepted, and a login code is
// still refused when replayed.
func TestFlawBindReuse(t *testing.T) {
	for _, tc := range []struct {
		flaws  Flaws
		replay string
		want   int
	}{
		{Flaws{}, ReplayStep, http.StatusForbidden},
		{Flaws{}, ReplayCode, http.StatusForbidden},
		{Flaws{TOCTOUReplay: true, LockoutRace: true}, ReplayStep, http.StatusForbidden},
		{Flaws{BindReuse: true}, ReplayStep, http.StatusOK},
		{Flaws{BindReuse: true}, ReplayCode, http.StatusOK},
	} {
		name := fmt.Sprintf("flaws=%s/replay=%s", tc.flaws, tc.replay)
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, Options{WindowBack: 1, WindowForward: 1, Replay: tc.replay, Lockout: 5, Lab: true, Flaws: tc.flaws})
			serial, secret := f.enroll("alice")
			code1, code2 := f.code(secret, -1), f.code(secret, 0)
			f.bind(serial, secret)
			if w := f.verify(serial, code2); w.Code != tc.want {
				t.Fatalf("%s: sign in with the bind's second code %s: status %d, want %d", name, code2, w.Code, tc.want)
			}
			if tc.want == http.StatusOK {
				if w := f.verify(serial, code2); w.Code != http.StatusForbidden {
					t.Errorf("%s: the login code %s replayed: status %d, want 403", name, code2, w.Code)
				}
				if tc.replay == ReplayCode {
					if w := f.verify(serial, code1); w.Code != http.StatusOK {
						t.Errorf("%s: sign in with the bind's first code %s: status %d, want 200", name, code1, w.Code)
					}
				}
			}
		})
	}
}

// TestReplayCountsAsFailure: lockout after 5; after an accepted code, 10
// replays of it, then the next step's code. By default a replay is
// refused without counting and the next code is accepted; with
// ReplayCountsAsFailure the fifth replay locks the device.
func TestReplayCountsAsFailure(t *testing.T) {
	for _, tc := range []struct {
		counts  bool
		replay  string
		replays map[int]int
		next    int
	}{
		{false, ReplayStep, map[int]int{http.StatusForbidden: 10}, http.StatusOK},
		{false, ReplayCode, map[int]int{http.StatusForbidden: 10}, http.StatusOK},
		{true, ReplayStep, map[int]int{http.StatusForbidden: 5, http.StatusTooManyRequests: 5}, http.StatusTooManyRequests},
		{true, ReplayCode, map[int]int{http.StatusForbidden: 5, http.StatusTooManyRequests: 5}, http.StatusTooManyRequests},
	} {
		name := fmt.Sprintf("counts=%t/replay=%s", tc.counts, tc.replay)
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, Options{WindowBack: 1, WindowForward: 1, Replay: tc.replay, Lockout: 5, ReplayCountsAsFailure: tc.counts})
			serial, secret := f.device()
			f.clk.Advance(10 * time.Minute)
			c := f.code(secret, 0)
			if w := f.verify(serial, c); w.Code != http.StatusOK {
				t.Fatalf("%s: first use of %s: status %d", name, c, w.Code)
			}
			got := map[int]int{}
			for range 10 {
				got[f.verify(serial, c).Code]++
			}
			if !reflect.DeepEqual(got, tc.replays) {
				t.Errorf("%s: 10 replays of an accepted code: statuses %v, want %v", name, got, tc.replays)
			}
			f.clk.Advance(30 * time.Second)
			if w := f.verify(serial, f.code(secret, 0)); w.Code != tc.next {
				t.Errorf("%s: the next step's code after the replays: status %d, want %d", name, w.Code, tc.next)
			}
		})
	}
}

// TestFlawPauseIsReal: the race flaws pause in real time, not on the
// server's clock: a lab clock on a manual clock does not move.
func TestFlawPauseIsReal(t *testing.T) {
	f := newFixture(t, Options{Lab: true, Flaws: Flaws{TOCTOUReplay: true, LockoutRace: true}})
	serial, secret := f.device()
	before := f.clk.Advance(30 * time.Second)
	if w := f.verify(serial, f.code(secret, 0)); w.Code != http.StatusOK {
		t.Fatalf("toctou-replay, lockout-race: a fresh code: status %d, want 200", w.Code)
	}
	if w := f.verify(serial, "000000"); w.Code != http.StatusForbidden && w.Code != http.StatusOK {
		t.Fatalf("toctou-replay, lockout-race: a wrong code: status %d", w.Code)
	}
	if now := f.clk.Now(); !now.Equal(before) {
		t.Errorf("the flaws' pause moved the manual clock from %v to %v", before, now)
	}
}

// TestFlawOptions: the flaws need Lab; the pause is 0 to 1 s; the policy
// line and /healthz name them; ReplayCountsAsFailure is a policy, allowed
// without Lab.
func TestFlawOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		err  string // "" for none
	}{
		{"toctou-replay without lab", Options{Flaws: Flaws{TOCTOUReplay: true}}, "flaws toctou-replay: deliberate bugs are for the lab only: turn on Lab (--lab)"},
		{"lockout-race without lab", Options{Flaws: Flaws{LockoutRace: true}}, "--lab"},
		{"bind-reuse without lab", Options{Flaws: Flaws{BindReuse: true}}, "flaws bind-reuse:"},
		{"all without lab", Options{Flaws: Flaws{TOCTOUReplay: true, LockoutRace: true, BindReuse: true}}, "flaws toctou-replay, lockout-race, bind-reuse:"},
		{"negative pause", Options{Lab: true, Flaws: Flaws{TOCTOUReplay: true, Pause: -time.Millisecond}}, "flaw pause -1ms: want 0 (1ms) to 1s"},
		{"pause over 1s", Options{Lab: true, Flaws: Flaws{LockoutRace: true, Pause: 1001 * time.Millisecond}}, "flaw pause 1.001s"},
		{"pause 1s", Options{Lab: true, Flaws: Flaws{LockoutRace: true, Pause: time.Second}}, ""},
		{"replay counts without lab", Options{ReplayCountsAsFailure: true}, ""},
		{"flaws in lab", Options{Lab: true, Flaws: Flaws{TOCTOUReplay: true, LockoutRace: true, BindReuse: true}}, ""},
	} {
		_, err := New(tc.o)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: New(%+v): %v", tc.name, tc.o, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: New(%+v): error %v, want one containing %q", tc.name, tc.o, err, tc.err)
		}
	}

	s, err := New(Options{Lab: true, Flaws: Flaws{TOCTOUReplay: true}})
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Options().Flaws.Pause; p != time.Millisecond {
		t.Errorf("toctou-replay with no pause: Options().Flaws.Pause %v, want 1ms", p)
	}
	for _, tc := range []struct {
		o    Options
		want []string // in Policy()
		not  []string
	}{
		{DefaultOptions(), nil, []string{"FLAWED", "replays count"}},
		{Options{ReplayCountsAsFailure: true}, []string{", replays count as failures"}, []string{"FLAWED"}},
		{Options{Lab: true, Flaws: Flaws{LockoutRace: true, BindReuse: true, Pause: 5 * time.Millisecond}},
			[]string{"LAB MODE", ", DELIBERATELY FLAWED: lockout-race (5ms pause), bind-reuse"}, []string{"replays count"}},
	} {
		p := tc.o.Policy()
		for _, w := range tc.want {
			if !strings.Contains(p, w) {
				t.Errorf("Policy() of %+v = %q, want %q in it", tc.o, p, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(p, w) {
				t.Errorf("Policy() of %+v = %q, want no %q", tc.o, p, w)
			}
		}
	}

	for _, tc := range []struct {
		flaws Flaws
		body  string
	}{
		{Flaws{}, `{"flaws":[],"lab":true,"status":"ok"}`},
		{Flaws{TOCTOUReplay: true, BindReuse: true}, `{"flaws":["toctou-replay","bind-reuse"],"lab":true,"status":"ok"}`},
	} {
		f := newFixture(t, Options{Lab: true, Flaws: tc.flaws})
		if w := f.do("GET", "/healthz", ""); strings.TrimSpace(w.Body.String()) != tc.body {
			t.Errorf("flaws %s: healthz %s, want %s", tc.flaws, w.Body, tc.body)
		}
	}
}

// TestFlawsString: the names and the description of each combination.
func TestFlawsString(t *testing.T) {
	for _, tc := range []struct {
		f     Flaws
		any   bool
		names string
		str   string
	}{
		{Flaws{}, false, "[]", "none"},
		{Flaws{Pause: 5 * time.Millisecond}, false, "[]", "none"},
		{Flaws{TOCTOUReplay: true}, true, `["toctou-replay"]`, "toctou-replay (1ms pause)"},
		{Flaws{LockoutRace: true, Pause: 20 * time.Millisecond}, true, `["lockout-race"]`, "lockout-race (20ms pause)"},
		{Flaws{BindReuse: true}, true, `["bind-reuse"]`, "bind-reuse"},
		{Flaws{TOCTOUReplay: true, LockoutRace: true, BindReuse: true}, true, `["toctou-replay","lockout-race","bind-reuse"]`, "toctou-replay (1ms pause), lockout-race, bind-reuse"},
		{Flaws{LockoutRace: true, BindReuse: true}, true, `["lockout-race","bind-reuse"]`, "lockout-race (1ms pause), bind-reuse"},
	} {
		names, _ := json.Marshal(tc.f.Names())
		if tc.f.Any() != tc.any || string(names) != tc.names || tc.f.String() != tc.str {
			t.Errorf("%+v: Any %t, Names %s, String %q; want %t, %s, %q", tc.f, tc.f.Any(), names, tc.f.String(), tc.any, tc.names, tc.str)
		}
	}
}

// TestAddFlaw: each --flaw value and what it sets, or its error.
func TestAddFlaw(t *testing.T) {
	for _, tc := range []struct {
		flaws []string
		want  Options
		err   string
	}{
		{[]string{"toctou-replay"}, Options{Flaws: Flaws{TOCTOUReplay: true}}, ""},
		{[]string{"toctou-replay:5ms"}, Options{Flaws: Flaws{TOCTOUReplay: true, Pause: 5 * time.Millisecond}}, ""},
		{[]string{"lockout-race:1s"}, Options{Flaws: Flaws{LockoutRace: true, Pause: time.Second}}, ""},
		{[]string{"lockout-race:0s"}, Options{Flaws: Flaws{LockoutRace: true}}, ""},
		{[]string{"bind-reuse"}, Options{Flaws: Flaws{BindReuse: true}}, ""},
		{[]string{"replay-counts"}, Options{ReplayCountsAsFailure: true}, ""},
		{[]string{"toctou-replay:5ms", "lockout-race", "bind-reuse", "replay-counts"},
			Options{ReplayCountsAsFailure: true, Flaws: Flaws{TOCTOUReplay: true, LockoutRace: true, BindReuse: true, Pause: 5 * time.Millisecond}}, ""},
		{[]string{"toctou-replay:5ms", "lockout-race:5ms"}, Options{Flaws: Flaws{TOCTOUReplay: true, LockoutRace: true, Pause: 5 * time.Millisecond}}, ""},
		{[]string{"toctou-replay:5ms", "lockout-race:6ms"}, Options{}, `flaw "lockout-race:6ms": pause 6ms differs from the 5ms given before: the race flaws share one pause`},
		{[]string{"toctou"}, Options{}, `unknown flaw "toctou": want toctou-replay, lockout-race, bind-reuse, replay-counts`},
		{[]string{"Toctou-Replay"}, Options{}, `unknown flaw "Toctou-Replay"`},
		{[]string{""}, Options{}, `unknown flaw ""`},
		{[]string{"nope:5ms"}, Options{}, `unknown flaw "nope:5ms": want toctou-replay, lockout-race, bind-reuse, replay-counts`},
		{[]string{"bind-reuse:5ms"}, Options{}, `flaw "bind-reuse:5ms": only toctou-replay and lockout-race take a pause`},
		{[]string{"replay-counts:1ms"}, Options{}, `only toctou-replay and lockout-race take a pause`},
		{[]string{"toctou-replay:soon"}, Options{}, `flaw "toctou-replay:soon": pause: time: invalid duration "soon"`},
		{[]string{"toctou-replay:"}, Options{}, `flaw "toctou-replay:": pause:`},
		{[]string{"toctou-replay:2s"}, Options{}, `flaw "toctou-replay:2s": pause 2s: want 0 (1ms) to 1s`},
		{[]string{"lockout-race:-1ms"}, Options{}, `pause -1ms: want 0 (1ms) to 1s`},
	} {
		var o Options
		var err error
		for _, name := range tc.flaws {
			if err = o.AddFlaw(name); err != nil {
				break
			}
		}
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("AddFlaw %q: %v", tc.flaws, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("AddFlaw %q: error %v, want one containing %q", tc.flaws, err, tc.err)
		case tc.err == "" && !reflect.DeepEqual(o, tc.want):
			t.Errorf("AddFlaw %q: options %+v, want %+v", tc.flaws, o, tc.want)
		}
	}
}

// TestConsoleFlawsBanner: the console's pages show the flaws in a banner
// when any, and no banner without.
func TestConsoleFlawsBanner(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string // "" for no banner
	}{
		{Options{Lab: true}, ""},
		{Options{ReplayCountsAsFailure: true}, ""},
		{Options{Lab: true, Flaws: Flaws{TOCTOUReplay: true, BindReuse: true}}, "Deliberately flawed console: toctou-replay (1ms pause), bind-reuse."},
	} {
		b := newBrowser(t, newFixture(t, tc.o))
		for _, p := range []string{"/console/signin", "/console/"} {
			if st := b.get(p); st != http.StatusOK {
				t.Fatalf("GET %s: status %d", p, st)
			}
			has := strings.Contains(b.page, `id="flaws-banner"`)
			if has != (tc.want != "") || !strings.Contains(b.page, tc.want) {
				t.Errorf("flaws %s: GET %s: banner %t, want %t with %q:\n%s", tc.o.Flaws, p, has, tc.want != "", tc.want, b.page)
			}
		}
		if tc.want != "" {
			b.post("/console/signin", url.Values{"username": {DemoUser}, "password": {DemoPassword}})
			if !strings.Contains(b.page, tc.want) {
				t.Errorf("flaws %s: the account page lacks the banner %q", tc.o.Flaws, tc.want)
			}
		}
	}
}
