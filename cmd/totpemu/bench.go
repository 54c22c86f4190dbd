package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/totpemu/totpemu/clock"
	"github.com/totpemu/totpemu/emulator"
	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/refserver"
	"github.com/totpemu/totpemu/testbench/target"
)

func init() {
	register(&command{
		name:    "bench",
		summary: "measure what a TOTP server accepts: enrollment, lockout, window, replay, races, reuse, brute-force odds, server clock, boundary, drift",
		usage: `Usage: totpemu bench [--target URL | --target-config FILE | --target-cmd CMD] [flags]

Measures what a TOTP server really accepts and prints a report: enrollment
end to end (enroll), when it locks after wrong codes (lockout), whether it
throttles, silently as django-otp does or with "slow down" (throttle: the
delays after 1, 2, 3 failures in a row; a silent throttle is found first
and every probe waits it out), a code's
acceptance interval (window: the code of step n is accepted from nP+from
to nP+until of true time; in the server's own steps, or in seconds),
whether replayed codes are refused (replay), whether bursts of requests
released together get past the replay check or the lockout (race: one
code sent --burst times at once, and 3L wrong codes with the right one
last), whether the code that completed enrollment signs in again (reuse),
the chance of guessing in from the window and the lockout (bruteforce:
computed, nothing sent), the server's own clock (server-clock), the 30 s
boundary under typing latency (boundary) and a drifting token (drift).
Each scenario yields checks (pass, warn, fail);
the report says how many codes each submitted. All scenarios run at once
on one timeline, each probe waiting for its own instant.

With no target, the bench starts the reference console on 127.0.0.1 with
its default policy and runs against it over HTTP in virtual time (under a
second); with --time-source or --ntp, the console keeps real time and so
does the bench. Against a server whose lab clock it can set (the reference
console with --lab) it also runs in virtual time; against any other target
it runs in real time, with the truth from NTP, and says on stderr what it
waits for and how long is left.

Targets:
  --target URL           a reference-console-compatible API (its lab clock is
                         used when /healthz says lab mode is on)
  --target-config FILE   any HTTP API described in YAML or JSON: the enroll
                         request and where the answer carries the QR image,
                         otpauth URI or manual key, the bind and verify
                         requests, what counts as accepted, rejected, locked;
                         ${ENV} in the file is replaced from the environment
                         (see testbench/examples/refserver.yaml; sessions,
                         sign-in and two-step login: webapp.yaml)
  --users FILE           with --target-config: the test users to enroll
                         again and again (lines NAME:PASSWORD, ${ENV} in a
                         password) instead of the config's users:; the
                         bench plans within them (one works, slower)
  --target-cmd CMD       a command run once per code, the code in $TOTPEMU_CODE
                         and as its last argument (or where {code} is): exit
                         0 accepts, 1 or another status rejects (126, 127 or
                         a signal: no verdict), a last stdout line
                         {"verdict": "locked", "retry_after_s": 60} says
                         accepted, rejected, locked or throttled. CMD is split
                         into words like a shell does ('...', "...", \) but no
                         shell runs: write sh -c '...' for one. Placeholders
                         in any word: {code}, {secret}, {account}, {uri},
                         {enrollment}
  --bind-cmd CMD         with --target-cmd: completes an enrollment with two
                         consecutive codes ({code1} {code2}, or appended; in
                         $TOTPEMU_CODE1 and $TOTPEMU_CODE2), or one ({code})
  --locked-exit N        with --target-cmd: exit status N means "locked"
  --throttled-exit N     with --target-cmd: exit status N means "slow down"
  --enroll-cmd CMD       with --target-cmd: prints an otpauth URI, a base32 key
                         or the path of a QR image; run once per enrollment.
                         Without it the bench makes a key per enrollment and
                         passes it in $TOTPEMU_SECRET and $TOTPEMU_URI

Flags:
  --scenario a,b         scenarios to run: enroll, lockout, throttle, window,
                         replay, race, reuse, bruteforce, server-clock,
                         boundary, drift (default all; those that need the
                         window's edges or the lockout count measure them
                         too)
  --burst N              race: submissions released together (default 20;
                         over HTTP/1.1 each on its own connection, held at
                         its last byte, then all released)
  --bursts N             race: replay bursts, each on a fresh enrollment
                         (default 5: a race is probabilistic)
  --guess-rate N         bruteforce: an attacker's guesses per second where
                         nothing limits them (default 10)
  --drift-ppm PPM        drift: the token's rate error (default 20)
  --drift-days N         drift: days of daily use (default 365)
  --expect EXPR          a condition for CI, repeatable: NAME[@ARG] OP VALUE
                         with OP one of = != < <= > >=; unmet it fails a check
                         (expect.NAME...) with the measured value beside.
                         Names: window-back, window-forward (the server's own
                         steps), true-window-back, true-window-forward,
                         window-kind (steps|seconds), accepted-from,
                         accepted-until, edge-uncertainty, skew-always-lo,
                         skew-always-hi, skew-sometimes-lo, skew-sometimes-hi,
                         window-back-seconds, window-forward-seconds, replay,
                         replay-older, replay-reformatted (rejected|accepted),
                         lockout (N|none), boundary-refusal@Ns (0..1),
                         boundary-latest-read@Ns, drift-first-refused-day
                         (N|none), drift-tracks (yes|no), server-clock-offset,
                         server-clock-uncertainty, server-window-back,
                         server-window-forward, race-replay (most accepted in
                         a burst), race-lockout (wrong codes judged in the
                         lockout burst), race-replay-lockout (yes|no),
                         reuse-bind (rejected|accepted), bruteforce-50pct
                         (hours to a 50 % chance; it replaces the 30-day
                         bar), check@ID (pass|warn|fail|skip)
  --max-steps N          probe the window up to N steps each way (default 10)
  --max-attempts N       wrong codes at most while waiting for a lockout
                         (default 110; 101 are needed to test NIST's 100)
  --parallel N           submissions in flight at once (default 8); a target
                         that cannot take parallel requests runs with 1: the
                         same figures, more waiting
  --max-enrollments N    fresh enrollments at most (default: as many as the
                         plan needs, about 20); few make the bench reuse
                         enrollments and wait for their steps
  --ntp SERVER[,SERVER]  NTP servers for the truth in real time
                         (default 0.pool.ntp.org,...,3.pool.ntp.org)
  --time-source SOURCE   ntp or system: real time from NTP (default for real
                         targets; unreachable servers are an error) or from
                         the system clock, unmeasured (offline CI)
  --profile NAME         the virtual device: phone (default), gauth-android,
                         phone-manual, token
  --trace FILE           write a line per code submitted to FILE: when, for
                         which scenario, on which enrollment, its step and
                         how far into its acceptance (no code itself)
  --format FORMAT        text (default), json, junit (JUnit XML: a testcase per
                         check) or html (one self-contained file with charts)
  --out FILE             write the report to FILE (atomically) instead of stdout

Exit status: 0 every check passed or warned; 1 a check failed (or no valid
time source); 2 usage error or unreachable target.

Examples:
  totpemu bench
  totpemu bench --format json --out bench.json
  totpemu bench --format html --out bench.html
  totpemu bench --expect window-back=1 --expect replay=rejected --expect 'lockout<=5' --expect 'boundary-refusal@10s<=0.05' --format junit
  totpemu bench --target http://127.0.0.1:8080 --scenario window,replay
  totpemu bench --target http://127.0.0.1:8080 --scenario race --expect race-replay=1 --expect 'race-lockout<=5'
  totpemu bench --target http://127.0.0.1:8080 --time-source system --parallel 1 --max-enrollments 4 --trace trace.txt
  totpemu bench --target-config testbench/examples/refserver.yaml --time-source system
  totpemu bench --target-config testbench/examples/webapp-users.yaml --users testbench/examples/staging-users.txt
  totpemu bench --target-cmd './verify --user alice' --enroll-cmd './new-key alice' --ntp time.cloudflare.com
  totpemu bench --target-cmd './login --user {account} --otp {code}' --bind-cmd './enable-mfa {code1} {code2}' --locked-exit 3 --time-source system
  totpemu bench --target-cmd 'sh -c "oathtool --totp -b \"$TOTPEMU_SECRET\" -w 1 \"$TOTPEMU_CODE\" >/dev/null"' --time-source system
`,
		run:      runBench,
		graceful: true,
	})
}

type benchFlags struct {
	target, targetConfig, targetCmd, enrollCmd string
	users                                      string
	bindCmd                                    string
	lockedExit, throttledExit                  int
	scenario                                   string
	maxSteps, maxAttempts, parallel, maxEnroll int
	ntp, timeSource, profile, format, out      string
	trace                                      string
	driftPPM                                   float64
	driftDays                                  int
	expect                                     []string
	burst, bursts                              int
	guessRate                                  float64
}

func runBench(ctx context.Context, e *env, args []string) error {
	c := commands["bench"]
	fs := newFlags(c)
	var f benchFlags
	fs.StringVar(&f.target, "target", "", "")
	fs.StringVar(&f.targetConfig, "target-config", "", "")
	fs.StringVar(&f.users, "users", "", "")
	fs.StringVar(&f.targetCmd, "target-cmd", "", "")
	fs.StringVar(&f.enrollCmd, "enroll-cmd", "", "")
	fs.StringVar(&f.bindCmd, "bind-cmd", "", "")
	fs.IntVar(&f.lockedExit, "locked-exit", 0, "")
	fs.IntVar(&f.throttledExit, "throttled-exit", 0, "")
	fs.StringVar(&f.scenario, "scenario", "", "")
	fs.IntVar(&f.maxSteps, "max-steps", testbench.DefaultMaxSteps, "")
	fs.IntVar(&f.maxAttempts, "max-attempts", testbench.DefaultMaxAttempts, "")
	fs.IntVar(&f.parallel, "parallel", testbench.DefaultParallel, "")
	fs.IntVar(&f.maxEnroll, "max-enrollments", 0, "")
	fs.StringVar(&f.ntp, "ntp", "", "")
	fs.StringVar(&f.timeSource, "time-source", "", "")
	fs.StringVar(&f.profile, "profile", "phone", "")
	fs.StringVar(&f.format, "format", "text", "")
	fs.StringVar(&f.out, "out", "", "")
	fs.StringVar(&f.trace, "trace", "", "")
	fs.Float64Var(&f.driftPPM, "drift-ppm", testbench.DefaultDriftPPM, "")
	fs.IntVar(&f.driftDays, "drift-days", testbench.DefaultDriftDays, "")
	fs.StringArrayVar(&f.expect, "expect", nil, "")
	fs.IntVar(&f.burst, "burst", testbench.DefaultBurst, "")
	fs.IntVar(&f.bursts, "bursts", testbench.DefaultBursts, "")
	fs.Float64Var(&f.guessRate, "guess-rate", testbench.DefaultGuessRate, "")
	if err := parse(e, c, fs, args); err != nil {
		return err
	}
	hint := `run "totpemu bench --help" for usage`
	if fs.NArg() > 0 {
		return usageErr(hint, "bench: takes no arguments, got %q", fs.Arg(0))
	}
	n := 0
	for _, name := range []string{"target", "target-config", "target-cmd"} {
		if fs.Changed(name) {
			n++
		}
	}
	if n > 1 {
		return usageErr(hint, "bench: give one of --target, --target-config and --target-cmd")
	}
	if fs.Changed("users") && !fs.Changed("target-config") {
		return usageErr(hint, "bench: --users goes with --target-config (its reset and setup steps enroll the users again)")
	}
	for _, name := range []string{"enroll-cmd", "bind-cmd", "locked-exit", "throttled-exit"} {
		if fs.Changed(name) && !fs.Changed("target-cmd") {
			return usageErr(hint, "bench: --%s goes with --target-cmd", name)
		}
	}
	for _, x := range []struct {
		flag string
		n    int
	}{{"locked-exit", f.lockedExit}, {"throttled-exit", f.throttledExit}} {
		if fs.Changed(x.flag) && (x.n < 1 || x.n > 125) {
			return usageErr(hint, "bench: --%s %d: want 1 to 125 (0 is accepted, 126 and 127 are the shell's)", x.flag, x.n)
		}
	}
	if fs.Changed("locked-exit") && f.lockedExit == f.throttledExit {
		return usageErr(hint, "bench: --locked-exit and --throttled-exit are both %d", f.lockedExit)
	}
	var scenarios []string
	if fs.Changed("scenario") {
		var err error
		if scenarios, err = testbench.ParseScenarios(f.scenario); err != nil {
			return usageErr(hint, "bench: --scenario: %v", err)
		}
	}
	if f.maxSteps < 1 || f.maxSteps > 100 {
		return usageErr(hint, "bench: --max-steps %d: want 1 to 100", f.maxSteps)
	}
	if f.maxAttempts < 1 || f.maxAttempts > 10000 {
		return usageErr(hint, "bench: --max-attempts %d: want 1 to 10000", f.maxAttempts)
	}
	if f.parallel < 1 || f.parallel > 256 {
		return usageErr(hint, "bench: --parallel %d: want 1 to 256", f.parallel)
	}
	if f.maxEnroll < 0 || (fs.Changed("max-enrollments") && f.maxEnroll < 1) || f.maxEnroll > 10000 {
		return usageErr(hint, "bench: --max-enrollments %d: want 1 to 10000", f.maxEnroll)
	}
	if f.burst < 2 || f.burst > 200 {
		return usageErr(hint, "bench: --burst %d: want 2 to 200 submissions", f.burst)
	}
	if f.bursts < 1 || f.bursts > 50 {
		return usageErr(hint, "bench: --bursts %d: want 1 to 50", f.bursts)
	}
	if !(f.guessRate > 0 && f.guessRate <= 1e6) {
		return usageErr(hint, "bench: --guess-rate %v: want more than 0, at most 1000000 per second", f.guessRate)
	}
	switch f.format {
	case "text", "json", "junit", "html":
	default:
		return usageErr(hint, "bench: --format %q: want text, json, junit or html", f.format)
	}
	if f.driftPPM != f.driftPPM || f.driftPPM == 0 || f.driftPPM < -10000 || f.driftPPM > 10000 {
		return usageErr(hint, "bench: --drift-ppm %v: want -10000 to 10000, not 0", f.driftPPM)
	}
	if f.driftDays < 1 || f.driftDays > testbench.MaxDriftDays {
		return usageErr(hint, "bench: --drift-days %d: want 1 to %d", f.driftDays, testbench.MaxDriftDays)
	}
	var expects []testbench.Expectation
	for _, x := range f.expect {
		ex, err := testbench.ParseExpectation(x)
		if err != nil {
			return usageErr(hint, "bench: --expect: %v", err)
		}
		expects = append(expects, ex)
	}
	switch testbench.TimeKind(f.timeSource) {
	case "", testbench.TimeNTP, testbench.TimeSystem:
	default:
		return usageErr(hint, "bench: --time-source %q: want ntp or system", f.timeSource)
	}
	if testbench.TimeKind(f.timeSource) == testbench.TimeSystem && fs.Changed("ntp") {
		return usageErr(hint, "bench: --ntp and --time-source system contradict each other")
	}
	for _, o := range []struct{ flag, path string }{{"--out", f.out}, {"--trace", f.trace}} {
		if fs.Changed(o.flag[2:]) {
			if err := checkOutFile("bench", o.flag, o.path); err != nil {
				return err
			}
		}
	}
	prof, err := emulator.ProfileByName(f.profile)
	if err != nil {
		return usageErr("the profiles are phone, gauth-android, phone-manual and token", "bench: --profile: %v", err)
	}

	tgt, lab, closeTarget, err := benchTarget(ctx, e, fs.Changed, f)
	if err != nil {
		return err
	}
	defer closeTarget()

	cfg := testbench.Config{Target: tgt, Scenarios: scenarios, MaxSteps: f.maxSteps, MaxAttempts: f.maxAttempts,
		Parallel: f.parallel, MaxEnrollments: f.maxEnroll, Burst: f.burst, Bursts: f.bursts, GuessRate: f.guessRate,
		Progress: e.stderr, Stopwatch: e.clock, DriftPPM: f.driftPPM, DriftDays: f.driftDays}
	var local clock.Clock = e.clock
	if lab != nil && f.timeSource == "" && !fs.Changed("ntp") {
		cfg.Time, err = testbench.VirtualTime(ctx, lab)
		if err != nil {
			return inputErr(err, "is the target's lab clock working?")
		}
		// Put the lab clock back as found, also after Ctrl-C (the
		// requests' own timeouts bound it).
		defer func() {
			if err := cfg.Time.Restore(context.WithoutCancel(ctx)); err != nil {
				fmt.Fprintf(e.stderr, "totpemu: error: %v\n", err)
				fmt.Fprintf(e.stderr, "totpemu: hint: set it by hand: curl -H 'Content-Type: application/json' -d '{\"run\": true}' .../api/v1/lab/clock\n")
			}
		}()
		local = cfg.Time
	} else if testbench.TimeKind(f.timeSource) == testbench.TimeSystem {
		cfg.Time = testbench.RealTime(e.clock, e.clock, testbench.TimeSystem, nil)
	} else {
		var servers []string
		if fs.Changed("ntp") {
			if servers, err = splitServers("--ntp", f.ntp); err != nil {
				return err
			}
		}
		n, ev, err := syncNTP(ctx, e, clock.NTPOptions{Servers: servers, Base: e.clock})
		if err != nil {
			return err
		}
		off := ev.Offset
		cfg.Time = testbench.RealTime(n, e.clock, testbench.TimeNTP, &off)
		for _, s := range ev.Sources {
			if s.Used {
				cfg.TimeSource.Servers = append(cfg.TimeSource.Servers, s.Server)
			}
		}
	}
	if ct, ok := tgt.(*target.CommandTarget); ok && cfg.Time.Virtual() {
		ct.Clock = cfg.Time
	}
	cfg.DeviceClock = func(truth clock.Clock) clock.Clock { return prof.Clock(local, truth) }

	if f.trace != "" {
		tf, err := os.OpenFile(f.trace, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return inputErr(fmt.Errorf("bench: --trace %s: %w", f.trace, pathless(err)), "")
		}
		defer tf.Close()
		cfg.Trace = tf
	}
	rep, err := testbench.Run(ctx, cfg)
	if err != nil {
		if testbench.IsUnreachable(err) {
			return inputErr(err, "check the target is up and reachable")
		}
		return failedErr(err, "")
	}
	testbench.CheckExpectations(rep, expects)
	var buf bytes.Buffer
	switch f.format {
	case "json":
		err = testbench.WriteJSON(&buf, rep)
	case "junit":
		err = testbench.WriteJUnit(&buf, rep)
	case "html":
		err = testbench.WriteHTML(&buf, rep)
	default:
		err = testbench.WriteText(&buf, rep)
	}
	if err != nil {
		return err
	}
	if f.out != "" {
		// writeFileAtomic (scan.go): a temporary file beside it, renamed over it.
		if err := writeFileAtomic(f.out, buf.Bytes()); err != nil {
			return inputErr(fmt.Errorf("bench: --out %s: %w", f.out, err), "")
		}
	} else if _, err := e.stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	if rep.Interrupted {
		n := 0
		for _, c := range rep.Checks {
			if c.Status == testbench.Incomplete {
				n++
			}
		}
		where := "above"
		if f.out != "" {
			where = "in " + f.out
		}
		return failedErr(fmt.Errorf("bench: interrupted: the report %s has what was measured; %d scenario(s) incomplete", where, n), "")
	}
	if rep.Failed() {
		return errSilentFailure
	}
	return nil
}

// benchTarget builds the target the flags name, or starts the embedded
// reference console. lab is its lab clock when it has one.
func benchTarget(ctx context.Context, e *env, changed func(string) bool, f benchFlags) (testbench.Target, testbench.LabClock, func(), error) {
	nothing := func() {}
	switch {
	case changed("target"):
		if !strings.HasPrefix(f.target, "http://") && !strings.HasPrefix(f.target, "https://") {
			return nil, nil, nil, usageErr("e.g. --target http://127.0.0.1:8080", "bench: --target %q: want an http:// or https:// URL", f.target)
		}
		t, lab, err := target.RefConsole(ctx, f.target, nil)
		if err != nil {
			return nil, nil, nil, inputErr(err, "is the reference console running there? (totpemu serve)")
		}
		if lab != nil && (f.timeSource != "" || changed("ntp")) {
			return nil, nil, nil, usageErr("drop --time-source and --ntp, or run the console without --lab",
				"bench: %s is in lab mode: the bench drives its clock (virtual time); real time is for a console without --lab", f.target)
		}
		if lab == nil {
			return t, nil, nothing, nil
		}
		return t, lab, nothing, nil
	case changed("target-config"):
		cfg, err := target.LoadTargetConfigFile(f.targetConfig, e.getenv)
		if err != nil {
			return nil, nil, nil, inputErr(fmt.Errorf("--target-config: %w", err), "")
		}
		if f.users != "" {
			file, err := os.Open(f.users)
			if err != nil {
				return nil, nil, nil, inputErr(fmt.Errorf("--users: %w", err), "")
			}
			cfg.Users, err = target.LoadUsers(f.users, file, e.getenv)
			file.Close()
			if err != nil {
				return nil, nil, nil, inputErr(fmt.Errorf("--users: %w", err), "a line NAME:PASSWORD each; ${ENV} in a password takes it from the environment")
			}
		}
		t, err := target.NewHTTPTarget(cfg, nil)
		if err != nil {
			return nil, nil, nil, inputErr(fmt.Errorf("--target-config %s: %w", f.targetConfig, err), "")
		}
		lab, err := t.Lab(ctx)
		if err != nil {
			return nil, nil, nil, inputErr(err, "check the target is up and reachable")
		}
		if lab != nil && (f.timeSource != "" || changed("ntp")) {
			return nil, nil, nil, usageErr("drop --time-source and --ntp, or the config's lab_clock",
				"bench: --target-config %s names a lab clock that only the bench moves: real time would find it stopped", f.targetConfig)
		}
		if lab == nil {
			return t, nil, nothing, nil
		}
		return t, lab, nothing, nil
	case changed("target-cmd"):
		t := &target.CommandTarget{Env: os.Environ(), LockedExit: f.lockedExit, ThrottledExit: f.throttledExit}
		for _, c := range []struct {
			flag, line, what string
			into             *[]string
		}{{"target-cmd", f.targetCmd, "verifier", &t.Command}, {"enroll-cmd", f.enrollCmd, "enroll program", &t.EnrollCommand}, {"bind-cmd", f.bindCmd, "bind program", &t.BindCommand}} {
			if !changed(c.flag) {
				continue
			}
			argv, err := target.SplitCommand(c.line)
			if err == nil {
				err = target.CheckPlaceholders(argv)
			}
			if err != nil {
				return nil, nil, nil, usageErr("", "bench: --%s: %v", c.flag, err)
			}
			if err := target.CheckCommand(argv); err != nil {
				return nil, nil, nil, usageErr("give the "+c.what+"'s path, or a program on $PATH", "bench: --%s: %v", c.flag, err)
			}
			*c.into = argv
		}
		return t, nil, nothing, nil
	}
	// In virtual time by default; asked for real time (--time-source,
	// --ntp), the console runs on the system clock instead of a lab clock.
	opts := refserver.DefaultOptions()
	opts.Lab = f.timeSource == "" && !changed("ntp")
	emb, err := target.StartEmbedded(ctx, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	return emb.Target, emb.Lab, func() { _ = emb.Close() }, nil
}
