package testbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
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
	resets     bool // a success resets the failure count
	anchor     *int // step offset of the last bind code that worked
	prm        *params
	period     time.Duration
	nEnroll    int
	roles      map[string]*device
	lockedAll  bool  // a fresh enrollment came locked: the lock is not per device
	bindErr    error // the bind search found nothing: later binds fail at once
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
		return nil, fmt.Errorf("%w: enrolling %q: %w", errUnreachable, name, err)
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
			if err := p.align(ctx); err != nil {
				return err
			}
			hi := p.step() + int64(j)
			codes := make([]string, bc)
			for i := range codes {
				codes[i] = d.code(hi - int64(bc-1-i))
			}
			v, err := p.send(ctx, func() Verdict { return p.target.Bind(ctx, d.enr, codes) }, len(codes))
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

// send submits with fn, backing off on Throttled and retrying Error a
// bounded number of times. n is how many codes one call submits. The
// returned verdict is Accepted, Rejected or Locked.
func (p *prober) send(ctx context.Context, fn func() Verdict, n int) (Verdict, error) {
	throttles, errs := 0, 0
	for {
		if err := ctx.Err(); err != nil {
			return Verdict{}, err
		}
		p.subs[p.scenario] += n
		v := fn()
		switch v.Outcome {
		case Accepted, Rejected, Locked:
			return v, nil
		case Throttled:
			throttles++
			if throttles > maxThrottles {
				return v, fmt.Errorf("target kept answering \"slow down\" (%d times in a row): %v", throttles, v)
			}
			wait := v.RetryAfter
			if wait <= 0 {
				wait = defaultThrottle << (throttles - 1)
			}
			if wait > maxThrottleWait {
				return v, fmt.Errorf("target asked to wait %v, over the %v the bench waits: %v", wait, maxThrottleWait, v)
			}
			if err := p.waitFor(ctx, wait, "the target's Retry-After (HTTP 429)"); err != nil {
				return v, err
			}
		default:
			errs++
			if errs > maxErrorRetries {
				return v, fmt.Errorf("no verdict after %d tries: %v", errs, v)
			}
			if !p.tm.Virtual() {
				if err := p.waitFor(ctx, time.Duration(errs)*500*time.Millisecond, "a retry after an error"); err != nil {
					return v, err
				}
			}
		}
	}
}

// verify submits one code on d and keeps d's books. step is the code's
// step, or -1 for a code of no step (a wrong one).
func (p *prober) verify(ctx context.Context, d *device, code string, step int64) (Verdict, error) {
	v, err := p.send(ctx, func() Verdict { return p.target.Verify(ctx, d.enr, code) }, 1)
	if err != nil {
		return v, fmt.Errorf("verifying on %s: %w", d.enr, err)
	}
	switch v.Outcome {
	case Accepted:
		p.learn(d, code, step)
		d.used[code] = usedByVerify
		if step >= 0 && (!d.hasVerify || step > d.verifyHi) {
			d.hasVerify, d.verifyHi = true, step
		}
		if p.resets {
			d.fails = 0
		}
	case Rejected:
		d.fails++
	case Locked:
		d.dead = true
	}
	return v, nil
}

// learn records what an accepted code shows about the target.
func (p *prober) learn(d *device, code string, step int64) {
	switch d.used[code] {
	case usedByBind:
		p.facts.bindCodesReusable = true
		p.facts.ignoresBindSteps = true
	case usedByVerify:
		p.facts.noCodeReplay = true
		p.facts.notStepStrict = true
	}
	if step < 0 {
		return
	}
	if d.hasBind && step <= d.bindHi {
		p.facts.ignoresBindSteps = true
	}
	if d.hasVerify && step <= d.verifyHi && d.used[code] == 0 {
		p.facts.notStepStrict = true
	}
}

// clean reports whether a refusal of code (of step) on d can only mean
// the step is outside the window: no replay rule and no consumed step can
// explain it.
func (p *prober) clean(d *device, code string, step int64) bool {
	switch d.used[code] {
	case usedByBind:
		if !p.facts.bindCodesReusable {
			return false
		}
	case usedByVerify:
		if !p.facts.noCodeReplay {
			return false
		}
	}
	if d.hasBind && step <= d.bindHi && !p.facts.ignoresBindSteps {
		return false
	}
	if d.hasVerify && step <= d.verifyHi && !p.facts.notStepStrict {
		return false
	}
	return true
}

// reusable reports whether submitting code on d cannot be refused for
// having been accepted before: it never was, or the target was seen to
// accept such codes again.
func (p *prober) reusable(d *device, code string) bool {
	switch d.used[code] {
	case usedByBind:
		return p.facts.bindCodesReusable
	case usedByVerify:
		return p.facts.noCodeReplay
	}
	return true
}

// stepsUntilClean is how many steps to wait until offset k is clean on d.
func (p *prober) stepsUntilClean(d *device, step int64) int64 {
	hi := int64(-1 << 62)
	if d.hasBind && !p.facts.ignoresBindSteps {
		hi = max(hi, d.bindHi)
	}
	if d.hasVerify && !p.facts.notStepStrict {
		hi = max(hi, d.verifyHi)
	}
	return max(hi-step+1, 1)
}

// probe is one definitive answer about a step offset.
type probe struct {
	accepted bool
	dev      *device
	code     string
	step     int64
}

// judge finds out whether step offset k is in the window, using role's
// enrollment: it submits only when the answer will be definitive (an
// accept always is; a refusal only when clean), waiting when needed, and
// in real time first tries a fresh but unclean code once in case it is
// accepted at once.
func (p *prober) judge(ctx context.Context, role string, k int) (probe, error) {
	for try := 0; try < maxProbeTries; try++ {
		d, err := p.deviceFor(ctx, role)
		if err != nil {
			return probe{}, err
		}
		if err := p.align(ctx); err != nil {
			return probe{}, err
		}
		step := p.step() + int64(k)
		code := d.code(step)
		if !p.clean(d, code, step) && !(p.optimistic && d.used[code] == 0) {
			n := p.stepsUntilClean(d, step)
			if err := p.waitFor(ctx, time.Duration(n)*p.period, fmt.Sprintf("step offset %+d to be replay-safe on this enrollment", k)); err != nil {
				return probe{}, err
			}
			continue
		}
		wasClean := p.clean(d, code, step)
		v, err := p.verify(ctx, d, code, step)
		if err != nil {
			return probe{}, err
		}
		switch v.Outcome {
		case Accepted:
			return probe{accepted: true, dev: d, code: code, step: step}, nil
		case Rejected:
			if wasClean || p.clean(d, code, step) {
				return probe{dev: d, code: code, step: step}, nil
			}
			p.optimistic = false // the target may be strict: stop guessing
		}
	}
	return probe{}, fmt.Errorf("step offset %+d: no definitive answer after %d tries", k, maxProbeTries)
}

// step returns the true step now.
func (p *prober) step() int64 {
	ns := p.tm.Now().UnixNano()
	per := int64(p.period)
	q := ns / per
	if ns%per != 0 && ns < 0 {
		q--
	}
	return q
}

// phase returns how far into its step the true time is.
func (p *prober) phase() time.Duration {
	ns := p.tm.Now().UnixNano()
	r := ns % int64(p.period)
	if r < 0 {
		r += int64(p.period)
	}
	return time.Duration(r)
}

// align moves to a moment where a probe cannot straddle a step edge: in
// virtual time the middle of a step (every probe at the same phase), in
// real time anywhere at least realEdgeMargin from an edge.
func (p *prober) align(ctx context.Context) error {
	ph, per := p.phase(), p.period
	if p.tm.Virtual() {
		mid := per / 2
		switch {
		case ph == mid:
			return nil
		case ph < mid:
			return p.waitFor(ctx, mid-ph, "")
		default:
			return p.waitFor(ctx, per-ph+mid, "")
		}
	}
	margin := min(realEdgeMargin, per/4)
	switch {
	case ph < margin:
		return p.waitFor(ctx, margin-ph, "the step edge to pass")
	case ph > per-margin:
		return p.waitFor(ctx, per-ph+margin, "the step edge to pass")
	}
	return nil
}

// waitFor waits d on the run's clock, telling the user in real time what
// it waits for and how long is left.
func (p *prober) waitFor(ctx context.Context, d time.Duration, why string) error {
	if d <= 0 {
		return nil
	}
	if p.tm.Virtual() || d < time.Second {
		return p.tm.Wait(ctx, d)
	}
	if why == "" {
		why = "the next step"
	}
	left := d
	for left > 0 {
		fmt.Fprintf(p.progress, "bench: %s: waiting for %s, %s left\n", p.scenario, why, left.Round(time.Second))
		chunk := min(left, 10*time.Second)
		if err := p.tm.Wait(ctx, chunk); err != nil {
			return err
		}
		left -= chunk
	}
	return nil
}

// waitSteps waits n whole steps.
func (p *prober) waitSteps(ctx context.Context, n int64, why string) error {
	return p.waitFor(ctx, time.Duration(n)*p.period, why)
}

// wrongCode returns a code of d's length that is not the code of any step
// near now (so it cannot be accepted by any window the bench probes); i
// varies it between submissions.
func (p *prober) wrongCode(d *device, i int) string {
	s := p.step()
	near := map[string]bool{}
	span := int64(p.maxSteps + 3)
	for x := s - span; x <= s+span; x++ {
		near[d.code(x)] = true
	}
	mod := 1
	for range d.acct.Digits {
		mod *= 10
	}
	base, _ := strconv.Atoi(d.code(s))
	for n := 1; ; n++ {
		v := (base + 500_009 + (i+n)*7_919) % mod
		c := fmt.Sprintf("%0*d", d.acct.Digits, v)
		if !near[c] {
			return c
		}
	}
}

// rightCode returns a code that is accepted unless the target refuses
// everything: the step offset of the last bind (or 0), at a moment where
// it is clean on d.
func (p *prober) rightCode(ctx context.Context, d *device) (string, int64, error) {
	k := 0
	if p.anchor != nil {
		k = *p.anchor
	}
	for try := 0; try < maxProbeTries; try++ {
		if err := p.align(ctx); err != nil {
			return "", 0, err
		}
		step := p.step() + int64(k)
		code := d.code(step)
		if p.clean(d, code, step) {
			return code, step, nil
		}
		if err := p.waitSteps(ctx, p.stepsUntilClean(d, step), "a replay-safe right code"); err != nil {
			return "", 0, err
		}
	}
	return "", 0, errors.New("no replay-safe code found")
}

// prebind, in real time, enrolls and binds now the devices the given
// roles will use: on a strict target each must wait steps after its bind
// before its probes are clean, and bound together those waits overlap
// instead of adding up (MEASURING.md: several enrollments made at the
// same moment, each waiting for its own instant).
func (p *prober) prebind(ctx context.Context, roles ...string) error {
	if p.tm.Virtual() || p.caps.BindCodes == 0 || (p.facts.bindCodesReusable && p.facts.noCodeReplay) {
		return nil
	}
	defer func(s string) { p.scenario = s }(p.scenario)
	for _, role := range roles {
		if _, ok := p.roles[role]; ok {
			continue
		}
		p.scenario, _, _ = strings.Cut(role, "-") // the codes count for the scenario that uses the role
		d, err := p.freshBound(ctx)
		if err != nil {
			return err
		}
		p.roles[role] = d
	}
	return nil
}

// sniff, in real time, learns cheaply whether the target remembers codes:
// it submits one code twice on a fresh enrollment (a bound one's last bind
// code, or the current code when there is no bind). Accepted every time,
// no refusal can be blamed on replay and no scenario needs to wait.
func (p *prober) sniff(ctx context.Context) error {
	if p.tm.Virtual() {
		return nil
	}
	d, err := p.freshBound(ctx)
	if err != nil {
		return err
	}
	if err := p.align(ctx); err != nil {
		return err
	}
	step, k := p.step(), int64(0)
	if p.caps.BindCodes > 0 {
		k = int64(*p.anchor)
		if step+k != d.bindHi {
			return nil // the step moved on: the code is not the bind's any more
		}
	}
	c := d.code(step + k)
	n := 2
	if p.caps.BindCodes == 0 {
		n = 3 // the first accept only makes the code a used one
	}
	for range n {
		v, err := p.verify(ctx, d, c, step+k)
		if err != nil || v.Outcome != Accepted {
			return err
		}
	}
	return nil
}
