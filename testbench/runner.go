package testbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/totpemu/totpemu/clock"
)

// Scenario names, in the order they run.
const (
	ScenarioEnroll  = "enroll"
	ScenarioLockout = "lockout"
	ScenarioWindow  = "window"
	ScenarioReplay  = "replay"
	// The time-driven scenarios need the window, and run after it.
	ScenarioServerClock = "server-clock"
	ScenarioBoundary    = "boundary"
	ScenarioDrift       = "drift"
)

// Scenarios lists every scenario in the order Run runs them: lockout
// before the window (its count spreads the window's probes), the window
// before replay (replay needs two steps known to be in the window).
// The server clock before the boundary and drift: its offset within a step
// sharpens their predictions.
var Scenarios = []string{ScenarioEnroll, ScenarioLockout, ScenarioWindow, ScenarioReplay,
	ScenarioServerClock, ScenarioBoundary, ScenarioDrift}

// Defaults of Config.
const (
	DefaultMaxSteps    = 10
	DefaultMaxAttempts = 110
)

// Config is one bench run.
type Config struct {
	Target Target
	Time   *Time // where the truth comes from; see VirtualTime and RealTime

	// Scenarios to run; nil means all. Unknown names are an error.
	Scenarios []string

	MaxSteps    int // the window is probed this many steps each way; 0 means DefaultMaxSteps
	MaxAttempts int // wrong codes at most before giving up on a lockout; 0 means DefaultMaxAttempts

	// Progress receives a line while the bench waits in real time; nil
	// discards them.
	Progress io.Writer
	// Stopwatch times the enroll scenario's steps; nil means the system clock.
	Stopwatch clock.Clock
	// DeviceClock makes the virtual device's clock from the truth (a
	// hardware profile); nil means the device shows the true time.
	DeviceClock func(truth clock.Clock) clock.Clock
	// DriftPPM is the drift scenario's token rate; 0 means DefaultDriftPPM
	// (write a tiny rate like 1e-9 for none). DriftDays is how many days it
	// is used; 0 means DefaultDriftDays.
	DriftPPM  float64
	DriftDays int
	// Account is the prefix of enrolled account names; "" means "bench".
	Account string
	// TimeSource is copied into the report (servers, notes); Kind and
	// OffsetMS are filled from Time when empty.
	TimeSource TimeSource
}

// ParseScenarios parses a comma-separated list of scenario names.
func ParseScenarios(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !slices.Contains(Scenarios, f) {
			return nil, fmt.Errorf("unknown scenario %q: want %s", f, strings.Join(Scenarios, ", "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scenario in %q", s)
	}
	return out, nil
}

type runner struct {
	cfg Config
	p   *prober

	lo, hi     int // the measured window
	haveWindow bool
	serverR    *time.Duration // the server clock's offset modulo the period, when measured
}

func (r *runner) deviceClock() clock.Clock {
	if r.cfg.DeviceClock == nil {
		return r.cfg.Time
	}
	return r.cfg.DeviceClock(r.cfg.Time)
}

// Run runs the scenarios against the target and returns the report. An
// error means no report: the target could not be reached (IsUnreachable),
// ctx ended, or the configuration is wrong. A scenario that cannot finish
// becomes a failed check and the others still run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Target == nil || cfg.Time == nil {
		return nil, errors.New("bench: a target and a time source are needed")
	}
	if cfg.MaxSteps == 0 {
		cfg.MaxSteps = DefaultMaxSteps
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxSteps < 1 || cfg.MaxSteps > 100 {
		return nil, fmt.Errorf("bench: max steps %d: want 1 to 100", cfg.MaxSteps)
	}
	if cfg.MaxAttempts < 1 || cfg.MaxAttempts > 10000 {
		return nil, fmt.Errorf("bench: max attempts %d: want 1 to 10000", cfg.MaxAttempts)
	}
	if cfg.DriftPPM == 0 {
		cfg.DriftPPM = DefaultDriftPPM
	}
	if cfg.DriftDays == 0 {
		cfg.DriftDays = DefaultDriftDays
	}
	if cfg.DriftPPM != cfg.DriftPPM || cfg.DriftPPM > 10000 || cfg.DriftPPM < -10000 {
		return nil, fmt.Errorf("bench: drift %v ppm: want -10000 to 10000", cfg.DriftPPM)
	}
	if cfg.DriftDays < 1 || cfg.DriftDays > MaxDriftDays {
		return nil, fmt.Errorf("bench: drift days %d: want 1 to %d", cfg.DriftDays, MaxDriftDays)
	}
	if cfg.Stopwatch == nil {
		cfg.Stopwatch = clock.System{}
	}
	if cfg.Account == "" {
		cfg.Account = "bench"
	}
	want := cfg.Scenarios
	if len(want) == 0 {
		want = Scenarios
	}
	for _, s := range want {
		if !slices.Contains(Scenarios, s) {
			return nil, fmt.Errorf("bench: unknown scenario %q", s)
		}
	}
	rep := &Report{Target: cfg.Target.Describe(), TimeSource: cfg.TimeSource, Started: cfg.Time.Now().UTC(),
		Submissions: map[string]int{}, Checks: []Check{}}
	if rep.TimeSource.Kind == "" {
		rep.TimeSource.Kind = cfg.Time.Kind
	}
	if rep.TimeSource.OffsetMS == nil && cfg.Time.LocalOffset != nil {
		rep.TimeSource.OffsetMS = ptr(float64(cfg.Time.LocalOffset.Microseconds()) / 1000)
	}
	r := &runner{cfg: cfg, p: newProber(cfg.Target, cfg.Time, cfg.MaxSteps, cfg.Progress, cfg.Account)}
	for _, s := range []string{ScenarioReplay, ScenarioServerClock, ScenarioBoundary, ScenarioDrift} {
		if slices.Contains(want, s) && !slices.Contains(want, ScenarioWindow) {
			want = append(want, ScenarioWindow)
			rep.Notes = append(rep.Notes, "the window was measured too: "+s+" needs to know which steps are in it")
		}
	}
	sniffed := false
	for _, name := range Scenarios {
		if !slices.Contains(want, name) {
			continue
		}
		rep.Scenarios = append(rep.Scenarios, name)
		r.p.scenario = name
		rep.Submissions[name] += 0
		if !sniffed {
			sniffed = true
			// The sniff's codes count as "setup": no scenario asked for them.
			r.p.scenario = "setup"
			err := r.p.sniff(ctx)
			r.p.scenario = name
			if err == nil {
				err = r.p.prebind(ctx, prebindRoles(want)...)
			}
			if err != nil {
				if fatal(ctx, err) {
					return nil, err
				}
				rep.Checks = append(rep.Checks, Check{ID: name + ".error", Status: Fail, Detail: err.Error()})
				continue
			}
		}
		var checks []Check
		var err error
		switch name {
		case ScenarioEnroll:
			rep.Results.Enroll, checks, err = r.enroll(ctx)
		case ScenarioLockout:
			rep.Results.Lockout, checks, err = r.lockout(ctx)
		case ScenarioWindow:
			rep.Results.Window, checks, err = r.window(ctx)
		case ScenarioReplay:
			if !r.haveWindow {
				checks = []Check{{ID: "replay.window", Status: Skip, Detail: "not run: the window was not found"}}
				break
			}
			rep.Results.Replay, checks, err = r.replay(ctx)
		case ScenarioServerClock, ScenarioBoundary, ScenarioDrift:
			if !r.haveWindow {
				checks = []Check{{ID: name + ".window", Status: Skip, Detail: "not run: the window was not found"}}
				break
			}
			switch name {
			case ScenarioServerClock:
				rep.Results.ServerClock, checks, err = r.serverClock(ctx)
			case ScenarioBoundary:
				rep.Results.Boundary, checks, err = r.boundary(ctx)
			default:
				rep.Results.Drift, checks, err = r.drift(ctx)
			}
		}
		if err != nil {
			if fatal(ctx, err) {
				return nil, err
			}
			checks = append(checks, Check{ID: name + ".error", Status: Fail, Detail: err.Error()})
		}
		rep.Checks = append(rep.Checks, checks...)
	}
	rep.Enrollments = r.p.nEnroll
	for k, v := range r.p.subs {
		if k != "" {
			rep.Submissions[k] = v
		}
	}
	return rep, nil
}

// prebindRoles lists the devices the scenarios in want will probe with.
func prebindRoles(want []string) []string {
	var roles []string
	if slices.Contains(want, ScenarioLockout) {
		roles = append(roles, "lockout", "lockout-reset")
	}
	if slices.Contains(want, ScenarioWindow) {
		roles = append(roles, "window-up", "window-down")
	}
	if slices.Contains(want, ScenarioReplay) {
		roles = append(roles, "replay-1")
	}
	return roles
}

// fatal reports whether err ends the run rather than one scenario.
func fatal(ctx context.Context, err error) bool {
	return ctx.Err() != nil || IsUnreachable(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
