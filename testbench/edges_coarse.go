package testbench

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// checkResync asks whether the target moves an enrollment's window after
// a success off its step (RFC 6238 section 6, django-otp's drift): an
// enrollment bound with older codes submits, at once, the code the lower
// edge's coarse bracket saw accepted just above the edge. An unmoved
// window accepts it; one moved back by a step refuses it. Then the
// enrollments bound with older codes no longer count as pristine, and no
// more are bound.
func (a *actor) checkResync(ctx context.Context, lower *edgeSearch) error {
	b := a.b
	lower.mu.Lock()
	ref := lower.hiAns
	lower.mu.Unlock()
	if len(ref.codes) == 0 || b.tl.now().Sub(ref.recv) > b.period/4 {
		return nil
	}
	d, err := a.lease(ctx, lease{pristine: true, refusals: 1, oldBound: true})
	if err != nil || d == nil {
		return err
	}
	defer a.release(d)
	b.mu.Lock()
	clean := b.cleanStepLocked(d, ref.step) == ref.step
	b.mu.Unlock()
	if !clean {
		return nil
	}
	an, err := a.send(ctx, d, false, func(time.Time) ([]string, int64) { return []string{d.code(ref.step)}, ref.step })
	if err != nil || an.v.Outcome != Rejected || an.waited {
		return err
	}
	b.mu.Lock()
	b.facts.resync = true
	for _, dd := range b.devs {
		if dd.oldBound {
			dd.pristine = false
		}
	}
	b.mu.Unlock()
	b.note("the target moves an enrollment's window after a success off the step it expects (drift tracking, RFC 6238 section 6): the edges are measured on enrollments bound at the server's own step")
	return nil
}

// findAccepted, for a target with no bind step, finds a code accepted
// now: the current step's, then its neighbours', each on an enrollment
// of its own. It returns where the accepted code was judged.
func (a *actor) findAccepted(ctx context.Context) (lo, hi time.Duration, err error) {
	b := a.b
	P := b.period
	for _, j := range outward(0, b.cfg.MaxSteps) {
		d, err := a.lease(ctx, lease{pristine: true, refusals: 1})
		if err != nil {
			return 0, 0, err
		}
		an, err := a.send(ctx, d, false, func(now time.Time) ([]string, int64) {
			s := stepOf(now, P) + int64(j)
			return []string{d.code(s)}, s
		})
		a.release(d)
		if err != nil {
			return 0, 0, err
		}
		if an.v.Outcome == Accepted {
			lo, hi := an.x(P)
			return lo, hi, nil
		}
	}
	return 0, 0, fmt.Errorf("%w within %d steps of the true time", errNoneAccepted, b.cfg.MaxSteps)
}

// errNoneAccepted is the window's answer when no code near the true time
// is accepted at all.
var errNoneAccepted = errors.New("no code was accepted")

// outward lists start, start+1, start-1, start+2, ... within [-m, m].
func outward(start, m int) []int {
	var out []int
	if start >= -m && start <= m {
		out = append(out, start)
	}
	for i := 1; i <= 2*m; i++ {
		for _, k := range []int{start + i, start - i} {
			if k >= -m && k <= m {
				out = append(out, k)
			}
		}
	}
	return out
}

// coarseLower brackets the lower edge to a step at once: future codes
// (clean on any enrollment bound now) submitted now, one step further
// each, until one is refused; each accepted one on its own enrollment.
func (s *edgeSearch) coarseLower(ctx context.Context) error {
	P := s.a.b.period
	return s.sweep(ctx, lease{pristine: true, refusals: 1, notOld: true}, func(br bracket) (time.Duration, bool) {
		// A step below the bracket's top (in [br.hi - P, br.hi)), not
		// below its bottom.
		return max(br.hi-P, br.lo+time.Millisecond), br.loSeen || br.width() <= P
	})
}

// coarseUpper does the same for the upper edge where old codes are clean
// now (a target that remembers no codes); elsewhere the binds with the
// oldest codes accepted bracket it from below.
func (s *edgeSearch) coarseUpper(ctx context.Context) error {
	b := s.a.b
	b.mu.Lock()
	free := b.facts.noCodeReplay && b.facts.notStepStrict && (b.facts.bindReusable || b.caps.BindCodes == 0)
	b.mu.Unlock()
	if !free {
		// Enrollments bound now with the oldest codes accepted: their
		// binds bracket the edge from below, and their later steps are
		// clean soonest. Three: the pair that tests a candidate edge, and
		// the one the check for drift tracking spends.
		if err := s.a.prebind(ctx, 3, true); err != nil {
			return err
		}
		s.absorb()
		return nil
	}
	P := b.period
	return s.sweep(ctx, lease{pristine: true, refusals: 1}, func(br bracket) (time.Duration, bool) {
		return min(br.lo+P, br.hi-time.Millisecond), br.hiSeen || br.width() <= P
	})
}

// sweep submits now, each on an enrollment leased with l, the clean code
// judged about at(bracket) after its step began, until at says the
// bracket is done (a refusal, or the search's limit within a step).
func (s *edgeSearch) sweep(ctx context.Context, l lease, at func(bracket) (time.Duration, bool)) error {
	b := s.a.b
	P := b.period
	tries := 4*b.cfg.MaxSteps + 8
	for range tries {
		s.mu.Lock()
		x, done := at(s.br)
		s.mu.Unlock()
		if done {
			return nil
		}
		d, err := s.a.lease(ctx, l)
		if err != nil {
			return err
		}
		an, err := s.a.send(ctx, d, false, func(now time.Time) ([]string, int64) {
			b.mu.Lock()
			n := b.cleanStepLocked(d, stepOf(now.Add(-x), P))
			b.mu.Unlock()
			return []string{d.code(n)}, n
		})
		s.a.release(d)
		if err != nil {
			return err
		}
		if s.record(an) {
			return nil
		}
	}
	return fmt.Errorf("no refusal nor the search's limit after %d tries (locked enrollments?)", tries)
}

// record updates the bracket with an answer; it reports whether the
// answer was the kind that ends a coarse sweep (a refusal).
func (s *edgeSearch) record(an answer) bool {
	P := s.a.b.period
	lo, hi := an.x(P)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch an.v.Outcome {
	case Accepted:
		if s.upper {
			if lo > s.br.lo {
				s.br.lo, s.br.loSeen = lo, true
			}
		} else if hi < s.br.hi {
			s.br.hi, s.br.hiSeen, s.hiAns = hi, true, an
		}
	case Rejected:
		// A refusal beyond the search's limit says nothing the limit
		// does not.
		if s.upper {
			if hi < s.br.hi {
				s.br.hi, s.br.hiSeen = hi, true
			}
		} else if lo > s.br.lo {
			s.br.lo, s.br.loSeen = lo, true
		}
		return true
	}
	return false
}

// absorb narrows the bracket with the binds accepted so far: their last
// code was accepted where they were judged.
func (s *edgeSearch) absorb() {
	b := s.a.b
	P := b.period
	b.mu.Lock()
	ev := append([]evidence(nil), b.evidence...)
	b.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range ev {
		lo, hi := e.an.x(P)
		if s.upper && lo > s.br.lo {
			s.br.lo, s.br.loSeen = min(lo, s.br.hi), true
		} else if !s.upper && hi < s.br.hi {
			s.br.hi, s.br.hiSeen = max(hi, s.br.lo), true
		}
	}
}
