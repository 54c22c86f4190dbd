package testbench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/totpemu/totpemu/emulator"
)

// Pool limits.
const (
	maxBindCandidates = 64
	leaseRetries      = 600 // waits for a free enrollment before giving up
)

// usedBy marks how a code was accepted on an enrollment (a bit set).
type usedBy uint8

const (
	usedByBind usedBy = 1 << iota
	usedByVerify
)

// device is one enrollment and its books: which codes and steps it has
// consumed, its refusals, its lock. The bench keeps the books (under
// bench.mu); a device serves one probe at a time (busy).
type device struct {
	n        int
	enr      *Enrollment
	acct     *emulator.Account
	bound    bool
	hasBind  bool
	bindHi   int64 // step of the bind's last code
	hasAcc   bool
	accHi    int64 // highest step accepted by verify
	used     map[string]usedBy
	fails    int       // refusals since the last success
	lockedTo time.Time // locked until then (zero: not locked)
	dead     bool      // locked for good (no end said), or its bind failed
	pristine bool      // no verify accepted yet: its window is where the bind left it
	oldBound bool      // bound with the oldest codes accepted (a server that re-centres on drift moves its window)
	busy     bool
	account  string    // the account enrolled (a test user's name, with Capabilities.Accounts)
	tfails   int       // refusals in a row (a silent throttle's count)
	lastFail time.Time // when the last refusal came
	rawSend  bool      // the next send does not wait out a throttle (it measures one)
	slot     bool      // a placeholder holding a test user's account while it is enrolled
	holder   string    // the scenario that leased it, while busy
}

func (d *device) code(step int64) string {
	if step < 0 {
		return ""
	}
	return d.acct.CodeAtStep(uint64(step))
}

// cleanFromLocked is the first step whose codes nothing consumed on d can
// explain a refusal of (MEASURING.md: replay by code and by step, the
// steps a bind consumes), given what the target has shown.
func (b *bench) cleanFromLocked(d *device) int64 {
	if b.facts.notStepStrict {
		return -1 << 62
	}
	hi := int64(-1 << 62)
	if d.hasBind {
		hi = max(hi, d.bindHi)
	}
	if d.hasAcc {
		hi = max(hi, d.accHi)
	}
	return hi + 1
}

// freshCodeLocked reports whether code was never accepted on d, or the
// target has shown it accepts such a code again.
func (b *bench) freshCodeLocked(d *device, code string) bool {
	u := d.used[code]
	return (u&usedByBind == 0 || b.facts.bindReusable) && (u&usedByVerify == 0 || b.facts.noCodeReplay)
}

// cleanStepLocked is the first step at or after n whose code is clean on d.
func (b *bench) cleanStepLocked(d *device, n int64) int64 {
	n = max(n, b.cleanFromLocked(d))
	for !b.freshCodeLocked(d, d.code(n)) {
		n++
	}
	return n
}

// refusalsLeftLocked is how many more refusals d can have answered as
// refusals: with the lockout count L known, L in all (the L-th locks it
// for what follows); not known, one.
func (b *bench) refusalsLeftLocked(d *device, lf lockoutFacts) int {
	if b.throttle != nil {
		// Each refusal doubles the next wait: move on early.
		left := throttleRefusals - d.tfails
		if lf.limit > 0 {
			left = min(left, lf.limit-d.fails)
		}
		return left
	}
	switch {
	case lf.none:
		return 1 << 30
	case lf.limit > 0:
		return lf.limit - d.fails
	}
	return 1 - d.fails
}

// lease asks the pool for an enrollment.
type lease struct {
	pristine bool // its window must be where its bind left it (edge probes)
	refusals int  // refusals it must be able to take
	oldest   bool // bind a fresh one with the oldest codes accepted (upper edges)
	// at is the instant d can serve the probe; ok false when it cannot.
	// nil: as soon as possible.
	at func(d *device, now time.Time) (time.Time, bool)
	// noFresh forbids enrolling for it (a probe that may as well wait);
	// fresh prefers a fresh enrollment while the budget allows;
	// oldBound asks for one bound with the oldest codes (and no fresh one),
	// notOld for one that is not (those are kept for upper edges).
	noFresh, fresh, oldBound, notOld bool
}

// lease returns a free enrollment for l, marked busy: the one that serves
// soonest, or a fresh one when that is sooner (or none fits) and the
// enrollment budget allows. Give it back with release.
func (a *actor) lease(ctx context.Context, l lease) (*device, error) {
	b := a.b
	lf, err := b.lockout.get(ctx)
	if err != nil {
		return nil, err
	}
	for try := 0; try < leaseRetries; try++ {
		now := b.tl.now()
		b.mu.Lock()
		canEnroll := b.nEnroll < b.cfg.MaxEnrollments && b.bindErr == nil && !l.noFresh && !l.oldBound
		if l.oldest && b.facts.resync {
			l.oldest = false // it would move the window of a server that re-centres on drift
		}
		// With no enrollment left to make, the plan fits the budget: an
		// enrollment whose window a success may have moved, then one that
		// may lock, before waiting.
		levels := 1
		if !canEnroll {
			levels = 3
		}
		var best *device
		var bestAt, nextFree time.Time
		for level := 0; level < levels && best == nil; level++ {
			for _, d := range b.devs {
				if !d.bound || d.dead || (l.oldBound && !d.oldBound) || (level < 1 && l.notOld && d.oldBound) {
					continue
				}
				if (level < 1 && l.pristine && !d.pristine) || (level < 2 && b.refusalsLeftLocked(d, lf) < l.refusals) {
					continue
				}
				if d.busy || now.Before(d.lockedTo) {
					if !d.busy && (nextFree.IsZero() || d.lockedTo.Before(nextFree)) {
						nextFree = d.lockedTo
					}
					continue
				}
				at := now
				if l.at != nil {
					var ok bool
					if at, ok = l.at(d, now); !ok {
						continue
					}
				}
				if best == nil || at.Before(bestAt) || (at.Equal(bestAt) && best.pristine && !d.pristine && !l.pristine) {
					best, bestAt = d, at
				}
			}
		}
		useFresh := canEnroll && (best == nil || l.fresh || (l.at != nil && b.freshSoonerLocked(l, now, bestAt)))
		if best != nil && !useFresh {
			best.busy, best.holder = true, a.name
			b.mu.Unlock()
			return best, nil
		}
		b.mu.Unlock()
		if useFresh {
			return a.freshBound(ctx, l.oldest)
		}
		if l.oldBound {
			return nil, nil // none: not an error
		}
		// Nothing free: wait for a lock to end, or for a lease to return.
		wait := b.period / 4
		if !nextFree.IsZero() && nextFree.Sub(now) < wait {
			wait = max(nextFree.Sub(now), time.Millisecond)
		}
		if err := b.tl.sleep(ctx, wait, a.name, "a free enrollment"); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no enrollment free for a probe after %d tries (--max-enrollments %d)", leaseRetries, b.cfg.MaxEnrollments)
}

// freshSoonerLocked reports whether an enrollment bound now would serve l
// sooner than at: its bind consumes the step whose x is nearest the
// stretch seen accepted (its top, for the oldest codes).
func (b *bench) freshSoonerLocked(l lease, now, at time.Time) bool {
	lo, hi, ok := b.hullLocked()
	if !ok {
		return false
	}
	x := lo + (hi-lo)/2
	if l.oldest {
		x = hi
	}
	ghost := &device{bound: true, hasBind: true, bindHi: stepNear(now, x, b.period), used: map[string]usedBy{}, pristine: true}
	ghost.acct = b.devs[0].acct // codes only matter for freshness; a fresh device has used none
	fat, ok := l.at(ghost, now)
	return ok && fat.Before(at)
}

// release gives d back to the pool.
func (a *actor) release(d *device) {
	a.b.mu.Lock()
	d.busy = false
	a.b.mu.Unlock()
}

// enroll makes a fresh enrollment (not bound), busy: the caller holds it
// until release.
func (a *actor) enroll(ctx context.Context) (*device, error) {
	b := a.b
	name, slot, err := a.claimAccount(ctx)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	first := b.period == 0
	prm := b.prm
	b.mu.Unlock()
	defer a.dropSlot(slot) // once d is in the pool, or on an error
	enr, err := b.tgt.Enroll(b.reqCtx, name)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: enrolling %q: %w", ErrUnreachable, name, err)
	}
	km, err := readKey(ctx, enr, first)
	if err != nil {
		return nil, err
	}
	if first {
		// The first enrollment reads every form and compares them: a
		// mismatch is the finding, not a window that refuses the codes.
		cs := km.agreement()
		for _, c := range cs {
			if c.Status == Fail {
				return nil, &keyFormsError{checks: cs}
			}
		}
		prm = params{digits: emulator.DefaultDigits, period: emulator.DefaultPeriod}
		if kp, ok := km.params(); ok {
			prm = kp
		}
	}
	acct, err := km.account(enr, prm)
	if err != nil {
		return nil, err
	}
	d := &device{enr: enr, acct: acct, used: map[string]usedBy{}, pristine: true, bound: b.caps.BindCodes == 0, busy: true, account: name, holder: a.name}
	b.mu.Lock()
	if b.period == 0 {
		b.prm = prm
		b.period = time.Duration(acct.Period) * time.Second
	}
	d.n = len(b.devs) + 1
	b.devs = append(b.devs, d)
	b.mu.Unlock()
	return d, nil
}

// freshBound enrolls and binds a new device; with oldest, with the oldest
// codes the target accepts (so that later steps are clean sooner).
func (a *actor) freshBound(ctx context.Context, oldest bool) (*device, error) {
	d, err := a.enroll(ctx)
	if err != nil {
		return nil, err
	}
	return a.bind(ctx, d, oldest)
}

// prebind enrolls and binds n fresh enrollments now, when the budget
// allows, and leaves them in the pool: on a target that remembers codes,
// an enrollment's later steps are clean only after the steps its bind
// consumed, so binding early is waiting early.
func (a *actor) prebind(ctx context.Context, n int, oldest bool) error {
	b := a.b
	for range n {
		b.mu.Lock()
		ok := b.nEnroll < b.cfg.MaxEnrollments && b.bindErr == nil
		b.mu.Unlock()
		if !ok {
			return nil
		}
		d, err := a.freshBound(ctx, oldest)
		if err != nil {
			return err
		}
		a.release(d)
	}
	return nil
}

// claimAccount counts a new enrollment against the budget and names its
// account. With a pool of test users (Capabilities.Accounts) it is one
// whose enrollment is gone, else that of an idle enrollment, retired (the
// new one replaces it on the target), else it waits for one to be given
// back; the account is held by a placeholder (slot) until the enrollment
// is made. Without a pool it is a new name.
func (a *actor) claimAccount(ctx context.Context) (string, *device, error) {
	b := a.b
	for try := 0; try < leaseRetries; try++ {
		b.mu.Lock()
		if b.nEnroll >= b.cfg.MaxEnrollments {
			b.mu.Unlock()
			return "", nil, fmt.Errorf("the enrollment budget (%d) is spent", b.cfg.MaxEnrollments)
		}
		if len(b.caps.Accounts) == 0 {
			b.nEnroll++
			name := fmt.Sprintf("%s-%d", b.cfg.Account, b.nEnroll)
			b.mu.Unlock()
			return name, nil, nil
		}
		// Every enrollment of an account not retired yet: the account is
		// free when it has none, takeable when none of them is in use.
		live := map[string][]*device{}
		for _, d := range append(b.devs, b.slots...) {
			if !d.dead {
				live[d.account] = append(live[d.account], d)
			}
		}
		name := ""
		for _, acc := range b.caps.Accounts {
			if len(live[acc]) == 0 {
				name = acc
				break
			}
		}
		if name == "" {
			// The idle account worth least: the most refusals, not bound
			// with the oldest codes.
			var pick []*device
			worth := func(ds []*device) (old bool, fails int) {
				for _, d := range ds {
					old, fails = old || d.oldBound, max(fails, d.fails)
				}
				return old, fails
			}
			for _, acc := range b.caps.Accounts {
				ds := live[acc]
				if slices.ContainsFunc(ds, func(d *device) bool { return d.busy || d.slot }) {
					continue
				}
				if pick == nil {
					pick = ds
					continue
				}
				po, pf := worth(pick)
				do, df := worth(ds)
				if (po && !do) || (po == do && df > pf) {
					pick = ds
				}
			}
			for _, d := range pick {
				d.dead = true
				name = d.account
			}
		}
		if name != "" {
			b.nEnroll++
			slot := &device{account: name, slot: true, busy: true, holder: a.name}
			b.slots = append(b.slots, slot)
			b.mu.Unlock()
			return name, slot, nil
		}
		b.mu.Unlock()
		if err := b.tl.sleep(ctx, b.periodOr(30*time.Second)/4, a.name, "a test user free to enroll again"); err != nil {
			return "", nil, err
		}
	}
	b.mu.Lock()
	var held []string
	for _, d := range append(b.devs, b.slots...) {
		if !d.dead && d.busy {
			held = append(held, fmt.Sprintf("%s by %s", d.account, d.holder))
		}
	}
	b.mu.Unlock()
	return "", nil, fmt.Errorf("no test user free to enroll after %d tries (%d users; held: %s)", leaseRetries, len(b.caps.Accounts), strings.Join(held, ", "))
}

// dropSlot ends a placeholder claimAccount made.
func (a *actor) dropSlot(slot *device) {
	if slot == nil {
		return
	}
	b := a.b
	b.mu.Lock()
	slot.dead, slot.busy = true, false
	b.slots = slices.DeleteFunc(b.slots, func(d *device) bool { return d == slot })
	b.mu.Unlock()
}

// periodOr is the period, or def before the first enrollment set it.
// b.mu must be unlocked.
func (b *bench) periodOr(def time.Duration) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.period == 0 {
		return def
	}
	return b.period
}
