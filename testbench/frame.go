package testbench

import (
	"context"
	"time"
)

// frame is what the bench knows of the target's acceptance, in its own
// (true) time: a code of step c submitted at true instant s is accepted
// when c - floor((s + r) / P) is in [lo, hi]. lo and hi are the window the
// window scenario measured at the middle of the true step; r is the
// server clock's offset modulo the period, taken in [-P/2, P/2) (known
// from the server-clock scenario, else assumed 0: every server offset
// within half a step of a whole number of steps gives the same window at
// mid-step). With o = r + sigma*P the server's whole offset, its window in
// its own steps is back = sigma - lo, forward = hi - sigma.
type frame struct {
	lo, hi int
	r      time.Duration
	period time.Duration
	rKnown bool
}

// floorDiv is floor(a / b) for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// stepAt is the step of the true instant t shifted by d.
func (f frame) stepAt(t time.Time, d time.Duration) int64 {
	return floorDiv(t.Add(d).UnixNano(), int64(f.period))
}

// accepts predicts whether the code of step c is accepted at true instant s.
func (f frame) accepts(c int64, s time.Time) bool {
	k := c - f.stepAt(s, f.r)
	return k >= int64(f.lo) && k <= int64(f.hi)
}

// frame returns what the run knows of the target so far.
func (r *runner) frame() frame {
	f := frame{lo: r.lo, hi: r.hi, period: r.p.period}
	if r.serverR != nil {
		f.r, f.rKnown = *r.serverR, true
	}
	return f
}

// timed is one code submitted at a chosen true instant.
type timed struct {
	v          Verdict
	sent, recv time.Time // true time before and after
	code       string
	step       int64
}

// mid is the true instant the target most likely judged the code.
func (t timed) mid() time.Time { return t.sent.Add(t.recv.Sub(t.sent) / 2) }

// submitAt waits until the true instant at, then submits on d the code of
// the step mk gives for the moment of sending (asked again after a retry).
func (p *prober) submitAt(ctx context.Context, d *device, at time.Time, why string, mk func(now time.Time) int64) (timed, error) {
	if w := at.Sub(p.tm.Now()); w > 0 {
		if err := p.waitFor(ctx, w, why); err != nil {
			return timed{}, err
		}
	}
	var out timed
	v, err := p.verifyWith(ctx, d, func() (string, int64, error) {
		out.sent = p.tm.Now()
		out.step = mk(out.sent)
		out.code = d.code(out.step)
		return out.code, out.step, nil
	})
	out.recv = p.tm.Now()
	out.v = v
	return out, err
}

// spareDevice returns role's enrollment when it can take one more refusal
// without nearing a lock it does not know the count of, else a fresh one:
// a device refused once is replaced unless the lockout count (or a
// lockout scenario that found none) is known to allow more.
func (p *prober) spareDevice(ctx context.Context, role string) (*device, error) {
	allowed := 0 // refusals a kept device may have taken
	switch {
	case p.budget > 0:
		allowed = p.budget - 2
	case p.lockFree > 0:
		allowed = p.lockFree - 1
	}
	if d := p.roles[role]; d != nil && d.fails > max(allowed, 0) {
		delete(p.roles, role)
	}
	return p.deviceFor(ctx, role)
}
