package testbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/totpemu/totpemu/emulator"
)

// Retry and pacing limits.
const (
	maxThrottles      = 6                // 429s in a row for one submission before giving up
	maxErrorRetries   = 3                // transport errors / 5xx in a row for one submission
	maxThrottleWait   = 10 * time.Minute // longest single back-off honoured
	defaultThrottle   = 2 * time.Second  // back-off when a 429 gives no Retry-After
	realEdgeMargin    = 2 * time.Second  // real time: keep probes this far from a step edge
	maxProbeTries     = 8                // re-probes of one step offset (locks, waits) before giving up
	maxBindCandidates = 64
)

// used marks how a code was accepted on an enrollment.
type usedBy uint8

const (
	usedByBind usedBy = iota + 1
	usedByVerify
)

// errLockedBeyond is returned when a fresh enrollment is already locked.
var errLockedBeyond = errors.New("the lock covers more than one device")

// device is one enrollment as the bench tracks it.
type device struct {
	enr       *Enrollment
	acct      *emulator.Account
	bound     bool
	hasBind   bool
	bindHi    int64 // step of the last bind code
	hasVerify bool
	verifyHi  int64 // highest step accepted by verify
	used      map[string]usedBy
	fails     int  // refusals (since the last success when successes reset the count)
	dead      bool // locked, or out of lockout budget
}

func (d *device) code(step int64) string {
	if step < 0 {
		return ""
	}
	return d.acct.CodeAtStep(uint64(step))
}

// facts are what the target has shown about itself; each lets more
// refusals count as clean.
type facts struct {
	bindCodesReusable bool // a code accepted by bind was accepted again by verify
	noCodeReplay      bool // a code accepted by verify was accepted again
	ignoresBindSteps  bool // a step at or before the bind's last step was accepted
	notStepStrict     bool // a step at or before a verified step was accepted
}

// prober submits codes for the scenarios and keeps the books.
type prober struct {
	target   Target
	tm       *Time
	caps     Capabilities
	maxSteps int
	progress io.Writer
	account  string

	scenario string
	subs     map[string]int

	facts      facts
	optimistic bool // real time: submit codes that are fresh but not clean, hoping for an accept
	budget     int  // refusals an enrollment may take (the lockout count); 0: not known
	lockFree   int  // no lock came within this many refusals (the lockout scenario found none)
	resets     bool // a success resets the failure count
	anchor     *int // step offset of the last bind code that worked
	prm        *params
	period     time.Duration
	nEnroll    int
	roles      map[string]*device
	lockedAll  bool  // a fresh enrollment came locked: the lock is not per device
	bindErr    error // the bind search found nothing: later binds fail at once
	waited     bool  // the last send waited (a "slow down" or a retry): a fixed code may have changed meaning
}

func newProber(t Target, tm *Time, maxSteps int, progress io.Writer, account string) *prober {
	if progress == nil {
		progress = io.Discard
	}
	return &prober{target: t, tm: tm, caps: t.Capabilities(), maxSteps: maxSteps, progress: progress,
		account: account, subs: map[string]int{}, roles: map[string]*device{}, optimistic: !tm.Virtual()}
}

// enroll makes a fresh device (not bound).
func (p *prober) enroll(ctx context.Context) (*device, error) {
	p.nEnroll++
	name := fmt.Sprintf("%s-%d", p.account, p.nEnroll)
	enr, err := p.target.Enroll(ctx, name)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: enrolling %q: %w", ErrUnreachable, name, err)
	}
	km, err := readKey(ctx, enr, p.prm == nil)
	if err != nil {
		return nil, err
	}
	prm := params{digits: emulator.DefaultDigits, period: emulator.DefaultPeriod}
	if p.prm != nil {
		prm = *p.prm
	}
	acct, err := km.account(enr, prm)
	if err != nil {
		return nil, err
	}
	if p.prm == nil {
		if kp, ok := km.params(); ok {
			p.prm = &kp
		}
		p.period = time.Duration(acct.Period) * time.Second
	}
	return &device{enr: enr, acct: acct, used: map[string]usedBy{}}, nil
}

// usable reports whether d may take one more refusal without the lock
// spoiling a later probe.
func (p *prober) usable(d *device) bool {
	return d != nil && !d.dead && (p.budget <= 0 || d.fails < p.budget)
}

// deviceFor returns the bound enrollment kept for role, replacing it with
// a fresh one when it is locked or out of budget.
func (p *prober) deviceFor(ctx context.Context, role string) (*device, error) {
	if d := p.roles[role]; p.usable(d) {
		return d, nil
	}
	d, err := p.freshBound(ctx)
	if err != nil {
		return nil, err
	}
	p.roles[role] = d
	return d, nil
}

// freshBound enrolls and binds a new device.
func (p *prober) freshBound(ctx context.Context) (*device, error) {
	d, err := p.enroll(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.bind(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// bindOrder is the order of step offsets tried for the bind's last code:
// the one that worked before, then 0, 1, -1, 2, -2, ...
func (p *prober) bindOrder() []int {
	var out []int
	seen := map[int]bool{}
	add := func(j int) {
		if !seen[j] && len(out) < maxBindCandidates {
			seen[j] = true
			out = append(out, j)
		}
	}
	if p.anchor != nil {
		add(*p.anchor)
	}
	for i := 0; i <= p.maxSteps; i++ {
		add(i)
		add(-i)
	}
	return out
}

// bind binds d, searching for the step offset the target accepts when the
// current one is refused (a server whose clock is off by steps). A lock
// or an exhausted budget moves the search to a fresh enrollment.
func (p *prober) bind(ctx context.Context, d *device) error {
	bc := p.caps.BindCodes
	if bc == 0 {
		d.bound = true
		return nil
	}
	if p.bindErr != nil {
		return p.bindErr // searched once already: no need to spend codes again
	}
	var last Verdict
	for _, j := range p.bindOrder() {
		for try := 0; try < maxProbeTries; try++ {
			if !p.usable(d) {
				nd, err := p.enroll(ctx)
				if err != nil {
					return err
				}
				*d = *nd
			}
			var hi int64
			codes := make([]string, bc)
			// The codes are made at the moment of sending, again after a
			// "slow down" made the bench wait.
			v, err := p.send(ctx, func() Verdict {
				if err := p.align(ctx); err != nil {
					return Verdict{Outcome: Error, Err: err}
				}
				hi = p.step() + int64(j)
				for i := range codes {
					codes[i] = d.code(hi - int64(bc-1-i))
				}
				return p.target.Bind(ctx, d.enr, codes)
			}, len(codes))
			if err != nil {
				return fmt.Errorf("binding %s: %w", d.enr, err)
			}
			last = v
			switch v.Outcome {
			case Accepted:
				d.bound, d.hasBind, d.bindHi = true, true, hi
				for _, c := range codes {
					d.used[c] = usedByBind
				}
				jj := j
				p.anchor = &jj
				return nil
			case Locked:
				d.dead = true
				if d.fails == 0 && !d.hasBind {
					// A fresh enrollment came locked: the lock covers more
					// than the device. Wait it out when the target says how
					// long, else give up.
					p.lockedAll = true
					if v.RetryAfter <= 0 || v.RetryAfter > maxThrottleWait {
						return fmt.Errorf("%w: a fresh enrollment is locked (%v)", errLockedBeyond, v)
					}
					if err := p.waitFor(ctx, v.RetryAfter, "a lock that covers every enrollment to expire"); err != nil {
						return err
					}
				}
				continue
			}
			d.fails++
			break
		}
	}
	p.bindErr = fmt.Errorf("no bind accepted with codes within %d steps of the true time (last answer: %v)", p.maxSteps, last)
	return p.bindErr
}
