package refserver

import (
	"context"
	"crypto/subtle"
	"fmt"
	"math"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/totpemu/totpemu/clock"
)

// outcome is the verdict on a bind or verify request.
type outcome int

const (
	accepted outcome = iota
	rejected
	locked
	notBound
	alreadyBound
	gone
)

// verdict is an outcome and, when locked, how long the lock still lasts.
type verdict struct {
	outcome    outcome
	retryAfter time.Duration
}

// stepOf returns the step of t: floor(unix seconds / period).
func (s *Server) stepOf(t time.Time) int64 {
	sec := t.Unix()
	p := int64(s.opts.Period)
	q := sec / p
	if sec%p != 0 && sec < 0 {
		q--
	}
	return q
}

// window is the steps accepted at server time now, before a device's
// drift: the step window around now's step, or the steps of the window in
// seconds (Options.WindowInSeconds).
func (s *Server) window(now time.Time) (lo, hi int64) {
	if s.opts.WindowInSeconds {
		return s.stepOf(now.Add(-s.opts.WindowSecondsBack)), s.stepOf(now.Add(s.opts.WindowSecondsForward))
	}
	cur := s.stepOf(now)
	return cur - int64(s.opts.WindowBack), cur + int64(s.opts.WindowForward)
}

// deviceCode is d's code of step k from its cache, computed with codeAt on
// a miss. d.mu must be held.
func (s *Server) deviceCode(d *device, k int64) (string, bool) {
	e := &d.codes[uint64(k)%codeCacheSize]
	if e.ok && e.step == k {
		return e.code, true
	}
	c, ok := s.codeAt(d.secret, k)
	if ok {
		*e = cachedCode{step: k, code: c, ok: true}
	}
	return c, ok
}

// codeAt is the code of step k, computed by pquerna/otp at the step's first
// second. Steps before the Unix epoch have no code.
func (s *Server) codeAt(secret secretKey, k int64) (string, bool) {
	if k < 0 || k > math.MaxInt64/int64(s.opts.Period) {
		return "", false
	}
	c, err := totp.GenerateCodeCustom(string(secret), time.Unix(k*int64(s.opts.Period), 0), s.vopts)
	if err != nil {
		return "", false
	}
	return c, true
}

func validateOpts(o Options) totp.ValidateOpts {
	alg := otp.AlgorithmSHA1
	switch o.Algorithm {
	case "SHA256":
		alg = otp.AlgorithmSHA256
	case "SHA512":
		alg = otp.AlgorithmSHA512
	}
	return totp.ValidateOpts{Period: uint(o.Period), Digits: otp.Digits(o.Digits), Algorithm: alg}
}

// same compares two codes in constant time.
func same(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// wellFormed reports whether code is exactly digits ASCII digits.
func wellFormed(code string, digits int) bool {
	if len(code) != digits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// check judges codes for device d: one code to verify a bound device, or
// to bind it (bind set) with one code or two consecutive ones. It is a
// compare-and-set on d's state: lock, bound flag, last step, used codes,
// drift, failure count and throttle change together under d.mu. The
// codes must be well formed already. With a race flaw (Options.Flaws) it
// is checkRacy, which is not atomic on purpose; ctx is only for its pause.
func (s *Server) check(ctx context.Context, d *device, bind bool, codes ...string) verdict {
	if s.opts.Flaws.races() {
		return s.checkRacy(ctx, d, bind, codes)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := s.Now()
	if v, ok := s.admit(d, bind, now); !ok {
		return v
	}
	j, match, cur := s.judge(d, now, codes)
	if j != matched {
		return s.refuse(d, now, j)
	}
	return s.accept(d, bind, match, cur, codes)
}

// checkRacy is check with the race flaws, deliberately not atomic: d.mu
// is released for Flaws.Pause, a real pause (the lab clock is virtual),
// between the time of check and the time of use.
//
//   - TOCTOUReplay: the codes are judged against the replay state before
//     the pause and their use recorded after it, so concurrent submissions
//     of one code all pass the check before any records the use. Refusals
//     are counted before the pause, as check does (unless LockoutRace).
//   - LockoutRace: the lock is checked before the pause (the slow verify)
//     and the failure counted after it, so a burst of wrong codes all pass
//     the lock check before the count reaches Lockout. Alone, the codes
//     are judged and recorded after the pause, atomically: no replay race.
func (s *Server) checkRacy(ctx context.Context, d *device, bind bool, codes []string) verdict {
	f := s.opts.Flaws
	d.mu.Lock()
	now := s.Now()
	if v, ok := s.admit(d, bind, now); !ok {
		d.mu.Unlock()
		return v
	}
	var j judgement
	var match, cur int64
	if f.TOCTOUReplay {
		j, match, cur = s.judge(d, now, codes)
		if j != matched && !f.LockoutRace {
			v := s.refuse(d, now, j)
			d.mu.Unlock()
			return v
		}
	}
	d.mu.Unlock()
	_ = clock.System{}.Wait(ctx, f.pause()) // a done ctx only shortens the gap
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.deleted {
		return verdict{outcome: gone}
	}
	if !f.TOCTOUReplay {
		j, match, cur = s.judge(d, now, codes)
	}
	if j != matched {
		return s.refuse(d, now, j)
	}
	return s.accept(d, bind, match, cur, codes)
}

// admit checks d's state before its codes are judged at now: deleted,
// locked (an expired lock is lifted and the count reset), bound,
// throttled (Options.ThrottleFactor). It reports false with the verdict
// to answer. d.mu must be held.
func (s *Server) admit(d *device, bind bool, now time.Time) (verdict, bool) {
	if d.deleted {
		return verdict{outcome: gone}, false
	}
	if !d.lockedUntil.IsZero() {
		if now.Before(d.lockedUntil) {
			return verdict{outcome: locked, retryAfter: d.lockedUntil.Sub(now)}, false
		}
		d.lockedUntil = time.Time{}
		d.failures = 0
	}
	if bind && d.bound {
		return verdict{outcome: alreadyBound}, false
	}
	if !bind && !d.bound {
		return verdict{outcome: notBound}, false
	}
	if s.throttled(d, now) {
		// Silent, as django-otp's: the answer to a wrong code, and no
		// failure counted (its verify_is_allowed comes first and skips
		// throttle_increment).
		return verdict{outcome: rejected}, false
	}
	return verdict{}, true
}

// throttled reports whether d's codes are refused unjudged at now by the
// silent exponential throttle (Options.ThrottleFactor): after its n-th
// refusal in a row, until ThrottleFactor * 2^(n-1) after that refusal.
// d.mu must be held.
func (s *Server) throttled(d *device, now time.Time) bool {
	if s.opts.ThrottleFactor <= 0 || d.tfailures == 0 {
		return false
	}
	return now.Sub(d.tlastFail) < throttleDelay(s.opts.ThrottleFactor, d.tfailures)
}

// throttleDelay is factor * 2^(n-1) for n >= 1 failures in a row, as
// django-otp's delay_required, saturating at the longest Duration.
func throttleDelay(factor time.Duration, n int) time.Duration {
	if n <= 0 || factor <= 0 {
		return 0
	}
	if n-1 >= 62 || factor > math.MaxInt64>>(n-1) {
		return math.MaxInt64
	}
	return factor << (n - 1)
}

// judgement is what codes are to a device at an instant.
type judgement int

const (
	wrong    judgement = iota // no step of the window has them
	replayed                  // a step has them, but the replay policy refuses it
	matched                   // accepted at a step
)

// judge matches codes against d's window at now: matched at step match,
// replayed or wrong; cur is now's step. d.mu must be held.
func (s *Server) judge(d *device, now time.Time, codes []string) (j judgement, match, cur int64) {
	cur = s.stepOf(now)
	lo, hi := s.window(now)
	lo, hi = lo+d.drift, hi+d.drift
	if s.opts.Replay == ReplayCode {
		d.pruneUsed(lo)
	}
	// Every step of the window is computed and compared, matched or not,
	// so the time taken does not depend on where a code matched.
	found, replay := false, false
	var prev string
	prevOK := false
	if len(codes) == 2 {
		prev, prevOK = s.deviceCode(d, lo-1)
	}
	for k := lo; k <= hi; k++ {
		c, ok := s.deviceCode(d, k)
		hit := same(c, codes[len(codes)-1]) && ok
		if len(codes) == 2 {
			// Two consecutive codes: the second at step k of the window,
			// the first at k-1 (which may be just before the window).
			first := same(prev, codes[0]) && prevOK
			hit = hit && first
			prev, prevOK = c, ok
		}
		if hit && !found {
			if s.admissible(d, k, codes) {
				match, found = k, true
			} else {
				replay = true
			}
		}
	}
	switch {
	case len(codes) == 2 && codes[0] == codes[1]:
		return wrong, 0, cur // a repeated code is never two consecutive ones
	case found:
		return matched, match, cur
	case replay:
		return replayed, 0, cur
	}
	return wrong, 0, cur
}

// refuse answers a refusal and counts it towards the lockout: a wrong
// code always, a replay when Options.ReplayCountsAsFailure. With the
// throttle on, every refusal judged (a wrong code or a replay, as
// django-otp's throttle_increment follows any failed verify_token)
// counts towards it at now. d.mu must be held.
func (s *Server) refuse(d *device, now time.Time, j judgement) verdict {
	if s.opts.ThrottleFactor > 0 {
		d.tfailures++
		d.tlastFail = now
	}
	if j == wrong || s.opts.ReplayCountsAsFailure {
		d.failures++
		if s.opts.Lockout > 0 && d.failures >= s.opts.Lockout {
			d.lockedUntil = now.Add(s.opts.LockoutFor)
			d.failures = 0
		}
	}
	return verdict{outcome: rejected}
}

// accept records codes accepted at step match (cur is the step of the
// check's instant): the counts (lockout and throttle) reset, the device
// bound, the use recorded for the replay policy (not for a bind with
// Flaws.BindReuse), the drift with Resync (resync). d.mu must be held.
func (s *Server) accept(d *device, bind bool, match, cur int64, codes []string) verdict {
	d.failures = 0
	d.tfailures, d.tlastFail = 0, time.Time{}
	d.bound = true
	if !bind || !s.opts.Flaws.BindReuse {
		d.hasLast, d.lastStep = true, match
		if s.opts.Replay == ReplayCode {
			if d.used == nil {
				d.used = map[string]int64{}
			}
			for i, c := range codes {
				d.used[c] = match - int64(len(codes)-1-i)
			}
		}
	}
	if s.opts.Resync {
		s.resync(d, match-cur)
	}
	return verdict{outcome: accepted}
}

// resync moves d's drift after a success at offset off from the current
// step (Options.Resync): to off, once ResyncAfter successes in a row have
// been at off; bounded by ResyncMax either way; never down with
// ResyncForwardOnly. d.mu must be held.
func (s *Server) resync(d *device, off int64) {
	if d.syncRun == 0 || d.syncOffset != off {
		d.syncOffset, d.syncRun = off, 0 // another offset: the count restarts
	}
	if d.syncRun < s.opts.ResyncAfter {
		d.syncRun++ // counted up to ResyncAfter only
	}
	if d.syncRun < s.opts.ResyncAfter {
		return
	}
	if m := int64(s.opts.ResyncMax); m > 0 {
		off = max(-m, min(off, m))
	}
	if s.opts.ResyncForwardOnly && off < d.drift {
		return
	}
	d.drift = off
}

// admissible applies the replay policy to a code matched at step k.
func (s *Server) admissible(d *device, k int64, codes []string) bool {
	switch s.opts.Replay {
	case ReplayStep:
		first := k - int64(len(codes)-1)
		return !d.hasLast || first > d.lastStep
	case ReplayCode:
		for _, c := range codes {
			if _, ok := d.used[c]; ok {
				return false
			}
		}
	}
	return true
}

// pruneUsed forgets accepted codes whose step is before lo-1: they can no
// longer be accepted at their own step, so remembering them only grows
// the map.
func (d *device) pruneUsed(lo int64) {
	for c, k := range d.used {
		if k < lo-1 {
			delete(d.used, c)
		}
	}
}

// String describes a verdict for tests and logs.
func (v verdict) String() string {
	names := [...]string{"accepted", "rejected", "locked", "not bound", "already bound", "gone"}
	if v.outcome == locked {
		return fmt.Sprintf("locked for %v", v.retryAfter)
	}
	return names[v.outcome]
}
