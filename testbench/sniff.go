package testbench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

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

// rightCode returns the step offset of a code that is accepted unless the
// target refuses everything (the last bind's, or 0), having waited until
// it is clean on d; submit it with verifyAt.
func (p *prober) rightCode(ctx context.Context, d *device) (int, error) {
	k := 0
	if p.anchor != nil {
		k = *p.anchor
	}
	for try := 0; try < maxProbeTries; try++ {
		if err := p.align(ctx); err != nil {
			return 0, err
		}
		step := p.step() + int64(k)
		if p.clean(d, d.code(step), step) {
			return k, nil
		}
		if err := p.waitSteps(ctx, p.stepsUntilClean(d, step), "a replay-safe right code"); err != nil {
			return 0, err
		}
	}
	return 0, errors.New("no replay-safe code found")
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
