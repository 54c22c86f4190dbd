package webapp

import (
	"crypto/rand"
	"encoding/base32"
	"math"
	"net/url"
	"time"

	"github.com/pquerna/otp/totp"
)

// outcome is a check's verdict.
type outcome int

const (
	rejected outcome = iota // wrong, replayed or throttled: all look alike
	accepted
	locked
)

type verdict struct {
	outcome    outcome
	retryAfter time.Duration // with locked: what is left of the lock
}

// judgement is what codes are to a secret at an instant.
type judgement int

const (
	wrong    judgement = iota // no step of the window has them
	replayed                  // a step has them, not after the last accepted one
	matched
)

// check judges codes (one, or two consecutive ones to bind) for u against
// secret at c.now, and records the outcome: the lock, the throttle, the
// failure counts, the step used. a.mu must be held.
func (c *call) check(u *user, secret string, codes ...string) verdict {
	a := c.a
	a.codes.Add(int64(len(codes)))
	now := c.now
	if !u.lockedUntil.IsZero() {
		if now.Before(u.lockedUntil) {
			return verdict{outcome: locked, retryAfter: u.lockedUntil.Sub(now)}
		}
		u.lockedUntil, u.failures = time.Time{}, 0
	}
	if a.opts.Throttle && now.Before(u.throttleUntil) {
		return verdict{outcome: rejected} // silent: not a failure either
	}
	last, hasLast := c.lastStep(u)
	j, k := a.judge(secret, now, last, hasLast, codes)
	switch j {
	case matched:
		u.failures, u.throttleFails, u.throttleUntil = 0, 0, time.Time{}
		c.recordStep(u, k)
		return verdict{outcome: accepted}
	case replayed:
		return verdict{outcome: rejected} // a refused replay is no failed guess
	}
	u.failures++
	if a.opts.Lockout > 0 && u.failures >= a.opts.Lockout {
		u.lockedUntil, u.failures = now.Add(a.opts.LockFor), 0
	}
	if a.opts.Throttle {
		u.throttleFails++
		u.throttleUntil = now.Add(throttleDelay(u.throttleFails))
	}
	return verdict{outcome: rejected}
}

// throttleDelay is django-otp's: 2^(n-1) seconds after the n-th failure.
func throttleDelay(n int) time.Duration {
	return time.Second << min(n-1, 30)
}

// lastStep is the replay record for u that applies to c: the session's
// with PerSessionReplay, else the user's.
func (c *call) lastStep(u *user) (int64, bool) {
	if c.a.opts.PerSessionReplay {
		r, ok := c.s.used[u.name]
		if !ok || r.gen != u.gen {
			return 0, false
		}
		return r.step, true
	}
	return u.last, u.hasLast
}

func (c *call) recordStep(u *user, k int64) {
	if c.a.opts.PerSessionReplay {
		if c.s.used == nil {
			c.s.used = map[string]usedStep{}
		}
		c.s.used[u.name] = usedStep{gen: u.gen, step: k}
		return
	}
	u.last, u.hasLast = k, true
}

// judge matches codes against secret's window at now: one code at a step
// of the window, or two consecutive codes, the second at a step k of the
// window and the first at k-1 (which may be just before it). A match whose
// first step is not after last (when hasLast) is a replay. It returns the
// step of the (second) code matched.
func (a *App) judge(secret string, now time.Time, last int64, hasLast bool, codes []string) (judgement, int64) {
	for _, code := range codes {
		if !wellFormed(code) {
			return wrong, 0
		}
	}
	if len(codes) == 2 && codes[0] == codes[1] {
		return wrong, 0 // never two consecutive codes
	}
	cur := floorDiv(now.Unix(), period)
	lo, hi := cur-int64(a.opts.Back), cur+int64(a.opts.Forward)
	n := len(codes)
	prev := a.codeAt(secret, lo-1)
	replay := false
	for k := lo; k <= hi; k++ {
		c := a.codeAt(secret, k)
		hit := same(c, codes[n-1]) && (n == 1 || same(prev, codes[0]))
		prev = c
		if !hit {
			continue
		}
		if first := k - int64(n-1); !hasLast || first > last {
			return matched, k
		}
		replay = true
	}
	if replay {
		return replayed, 0
	}
	return wrong, 0
}

// codeAt is secret's code at step k, computed by pquerna/otp at the step's
// first second; "" before the epoch or on error (matching nothing).
func (a *App) codeAt(secret string, k int64) string {
	if k < 0 || k > math.MaxInt64/period {
		return ""
	}
	c, err := totp.GenerateCodeCustom(secret, time.Unix(k*period, 0), a.vopts)
	if err != nil {
		return ""
	}
	return c
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// wellFormed reports whether code is 6 ASCII digits.
func wellFormed(code string) bool {
	if len(code) != 6 {
		return false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// newSecret is 160 random bits in unpadded base32.
func newSecret() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// otpauthURI is the key URI of name's secret.
func otpauthURI(name, secret string) string {
	return "otpauth://totp/" + issuer + ":" + url.PathEscape(name) + "?secret=" + secret + "&issuer=" + issuer
}
