package refserver

import (
	"sync"
	"time"

	"github.com/totpemu/totpemu/clock"
)

// LabClock is the true clock of a server in lab mode. It runs with a base
// clock (the system clock under "totpemu serve --lab", so a person can use
// the console as usual) until a bench sets or advances it, which stops it
// at the time set; Run makes it follow the base clock again. Built on a
// *clock.Manual, it is that clock: stopped, and Set, Advance and Run act
// on it alone.
type LabClock struct {
	mu      sync.Mutex
	base    clock.Clock
	m       *clock.Manual
	running bool
}

// newLabClock returns a lab clock over c: c itself when it is a
// *clock.Manual (stopped), else a clock running with c.
func newLabClock(c clock.Clock) *LabClock {
	if m, ok := c.(*clock.Manual); ok {
		return &LabClock{base: m, m: m}
	}
	return &LabClock{base: c, m: clock.NewManual(c.Now()), running: true}
}

// Now is the lab clock's time.
func (l *LabClock) Now() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running {
		return l.base.Now()
	}
	return l.m.Now()
}

// Set stops the clock at t.
func (l *LabClock) Set(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.running = false
	l.m.Set(t)
}

// Advance moves the clock by d from its current time and stops it there.
func (l *LabClock) Advance(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running {
		l.m.Set(l.base.Now())
	}
	l.running = false
	l.m.Advance(d)
}

// Run makes the clock follow its base clock again.
func (l *LabClock) Run() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.base == l.m {
		return // a Manual is its own base
	}
	l.running = true
}

// Running reports whether the clock follows its base clock (false once a
// bench has set it, and always on a *clock.Manual).
func (l *LabClock) Running() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.running
}
