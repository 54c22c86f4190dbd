package testbench

import (
	"context"
	"fmt"
	"time"

	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/emulator"
)

// Drift defaults and limits.
const (
	DefaultDriftPPM  = 20  // the token profile's crystal
	DefaultDriftDays = 365 // a year of daily use
	MaxDriftDays     = 3650
	day              = 24 * time.Hour
	// driftEdge is how far before the server's step edge (after it, for a
	// slow token) a day's code is submitted: the moment it is refused first.
	driftEdgeVirtual = time.Millisecond
	driftEdgeReal    = 2500 * time.Millisecond // real time: submit between this and driftEdgeRealMin before the edge
	driftEdgeRealMin = time.Second
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
	// PredictedFirstRefusedDay is when a server with the measured window
	// that does not track drift refuses it first; null beyond MaxDays.
	PredictedFirstRefusedDay *int `json:"predicted_first_refused_day"`
	// ServerTracksDrift is true when the token was still accepted on the
	// day the window alone would refuse it (RFC 6238 section 6: the server
	// remembers the device's offset); null when no such day is within
	// MaxDays.
	ServerTracksDrift *bool      `json:"server_tracks_drift"`
	Days              []DriftDay `json:"days"`   // the days sampled, in order
	Phones            []PhoneRun `json:"phones"` // synced phone profiles on some of those days
}

// DriftDay is one day's submission of the token.
type DriftDay struct {
	Day      int     `json:"day"`
	OffsetS  float64 `json:"offset_s"` // the token's clock error that day
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

// tokenReading is what a token drifting at ppm for d days shows at the
// true instant s (clock.Drift, 1 s resolution, as the token profile).
func tokenReading(s time.Time, ppm float64, d int) time.Time {
	return clock.Drift{Base: fixedClock(s), PPM: ppm, Since: s.Add(-time.Duration(d) * day), Resolution: time.Second}.Now()
}

// driftWorst is the next true instant at or after from where the server's
// step is about to end (ppm >= 0) or has just begun (ppm < 0): the moment
// a drifting code is refused first.
func (r *runner) driftWorst(from time.Time, ppm float64) time.Time {
	f := r.frame()
	P := f.period
	edge := driftEdgeVirtual
	if !r.p.tm.Virtual() {
		edge = driftEdgeReal
	}
	// Server-frame phase of from.
	sf := from.Add(f.r)
	ph := time.Duration(sf.UnixNano() - floorDiv(sf.UnixNano(), int64(P))*int64(P))
	target := P - edge
	if ppm < 0 {
		target = edge
		if !r.p.tm.Virtual() {
			target = driftEdgeRealMin
		}
	}
	if !r.p.tm.Virtual() && ppm >= 0 && ph >= target && ph <= P-driftEdgeRealMin {
		return from // inside the real-time slot already
	}
	if !r.p.tm.Virtual() && ppm < 0 && ph >= target && ph <= driftEdgeReal {
		return from
	}
	w := target - ph
	if w < 0 {
		w += P
	}
	return from.Add(w)
}

// predictFirstRefused is the first day in 1..max a server with frame f
// that does not track drift refuses the token at the worst moment.
func (r *runner) predictFirstRefused(ppm float64, maxDays int) *int {
	f := r.frame()
	s := r.driftWorst(time.Unix(0, 0).Add(1000*f.period), ppm)
	for d := 1; d <= maxDays; d++ {
		if !f.accepts(f.stepAt(tokenReading(s, ppm, d), 0), s) {
			return ptr(d)
		}
	}
	return nil
}

// drift uses a token drifting at Config.DriftPPM once a day: on each day
// where its code moves by a step relative to the server's step (the days
// between are the same submission), the code it shows at the worst moment.
// In virtual time the clocks advance to that day; in real time the bench
// submits now the code the token would show now on that day. Phones
// synced over NTP and Google Authenticator's minute correction are used
// on a few of the same days.
func (r *runner) drift(ctx context.Context) (*DriftResult, []Check, error) {
	p := r.p
	ppm, maxDays := r.cfg.DriftPPM, r.cfg.DriftDays
	res := &DriftResult{PPM: ppm, MaxDays: maxDays, Days: []DriftDay{}, Phones: []PhoneRun{}}
	res.PredictedFirstRefusedDay = r.predictFirstRefused(ppm, maxDays)
	tok, err := p.deviceFor(ctx, "drift-token")
	if err != nil {
		return nil, nil, err
	}
	start := p.tm.Now()
	f := r.frame()
	lastK, sampled := int64(0), false
	for d := 1; d <= maxDays; d++ {
		// Is day d any different from the last day sampled?
		ref := r.driftWorst(start.Add(time.Duration(d)*day), ppm)
		k := f.stepAt(tokenReading(ref, ppm, d), 0) - f.stepAt(ref, f.r)
		pred := res.PredictedFirstRefusedDay != nil && *res.PredictedFirstRefusedDay == d
		if sampled && k == lastK && !pred && d != maxDays {
			continue
		}
		sampled, lastK = true, k
		var at time.Time
		if p.tm.Virtual() {
			at = start.Add(time.Duration(d) * day)
		} else {
			at = p.tm.Now().Add(200 * time.Millisecond)
		}
		acc, err := r.driftSubmit(ctx, tok, at, ppm, func(s time.Time) time.Time { return tokenReading(s, ppm, d) })
		if err != nil {
			return nil, nil, err
		}
		res.Days = append(res.Days, DriftDay{Day: d, OffsetS: float64(d) * day.Seconds() * ppm / 1e6, Accepted: acc})
		if pred {
			res.ServerTracksDrift = ptr(acc)
		}
		if !acc {
			res.FirstRefusedDay = ptr(d)
			break
		}
	}
	// Synced phones on a few days.
	days := []int{1, 7, 30, 90, 180, 365}
	if !p.tm.Virtual() {
		days = []int{maxDays} // each day sampled costs a step of waiting
	}
	for _, name := range []string{"phone", "gauth-android"} {
		prof, err := emulator.ProfileByName(name)
		if err != nil {
			return nil, nil, err
		}
		run := PhoneRun{Profile: name, Days: []DriftDay{}, AllAccepted: true}
		base := p.tm.Now()
		for _, d := range days {
			if d > maxDays {
				continue
			}
			at := p.tm.Now()
			if p.tm.Virtual() {
				at = base.Add(time.Duration(d) * day)
			}
			dev, err := p.spareDevice(ctx, "drift-"+name)
			if err != nil {
				return nil, nil, err
			}
			var off time.Duration
			acc, err := r.driftSubmit(ctx, dev, at, ppm, func(s time.Time) time.Time {
				// The phone's own crystal drifts like the token's; the
				// profile's sync corrects it against the truth.
				local := fixedClock(tokenReading(s, ppm, d))
				t := prof.Clock(local, fixedClock(s)).Now()
				off = t.Sub(s)
				return t
			})
			if err != nil {
				return nil, nil, err
			}
			run.Days = append(run.Days, DriftDay{Day: d, OffsetS: off.Seconds(), Accepted: acc})
			run.AllAccepted = run.AllAccepted && acc
		}
		res.Phones = append(res.Phones, run)
	}
	return res, driftChecks(res), nil
}

// driftSubmit submits, at the first worst moment at or after at whose code
// step is clean on d, the code of the clock reading read gives.
func (r *runner) driftSubmit(ctx context.Context, d *device, at time.Time, ppm float64, read func(s time.Time) time.Time) (bool, error) {
	p := r.p
	s := r.driftWorst(at, ppm)
	for st := p.stepAt(read(s)); !p.clean(d, d.code(st), st); st = p.stepAt(read(s)) {
		s = r.driftWorst(s.Add(p.period-time.Millisecond), ppm)
	}
	if !p.usable(d) {
		return false, fmt.Errorf("drift: the enrollment is locked")
	}
	t, err := p.submitAt(ctx, d, s, "the moment a drifting code is refused first", func(now time.Time) int64 { return p.stepAt(read(now)) })
	if err != nil {
		return false, err
	}
	switch t.v.Outcome {
	case Accepted:
		return true, nil
	case Rejected:
		return false, nil
	}
	return false, fmt.Errorf("drift: the target answered %v", t.v)
}

func driftChecks(res *DriftResult) []Check {
	var cs []Check
	switch {
	case res.FirstRefusedDay == nil:
		cs = append(cs, Check{ID: "drift.token", Status: Pass,
			Detail: fmt.Sprintf("a token drifting %+g ppm used once a day was accepted on every day sampled up to day %d", res.PPM, res.MaxDays)})
	case *res.FirstRefusedDay <= 30:
		cs = append(cs, Check{ID: "drift.token", Status: Warn,
			Detail: fmt.Sprintf("a token drifting %+g ppm used once a day is refused from day %d (%.1f s off): within a month", res.PPM, *res.FirstRefusedDay, float64(*res.FirstRefusedDay)*day.Seconds()*res.PPM/1e6)})
	default:
		cs = append(cs, Check{ID: "drift.token", Status: Pass,
			Detail: fmt.Sprintf("a token drifting %+g ppm used once a day is refused from day %d (%.1f s off)", res.PPM, *res.FirstRefusedDay, float64(*res.FirstRefusedDay)*day.Seconds()*res.PPM/1e6)})
	}
	switch {
	case res.ServerTracksDrift == nil:
		cs = append(cs, Check{ID: "drift.tracking", Status: Skip, Detail: fmt.Sprintf("the window would not refuse the token within %d days: tracking not testable", res.MaxDays)})
	case *res.ServerTracksDrift:
		cs = append(cs, Check{ID: "drift.tracking", Status: Pass, Detail: "the server tracks the token's drift (RFC 6238 section 6): accepted past the window's edge"})
	default:
		cs = append(cs, Check{ID: "drift.tracking", Status: Warn,
			Detail: fmt.Sprintf("the server does not track drift (RFC 6238 section 6): the token is refused on day %d, as the window alone predicts", *res.PredictedFirstRefusedDay)})
	}
	for _, ph := range res.Phones {
		if ph.AllAccepted {
			cs = append(cs, Check{ID: "drift.phone." + ph.Profile, Status: Pass, Detail: fmt.Sprintf("profile %s stays accepted on the days sampled: its sync keeps the clock in the window", ph.Profile)})
		} else if ph.Profile == "phone" {
			cs = append(cs, Check{ID: "drift.phone." + ph.Profile, Status: Fail, Detail: "a phone synced over NTP was refused on a day sampled, at the worst moment of a step: the window does not hold the current step"})
		} else {
			cs = append(cs, Check{ID: "drift.phone." + ph.Profile, Status: Warn, Detail: fmt.Sprintf("profile %s was refused on a day sampled, at the worst moment of a step: its correction leaves up to 30 s of error, more than the window covers", ph.Profile)})
		}
	}
	return cs
}
