package testbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/totpemu/totpemu/clock"
)

// Defaults and limits of Config.
const (
	DefaultMaxSteps    = 10
	DefaultMaxAttempts = 110
	DefaultParallel    = 8
	maxParallel        = 256
	// defaultMaxEnrollments bounds fresh enrollments when Config says
	// nothing: a run against the reference console needs about 20.
	defaultMaxEnrollments = 400
)

// Config is one bench run.
type Config struct {
	Target Target
	Time   *Time // where the truth comes from; see VirtualTime and RealTime

	// Scenarios to run; nil means all. Unknown names are an error.
	Scenarios []string

	MaxSteps    int // the window is probed this many steps each way; 0 means DefaultMaxSteps
	MaxAttempts int // wrong codes at most before giving up on a lockout; 0 means DefaultMaxAttempts

	// Parallel bounds the submissions in flight at once; 0 means
	// DefaultParallel. With 1 the plan is the same, with more waiting.
	Parallel int
	// MaxEnrollments bounds the fresh enrollments the run makes (a staging
	// server with few test users); 0 means no bound but a safety cap of
	// 400. With few, probes reuse enrollments and wait for their steps.
	MaxEnrollments int

	// Progress receives a line while the bench waits in real time; nil
	// discards them.
	Progress io.Writer
	// Stopwatch times the enroll scenario's steps and the run's wall time;
	// nil means the system clock.
	Stopwatch clock.Clock
	// DeviceClock makes the virtual device's clock from the truth (a
	// hardware profile); nil means the device shows the true time.
	DeviceClock func(truth clock.Clock) clock.Clock
	// DriftPPM is the drift scenario's token rate; 0 means DefaultDriftPPM
	// (write a tiny rate like 1e-9 for none). DriftDays is how many days it
	// is used; 0 means DefaultDriftDays.
	DriftPPM  float64
	DriftDays int
	// Trace, when set, receives a line per submission: when it was sent
	// (seconds from the start), for which scenario, on which enrollment,
	// the code's step and its x (time since its step began), the verdict.
	// Codes themselves are not written.
	Trace io.Writer
	// Account is the prefix of enrolled account names; "" means "bench".
	Account string
	// TimeSource is copied into the report (servers, notes); Kind and
	// OffsetMS are filled from Time when empty.
	TimeSource TimeSource

	// Burst is how many submissions a race probe releases together; 0
	// means DefaultBurst. Bursts is how many replay bursts the race
	// scenario sends, each on a fresh enrollment (a race is
	// probabilistic); 0 means DefaultBursts.
	Burst, Bursts int
	// GuessRate is the guesses per second an attacker makes where nothing
	// limits them, for the brute-force odds; 0 means DefaultGuessRate.
	GuessRate float64
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

// bench is one run: the target, the timeline, and the books every probe
// goes through (bench.mu guards them). Scenarios never write these
// fields; they ask the bench (pool.go, submit.go).
type bench struct {
	cfg  Config
	tgt  Target
	caps Capabilities
	tl   *timeline
	// reqCtx is what requests to the target are made with: it outlives
	// an interruption for DrainTimeout (see drainContext).
	reqCtx context.Context
	want   []string
	sem    chan struct{}
	// burstMu lets one burst at a time take every slot of sem.
	burstMu sync.Mutex

	mu           sync.Mutex
	period       time.Duration
	prm          params
	devs         []*device
	slots        []*device // test users' accounts held while being enrolled (pool.go)
	nEnroll      int
	subs         map[string]int
	facts        facts
	pause        time.Time      // a lock beyond the device: nothing is sent before
	beyond       bool           // a fresh enrollment came locked
	firstBind    *int64         // the first accepted bind's step offset from the true step
	searchedBack bool           // a bind has searched for older codes accepted
	refAbove     *time.Duration // the lowest x a bind was refused at above the stretch seen accepted
	refBelow     *time.Duration // the highest x below it
	bindErr      error
	resets       bool           // a success was seen to reset the failure count
	throttles    int            // "slow down" answers seen
	retryAfters  []float64      // the Retry-After of those that said, seconds
	throttle     *throttleFacts // a silent throttle setup found; nil: none seen
	evidence     []evidence     // accepted binds and accepts on pristine enrollments
	notes        []string

	// Measurements several scenarios share, each made once.
	lockout   *future[lockoutFacts]
	edgeOnce  sync.Once
	edgesF    *future[*edges]
	dateOnce  sync.Once
	dateF     *future[*dateClock]
	dateEarly *future[*dateClock] // the Date clock to the hypothesis' margin
	traceMu   sync.Mutex
	guessF    *future[interval] // the edges as first guessed (drift plans with it)
	// resyncChecked is set once the edges have asked whether the target
	// re-centres windows on drift (facts.resync): enrollments bound with
	// older codes wait for it.
	resyncChecked *future[bool]
	// lockoutDone is resolved when the lockout scenario has told whether
	// a success resets the count (race.lockout's bound depends on it).
	lockoutDone *future[bool]
}

// facts are what the target has shown about itself; each lets more codes
// count as clean.
type facts struct {
	noCodeReplay  bool // a code accepted by verify was accepted again
	bindReusable  bool // a code accepted by bind was accepted again by verify
	notStepStrict bool // a step at or before an accepted one was accepted
	resync        bool // an enrollment bound with older codes had its window moved (RFC 6238 section 6 drift tracking)
}

// lockoutFacts is what the lockout scenario found, for planning: how many
// refusals an enrollment takes before it locks.
type lockoutFacts struct {
	limit int  // refusals that lock; 0: not known
	none  bool // no lock within MaxAttempts
	// lockFor is how long the lock said it lasts (its Retry-After); 0:
	// not said.
	lockFor time.Duration
}

// actor submits on behalf of a scenario: its codes are counted for it.
type actor struct {
	b    *bench
	name string
}

func (b *bench) actor(name string) *actor { return &actor{b: b, name: name} }

// Run runs the scenarios against the target and returns the report. An
// error means no report: the target could not be reached (IsUnreachable)
// or the configuration is wrong. A scenario that cannot finish becomes a
// failed check and the others still run. When ctx ends (Ctrl-C, a CI
// job's SIGTERM), the requests in flight finish (for DrainTimeout at most)
// and Run returns the report of what was measured, Interrupted set, each
// unfinished scenario with an Incomplete check.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
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
	var notes []string
	if !slices.Contains(want, ScenarioLockout) && (slices.Contains(want, ScenarioRace) || slices.Contains(want, ScenarioBruteForce)) {
		// Their figures stand on the lockout count: measure it.
		want = append(slices.Clone(want), ScenarioLockout)
		notes = append(notes, "the lockout scenario ran too: race and bruteforce need its count")
	}
	wall := cfg.Stopwatch.Now()
	rep := &Report{Target: cfg.Target.Describe(), TimeSource: cfg.TimeSource, Started: cfg.Time.Now().UTC(),
		Submissions: map[string]int{}, Checks: []Check{}}
	if rep.TimeSource.Kind == "" {
		rep.TimeSource.Kind = cfg.Time.Kind
	}
	if rep.TimeSource.OffsetMS == nil && cfg.Time.LocalOffset != nil {
		rep.TimeSource.OffsetMS = ptr(float64(cfg.Time.LocalOffset.Microseconds()) / 1000)
	}
	outer := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	b := &bench{cfg: cfg, tgt: cfg.Target, caps: cfg.Target.Capabilities(), want: want,
		sem: make(chan struct{}, cfg.Parallel), subs: map[string]int{}}
	b.notes = notes
	var stopDrain func()
	b.reqCtx, stopDrain = drainContext(outer, ctx, cfg.Stopwatch)
	defer stopDrain()
	b.tl = newTimeline(cfg.Time, cfg.Progress, cancel)
	b.lockout = newFuture[lockoutFacts](b.tl)
	b.edgesF, b.dateF, b.guessF = newFuture[*edges](b.tl), newFuture[*dateClock](b.tl), newFuture[interval](b.tl)
	b.resyncChecked = newFuture[bool](b.tl)
	b.lockoutDone = newFuture[bool](b.tl)
	b.dateEarly = newFuture[*dateClock](b.tl)
	if !slices.Contains(want, ScenarioLockout) {
		b.lockout.resolve(lockoutFacts{}, nil)
		b.lockoutDone.resolve(false, nil)
	}
	for _, sc := range scenarioTable {
		if slices.Contains(want, sc.name) {
			rep.Scenarios = append(rep.Scenarios, sc.name)
			rep.Submissions[sc.name] += 0
		}
	}
	checks := make([][]Check, len(scenarioTable)+1) // the last: setup
	done := make([]bool, len(scenarioTable)+1)      // finished, not stopped
	var fatalErr error
	var fmu sync.Mutex
	fail := func(err error) {
		fmu.Lock()
		if fatalErr == nil {
			fatalErr = err
		}
		fmu.Unlock()
		cancel(err)
	}
	b.tl.spawn(func() {
		if err := b.setup(ctx); err != nil {
			if fatal(ctx, err) {
				fail(err)
				return
			}
			// Without a first enrollment bound, no scenario can run.
			checks[len(scenarioTable)] = []Check{{ID: "setup.bind", Status: Fail, Detail: err.Error()}}
			var kf *keyFormsError
			if errors.As(err, &kf) {
				// The key forms disagree: that is the finding, and each
				// scenario says it could not run because of it.
				checks[len(scenarioTable)] = kf.checks
				for i, sc := range scenarioTable {
					if slices.Contains(want, sc.name) {
						checks[i] = []Check{{ID: sc.name + ".not-run", Status: Skip, Detail: "could not run: " + kf.Error()}}
					}
				}
			}
			for i := range done {
				done[i] = true
			}
			return
		}
		done[len(scenarioTable)] = true
		for i, sc := range scenarioTable {
			if !slices.Contains(want, sc.name) {
				continue
			}
			b.tl.spawn(func() {
				res, cs, err := sc.run(ctx, b.actor(sc.name))
				if err != nil {
					if fatal(ctx, err) {
						fail(err)
						return
					}
					cs = append(cs, Check{ID: sc.name + ".error", Status: Fail, Detail: err.Error()})
				}
				if res != nil {
					b.mu.Lock()
					sc.store(&rep.Results, res)
					b.mu.Unlock()
				}
				checks[i], done[i] = cs, true
			})
		}
	})
	b.tl.wait()
	if outer.Err() != nil {
		// Interrupted: report what was measured; what was not is
		// incomplete, not failed for a reason of the target's.
		rep.Interrupted, fatalErr = true, nil
		markIncomplete(checks, done, want, context.Cause(outer))
	} else if ctx.Err() != nil {
		// The first cause: a deadlock, a failed lab clock, an unreachable
		// target.
		fatalErr = context.Cause(ctx)
	}
	if fatalErr != nil {
		return nil, fatalErr
	}
	// Setup's checks first: when it fails, nothing after it could run.
	rep.Checks = append(rep.Checks, checks[len(scenarioTable)]...)
	for _, cs := range checks[:len(scenarioTable)] {
		rep.Checks = append(rep.Checks, cs...)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	rep.Enrollments = b.nEnroll
	for k, v := range b.subs {
		rep.Submissions[k] = v
	}
	rep.Notes = append(rep.Notes, b.notes...)
	rep.Timing = Timing{WallS: round3(cfg.Stopwatch.Now().Sub(wall).Seconds()), WaitingS: round3(b.tl.waited().Seconds())}
	return rep, nil
}

// fill checks the configuration and fills its defaults.
func (cfg *Config) fill() error {
	if cfg.Target == nil || cfg.Time == nil {
		return errors.New("bench: a target and a time source are needed")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.MaxSteps, DefaultMaxSteps)
	def(&cfg.MaxAttempts, DefaultMaxAttempts)
	def(&cfg.Parallel, DefaultParallel)
	def(&cfg.MaxEnrollments, defaultMaxEnrollments)
	def(&cfg.DriftDays, DefaultDriftDays)
	def(&cfg.Burst, DefaultBurst)
	def(&cfg.Bursts, DefaultBursts)
	if cfg.DriftPPM == 0 {
		cfg.DriftPPM = DefaultDriftPPM
	}
	if cfg.GuessRate == 0 {
		cfg.GuessRate = DefaultGuessRate
	}
	switch {
	case cfg.MaxSteps < 1 || cfg.MaxSteps > 100:
		return fmt.Errorf("bench: max steps %d: want 1 to 100", cfg.MaxSteps)
	case cfg.MaxAttempts < 1 || cfg.MaxAttempts > 10000:
		return fmt.Errorf("bench: max attempts %d: want 1 to 10000", cfg.MaxAttempts)
	case cfg.Parallel < 1 || cfg.Parallel > maxParallel:
		return fmt.Errorf("bench: parallel %d: want 1 to %d", cfg.Parallel, maxParallel)
	case cfg.MaxEnrollments < 1:
		return fmt.Errorf("bench: max enrollments %d: want at least 1", cfg.MaxEnrollments)
	case cfg.DriftPPM != cfg.DriftPPM || cfg.DriftPPM > 10000 || cfg.DriftPPM < -10000:
		return fmt.Errorf("bench: drift %v ppm: want -10000 to 10000", cfg.DriftPPM)
	case cfg.Burst < 2 || cfg.Burst > maxBurst:
		return fmt.Errorf("bench: burst %d: want 2 to %d submissions", cfg.Burst, maxBurst)
	case cfg.Bursts < 1 || cfg.Bursts > maxBursts:
		return fmt.Errorf("bench: bursts %d: want 1 to %d", cfg.Bursts, maxBursts)
	case !(cfg.GuessRate > 0 && cfg.GuessRate <= 1e6):
		return fmt.Errorf("bench: guess rate %v per second: want more than 0, at most 1000000", cfg.GuessRate)
	case cfg.DriftDays < 1 || cfg.DriftDays > MaxDriftDays:
		return fmt.Errorf("bench: drift days %d: want 1 to %d", cfg.DriftDays, MaxDriftDays)
	}
	if cfg.Stopwatch == nil {
		cfg.Stopwatch = clock.System{}
	}
	if cfg.Account == "" {
		cfg.Account = "bench"
	}
	return nil
}

// setup enrolls and binds the first device, which tells the code
// parameters and a bind that works, and sniffs whether the target
// remembers codes at all.
func (b *bench) setup(ctx context.Context) error {
	a := b.actor("setup")
	d, err := a.freshBound(ctx, false)
	if err != nil {
		return err
	}
	err = a.sniff(ctx, d)
	a.release(d)
	if err != nil {
		return err
	}
	return a.probeThrottle(ctx)
}

// fewAccounts reports whether the target has a pool of test users too
// small for scenarios to hold an enrollment while they wait for the
// shared measurements: they lease after them instead.
func (b *bench) fewAccounts() bool {
	return len(b.caps.Accounts) > 0 && len(b.caps.Accounts) < 4
}

// fatal reports whether err ends the run rather than one scenario.
func fatal(ctx context.Context, err error) bool {
	return ctx.Err() != nil || IsUnreachable(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// guess is the edges' first guess, set once measureEdges has one.
func (b *bench) guess() *future[interval] { return b.guessF }

// trace writes a submission's line to Config.Trace.
func (b *bench) trace(who string, d *device, bind bool, an answer) {
	if b.cfg.Trace == nil {
		return
	}
	kind := "verify"
	if bind {
		kind = "bind"
	}
	x := "-"
	if an.step >= 0 {
		x = fmt.Sprintf("%+.3f", sinceStep(an.sent, an.step, b.period).Seconds())
	}
	b.traceMu.Lock()
	defer b.traceMu.Unlock()
	fmt.Fprintf(b.cfg.Trace, "%9.3f s  %-12s enrollment %-3d %-6s step %d  x %s s  %v (%.1f ms)\n",
		an.sent.Sub(b.tl.started).Seconds(), who, d.n, kind, an.step, x, an.v.Outcome, float64(an.recv.Sub(an.sent).Microseconds())/1000)
}

// note adds a line to the report's notes, once.
func (b *bench) note(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !slices.Contains(b.notes, s) {
		b.notes = append(b.notes, s)
	}
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// DrainTimeout bounds how long the requests in flight may take to finish
// once a run is interrupted.
const DrainTimeout = 5 * time.Second

// drainContext is the context requests to the target are made with. It
// outlives run (the run's own context) when outer (the caller's) ends, so
// that requests in flight at an interruption finish and their answers are
// kept, for DrainTimeout at most (timed on stopwatch, when it can wait);
// any other end of run (a fatal error) ends it at once. stop releases it.
func drainContext(outer, run context.Context, stopwatch clock.Clock) (context.Context, func()) {
	req, cancel := context.WithCancel(context.WithoutCancel(run))
	stopAfter := context.AfterFunc(run, func() {
		w, ok := stopwatch.(clock.Waiter)
		if outer.Err() == nil || !ok {
			cancel()
			return
		}
		go func() {
			_ = w.Wait(req, DrainTimeout)
			cancel()
		}()
	})
	return req, func() { stopAfter(); cancel() }
}

// markIncomplete gives each wanted scenario that had not finished an
// Incomplete check (in place of any it made), and setup one when it had
// not finished.
func markIncomplete(checks [][]Check, done []bool, want []string, cause error) {
	why := "the run was interrupted before this scenario finished"
	if cause != nil && !errors.Is(cause, context.Canceled) {
		why += " (" + cause.Error() + ")"
	}
	for i, sc := range scenarioTable {
		if slices.Contains(want, sc.name) && !done[i] {
			checks[i] = []Check{{ID: sc.name + ".incomplete", Status: Incomplete, Detail: why + "; what it would have measured is not known"}}
		}
	}
	if s := len(scenarioTable); !done[s] {
		checks[s] = []Check{{ID: "setup.incomplete", Status: Incomplete, Detail: "the run was interrupted during setup (the first enrollment and bind)"}}
	}
}
