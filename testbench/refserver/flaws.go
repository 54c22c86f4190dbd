package refserver

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Flaws are deliberate bugs of the console, each a bug found in real
// servers, for testing the bench's security probes against a server known
// to have them. They are refused without Options.Lab. The zero value is
// the correct console, whose every check is one compare-and-set under the
// device's lock.
type Flaws struct {
	// TOCTOUReplay: the replay check and the record of the use are two
	// steps with Pause between them, outside the device's lock: concurrent
	// submissions of one code are all accepted (Gitea's web 2FA login
	// until 2025). Wrong codes and replays are still refused and counted
	// at once, under the lock.
	TOCTOUReplay bool

	// LockoutRace: failures are counted after verifying, outside the lock,
	// with Pause between the check of the lock and the increment: a burst
	// of wrong codes is evaluated beyond the lockout count, and a right
	// code in the burst is accepted after more failures than Lockout. The
	// code itself is still judged and its use recorded atomically (no
	// replay race unless TOCTOUReplay too).
	LockoutRace bool

	// BindReuse: the codes that bound a device are not recorded as used:
	// they are accepted again at login.
	BindReuse bool

	// Pause is the gap of the race flaws (TOCTOUReplay, LockoutRace): a
	// real pause (clock.System's Wait), also on a lab or manual clock.
	// Zero means DefaultFlawPause; at most MaxFlawPause. It is ignored
	// without a race flaw.
	Pause time.Duration
}

// The gap of the race flaws: the default and the longest allowed.
const (
	DefaultFlawPause = time.Millisecond
	MaxFlawPause     = time.Second
)

// Names of the flaws, as "totpemu serve --flaw" takes them. FlawReplayCounts
// is not a Flaws field: it sets Options.ReplayCountsAsFailure.
const (
	FlawTOCTOUReplay = "toctou-replay"
	FlawLockoutRace  = "lockout-race"
	FlawBindReuse    = "bind-reuse"
	FlawReplayCounts = "replay-counts"
)

// FlawNames lists the names AddFlaw takes, in the order help texts give them.
func FlawNames() []string {
	return []string{FlawTOCTOUReplay, FlawLockoutRace, FlawBindReuse, FlawReplayCounts}
}

// Any reports whether any flaw is on.
func (f Flaws) Any() bool { return f.TOCTOUReplay || f.LockoutRace || f.BindReuse }

// races reports whether a flaw that pauses in a check is on.
func (f Flaws) races() bool { return f.TOCTOUReplay || f.LockoutRace }

// pause is the race flaws' gap, its default when zero.
func (f Flaws) pause() time.Duration {
	if f.Pause == 0 {
		return DefaultFlawPause
	}
	return f.Pause
}

// Names lists the flaws that are on ("toctou-replay", "lockout-race",
// "bind-reuse", in this order); an empty, non-nil slice when none (JSON
// []), as /healthz gives it.
func (f Flaws) Names() []string {
	names := []string{}
	for _, x := range []struct {
		on   bool
		name string
	}{{f.TOCTOUReplay, FlawTOCTOUReplay}, {f.LockoutRace, FlawLockoutRace}, {f.BindReuse, FlawBindReuse}} {
		if x.on {
			names = append(names, x.name)
		}
	}
	return names
}

// String describes the flaws for a warning line and the console's banner:
// "toctou-replay (1ms pause), lockout-race, bind-reuse" (the pause after
// the first race flaw, as both share it), or "none".
func (f Flaws) String() string {
	names := f.Names()
	if len(names) == 0 {
		return "none"
	}
	if f.races() {
		names[0] += fmt.Sprintf(" (%v pause)", f.pause())
	}
	return strings.Join(names, ", ")
}

// AddFlaw turns on one flaw by name, as "totpemu serve --flaw" takes it:
// toctou-replay, lockout-race or bind-reuse (Flaws), or replay-counts
// (ReplayCountsAsFailure). The race flaws take an optional ":PAUSE"
// suffix, a Go duration from 0 to MaxFlawPause ("toctou-replay:5ms"); the
// two share Pause, so two different pauses are an error. The Lab check is
// New's.
func (o *Options) AddFlaw(name string) error {
	base, pauseText, hasPause := strings.Cut(name, ":")
	var pause time.Duration
	if hasPause {
		if base != FlawTOCTOUReplay && base != FlawLockoutRace {
			if !slices.Contains(FlawNames(), base) {
				return unknownFlaw(name)
			}
			return fmt.Errorf("flaw %q: only %s and %s take a pause", name, FlawTOCTOUReplay, FlawLockoutRace)
		}
		d, err := time.ParseDuration(pauseText)
		if err != nil {
			return fmt.Errorf("flaw %q: pause: %w", name, err)
		}
		if d < 0 || d > MaxFlawPause {
			return fmt.Errorf("flaw %q: pause %v: want 0 (%v) to %v", name, d, DefaultFlawPause, MaxFlawPause)
		}
		if o.Flaws.Pause != 0 && d != 0 && d != o.Flaws.Pause {
			return fmt.Errorf("flaw %q: pause %v differs from the %v given before: the race flaws share one pause", name, d, o.Flaws.Pause)
		}
		pause = d
	}
	switch base {
	case FlawTOCTOUReplay:
		o.Flaws.TOCTOUReplay = true
	case FlawLockoutRace:
		o.Flaws.LockoutRace = true
	case FlawBindReuse:
		o.Flaws.BindReuse = true
	case FlawReplayCounts:
		o.ReplayCountsAsFailure = true
	default:
		return unknownFlaw(name)
	}
	if pause != 0 {
		o.Flaws.Pause = pause
	}
	return nil
}

func unknownFlaw(name string) error {
	return fmt.Errorf("unknown flaw %q: want %s", name, strings.Join(FlawNames(), ", "))
}
