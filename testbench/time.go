package testbench

import (
	"context"
	"fmt"
	"time"

	"github.com/totpemu/totpemu/clock"
)

// TimeKind is where a run's truth comes from.
type TimeKind string

// Time kinds, as the report's time_source.kind names them.
const (
	TimeVirtual TimeKind = "virtual" // the bench drives the target's lab clock
	TimeNTP     TimeKind = "ntp"     // real time, truth from NTP
	TimeSystem  TimeKind = "system"  // real time, truth from the system clock (no NTP)
)

// Time is where a run takes the truth from and how it waits: Now is the
// true time, Wait either sleeps (real time) or advances the clocks
// (virtual time). Scenarios use nothing else, so one code path serves both.
type Time struct {
	clock.Waiter
	Kind TimeKind
	// LocalOffset is the local clock's measured error (truth minus local),
	// known with NTP; nil otherwise.
	LocalOffset *time.Duration

	restore func(context.Context) error // puts the lab clock back; nil in real time
}

// Restore puts the target's lab clock back as VirtualTime found it (so a
// person using the console next is not years in the future); later calls
// and real time do nothing. Call it when the run ends, also when it was
// interrupted, with a context that is not cancelled yet.
func (t *Time) Restore(ctx context.Context) error {
	r := t.restore
	t.restore = nil
	if r == nil {
		return nil
	}
	if err := r(ctx); err != nil {
		return fmt.Errorf("restoring the target's lab clock: %w", err)
	}
	return nil
}

// Virtual reports whether waiting is free.
func (t *Time) Virtual() bool { return t.Kind == TimeVirtual }

// VirtualTime returns a virtual Time that starts at the lab clock's
// current time; each Wait advances the bench's clock and sets the lab
// clock to match.
func VirtualTime(ctx context.Context, lab LabClock) (*Time, error) {
	now, err := lab.LabNow(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the target's lab clock: %w", err)
	}
	restore := func(ctx context.Context) error { return lab.SetLabClock(ctx, now) }
	if s, ok := lab.(LabSaver); ok {
		if restore, err = s.SaveLabClock(ctx); err != nil {
			return nil, fmt.Errorf("reading the target's lab clock: %w", err)
		}
	}
	// Stop it where it is: a lab clock that runs with the real clock (the
	// reference console's until set) would move under the first probes.
	if err := lab.SetLabClock(ctx, now); err != nil {
		return nil, fmt.Errorf("setting the target's lab clock: %w", err)
	}
	return &Time{Waiter: &labWaiter{m: clock.NewManual(now), lab: lab}, Kind: TimeVirtual, restore: restore}, nil
}

// RealTime returns a real Time: truth from truth (an NTP clock, or the
// system clock), waiting with sleeper's Wait (the local clock: durations
// do not depend on its offset). kind is TimeNTP or TimeSystem.
func RealTime(truth clock.Clock, sleeper clock.Waiter, kind TimeKind, localOffset *time.Duration) *Time {
	return &Time{Waiter: realWaiter{truth: truth, sleeper: sleeper}, Kind: kind, LocalOffset: localOffset}
}

type labWaiter struct {
	m   *clock.Manual
	lab LabClock
}

func (w *labWaiter) Now() time.Time { return w.m.Now() }

func (w *labWaiter) Wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	t := w.m.Advance(d)
	if err := w.lab.SetLabClock(ctx, t); err != nil {
		return fmt.Errorf("setting the target's lab clock to %s: %w", t.Format(time.RFC3339Nano), err)
	}
	return nil
}

type realWaiter struct {
	truth   clock.Clock
	sleeper clock.Waiter
}

func (w realWaiter) Now() time.Time { return w.truth.Now() }

func (w realWaiter) Wait(ctx context.Context, d time.Duration) error { return w.sleeper.Wait(ctx, d) }
