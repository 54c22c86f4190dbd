// Package clock is where time comes from. It is the only package of totpemu
// that reads the real time; everything else is handed a Clock.
//
// A Clock answers Now. Code that must wait takes a Waiter, whose Wait either
// sleeps (System) or advances virtual time (Manual), so one code path serves
// both real and virtual time.
//
// Implementations:
//
//   - System: the machine's clock.
//   - Manual: set and advanced by hand; for tests and virtual time.
//   - Offset: a base clock plus a fixed offset (a phone whose clock was set by hand).
//   - Drift: a base clock running fast or slow by a rate in ppm from a reference
//     instant, optionally truncated to a resolution (a hardware token's 1 s RTC)
//     and with seeded jitter; a pure function of the base time (drift.go).
//   - NTP: a base clock corrected by the median offset of several NTP servers
//     queried concurrently (github.com/beevik/ntp), with Kiss-o'-Death, stratum,
//     leap, root distance and falseticker checks, a required majority of the
//     valid answers (at least NTPOptions.MinSources of them), periodic
//     resync (Run) and the evidence kept (ntp.go: types and options; ntp_sync.go:
//     Sync and the selection rules). A Sync where no source survives fails with
//     an error wrapping ErrNoSource unless NTPOptions.AllowFallback is set.
//
// Tests of the NTP clock named TestOffline... use clock/ntptest, a fake NTP
// server on 127.0.0.1 with settable faults; TestChronydSync uses a real chronyd
// on loopback (skipped when chronyd is missing, unless TOTPEMU_REQUIRE_EXTERNAL=1).
package clock

import (
	"context"
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Waiter is a Clock that can also wait. Wait returns when d has passed on
// this clock or ctx is done (then it returns ctx.Err()).
type Waiter interface {
	Clock
	Wait(ctx context.Context, d time.Duration) error
}

// System is the machine's clock. Its zero value is ready to use.
type System struct{}

// Now returns the real time.
func (System) Now() time.Time { return time.Now() }

// Wait sleeps for d or until ctx is done.
func (System) Wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Manual is a clock that moves only when told to. It is safe for concurrent
// use. Its zero value stands at the Unix epoch.
type Manual struct {
	mu  sync.Mutex
	now time.Time
}

// NewManual returns a manual clock standing at t.
func NewManual(t time.Time) *Manual { return &Manual{now: t} }

// Now returns the clock's current time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.now.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return m.now
}

// Set moves the clock to t.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	m.now = t
	m.mu.Unlock()
}

// Advance moves the clock forward by d (backward when d is negative) and
// returns the new time.
func (m *Manual) Advance(d time.Duration) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.now.IsZero() {
		m.now = time.Unix(0, 0).UTC()
	}
	m.now = m.now.Add(d)
	return m.now
}

// Wait advances the clock by d at once: in virtual time nothing really waits.
func (m *Manual) Wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d > 0 {
		m.Advance(d)
	}
	return nil
}

// Offset is a base clock plus a fixed offset: a phone whose clock was set by
// hand, or a server whose clock is wrong.
type Offset struct {
	Base   Clock         // the clock being corrected; nil means System
	Offset time.Duration // added to Base's time
}

// Now returns Base's time plus Offset.
func (o Offset) Now() time.Time {
	b := o.Base
	if b == nil {
		b = System{}
	}
	return b.Now().Add(o.Offset)
}
