// Package fake is an in-memory TOTP server for the bench's tests: a
// testbench.Target (and LabClock, and Dater) whose policies are fields.
// It computes codes with pquerna/otp, not with the emulator, so a bug in
// one cannot hide in the other, and it is safe for concurrent use, as the
// bench's targets must be.
//
// Its window is in steps (Back, Forward: the server at step s accepts the
// codes of steps s-Back..s+Forward) or, when Seconds is set, in seconds as
// Ruby's ROTP takes it (verify(code, drift_behind: Behind, drift_ahead:
// Ahead): the codes of the steps from floor((t-Behind)/P) to
// floor((t+Ahead)/P), t the server's time in whole seconds). Offset is the
// server clock's error, sub-second values included; Date answers the
// server's time to the second, as an HTTP Date header does.
package fake

import (
	"context"
	"encoding/base32"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/totpemu/totpemu/testbench/internal/qrpng"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/testbench"
)

// Period is the fake's step, in seconds.
const Period = 30

// Server is the fake. Set its fields before the bench starts; read the
// counters after it ends (or under Lock).
type Server struct {
	Back, Forward int           // window in steps
	Seconds       bool          // window in seconds instead: Behind, Ahead
	Behind, Ahead time.Duration // whole seconds
	Replay        string        // "none", "code" or "step"
	Lockout       int           // consecutive refusals that lock a device; 0: none
	LockoutFor    time.Duration // 0: 5 minutes
	BindCodes     int           // 0, 1 or 2
	Offset        time.Duration // the server clock minus the truth
	Resync        bool          // re-centre a device's window on its last success's offset
	ThrottleEvery int           // every n-th request answers Throttled
	RetryAfter    time.Duration // with it
	FlakyEvery    int           // every n-th request answers Error
	LockPerUser   bool          // a lock covers every device
	NoDate        bool          // Date answers no time (a server without a Date header)
	DateOffset    time.Duration // added to Date only (a proxy's clock)
	URIParams     string        // appended to the enrollment's otpauth URI, e.g. "&period=600"
	QRImage       bool          // also hand the URI over as a QR image (PNG)
	QROther       bool          // with QRImage: the QR code holds another secret than the URI
	ManualOther   bool          // the manual key is another secret than the URI's
	ReplayFails   bool          // a refused replay counts as a failure towards the lockout
	ReplayRace    bool          // in a burst, every code is judged before any use is recorded (TOCTOU)
	LockoutRace   bool          // in a burst, failures are counted only after every code was judged
	BindReuse     bool          // a bind's codes are not recorded as used

	// Clock is the true clock: a *clock.Manual (the lab clock) or, for
	// real-time tests, any clock.
	Clock clock.Clock

	mu       sync.Mutex
	rnd      *rand.Rand
	devices  map[string]*device
	Requests int // bind and verify requests, faults included
	Codes    int // codes submitted, faults included
	userLock time.Time
}

type device struct {
	secret   string
	bound    bool
	failures int
	locked   time.Time
	hasLast  bool
	last     int64
	used     map[string]bool
	drift    int64
}

// New returns a fake with the usual policy: window 1 back and 1 forward,
// replay by step, lockout after 5, bind with 2 codes, on a manual clock
// at 2026-03-01 12:00:07 UTC.
func New() *Server {
	return &Server{Back: 1, Forward: 1, Replay: "step", Lockout: 5, BindCodes: 2,
		Clock: clock.NewManual(time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC))}
}

// Describe names the fake.
func (f *Server) Describe() string { return "fake" }

// Capabilities says how many codes bind takes.
func (f *Server) Capabilities() testbench.Capabilities {
	return testbench.Capabilities{BindCodes: f.BindCodes, FreshEnrollments: true}
}

// LabNow reads the true clock.
func (f *Server) LabNow(context.Context) (time.Time, error) { return f.Clock.Now(), nil }

// SetLabClock sets the true clock; it must be a *clock.Manual.
func (f *Server) SetLabClock(_ context.Context, t time.Time) error {
	m, ok := f.Clock.(*clock.Manual)
	if !ok {
		return fmt.Errorf("the fake's clock is not a lab clock")
	}
	m.Set(t)
	return nil
}

// Date is the server's time to the second, as a Date header says it
// (zero with NoDate).
func (f *Server) Date(context.Context) (time.Time, error) {
	if f.NoDate {
		return time.Time{}, nil
	}
	return f.Clock.Now().Add(f.Offset + f.DateOffset).Truncate(time.Second), nil
}

// Enroll makes a device with a fresh secret.
func (f *Server) Enroll(_ context.Context, account string) (*testbench.Enrollment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rnd == nil {
		f.rnd = rand.New(rand.NewPCG(1, 2))
		f.devices = map[string]*device{}
	}
	b := make([]byte, 20)
	for i := range b {
		b[i] = byte(f.rnd.IntN(256))
	}
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	id := fmt.Sprintf("dev%d", len(f.devices)+1)
	f.devices[id] = &device{secret: secret, bound: f.BindCodes == 0, used: map[string]bool{}}
	u := "otpauth://totp/Fake:" + url.PathEscape(account) + "?secret=" + secret + "&issuer=Fake" + f.URIParams
	e := &testbench.Enrollment{ID: id, Account: account, Issuer: "Fake", URI: u, ManualKey: secret}
	other := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // the RFC 6238 seed: not this device's
	if f.ManualOther {
		e.ManualKey = other
	}
	if f.QRImage {
		payload := u
		if f.QROther {
			payload = strings.Replace(u, secret, other, 1)
		}
		png, err := qrpng.Encode(payload)
		if err != nil {
			return nil, err
		}
		e.QRImage = png
	}
	return e, nil
}

// CodeAt is the code of step for the enrollment with id (for tests).
func (f *Server) CodeAt(id string, step int64) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return codeAt(f.devices[id].secret, step)
}

func codeAt(secret string, step int64) string {
	if step < 0 {
		return ""
	}
	c, err := totp.GenerateCodeCustom(secret, time.Unix(step*Period, 0), totp.ValidateOpts{Period: Period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		panic(err)
	}
	return c
}

// fault answers a throttle or an error every so many requests.
func (f *Server) fault(n int) (testbench.Verdict, bool) {
	f.Requests++
	f.Codes += n
	if f.ThrottleEvery > 0 && f.Requests%f.ThrottleEvery == 0 {
		return testbench.Verdict{Outcome: testbench.Throttled, Reason: "slow down", RetryAfter: f.RetryAfter}, true
	}
	if f.FlakyEvery > 0 && f.Requests%f.FlakyEvery == 0 {
		return testbench.Verdict{Outcome: testbench.Error, Reason: "500 internal"}, true
	}
	return testbench.Verdict{}, false
}

// Bind binds a device with BindCodes codes, oldest first.
func (f *Server) Bind(_ context.Context, e *testbench.Enrollment, codes []string) testbench.Verdict {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.fault(len(codes)); ok {
		return v
	}
	if len(codes) != f.BindCodes {
		return testbench.Verdict{Outcome: testbench.Error, Reason: "wrong number of codes"}
	}
	return f.check(f.devices[e.ID], true, codes)
}

// Verify judges one code.
func (f *Server) Verify(_ context.Context, e *testbench.Enrollment, code string) testbench.Verdict {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.fault(1); ok {
		return v
	}
	return f.check(f.devices[e.ID], false, []string{code})
}

// window returns the steps accepted at server time st for d.
func (f *Server) window(st time.Time, d *device) (lo, hi int64) {
	if f.Seconds {
		sec := st.Unix()
		lo = floorDiv(sec-int64(f.Behind/time.Second), Period)
		hi = floorDiv(sec+int64(f.Ahead/time.Second), Period)
	} else {
		cur := floorDiv(st.Unix(), Period)
		lo, hi = cur-int64(f.Back), cur+int64(f.Forward)
	}
	return lo + d.drift, hi + d.drift
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (f *Server) check(d *device, bind bool, codes []string) testbench.Verdict {
	now := f.Clock.Now()
	if d == nil {
		return testbench.Verdict{Outcome: testbench.Error, Reason: "unknown device"}
	}
	if now.Before(d.locked) {
		return testbench.Verdict{Outcome: testbench.Locked, RetryAfter: d.locked.Sub(now)}
	}
	if f.LockPerUser && now.Before(f.userLock) {
		return testbench.Verdict{Outcome: testbench.Locked, RetryAfter: f.userLock.Sub(now)}
	}
	if bind == d.bound {
		return testbench.Verdict{Outcome: testbench.Error, Reason: "bound state"}
	}
	st := now.Add(f.Offset)
	lo, hi := f.window(st, d)
	match, found := int64(0), false
	replay := 0 // codes that matched a step but were refused as replays
	for k := lo; k <= hi && !found; k++ {
		ok := codeAt(d.secret, k) == codes[len(codes)-1]
		if len(codes) == 2 {
			ok = ok && codeAt(d.secret, k-1) == codes[0]
		}
		if !ok {
			continue
		}
		replay++
		first := k - int64(len(codes)-1)
		switch f.Replay {
		case "step":
			ok = !d.hasLast || first > d.last
		case "code":
			for _, c := range codes {
				ok = ok && !d.used[c]
			}
		}
		if ok {
			match, found = k, true
		}
	}
	if found {
		replay = 0
	}
	if !found && (replay == 0 || f.ReplayFails) {
		d.failures++
		if f.Lockout > 0 && d.failures >= f.Lockout {
			d.locked = now.Add(f.lockFor())
			f.userLock = d.locked
			d.failures = 0
		}
	}
	if !found {
		return testbench.Verdict{Outcome: testbench.Rejected, Reason: "wrong"}
	}
	d.failures = 0
	d.bound = true
	if !bind || !f.BindReuse {
		d.hasLast, d.last = true, match
		for _, c := range codes {
			d.used[c] = true
		}
	}
	if f.Resync {
		d.drift = match - floorDiv(st.Unix(), Period)
	}
	return testbench.Verdict{Outcome: testbench.Accepted}
}

// VerifyBurst judges codes released together. A correct fake judges them
// one after another; with ReplayRace every code is judged against the
// uses recorded before the burst, with LockoutRace against the failure
// count and lock before it (the counts are written after), as servers
// whose check and record are two steps do under a real race.
func (f *Server) VerifyBurst(_ context.Context, e *testbench.Enrollment, codes []string) testbench.BurstResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	res := testbench.BurstResult{Verdicts: make([]testbench.Verdict, len(codes)), Method: "fake burst"}
	d := f.devices[e.ID]
	if d == nil {
		for i := range codes {
			res.Verdicts[i] = testbench.Verdict{Outcome: testbench.Error, Reason: "unknown device"}
		}
		return res
	}
	hasLast, last, used := d.hasLast, d.last, maps.Clone(d.used)
	failures, locked := d.failures, d.locked
	rejected := 0
	for i, c := range codes {
		if v, ok := f.fault(1); ok {
			res.Verdicts[i] = v
			continue
		}
		if f.ReplayRace {
			d.hasLast, d.last, d.used = hasLast, last, maps.Clone(used)
		}
		if f.LockoutRace {
			d.failures, d.locked = failures, locked
		}
		res.Verdicts[i] = f.check(d, false, []string{c})
		if res.Verdicts[i].Outcome == testbench.Rejected {
			rejected++
		}
	}
	if f.LockoutRace && f.Lockout > 0 && failures+rejected >= f.Lockout {
		d.locked = f.Clock.Now().Add(f.lockFor())
		d.failures = 0
	}
	return res
}

func (f *Server) lockFor() time.Duration {
	if f.LockoutFor == 0 {
		return 5 * time.Minute
	}
	return f.LockoutFor
}
