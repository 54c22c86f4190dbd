package testbench

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// guess is where the hypothesis puts the edge: the candidate the next
// round tests, else the bracket's middle.
func (s *edgeSearch) guess() time.Duration {
	s.absorb()
	s.mu.Lock()
	br := s.br
	s.mu.Unlock()
	if c, ok := s.candidate(br, s.a.b.period); ok {
		return c
	}
	return br.mid()
}

// target is how tightly an edge is bracketed before the search stops.
func (s *edgeSearch) target() time.Duration {
	if s.a.b.tl.tm.Virtual() {
		return virtualTarge
	}
	return realTarget
}

// refine narrows the bracket round by round: the hypothesis pair around
// the candidate step edge inside it, else evenly spread points (one, a
// bisection, in virtual time).
func (s *edgeSearch) refine(ctx context.Context) error {
	P := s.a.b.period
	for round := 0; round < maxRounds; round++ {
		s.absorb()
		if s.follow != nil {
			if ph := s.follow(); ph != nil {
				s.phase = ph
			}
		}
		s.mu.Lock()
		br := s.br
		s.mu.Unlock()
		if br.lo >= br.hi {
			return fmt.Errorf("accepted at %.3f s and refused at %.3f s from a code's step: no single edge (a target that answers otherwise than by time?)", br.lo.Seconds(), br.hi.Seconds())
		}
		if br.width() <= s.target() {
			return nil
		}
		pts := s.plan(br, P)
		if len(pts) == 0 {
			return nil
		}
		if err := s.cross(ctx, pts); err != nil {
			return err
		}
	}
	return fmt.Errorf("not bracketed after %d rounds", maxRounds)
}

// plan picks the next round's points (times from a code's step start).
func (s *edgeSearch) plan(br bracket, P time.Duration) []time.Duration {
	eps := s.eps
	if c, ok := s.candidate(br, P); ok {
		// A point already answered (within half of eps) is not asked again.
		var pts []time.Duration
		if c-eps > br.lo+eps/2 {
			pts = append(pts, c-eps)
		}
		if c+eps < br.hi-eps/2 {
			pts = append(pts, c+eps)
		}
		if len(pts) > 0 {
			return pts
		}
	}
	k := 1
	if !s.a.b.tl.tm.Virtual() {
		// Enough points that the next bracket is within the target.
		k = int(min(int64(maxRealK), max(1, ceilDiv(int64(br.width()), int64(s.target()))-1)))
	}
	if s.upper && !br.hiSeen && br.width() > P {
		// Nothing refused yet: step up a period at a time.
		var pts []time.Duration
		for i := 1; i <= k; i++ {
			if x := br.lo + time.Duration(i)*P; x < br.hi {
				pts = append(pts, x)
			}
		}
		return pts
	}
	pts := make([]time.Duration, k)
	for i := range pts {
		pts[i] = br.lo + time.Duration(i+1)*br.width()/time.Duration(k+1)
	}
	return pts
}

// candidate is the step edge (phase modulo P) inside the bracket nearest
// the side already seen: the upper edge is probed upward, the lower
// downward, the order in which real time reaches them.
func (s *edgeSearch) candidate(br bracket, P time.Duration) (time.Duration, bool) {
	if s.phase == nil {
		return 0, false
	}
	var c time.Duration
	if s.upper {
		c = *s.phase + time.Duration(floorDiv(int64(br.lo-*s.phase), int64(P))+1)*P
	} else {
		c = *s.phase + time.Duration(floorDiv(int64(br.hi-*s.phase), int64(P)))*P
	}
	return c, c > br.lo && c <= br.hi
}

// cross submits the round's points at their instants, each on a pristine
// enrollment, and records the answers as they come; a point the answers
// so far make useless is not sent. Upper-edge points each take an
// enrollment of their own (an accepted code is consumed); lower-edge
// points share one code on as few enrollments as the lockout allows,
// refused until the edge and then accepted.
func (s *edgeSearch) cross(ctx context.Context, pts []time.Duration) error {
	b := s.a.b
	var chains [][]time.Duration
	if s.upper {
		for _, x := range pts {
			chains = append(chains, []time.Duration{x})
		}
	} else {
		lf, err := b.lockout.get(ctx)
		if err != nil {
			return err
		}
		per := 2
		if lf.limit > 2 {
			per = lf.limit - 1
		} else if lf.none {
			per = len(pts)
		}
		n := (len(pts) + per - 1) / per
		chains = make([][]time.Duration, n)
		for i, x := range pts {
			chains[i%n] = append(chains[i%n], x)
		}
	}
	// A round is one crossing: a point whose enrollment can only make it
	// a step later is left to the next round, unless none could make it.
	// Enrollments are leased in the order of the points, the first (for an
	// upper edge, the one expected accepted) first: it gets the soonest.
	deadline := b.tl.now().Add(3 * b.period / 2)
	for range 2 {
		errs := make([]error, len(chains))
		sent := make([]bool, len(chains))
		g := b.tl.newGroup()
		for i, ch := range chains {
			d, n, err := s.leaseFor(ctx, ch)
			if err != nil {
				return err
			}
			if !deadline.IsZero() && stepStart(n, b.period).Add(ch[0]).After(deadline) {
				s.a.release(d)
				continue
			}
			g.spawn(func() {
				defer s.a.release(d)
				sent[i], errs[i] = s.chain(ctx, d, n, ch)
			})
		}
		if err := g.wait(ctx); err != nil {
			return err
		}
		any := false
		for i, err := range errs {
			if err != nil {
				return err
			}
			any = any || sent[i]
		}
		if any {
			return nil
		}
		deadline = time.Time{}
	}
	return nil
}

// useful reports whether a probe at x can still narrow the bracket.
func (s *edgeSearch) useful(x time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return x > s.br.lo && x < s.br.hi
}

// leaseFor leases the pristine enrollment that can serve the first of xs
// soonest, and the step whose code it submits.
func (s *edgeSearch) leaseFor(ctx context.Context, xs []time.Duration) (*device, int64, error) {
	b := s.a.b
	P := b.period
	lead := realLead
	if b.tl.tm.Virtual() {
		lead = 0
	}
	// The first step whose code is clean on d and whose instant for the
	// first point is still ahead.
	stepFor := func(d *device, now time.Time) int64 {
		return b.cleanStepLocked(d, firstStepAtOrAfter(now.Add(lead), xs[0], P, -1<<62))
	}
	at := func(d *device, now time.Time) (time.Time, bool) {
		return stepStart(stepFor(d, now), P).Add(xs[0]), true
	}
	d, err := s.a.lease(ctx, lease{pristine: true, refusals: max(1, len(xs)-1), oldest: s.upper, notOld: !s.upper, at: at})
	if err != nil {
		return nil, 0, err
	}
	b.mu.Lock()
	n := stepFor(d, b.tl.now())
	b.mu.Unlock()
	return d, n, nil
}

// chain submits on d the code of step n at the points xs, in order, and
// reports whether it sent anything.
func (s *edgeSearch) chain(ctx context.Context, d *device, n int64, xs []time.Duration) (bool, error) {
	b := s.a.b
	P := b.period
	stepFor := func(d *device, now time.Time) int64 {
		return b.cleanStepLocked(d, firstStepAtOrAfter(now, xs[0], P, -1<<62))
	}
	sent := false
	tol := realEps / 2
	if b.tl.tm.Virtual() {
		tol = 0
	}
	stale := 0
	for i := 0; i < len(xs); i++ {
		x := xs[i]
		if !s.useful(x) {
			return sent, nil
		}
		when := stepStart(n, P).Add(x)
		if err := b.tl.until(ctx, when, s.a.name, s.why()); err != nil {
			return sent, err
		}
		if !s.useful(x) {
			return sent, nil
		}
		an, err := s.a.sendBy(ctx, d, false, func(time.Time) ([]string, int64) { return []string{d.code(n)}, n }, when.Add(tol))
		if errors.Is(err, errStale) && stale < 8 {
			stale++
			// Held up past the instant ("slow down"): the same points a
			// step later, with that step's code (still clean: nothing of
			// this enrollment was accepted since).
			b.mu.Lock()
			n = max(n+1, stepFor(d, b.tl.now()))
			b.mu.Unlock()
			i--
			continue
		}
		if err != nil {
			return sent, err
		}
		sent = true
		s.record(an)
		if an.v.Outcome != Rejected {
			return sent, nil // accepted (the code is used) or locked
		}
	}
	return sent, nil
}

func (s *edgeSearch) why() string {
	if s.upper {
		return "a code's acceptance to end (the window's back edge)"
	}
	return "a future code's acceptance to begin (the window's forward edge)"
}
