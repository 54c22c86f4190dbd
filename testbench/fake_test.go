package testbench

import (
	"context"
	"encoding/base32"
	"fmt"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/totpemu/totpemu/clock"
)

// fakeTarget is a fast in-memory TOTP server for the scenario tests. It
// computes codes with pquerna/otp, not with the emulator, so a bug in one
// cannot hide in the other.
type fakeTarget struct {
	back, forward int
	replay        string // none, code, step
	lockout       int    // 0: none
	bindCodes     int    // 0, 1, 2
	offset        time.Duration
	throttleEvery int // every n-th request answers Throttled
	retryAfter    time.Duration
	flakyEvery    int  // every n-th request answers Error
	lockPerUser   bool // the lock covers every device

	clk      *clock.Manual
	real     clock.Clock // when set, the server's clock instead of clk (real-time tests)
	rnd      *rand.Rand
	devices  map[string]*fakeDevice
	requests int
	codes    int // codes submitted, throttled and failed ones included
	userLock time.Time
}

type fakeDevice struct {
	secret   string
	bound    bool
	failures int
	locked   time.Time
	hasLast  bool
	last     int64
	used     map[string]bool
}

func newFake() *fakeTarget {
	return &fakeTarget{back: 1, forward: 1, replay: "step", lockout: 5, bindCodes: 2,
		clk: clock.NewManual(time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC)), rnd: rand.New(rand.NewPCG(1, 2)),
		devices: map[string]*fakeDevice{}}
}

func (f *fakeTarget) Describe() string { return "fake" }

func (f *fakeTarget) Capabilities() Capabilities {
	return Capabilities{BindCodes: f.bindCodes, FreshEnrollments: true}
}

func (f *fakeTarget) LabNow(context.Context) (time.Time, error) { return f.clk.Now(), nil }

func (f *fakeTarget) SetLabClock(_ context.Context, t time.Time) error { f.clk.Set(t); return nil }

func (f *fakeTarget) Enroll(_ context.Context, account string) (*Enrollment, error) {
	b := make([]byte, 20)
	for i := range b {
		b[i] = byte(f.rnd.IntN(256))
	}
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	id := fmt.Sprintf("dev%d", len(f.devices)+1)
	f.devices[id] = &fakeDevice{secret: secret, bound: f.bindCodes == 0, used: map[string]bool{}}
	u := "otpauth://totp/Fake:" + url.PathEscape(account) + "?secret=" + secret + "&issuer=Fake"
	return &Enrollment{ID: id, Account: account, Issuer: "Fake", URI: u, ManualKey: secret}, nil
}

func (f *fakeTarget) codeAt(secret string, step int64) string {
	c, err := totp.GenerateCodeCustom(secret, time.Unix(step*30, 0), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		panic(err)
	}
	return c
}

// fault answers a throttle or an error every so many requests.
func (f *fakeTarget) fault(n int) (Verdict, bool) {
	f.requests++
	f.codes += n
	if f.throttleEvery > 0 && f.requests%f.throttleEvery == 0 {
		return Verdict{Outcome: Throttled, Reason: "slow down", RetryAfter: f.retryAfter}, true
	}
	if f.flakyEvery > 0 && f.requests%f.flakyEvery == 0 {
		return Verdict{Outcome: Error, Reason: "500 internal"}, true
	}
	return Verdict{}, false
}

func (f *fakeTarget) Bind(_ context.Context, e *Enrollment, codes []string) Verdict {
	if v, ok := f.fault(len(codes)); ok {
		return v
	}
	if len(codes) != f.bindCodes {
		return Verdict{Outcome: Error, Reason: "wrong number of codes"}
	}
	return f.check(f.devices[e.ID], true, codes)
}

func (f *fakeTarget) Verify(_ context.Context, e *Enrollment, code string) Verdict {
	if v, ok := f.fault(1); ok {
		return v
	}
	return f.check(f.devices[e.ID], false, []string{code})
}

func (f *fakeTarget) check(d *fakeDevice, bind bool, codes []string) Verdict {
	now := f.clk.Now()
	if f.real != nil {
		now = f.real.Now()
	}
	if d == nil {
		return Verdict{Outcome: Error, Reason: "unknown device"}
	}
	if now.Before(d.locked) {
		return Verdict{Outcome: Locked, RetryAfter: d.locked.Sub(now)}
	}
	if f.lockPerUser && now.Before(f.userLock) {
		return Verdict{Outcome: Locked, RetryAfter: f.userLock.Sub(now)}
	}
	if bind == d.bound {
		return Verdict{Outcome: Error, Reason: "bound state"}
	}
	cur := int64(now.Add(f.offset).Unix()) / 30
	match, found := int64(0), false
	for k := cur - int64(f.back); k <= cur+int64(f.forward) && !found; k++ {
		ok := f.codeAt(d.secret, k) == codes[len(codes)-1]
		if len(codes) == 2 {
			ok = ok && f.codeAt(d.secret, k-1) == codes[0]
		}
		if !ok {
			continue
		}
		first := k - int64(len(codes)-1)
		switch f.replay {
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
	if !found {
		d.failures++
		if f.lockout > 0 && d.failures >= f.lockout {
			d.locked = now.Add(5 * time.Minute)
			f.userLock = d.locked
			d.failures = 0
		}
		return Verdict{Outcome: Rejected, Reason: "wrong"}
	}
	d.failures = 0
	d.bound = true
	d.hasLast, d.last = true, match
	for _, c := range codes {
		d.used[c] = true
	}
	return Verdict{Outcome: Accepted}
}
