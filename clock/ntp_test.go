package clock

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/totpemu/totpemu/clock/ntptest"
)

// testTimeout bounds each query in these tests: loopback answers in well
// under a millisecond, and silent servers cost this much.
const testTimeout = 250 * time.Millisecond

// fakeServers starts one fake server per offset.
func fakeServers(t *testing.T, offsets ...time.Duration) []*ntptest.Server {
	t.Helper()
	var ss []*ntptest.Server
	for _, off := range offsets {
		s := ntptest.NewServer(t)
		s.Update(func(b *ntptest.Behavior) { b.Offset = off })
		ss = append(ss, s)
	}
	return ss
}

func addrs(ss []*ntptest.Server) []string {
	var a []string
	for _, s := range ss {
		a = append(a, s.Addr())
	}
	return a
}

// newTestNTP returns an NTP clock over ss whose Base is a Manual clock
// standing at the real time, so measured offsets are the servers' offsets.
func newTestNTP(ss []*ntptest.Server, mod func(*NTPOptions)) (*NTP, *Manual) {
	base := NewManual(time.Now())
	opts := NTPOptions{Servers: addrs(ss), Timeout: testTimeout, Base: base}
	if mod != nil {
		mod(&opts)
	}
	return NewNTP(opts), base
}

func near(got, want, within time.Duration) bool {
	d := got - want
	return d <= within && d >= -within
}

func TestOfflineSyncAppliesMedianOffsetToBase(t *testing.T) {
	ss := fakeServers(t, 2*time.Second, 2010*time.Millisecond, 1990*time.Millisecond)
	n, base := newTestNTP(ss, nil)
	ev, err := n.Sync(context.Background())
	if err != nil {
		t.Fatalf("Sync with servers at +2s, +2.01s, +1.99s: %v", err)
	}
	if !near(ev.Offset, 2*time.Second, 50*time.Millisecond) {
		t.Errorf("offset %v, want 2s ± 50ms", ev.Offset)
	}
	for _, s := range ev.Sources {
		if !s.Used || s.Dropped != "" || !s.Answered || s.Stratum != 2 || s.RefID != "127.0.0.1" {
			t.Errorf("source %+v: want used, answered, stratum 2, refid 127.0.0.1", s)
		}
	}
	if got := n.Now().Sub(base.Now()); got != ev.Offset {
		t.Errorf("Now() - Base.Now() = %v, want the offset %v", got, ev.Offset)
	}
	base.Advance(time.Hour)
	if got := n.Now().Sub(base.Now()); got != ev.Offset {
		t.Errorf("an hour later on Base: Now() - Base.Now() = %v, want %v", got, ev.Offset)
	}
	if got := n.Evidence(); got.Offset != ev.Offset || len(got.Sources) != 3 || !got.SyncedAt.Equal(ev.SyncedAt) {
		t.Errorf("Evidence() = %+v, want the sync's %+v", got, ev)
	}
	if n.Err() != nil {
		t.Errorf("Err() after success = %v", n.Err())
	}
}

func TestOfflineOffsetIsBasesOwn(t *testing.T) {
	// A Base 40 s fast against exact servers gets -40 s, so Now is right.
	ss := fakeServers(t, 0, 0, 0)
	n, base := newTestNTP(ss, nil)
	base.Set(time.Now().Add(40 * time.Second))
	ev, err := n.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !near(ev.Offset, -40*time.Second, 50*time.Millisecond) {
		t.Errorf("Base 40s fast: offset %v, want -40s ± 50ms", ev.Offset)
	}
}

func TestOfflineSyncDropsBadSource(t *testing.T) {
	closed, err := ntptest.Start()
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr()
	closed.Close()

	for _, tc := range []struct {
		name   string
		bad    func(*ntptest.Behavior)
		addr   string // instead of a fake server
		reason string // substring of Source.Dropped
	}{
		{"kiss_DENY", func(b *ntptest.Behavior) { b.KissCode = "DENY" }, "", "kiss-o'-death DENY"},
		{"kiss_RSTR", func(b *ntptest.Behavior) { b.KissCode = "RSTR" }, "", "kiss-o'-death RSTR"},
		{"kiss_RATE", func(b *ntptest.Behavior) { b.KissCode = "RATE" }, "", "kiss-o'-death RATE"},
		{"kiss_unknown_ZZZZ", func(b *ntptest.Behavior) { b.KissCode = "ZZZZ" }, "", "kiss-o'-death ZZZZ"},
		{"stratum_0_no_code", func(b *ntptest.Behavior) { b.Stratum = 0 }, "", "stratum 0"},
		{"stratum_16", func(b *ntptest.Behavior) { b.Stratum = 16 }, "", "stratum 16"},
		{"stratum_255", func(b *ntptest.Behavior) { b.Stratum = 255 }, "", "stratum 255"},
		{"leap_3", func(b *ntptest.Behavior) { b.Leap = 3 }, "", "leap indicator 3"},
		{"dispersion_20s", func(b *ntptest.Behavior) { b.RootDispersion = 20 * time.Second }, "", "16s limit"},
		{"dispersion_2s_over_1s_bound", func(b *ntptest.Behavior) { b.RootDispersion = 2 * time.Second }, "", "over the 1s bound"},
		{"root_delay_3s_over_1s_bound", func(b *ntptest.Behavior) { b.RootDelay = 3 * time.Second }, "", "over the 1s bound"},
		{"wrong_origin", func(b *ntptest.Behavior) { b.WrongOrigin = true }, "", "origin timestamp"},
		{"short_20_bytes", func(b *ntptest.Behavior) { b.Short = true }, "", "shorter than an ntp header"},
		{"short_47_bytes", func(b *ntptest.Behavior) { b.Short, b.ShortLength = true, 47 }, "", "shorter than an ntp header"},
		{"silent", func(b *ntptest.Behavior) { b.Silent = true }, "", "no reply within 250ms"},
		{"reply_after_1s", func(b *ntptest.Behavior) { b.ReplyDelay = time.Second }, "", "no reply within 250ms"},
		{"falseticker_+300s", func(b *ntptest.Behavior) { b.Offset = 300 * time.Second }, "", "falseticker"},
		{"port_closed", nil, closedAddr, "query failed"},
		{"unresolvable_host", nil, "nonexistent.invalid:123", "query failed"},
		{"empty_address", nil, "", "empty server address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := fakeServers(t, 2*time.Second, 2*time.Second, 2*time.Second)
			n, _ := newTestNTP(ss, func(o *NTPOptions) {
				if tc.bad == nil {
					o.Servers[2] = tc.addr
				}
			})
			if tc.bad != nil {
				ss[2].Update(tc.bad)
			}
			ev, err := n.Sync(context.Background())
			if err != nil {
				t.Fatalf("%s: two good servers and one bad: Sync: %v", tc.name, err)
			}
			if !near(ev.Offset, 2*time.Second, 50*time.Millisecond) {
				t.Errorf("%s: offset %v, want 2s ± 50ms", tc.name, ev.Offset)
			}
			bad := ev.Sources[2]
			if bad.Used || !strings.Contains(bad.Dropped, tc.reason) {
				t.Errorf("%s: bad source %+v: want dropped with %q", tc.name, bad, tc.reason)
			}
			for _, s := range ev.Sources[:2] {
				if !s.Used {
					t.Errorf("%s: good source %+v not used", tc.name, s)
				}
			}
		})
	}
}

func TestOfflineFalsetickerDoesNotMoveClock(t *testing.T) {
	ss := fakeServers(t, 2*time.Second, 300*time.Second, 2005*time.Millisecond)
	n, base := newTestNTP(ss, nil)
	ev, err := n.Sync(context.Background())
	if err != nil {
		t.Fatalf("servers at +2s, +300s, +2.005s: %v", err)
	}
	if !near(ev.Offset, 2*time.Second, 50*time.Millisecond) {
		t.Errorf("offset %v, want 2s ± 50ms: the falseticker moved the clock", ev.Offset)
	}
	if s := ev.Sources[1]; s.Used || !strings.Contains(s.Dropped, "falseticker") {
		t.Errorf("+300s source %+v: want dropped as falseticker", s)
	}
	if got := n.Now().Sub(base.Now()); got != ev.Offset {
		t.Errorf("Now() - Base.Now() = %v, want %v", got, ev.Offset)
	}
}

func TestOfflineNoMajority(t *testing.T) {
	for _, tc := range []struct {
		name    string
		offsets []time.Duration
		silent  int // this many more servers that never answer
	}{
		{"+2s_+300s_-300s", []time.Duration{2 * time.Second, 300 * time.Second, -300 * time.Second}, 0},
		{"+2s_+2s_+300s_+300s", []time.Duration{2 * time.Second, 2 * time.Second, 300 * time.Second, 300 * time.Second}, 0},
		{"+2s_+300s", []time.Duration{2 * time.Second, 300 * time.Second}, 0},
		{"+2s_+300s_and_2_silent", []time.Duration{2 * time.Second, 300 * time.Second}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := fakeServers(t, tc.offsets...)
			for range tc.silent {
				s := ntptest.NewServer(t)
				s.Update(func(b *ntptest.Behavior) { b.Silent = true })
				ss = append(ss, s)
			}
			n, base := newTestNTP(ss, nil)
			ev, err := n.Sync(context.Background())
			if !errors.Is(err, ErrNoSource) {
				t.Fatalf("%s: Sync error %v, want ErrNoSource", tc.name, err)
			}
			if !strings.Contains(err.Error(), "no majority") || ev.Error != err.Error() {
				t.Errorf("%s: error %q (evidence %q): want it to say no majority", tc.name, err, ev.Error)
			}
			for _, s := range ev.Sources {
				if s.Used || s.Dropped == "" {
					t.Errorf("%s: source %+v: want dropped with a reason", tc.name, s)
				}
			}
			if !n.Now().Equal(base.Now()) {
				t.Errorf("%s: clock moved by %v after a failed first sync", tc.name, n.Now().Sub(base.Now()))
			}
		})
	}
}

// TestOfflineSilentNotAgainstMajority is the regression test for "no
// majority: 1 of 2 sources agree" with one server answering and one dead:
// a silent server is not a disagreeing one. The majority is of the valid
// answers; MinSources asks for more of them.
func TestOfflineSilentNotAgainstMajority(t *testing.T) {
	for _, tc := range []struct {
		name       string
		offsets    []time.Duration
		silent     int
		minSources int
		wantErr    string // "" for success at +2 s
	}{
		{"+2s_and_1_silent", []time.Duration{2 * time.Second}, 1, 0, ""},
		{"+2s_and_2_silent", []time.Duration{2 * time.Second}, 2, 0, ""},
		{"+2s_+2s_and_2_silent", []time.Duration{2 * time.Second, 2 * time.Second}, 2, 0, ""},
		{"+2s_+2s_+300s_and_1_silent", []time.Duration{2 * time.Second, 2 * time.Second, 300 * time.Second}, 1, 0, ""},
		{"+2s_and_1_silent,min=2", []time.Duration{2 * time.Second}, 1, 2, "only 1 of 2 servers answered validly; 2 wanted"},
		{"+2s_+2s_and_1_silent,min=2", []time.Duration{2 * time.Second, 2 * time.Second}, 1, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := fakeServers(t, tc.offsets...)
			for range tc.silent {
				s := ntptest.NewServer(t)
				s.Update(func(b *ntptest.Behavior) { b.Silent = true })
				ss = append(ss, s)
			}
			n, _ := newTestNTP(ss, func(o *NTPOptions) { o.MinSources = tc.minSources })
			ev, err := n.Sync(context.Background())
			if ev.Asked != len(ss) || ev.Valid != len(tc.offsets) {
				t.Errorf("%s: asked %d, valid %d; want %d, %d", tc.name, ev.Asked, ev.Valid, len(ss), len(tc.offsets))
			}
			if tc.wantErr != "" {
				if !errors.Is(err, ErrNoSource) || !strings.Contains(err.Error(), tc.wantErr) || ev.Offset != 0 {
					t.Fatalf("%s: Sync = %v, %v; want ErrNoSource saying %q", tc.name, ev.Offset, err, tc.wantErr)
				}
				for _, s := range ev.Sources {
					if s.Used {
						t.Errorf("%s: source %s used in a failed sync", tc.name, s.Server)
					}
				}
				return
			}
			if err != nil || !near(ev.Offset, 2*time.Second, 50*time.Millisecond) {
				t.Fatalf("%s: Sync = %v, %v; want +2 s", tc.name, ev.Offset, err)
			}
		})
	}
}

func TestOfflineFailedResyncKeepsOffset(t *testing.T) {
	ss := fakeServers(t, 2*time.Second, 2*time.Second, 2*time.Second)
	n, base := newTestNTP(ss, nil)
	good, err := n.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ss[1].Update(func(b *ntptest.Behavior) { b.Offset = 300 * time.Second })
	ss[2].Update(func(b *ntptest.Behavior) { b.Offset = -300 * time.Second })
	if _, err := n.Sync(context.Background()); !errors.Is(err, ErrNoSource) {
		t.Fatalf("second sync with two of three disagreeing: %v, want ErrNoSource", err)
	}
	if !errors.Is(n.Err(), ErrNoSource) {
		t.Errorf("Err() = %v, want ErrNoSource", n.Err())
	}
	if got := n.Now().Sub(base.Now()); got != good.Offset {
		t.Errorf("after a failed resync the offset is %v, want the last good %v", got, good.Offset)
	}
	if ev := n.Evidence(); ev.Offset != good.Offset || ev.Error != "" {
		t.Errorf("Evidence() = %+v, want the last good sync", ev)
	}
}

func TestOfflineAllSilent(t *testing.T) {
	ss := fakeServers(t, 0, 0, 0)
	for _, s := range ss {
		s.Update(func(b *ntptest.Behavior) { b.Silent = true })
	}
	t.Run("no_fallback", func(t *testing.T) {
		n, base := newTestNTP(ss, nil)
		ev, err := n.Sync(context.Background())
		if !errors.Is(err, ErrNoSource) {
			t.Fatalf("all silent: Sync error %v, want ErrNoSource", err)
		}
		for _, s := range ss {
			if !strings.Contains(err.Error(), s.Addr()+": no reply within 250ms") {
				t.Errorf("error %q does not name %s and its reason", err, s.Addr())
			}
		}
		if ev.Fallback || ev.Offset != 0 || !n.Now().Equal(base.Now()) {
			t.Errorf("evidence %+v, Now-Base %v: want no fallback, no offset", ev, n.Now().Sub(base.Now()))
		}
	})
	t.Run("fallback", func(t *testing.T) {
		n, base := newTestNTP(ss, func(o *NTPOptions) { o.AllowFallback = true })
		ev, err := n.Sync(context.Background())
		if err != nil {
			t.Fatalf("all silent with AllowFallback: %v", err)
		}
		if !ev.Fallback || ev.Offset != 0 || !strings.Contains(ev.Error, ErrNoSource.Error()) {
			t.Errorf("evidence %+v: want Fallback, zero offset and the reason", ev)
		}
		if !n.Evidence().Fallback || !n.Now().Equal(base.Now()) || n.Err() != nil {
			t.Errorf("Evidence() %+v, Err() %v: want the fallback applied", n.Evidence(), n.Err())
		}
	})
}

func TestOfflineDenyAndRstrNotAskedAgain(t *testing.T) {
	for _, code := range []string{"DENY", "RSTR"} {
		t.Run(code, func(t *testing.T) {
			ss := fakeServers(t, 0, 0, 0)
			ss[0].Update(func(b *ntptest.Behavior) { b.KissCode = code })
			n, base := newTestNTP(ss, nil)
			if _, err := n.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := ss[0].Requests(); got != 1 {
				t.Fatalf("%s server got %d requests in the first sync, want 1", code, got)
			}
			ss[0].Set(ntptest.Good()) // even if it relents, it is not asked
			for range 3 {
				base.Advance(24 * time.Hour)
				base.Set(time.Now())
				ev, err := n.Sync(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if s := ev.Sources[0]; s.Used || !strings.Contains(s.Dropped, "not asked again") {
					t.Errorf("%s server in a later sync: %+v, want skipped", code, s)
				}
			}
			if got := ss[0].Requests(); got != 1 {
				t.Errorf("%s server got %d requests after four syncs, want 1", code, got)
			}
		})
	}
}

func TestOfflineRateBacksOff(t *testing.T) {
	ss := fakeServers(t, 0, 0, 0)
	ss[0].Update(func(b *ntptest.Behavior) { b.KissCode = "RATE" })
	n, base := newTestNTP(ss, func(o *NTPOptions) { o.ResyncInterval = time.Minute })
	t0 := base.Now()
	steps := []struct {
		at       time.Duration // Base time since t0
		requests int           // RATE server's total after the sync
		relent   bool          // the server answers normally from here on
	}{
		{0, 1, false},                 // RATE: back off 2 min
		{time.Minute, 1, false},       // skipped
		{2*time.Minute - 1, 1, false}, // still skipped
		{2 * time.Minute, 2, false},   // asked: RATE again, back off 4 min
		{5 * time.Minute, 2, false},   // skipped
		{6 * time.Minute, 3, true},    // asked, answers: back-off over
		{6 * time.Minute, 4, false},   // asked at once
	}
	for _, st := range steps {
		if st.relent {
			ss[0].Set(ntptest.Good())
		}
		base.Set(t0.Add(st.at))
		ev, err := n.Sync(context.Background())
		if err != nil {
			t.Fatalf("sync at +%v: %v", st.at, err)
		}
		if got := ss[0].Requests(); got != st.requests {
			t.Fatalf("sync at +%v: RATE server has %d requests, want %d (source %+v)", st.at, got, st.requests, ev.Sources[0])
		}
		if s := ev.Sources[0]; !s.Used && !strings.Contains(s.Dropped, "RATE") {
			t.Errorf("sync at +%v: source %+v: want RATE in the reason", st.at, s)
		}
	}
}

// gateWaiter is a Manual clock whose Wait reports each call and returns
// only when the test releases it, then advances the clock.
type gateWaiter struct {
	*Manual
	waits   chan time.Duration
	release chan struct{}
}

func (g *gateWaiter) Wait(ctx context.Context, d time.Duration) error {
	select {
	case g.waits <- d:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.Advance(d)
	return nil
}

func TestOfflineRunResyncsOnInterval(t *testing.T) {
	ss := fakeServers(t, 0, 0, 0)
	g := &gateWaiter{Manual: NewManual(time.Now()), waits: make(chan time.Duration), release: make(chan struct{})}
	n := NewNTP(NTPOptions{Servers: addrs(ss), Timeout: testTimeout, Base: g, ResyncInterval: 10 * time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()

	start := g.Now()
	if d := <-g.waits; d != 10*time.Minute {
		t.Fatalf("Run waited %v, want the 10m interval", d)
	}
	for i := 1; i <= 3; i++ {
		if got := ss[0].Requests(); got != i-1 {
			t.Fatalf("before wait %d ended the server had %d requests, want %d", i, got, i-1)
		}
		g.release <- struct{}{}
		if d := <-g.waits; d != 10*time.Minute { // Run synced and waits again
			t.Fatalf("Run waited %v, want the 10m interval", d)
		}
		if got := ss[0].Requests(); got != i {
			t.Fatalf("after wait %d the server had %d requests, want %d", i, got, i)
		}
		if want := start.Add(time.Duration(i) * 10 * time.Minute); !n.Evidence().SyncedAt.Equal(want) {
			t.Fatalf("sync %d at %v, want %v", i, n.Evidence().SyncedAt, want)
		}
	}
	cancel()
	<-done
}

func TestOfflineRunDisabled(t *testing.T) {
	n := NewNTP(NTPOptions{Servers: []string{"127.0.0.1:1"}, ResyncInterval: -1, Base: NewManual(time.Time{})})
	n.Run(context.Background()) // returns at once, or the test hangs
}

func TestOfflineSyncCancelled(t *testing.T) {
	ss := fakeServers(t, 0)
	ss[0].Update(func(b *ntptest.Behavior) { b.Silent = true })
	n, _ := newTestNTP(ss, func(o *NTPOptions) { o.Timeout = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := n.Sync(ctx); errc <- err }()
	for deadline := time.Now().Add(5 * time.Second); ss[0].Requests() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the query never reached the server")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled Sync: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Sync ignored the cancelled context (query timeout 1h)")
	}
}

func TestOfflineNowDuringSync(t *testing.T) {
	ss := fakeServers(t, time.Second, time.Second, time.Second)
	n, _ := newTestNTP(ss, nil)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				n.Now()
				n.Evidence()
			}
		}
	}()
	for range 5 {
		if _, err := n.Sync(context.Background()); err != nil {
			t.Error(err)
		}
	}
	close(stop)
}

func TestNTPDefaults(t *testing.T) {
	n := NewNTP(NTPOptions{Servers: []string{"a", "b", "a"}})
	o := n.opts
	if o.Timeout != 2*time.Second || o.MaxRootDistance != time.Second || o.Tolerance != 100*time.Millisecond ||
		o.ResyncInterval != 15*time.Minute || o.AllowFallback {
		t.Errorf("defaults: %+v", o)
	}
	if _, ok := o.Base.(System); !ok {
		t.Errorf("default Base %T, want System", o.Base)
	}
	if strings.Join(o.Servers, ",") != "a,b" {
		t.Errorf("servers a,b,a became %v, want a,b", o.Servers)
	}
	if got := NewNTP(NTPOptions{}).opts.Servers; strings.Join(got, ",") != "0.pool.ntp.org,1.pool.ntp.org,2.pool.ntp.org,3.pool.ntp.org" {
		t.Errorf("default servers %v", got)
	}
	if !NewNTP(NTPOptions{}).Evidence().SyncedAt.IsZero() {
		t.Error("Evidence before any sync is not zero")
	}
}

func TestEvidenceJSON(t *testing.T) {
	e := Evidence{Offset: 1500 * time.Microsecond, Sources: []Source{{Server: "x", Offset: 2 * time.Millisecond, RTT: 250 * time.Microsecond, Used: true}}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["offset_ms"] != 1.5 || m["offset_ns"] != 1.5e6 {
		t.Errorf("evidence JSON %s: want offset_ms 1.5 and offset_ns 1500000", b)
	}
	src := m["sources"].([]any)[0].(map[string]any)
	if src["offset_ms"] != 2.0 || src["rtt_ms"] != 0.25 || src["server"] != "x" || src["used"] != true {
		t.Errorf("source JSON %v", src)
	}
	var back Evidence
	if err := json.Unmarshal(b, &back); err != nil || back.Offset != e.Offset || back.Sources[0].RTT != e.Sources[0].RTT {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}
