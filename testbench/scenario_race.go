package testbench

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// RaceResult is what bursts of submissions released together got
// through: a replay check and a failure count that are not atomic with
// the verification let a burst past them (a TOCTOU race).
type RaceResult struct {
	Burst  int    `json:"burst"`  // submissions per burst
	Bursts int    `json:"bursts"` // replay bursts sent, each on a fresh enrollment
	Method string `json:"method"` // how a burst was released
	// The real time from the first submission released to the last; null
	// when the target cannot time its release.
	SpreadMSP50 *float64 `json:"spread_ms_p50"`
	SpreadMSMax *float64 `json:"spread_ms_max"`
	// Replay: one clean code sent Burst times in one burst.
	ReplayMaxAccepted   int `json:"replay_max_accepted"`
	ReplayBurstsOverOne int `json:"replay_bursts_over_one"`
	// After a burst that accepted a code more than once, the same code
	// once more on its own: accepted, the target has no replay rule at
	// all (not a race). Null when no burst accepted more than once.
	ReplayAcceptedOneAtATime *bool `json:"replay_accepted_one_at_a_time,omitempty"`
	// Lockout: 3L wrong codes and the right code last in one burst; null
	// when no lockout count was measured.
	LockoutLimit             *int  `json:"lockout_limit"`
	WrongEvaluatedBeforeLock *int  `json:"wrong_evaluated_before_lock"` // wrong codes refused as wrong, not as locked
	RightAccepted            *bool `json:"right_accepted"`
	RightAcceptedAfterLimit  *bool `json:"right_accepted_after_limit"`
	// Whether refused replays count as failures: a replay burst then
	// locks the user out. ReplaysToLock is how many refused replays did.
	ReplaysCountAsFailures *bool `json:"replays_count_as_failures"`
	ReplaysToLock          *int  `json:"replays_to_lock,omitempty"`

	spreads []time.Duration
	bound   int // the most wrong codes a correct server judges in the lockout burst
}

// raceTries bounds the bursts re-sent because they were judged outside
// the window or came back without verdicts.
const raceTries = 3

// runRace sends the replay bursts, then the lockout burst, on fresh
// enrollments (a burst leaves an enrollment in a state the books cannot
// know exactly: each is retired after).
func runRace(ctx context.Context, a *actor) (any, []Check, error) {
	b := a.b
	res := &RaceResult{Burst: b.cfg.Burst}
	if !b.caps.FreshEnrollments {
		return nil, []Check{{ID: "race.not-run", Status: Skip,
			Detail: "not run: every enrollment of this target is the same device (give --enroll-cmd for fresh keys), and a burst would lock it for the other scenarios"}}, nil
	}
	e, err := a.measuredEdges(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("not run: the window was not measured: %w", err)
	}
	lf, err := b.lockout.get(ctx)
	if err != nil {
		return nil, nil, err
	}
	var lockedBursts, refusedBeforeLock []int
	for range b.cfg.Bursts {
		bu, err := a.replayBurst(ctx, e)
		if err != nil {
			return nil, nil, err
		}
		res.Bursts++
		res.Method = bu.Method
		if bu.Measured {
			res.spreads = append(res.spreads, bu.Spread)
		}
		n := bu.count(Accepted)
		if bu.alone != nil && (res.ReplayAcceptedOneAtATime == nil || !*bu.alone) {
			res.ReplayAcceptedOneAtATime = bu.alone
		}
		res.ReplayMaxAccepted = max(res.ReplayMaxAccepted, n)
		if n > 1 {
			res.ReplayBurstsOverOne++
		}
		if l := bu.count(Locked); l > 0 {
			lockedBursts = append(lockedBursts, l)
			refusedBeforeLock = append(refusedBeforeLock, bu.count(Rejected))
		}
	}
	switch {
	case lf.none:
		res.ReplaysCountAsFailures = ptr(false)
	case lf.limit > 0 && len(lockedBursts) > 0:
		res.ReplaysCountAsFailures = ptr(true)
		res.ReplaysToLock = ptr(slices.Min(refusedBeforeLock))
	case lf.limit > 0 && b.cfg.Burst-1 >= lf.limit:
		res.ReplaysCountAsFailures = ptr(false)
	}
	if lf.limit > 0 {
		res.LockoutLimit = ptr(lf.limit)
		if err := a.lockoutBurst(ctx, e, lf, res); err != nil {
			return nil, nil, err
		}
	}
	if len(res.spreads) > 0 {
		s := slices.Clone(res.spreads)
		slices.Sort(s)
		res.SpreadMSP50 = ptr(ms(s[len(s)/2]))
		res.SpreadMSMax = ptr(ms(s[len(s)-1]))
	}
	return res, raceChecks(res, lf), nil
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// replayBurst binds a fresh enrollment and, when its next clean code is
// surely accepted, sends that code Burst times in one burst. A burst
// judged after the code could have left the window, or with no verdict
// at all, is sent again on another enrollment.
func (a *actor) replayBurst(ctx context.Context, e *edges) (burst, error) {
	b := a.b
	P := b.period
	for try := 0; ; try++ {
		d, n, err := a.freshAtClean(ctx, e, "a replay burst")
		if err != nil {
			return burst{}, err
		}
		code := d.code(n)
		bu, err := a.sendBurst(ctx, d, slices.Repeat([]string{code}, b.cfg.Burst), slices.Repeat([]int64{n}, b.cfg.Burst))
		if err != nil {
			a.retire(d)
			return burst{}, err
		}
		lo, hi := a.surely(e)
		inWindow := sinceStep(bu.sent, n, P) >= lo && sinceStep(bu.recv, n, P) <= hi
		if bu.count(Accepted) > 1 {
			// Accepted more than once: is it a race, or no replay rule?
			// Sent on books of its own: what it shows is about the burst,
			// not a fact for the other scenarios to plan by.
			ghost := &device{enr: d.enr, acct: d.acct, used: map[string]usedBy{}, bound: true, busy: true}
			an, err := a.send(ctx, ghost, false, func(time.Time) ([]string, int64) { return []string{code}, n })
			if err != nil {
				a.retire(d)
				return burst{}, err
			}
			if an.v.Outcome == Accepted || sinceStep(an.recv, n, P) <= hi {
				bu.alone = ptr(an.v.Outcome == Accepted)
			}
		}
		a.retire(d)
		if (inWindow && bu.count(Accepted)+bu.count(Rejected)+bu.count(Locked) == b.cfg.Burst) || bu.count(Accepted) > 1 || try+1 >= raceTries {
			if bu.count(Accepted) == 0 && inWindow && bu.count(Locked) == 0 {
				return bu, fmt.Errorf("a code surely in the window was refused in all %d submissions of a burst: %v", b.cfg.Burst, bu.Verdicts[0])
			}
			return bu, nil
		}
	}
}

// freshAtClean binds a fresh enrollment and waits until its next clean
// code (step n) is surely accepted: the moment for a burst. On an error
// the enrollment is retired.
func (a *actor) freshAtClean(ctx context.Context, e *edges, what string) (*device, int64, error) {
	b := a.b
	d, err := a.freshBound(ctx, false)
	if err != nil {
		return nil, 0, fmt.Errorf("an enrollment for %s: %w", what, err)
	}
	b.mu.Lock()
	from := b.cleanFromLocked(d)
	b.mu.Unlock()
	n, at, err := a.nextAccepted(d, e, from, a.replayHold())
	if err == nil {
		err = b.tl.until(ctx, at, a.name, "a clean code for "+what)
	}
	if err != nil {
		a.retire(d)
		return nil, 0, err
	}
	return d, n, nil
}

// lockoutBurst binds a fresh enrollment and sends 3L wrong codes with the
// right one last in one burst: an atomic failure count lets L of them be
// judged, and refuses the right code once they were.
func (a *actor) lockoutBurst(ctx context.Context, e *edges, lf lockoutFacts, res *RaceResult) error {
	L := lf.limit
	for try := 0; ; try++ {
		d, n, err := a.freshAtClean(ctx, e, "the lockout burst")
		if err != nil {
			return err
		}
		codes := make([]string, 0, 3*L+1)
		steps := make([]int64, 0, 3*L+1)
		for i := range 3 * L {
			codes, steps = append(codes, a.wrongCode(d, i)), append(steps, -1)
		}
		codes, steps = append(codes, d.code(n)), append(steps, n)
		bu, err := a.sendBurst(ctx, d, codes, steps)
		a.retire(d)
		if err != nil {
			return err
		}
		wrong := 0
		for _, v := range bu.Verdicts[:3*L] {
			if v.Outcome == Rejected {
				wrong++
			}
		}
		right := bu.Verdicts[3*L].Outcome
		if right == Error && try+1 < raceTries {
			continue
		}
		res.WrongEvaluatedBeforeLock = ptr(wrong)
		res.RightAccepted = ptr(right == Accepted)
		// Whether a success resets the count bounds what a correct server
		// judges: wait for the lockout scenario to have told.
		if _, err := a.b.lockoutDone.get(ctx); err != nil {
			return err
		}
		res.bound = overrunBound(L, right == Accepted, a.resetsOnSuccess())
		res.RightAcceptedAfterLimit = ptr(right == Accepted && wrong > res.bound)
		if bu.Measured {
			res.spreads = append(res.spreads, bu.Spread)
		}
		return nil
	}
}

// resetsOnSuccess reports whether a success was seen to reset the
// failure count.
func (a *actor) resetsOnSuccess() bool {
	a.b.mu.Lock()
	defer a.b.mu.Unlock()
	return a.b.resets
}

// overrunBound is the most wrong codes of a lockout burst a correct
// server judges as wrong: L (the L-th locks). When the right code was
// accepted on a server whose success resets the count, it may have been
// judged first among up to L-1 wrong ones, and L more after it: 2L-1.
func overrunBound(L int, rightAccepted, resets bool) int {
	if rightAccepted && resets {
		return 2*L - 1
	}
	return L
}

func raceChecks(res *RaceResult, lf lockoutFacts) []Check {
	var cs []Check
	how := fmt.Sprintf("%d bursts of %d copies of one clean code (%s", res.Bursts, res.Burst, res.Method)
	if res.SpreadMSP50 != nil {
		how += fmt.Sprintf(", released within %.3f ms, median %.3f ms", *res.SpreadMSMax, *res.SpreadMSP50)
	}
	how += ")"
	if res.ReplayMaxAccepted > 1 && res.ReplayAcceptedOneAtATime != nil && *res.ReplayAcceptedOneAtATime {
		cs = append(cs, Check{ID: "race.replay", Status: Fail, Detail: fmt.Sprintf(
			"%s: %d of them accepted one code more than once, up to %d times, and it is accepted once more on its own: the target has no replay rule at all, or keeps it per session (replay.same-code, reuse.second-session), which the bursts show rather than a race",
			how, res.ReplayBurstsOverOne, res.ReplayMaxAccepted)})
	} else if res.ReplayMaxAccepted > 1 {
		cs = append(cs, Check{ID: "race.replay", Status: Fail, Detail: fmt.Sprintf(
			"%s: %d of them accepted one code more than once, up to %d times: the check \"was this code used?\" and the record of its use are not one atomic step (a TOCTOU race; RFC 6238 section 5.2: the second attempt MUST NOT be accepted)",
			how, res.ReplayBurstsOverOne, res.ReplayMaxAccepted)})
	} else {
		cs = append(cs, Check{ID: "race.replay", Status: Pass, Detail: how + ": each accepted the code once at most"})
	}
	switch {
	case res.LockoutLimit == nil:
		why := "no lockout count was measured (run the lockout scenario)"
		if lf.none {
			why = "the target did not lock within the lockout scenario's wrong codes"
		}
		cs = append(cs, Check{ID: "race.lockout", Status: Skip, Detail: "not testable: " + why})
	default:
		L, wrong := *res.LockoutLimit, *res.WrongEvaluatedBeforeLock
		detail := fmt.Sprintf("a burst of %d wrong codes and the right one last, lockout after %d: %d judged as wrong (not as locked), the right code %s",
			3*L, L, wrong, yes(*res.RightAccepted, "accepted", "refused"))
		if *res.RightAccepted && !*res.RightAcceptedAfterLimit && wrong <= res.bound {
			detail += fmt.Sprintf(" before the lock (judged early; a success resets the count, so up to %d judged as wrong is right)", res.bound)
		}
		switch {
		case *res.RightAcceptedAfterLimit:
			cs = append(cs, Check{ID: "race.lockout", Status: Fail, Detail: detail +
				": the failure count is written after the verification, so a burst overruns the limit and a guess gets through after more failures than the lockout allows"})
		case wrong > res.bound:
			cs = append(cs, Check{ID: "race.lockout", Status: Fail, Detail: detail +
				fmt.Sprintf(": more wrong codes judged than the lockout allows (%d): a burst overruns the limit", L)})
		default:
			cs = append(cs, Check{ID: "race.lockout", Status: Pass, Detail: detail})
		}
	}
	switch {
	case res.ReplaysCountAsFailures == nil:
		cs = append(cs, Check{ID: "race.replay-lockout", Status: Skip,
			Detail: "not testable: no lockout count was measured, or the burst is not larger than it"})
	case *res.ReplaysCountAsFailures:
		cs = append(cs, Check{ID: "race.replay-lockout", Status: Warn, Detail: fmt.Sprintf(
			"refused replays count as failed attempts: %d replays of a code just accepted locked the account, so anyone who sees a code (over a shoulder, in a log) can lock its user out",
			*res.ReplaysToLock)})
	default:
		cs = append(cs, Check{ID: "race.replay-lockout", Status: Pass,
			Detail: "refused replays did not lock the account: they are not counted as failed guesses"})
	}
	return cs
}
