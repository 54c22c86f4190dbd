package testbench

import (
	"context"
	"fmt"
	"time"

	"github.com/totpemu/totpemu/emulator"
)

// Drift defaults and limits.
const (
	DefaultDriftPPM  = 20  // the token profile's crystal
	DefaultDriftDays = 365 // a year of daily use
	MaxDriftDays     = 3650
	day              = 24 * time.Hour
	// A day's code is judged this long after the worst moment (just after
	// the token's code changes, just before for a slow token).
	driftMarginVirtual = time.Millisecond
	driftMarginReal    = 300 * time.Millisecond
)

// DriftResult is a drifting hardware token used once a day, and phones
// that keep their clocks synced.
type DriftResult struct {
	PPM     float64 `json:"ppm"`
	MaxDays int     `json:"max_days"`
	// FirstRefusedDay is the first day the token's code was refused when
	// read at the worst moment of a step; null when it was accepted on
	// every day sampled.
	FirstRefusedDay *int `json:"first_refused_day"`
	// PredictedFirstRefusedDay is when a server with the measured edges
	// that does not track drift refuses it first; null beyond MaxDays.
	PredictedFirstRefusedDay *int `json:"predicted_first_refused_day"`
	// ServerTracksDrift is true when the token was still accepted on the
	// day the edges alone would refuse it (RFC 6238 section 6: the server
	// remembers the device's offset); null when no such day is within
	// MaxDays.
	ServerTracksDrift *bool `json:"server_tracks_drift"`
	// TrackedStepsMax is how many steps the window follows a device
	// running ahead at most (Tracking has the rest); null when the server
	// does not track drift.
	TrackedStepsMax *int `json:"tracked_steps_max"`
	// Tracking is how the server follows a device running ahead, when it
	// tracks drift (drift_track.go); null otherwise.
	Tracking *DriftTracking `json:"tracking"`
	Days     []DriftDay     `json:"days"`   // the days sampled, in order
	Phones   []PhoneRun     `json:"phones"` // synced phone profiles on some of those days
}

// DriftDay is one day's submission.
type DriftDay struct {
	Day      int     `json:"day"`
	OffsetS  float64 `json:"offset_s"` // the device's clock error that day
	Accepted bool    `json:"accepted"`
}

// PhoneRun is a synced phone profile used on the sampled days.
type PhoneRun struct {
	Profile     string     `json:"profile"`
	Days        []DriftDay `json:"days"`
	AllAccepted bool       `json:"all_accepted"`
}

type fixedClock time.Time

func (f fixedClock) Now() time.Time { return time.Time(f) }

// runDrift uses a token drifting at Config.DriftPPM once a day, on one
// enrollment (a server that tracks drift follows it from success to
// success): each day where the token's offset crosses a step, the
// predicted first refused day and the last, until refused. Each day is a
// code submitted now, read as the token would show it on that day, at the
// worst moment: where its code has just changed (has yet to change, for a
// slow token). Phones whose sync keeps their clock near the truth are
// used on a few of the same days.
func runDrift(ctx context.Context, a *actor) (any, []Check, error) {
	b := a.b
	// The token and the phones are bound now, so their steps are clean
	// when the edges' guess arrives; the guess plans the days, the
	// measured edges check the plan.
	g := b.tl.newGroup()
	var tokErr error
	ppm, maxDays := b.cfg.DriftPPM, b.cfg.DriftDays
	res := &DriftResult{PPM: ppm, MaxDays: maxDays, Days: []DriftDay{}, Phones: []PhoneRun{}}
	// Bound with older codes (later steps clean sooner), unless the target
	// moves the window of such an enrollment: the edges' check says.
	a.startEdges(ctx)
	if _, err := b.resyncChecked.get(ctx); err != nil {
		return nil, nil, err
	}
	if b.fewAccounts() {
		// Few test users: the edges need them first.
		if _, err := a.measuredEdges(ctx); err != nil {
			return nil, nil, fmt.Errorf("not run: the window was not measured: %w", err)
		}
	}
	tok, err := a.lease(ctx, lease{pristine: true, refusals: 1, fresh: true, oldest: true})
	if err != nil {
		return nil, nil, err
	}
	defer a.release(tok)
	a.startEdges(ctx)
	var guessed *int
	g.spawn(func() {
		var lastK int64
		P := b.period
		for d := 1; d <= maxDays; d++ {
			if d == 2 {
				// Day 1 is sampled whatever the edges: the days after
				// wait for their guess.
				gs, err := a.guessedEdges(ctx)
				if err != nil {
					tokErr = fmt.Errorf("not run: the window was not measured: %w", err)
					return
				}
				guessed = gs.firstRefusedDay(ppm, maxDays)
			}
			off := driftOffset(ppm, d)
			k := floorDiv(int64(off), int64(P))
			pred := guessed != nil && *guessed == d
			if d > 1 && k == lastK && !pred && d != maxDays {
				continue
			}
			lastK = k
			acc, err := a.driftSubmit(ctx, tok, off)
			if err != nil {
				tokErr = err
				return
			}
			res.Days = append(res.Days, DriftDay{Day: d, OffsetS: round4(off.Seconds()), Accepted: acc})
			if !acc {
				res.FirstRefusedDay = ptr(d)
				return
			}
		}
	})
	days := []int{1, 7, 30, 90, 180, 365}
	if !b.tl.tm.Virtual() {
		days = []int{maxDays} // each day sampled costs a step of waiting
	}
	names := []string{"phone", "gauth-android"}
	runs := make([]PhoneRun, len(names))
	errs := make([]error, len(names))
	few := b.fewAccounts()
	if !few {
		for i, name := range names {
			g.spawn(func() { runs[i], errs[i] = a.phoneRun(ctx, name, days, ppm, maxDays) })
		}
	}
	if err := g.wait(ctx); err != nil {
		return nil, nil, err
	}
	if tokErr != nil {
		return nil, nil, tokErr
	}
	e, err := a.measuredEdges(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("not run: the window was not measured: %w", err)
	}
	// Tracking: was the token accepted on the day the measured edges alone
	// refuse it? Sample that day if the guess's plan did not.
	res.PredictedFirstRefusedDay = e.interval().firstRefusedDay(ppm, maxDays)
	if p := res.PredictedFirstRefusedDay; p != nil {
		for _, dd := range res.Days {
			if dd.Day >= *p {
				res.ServerTracksDrift = ptr(dd.Accepted)
				break
			}
		}
		if res.ServerTracksDrift == nil && res.FirstRefusedDay == nil {
			off := driftOffset(ppm, *p)
			acc, err := a.driftSubmit(ctx, tok, off)
			if err != nil {
				return nil, nil, err
			}
			res.Days = append(res.Days, DriftDay{Day: *p, OffsetS: round4(off.Seconds()), Accepted: acc})
			res.ServerTracksDrift = ptr(acc)
			if !acc {
				res.FirstRefusedDay = p
			}
		}
	}
	if few {
		// Few test users: the token's enrollment is given back, then the
		// phones, one after the other (a phone's enrollment may replace
		// the token's on the target).
		a.release(tok)
		for i, name := range names {
			runs[i], errs[i] = a.phoneRun(ctx, name, days, ppm, maxDays)
		}
	}
	for i := range names {
		if errs[i] != nil {
			return nil, nil, errs[i]
		}
		res.Phones = append(res.Phones, runs[i])
	}
	b.mu.Lock()
	resync := b.facts.resync
	b.mu.Unlock()
	// A server that moves only after several successes at one offset does
	// not follow a token used once a day: in virtual time (free) the
	// measurement runs anyway; in real time (a step of waiting per code)
	// only when tracking was seen.
	if (res.ServerTracksDrift != nil && *res.ServerTracksDrift) || resync || b.tl.tm.Virtual() {
		if res.Tracking, err = a.measureTracking(ctx, e); err != nil {
			return nil, nil, err
		}
		if res.Tracking != nil {
			res.TrackedStepsMax = ptr(res.Tracking.TrackedStepsMax)
		}
	}
	return res, driftChecks(res), nil
}

// phoneRun uses a synced phone profile, its crystal drifting like the
// token's and its sync correcting it against the truth, on the given days.
func (a *actor) phoneRun(ctx context.Context, name string, days []int, ppm float64, maxDays int) (PhoneRun, error) {
	prof, err := emulator.ProfileByName(name)
	if err != nil {
		return PhoneRun{}, err
	}
	run := PhoneRun{Profile: name, Days: []DriftDay{}, AllAccepted: true}
	if _, err := a.b.resyncChecked.get(ctx); err != nil {
		return run, err
	}
	if a.b.fewAccounts() {
		if _, err := a.measuredEdges(ctx); err != nil {
			return run, err
		}
	}
	d, err := a.lease(ctx, lease{pristine: true, refusals: 1, fresh: true, oldest: true})
	if err != nil {
		return run, err
	}
	defer a.release(d)
	if _, err := a.guessedEdges(ctx); err != nil {
		return run, err
	}
	for _, dd := range days {
		if dd > maxDays {
			continue
		}
		s := a.b.tl.now()
		local := fixedClock(s.Add(driftOffset(ppm, dd)).Truncate(time.Second))
		off := prof.Clock(local, fixedClock(s)).Now().Sub(s)
		acc, err := a.driftSubmit(ctx, d, off)
		if err != nil {
			return run, err
		}
		run.Days = append(run.Days, DriftDay{Day: dd, OffsetS: round4(off.Seconds()), Accepted: acc})
		run.AllAccepted = run.AllAccepted && acc
		if !acc {
			// A refusal is the answer; another would near a lock.
			break
		}
	}
	return run, nil
}

// driftSubmit submits on d the code a device whose clock is off by off
// shows at the first worst moment whose code is clean on d: just after
// its code changes (off >= 0: judged earliest in the code's acceptance),
// or just before (off < 0: latest).
func (a *actor) driftSubmit(ctx context.Context, d *device, off time.Duration) (bool, error) {
	b := a.b
	P := b.period
	m := driftMarginReal
	lead := realLead
	if b.tl.tm.Virtual() {
		m, lead = driftMarginVirtual, 0
	}
	// The device shows the code of step n while t+off is in [nP, nP+P):
	// x = t - nP runs from -off to P-off.
	x := -off + m
	if off < 0 {
		x = P - off - m
	}
	for try := 0; try < 8; try++ {
		b.mu.Lock()
		n := b.cleanStepLocked(d, firstStepAtOrAfter(b.tl.now().Add(lead), x, P, -1<<62))
		b.mu.Unlock()
		at := stepStart(n, P).Add(x)
		if err := b.tl.until(ctx, at, a.name, "the moment a drifting code is refused first"); err != nil {
			return false, err
		}
		an, err := a.send(ctx, d, false, func(time.Time) ([]string, int64) { return []string{d.code(n)}, n })
		if err != nil {
			return false, err
		}
		if an.waited && an.v.Outcome != Locked {
			continue // sent later than the worst moment: again
		}
		switch an.v.Outcome {
		case Accepted:
			return true, nil
		case Rejected:
			return false, nil
		}
		// Locked: wait for it to end, on the same enrollment (a server
		// that tracks drift remembers it there).
		b.mu.Lock()
		end := d.lockedTo
		b.mu.Unlock()
		if end.IsZero() {
			return false, fmt.Errorf("drift: the enrollment is locked (%v)", an.v)
		}
		if err := b.tl.until(ctx, end, a.name, "the drifting token's lock to end"); err != nil {
			return false, err
		}
	}
	return false, fmt.Errorf("drift: no verdict at the worst moment after 8 tries")
}

func driftChecks(res *DriftResult) []Check {
	var cs []Check
	switch {
	case res.FirstRefusedDay == nil:
		cs = append(cs, Check{ID: "drift.token", Status: Pass,
			Detail: fmt.Sprintf("a token drifting %+g ppm used once a day was accepted on every day sampled up to day %d", res.PPM, res.MaxDays)})
	case *res.FirstRefusedDay <= 30:
		cs = append(cs, Check{ID: "drift.token", Status: Warn,
			Detail: fmt.Sprintf("a token drifting %+g ppm used once a day is refused from day %d (%.1f s off): within a month", res.PPM, *res.FirstRefusedDay, driftOffset(res.PPM, *res.FirstRefusedDay).Seconds())})
	default:
		cs = append(cs, Check{ID: "drift.token", Status: Pass,
			Detail: fmt.Sprintf("a token drifting %+g ppm used once a day is refused from day %d (%.1f s off)", res.PPM, *res.FirstRefusedDay, driftOffset(res.PPM, *res.FirstRefusedDay).Seconds())})
	}
	switch {
	case res.ServerTracksDrift == nil:
		cs = append(cs, Check{ID: "drift.tracking", Status: Skip, Detail: fmt.Sprintf("the edges would not refuse the token within %d days: tracking not testable", res.MaxDays)})
	case *res.ServerTracksDrift:
		cs = append(cs, Check{ID: "drift.tracking", Status: Pass, Detail: "the server tracks the token's drift (RFC 6238 section 6): accepted past the window's edge"})
	default:
		cs = append(cs, Check{ID: "drift.tracking", Status: Warn,
			Detail: fmt.Sprintf("the server does not track drift (RFC 6238 section 6): the token is refused on day %d, as the edges alone predict", *res.PredictedFirstRefusedDay)})
	}
	if tr := res.Tracking; tr != nil {
		more := ""
		if tr.AtLeast {
			more = " or more (the bench stopped following)"
		}
		cs = append(cs, Check{ID: "drift.follows", Status: Pass, Detail: fmt.Sprintf(
			"a device running ahead is followed after %d success(es) past the window's edge, by %d step(s)%s", tr.MovesAfterSuccesses, tr.TrackedStepsMax, more)})
		switch {
		case !tr.FixedDeviceAccepted:
			cs = append(cs, Check{ID: "drift.fixed-device", Status: Warn, Detail: fmt.Sprintf(
				"after following a device %d step(s) ahead, the same device with its clock set right is refused: the window does not come back, so fixing a token's clock locks it out", tr.TrackedStepsMax)})
		case tr.MovesBack != nil && !*tr.MovesBack:
			cs = append(cs, Check{ID: "drift.fixed-device", Status: Pass, Detail: "a device with its clock set right is accepted, but the window stays where it followed the drift (it moves forward only)"})
		default:
			cs = append(cs, Check{ID: "drift.fixed-device", Status: Pass, Detail: "a device with its clock set right is accepted, and the window comes back with it"})
		}
	}
	for _, ph := range res.Phones {
		switch {
		case ph.AllAccepted:
			cs = append(cs, Check{ID: "drift.phone." + ph.Profile, Status: Pass, Detail: fmt.Sprintf("profile %s stays accepted on the days sampled: its sync keeps the clock in the window", ph.Profile)})
		case ph.Profile == "phone":
			cs = append(cs, Check{ID: "drift.phone." + ph.Profile, Status: Fail, Detail: "a phone synced over NTP was refused on a day sampled, at the worst moment of a step: the window does not hold the current step"})
		default:
			cs = append(cs, Check{ID: "drift.phone." + ph.Profile, Status: Warn, Detail: fmt.Sprintf("profile %s was refused on a day sampled, at the worst moment of a step: its correction leaves up to 30 s of error, more than the window covers", ph.Profile)})
		}
	}
	return cs
}
