package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/totpemu/totpemu/testbench/refserver"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "run the reference console, an MFA server to enroll and test against",
		usage: `Usage: totpemu serve [flags]

Runs the reference console: a web page to sign in as a demo user and enable
MFA with a QR code or a key typed by hand, and a JSON API shaped on the
cloud ones (create a virtual MFA device, bind it with two consecutive
codes, verify a code). Every policy is a flag, so a test bench can check
what it measures. It stops on SIGINT or SIGTERM after the requests in
flight finish. Secrets are never logged.

API:
  POST   /api/v1/devices                 {"account": NAME}
  POST   /api/v1/devices/SERIAL/bind     {"code1": C1, "code2": C2} (or {"code"})
  POST   /api/v1/devices/SERIAL/verify   {"code": C}
  DELETE /api/v1/devices/SERIAL
  GET    /healthz
  GET and POST /api/v1/lab/clock         with --lab only

Flags:
  --addr HOST:PORT         address to listen on (default 127.0.0.1:8080)
                             e.g. --addr 127.0.0.1:0 (any free port)
  --window-back N          steps accepted before the current one (default 1)
                             e.g. --window-back 0
  --window-forward N       steps accepted after the current one (default 1)
                             e.g. --window-forward 2
  --window-seconds-back DURATION
                           a window in seconds instead, as Ruby's ROTP takes
                           it (drift_behind): the previous step's code is
                           accepted until this long into the next step;
                           whole seconds, excludes --window-back and
                           --window-forward (default: a window in steps)
                             e.g. --window-seconds-back 15s
  --window-seconds-forward DURATION
                           the same ahead (drift_ahead): the next step's code
                           is accepted from this long before it begins
                             e.g. --window-seconds-forward 10s
  --replay POLICY          none, code (a used code is refused) or step
                             (a code not after the last accepted step is
                             refused) (default step)
                             e.g. --replay code
  --lockout N              consecutive refused codes that lock a device;
                             0 turns lockout off (default 5)
                             e.g. --lockout 10
  --lockout-for DURATION   how long a lock lasts (default 5m0s)
                             e.g. --lockout-for 30s
  --throttle exponential[:FACTOR]
                           django-otp's silent throttling: after a device's
                             n-th refused code in a row, every code, right
                             ones too, is refused as a wrong one is (403,
                             no 429) for FACTOR * 2^(n-1) (1, 2, 4 s ...);
                             a refusal while throttled does not count, a
                             success resets; FACTOR is 1s if left out, at
                             most 1h; combines with --lockout (default off)
                             e.g. --throttle exponential:500ms
  --clock-offset DURATION  the server's own clock error, added to its clock;
                             fractions of a second are kept (default 0s)
                             e.g. --clock-offset=-45s, --clock-offset 13.4s
  --digits N               code length, 6 to 8 (default 6)
                             e.g. --digits 8
  --algorithm NAME         SHA1, SHA256 or SHA512 (default SHA1)
                             e.g. --algorithm SHA256
  --period SECONDS         step length, 1 to 300 (default 30)
                             e.g. --period 60
  --secret-bytes N         size of new secrets, 10 to 64 (default 20)
                             e.g. --secret-bytes 32
  --bind-codes N           codes that bind a device: 1, or 2 consecutive
                             ones (default 2)
                             e.g. --bind-codes 1
  --resync                 after a success, centre the device's window on
                             its offset in steps (RFC 6238 section 6)
                             e.g. --resync
  --resync-max N           with --resync: the most steps, either way, the
                             remembered offset may reach; a success further
                             out moves it only to the bound; 0 to 100
                             (default 0: no bound)
                             e.g. --resync --resync-max 3
  --resync-after N         with --resync: successes in a row at one offset
                             it takes to move the window there; a success
                             at another offset starts the count again; 0 to
                             10 (default 0: every success moves it, as 1)
                             e.g. --resync --resync-after 2
  --resync-forward-only    with --resync: the offset only ever grows; a
                             success at an offset below it leaves the
                             window where it is (a window that never moves
                             back for a device that was fixed)
                             e.g. --resync --resync-forward-only
  --issuer NAME            issuer in the otpauth URI (default "totpemu Console")
                             e.g. --issuer "ACME Cloud"
  --lab                    lab mode: the server's clock can be read and set
                             over HTTP (GET/POST /api/v1/lab/clock with
                             {"set": RFC3339}, {"advance": "30s"} or
                             {"unix_ms": N}, which stop it there; {"run":
                             true} makes it follow the real clock again);
                             it runs with the real clock until set, and a
                             bench puts it back as it found it; the pages
                             say so
                             e.g. --lab
  --replay-counts-as-failure
                           a refused replay (a code that matched a step but
                             is refused by --replay) counts as a failed
                             attempt towards --lockout, so a burst of
                             replayed codes locks the user out (default:
                             a replay is refused without counting)
                             e.g. --replay-counts-as-failure
  --flaw NAME[:PAUSE]      a deliberate bug, to test the bench's security
                             probes against a server known to have it; with
                             --lab only; repeatable; a warning line and a
                             banner on the pages say so:
                             toctou-replay  the replay check and the record
                                            of the use are two steps with a
                                            pause between them: concurrent
                                            submissions of one code are all
                                            accepted
                             lockout-race   failures are counted after a
                                            pause, outside the lock: a burst
                                            of wrong codes is evaluated
                                            beyond --lockout
                             bind-reuse     the codes that bound a device
                                            are accepted again at login
                             PAUSE is the race flaws' gap, 0 to 1s (default
                             1ms), shared by both
                             e.g. --lab --flaw toctou-replay:5ms --flaw bind-reuse

The console's demo user is "demo" with password "demo-password".

Exit status: 0 after a clean shutdown; 1 the server failed (address in
use); 2 usage error.

Examples:
  totpemu serve
  totpemu serve --addr 127.0.0.1:9000 --window-back 2 --window-forward 0
  totpemu serve --replay code --lockout 0
  totpemu serve --throttle exponential --lockout 0
  totpemu serve --lab --clock-offset=-90s --resync
  totpemu serve --lab --resync --resync-max 3 --resync-after 2
  totpemu serve --window-seconds-back 15s --window-seconds-forward 0s
  totpemu serve --lab --flaw toctou-replay --flaw lockout-race
`,
		run:      runServe,
		graceful: true,
	})
}

func runServe(ctx context.Context, e *env, args []string) error {
	c := commands["serve"]
	d := refserver.DefaultOptions()
	fs := newFlags(c)
	addr := fs.String("addr", "127.0.0.1:8080", "")
	back := fs.Int("window-back", d.WindowBack, "")
	forward := fs.Int("window-forward", d.WindowForward, "")
	secBack := fs.Duration("window-seconds-back", 0, "")
	secForward := fs.Duration("window-seconds-forward", 0, "")
	replay := fs.String("replay", d.Replay, "")
	lockout := fs.Int("lockout", d.Lockout, "")
	lockoutFor := fs.Duration("lockout-for", d.LockoutFor, "")
	throttle := fs.String("throttle", "", "")
	offset := fs.Duration("clock-offset", 0, "")
	digits := fs.Int("digits", d.Digits, "")
	alg := fs.String("algorithm", d.Algorithm, "")
	period := fs.Int("period", d.Period, "")
	secretBytes := fs.Int("secret-bytes", d.SecretBytes, "")
	bindCodes := fs.Int("bind-codes", d.BindCodes, "")
	resync := fs.Bool("resync", false, "")
	resyncMax := fs.Int("resync-max", 0, "")
	resyncAfter := fs.Int("resync-after", 0, "")
	resyncForward := fs.Bool("resync-forward-only", false, "")
	issuer := fs.String("issuer", d.Issuer, "")
	lab := fs.Bool("lab", false, "")
	replayCounts := fs.Bool("replay-counts-as-failure", false, "")
	flaws := fs.StringArray("flaw", nil, "")
	if err := parse(e, c, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr(`run "totpemu serve --help"`, "serve: takes no arguments, got %q", fs.Arg(0))
	}
	hint := `run "totpemu serve --help" for the flags`
	inSeconds := fs.Changed("window-seconds-back") || fs.Changed("window-seconds-forward")
	if inSeconds && (fs.Changed("window-back") || fs.Changed("window-forward")) {
		return usageErr("give a window in steps (--window-back, --window-forward) or in seconds (--window-seconds-back, --window-seconds-forward)",
			"serve: a window in seconds excludes --window-back and --window-forward")
	}
	if inSeconds {
		*back, *forward = 0, 0
	}
	if !*resync {
		var knobs []string
		for _, name := range []string{"resync-max", "resync-after", "resync-forward-only"} {
			if fs.Changed(name) {
				knobs = append(knobs, "--"+name)
			}
		}
		if len(knobs) > 0 {
			verb := "needs"
			if len(knobs) > 1 {
				verb = "need"
			}
			return usageErr("add --resync: the knobs only shape how it follows a device's offset",
				"serve: %s %s --resync", strings.Join(knobs, ", "), verb)
		}
	}
	checks := []struct {
		bad  bool
		flag string
		val  any
		want string
	}{
		{*back < 0 || *back > 1000, "--window-back", *back, "0 to 1000 steps"},
		{*forward < 0 || *forward > 1000, "--window-forward", *forward, "0 to 1000 steps"},
		{*secBack < 0 || *secBack%time.Second != 0 || *secBack > time.Hour, "--window-seconds-back", *secBack, "whole seconds from 0s to 1h"},
		{*secForward < 0 || *secForward%time.Second != 0 || *secForward > time.Hour, "--window-seconds-forward", *secForward, "whole seconds from 0s to 1h"},
		{*replay != refserver.ReplayNone && *replay != refserver.ReplayCode && *replay != refserver.ReplayStep, "--replay", fmt.Sprintf("%q", *replay), "none, code or step"},
		{*lockout < 0, "--lockout", *lockout, "0 (off) or more failures"},
		{*lockoutFor <= 0, "--lockout-for", *lockoutFor, "a positive duration such as 5m"},
		{*digits < 6 || *digits > 8, "--digits", *digits, "6, 7 or 8"},
		{*period < 1 || *period > refserver.MaxPeriod, "--period", *period, fmt.Sprintf("1 to %d seconds", refserver.MaxPeriod)},
		{*secretBytes < 10 || *secretBytes > 64, "--secret-bytes", *secretBytes, "10 to 64 bytes"},
		{*bindCodes != 1 && *bindCodes != 2, "--bind-codes", *bindCodes, "1 or 2"},
		{*resyncMax < 0 || *resyncMax > refserver.MaxResyncMax, "--resync-max", *resyncMax, fmt.Sprintf("0 (no bound) to %d steps", refserver.MaxResyncMax)},
		{*resyncAfter < 0 || *resyncAfter > refserver.MaxResyncAfter, "--resync-after", *resyncAfter, fmt.Sprintf("0 to %d successes", refserver.MaxResyncAfter)},
		{*issuer == "", "--issuer", `""`, "a name"},
	}
	for _, ch := range checks {
		if ch.bad {
			return usageErr(hint, "serve: %s %v: want %s", ch.flag, ch.val, ch.want)
		}
	}
	var factor time.Duration // 0: off
	if fs.Changed("throttle") {
		f, err := parseThrottle(*throttle)
		if err != nil {
			return usageErr(hint, "serve: --throttle %q: %v", *throttle, err)
		}
		factor = f
	}
	var flawed refserver.Options // what the --flaw values set
	for _, name := range *flaws {
		if err := flawed.AddFlaw(name); err != nil {
			return usageErr(`run "totpemu serve --help" for the flaws`, "serve: --flaw: %v", err)
		}
	}
	if flawed.Flaws.Any() && !*lab {
		return usageErr("add --lab: the flaws are deliberate bugs, for testing the bench only",
			"serve: --flaw %s needs --lab", strings.Join(flawed.Flaws.Names(), ", "))
	}
	if _, port, err := net.SplitHostPort(*addr); err != nil {
		return usageErr(hint, "serve: --addr %q: want HOST:PORT such as 127.0.0.1:8080", *addr)
	} else if n, err := strconv.Atoi(port); port == "" || err != nil || n < 0 || n > 65535 {
		return usageErr(hint, "serve: --addr %q: port %q is not a number from 0 to 65535", *addr, port)
	}
	opts := refserver.Options{
		Clock:      e.clock,
		WindowBack: *back, WindowForward: *forward,
		WindowInSeconds: inSeconds, WindowSecondsBack: *secBack, WindowSecondsForward: *secForward,
		Replay:  *replay,
		Lockout: *lockout, LockoutFor: *lockoutFor, ThrottleFactor: factor,
		ClockOffset: *offset,
		Digits:      *digits, Algorithm: *alg, Period: *period,
		SecretBytes: *secretBytes, BindCodes: *bindCodes,
		Resync: *resync, ResyncMax: *resyncMax, ResyncAfter: *resyncAfter, ResyncForwardOnly: *resyncForward,
		Issuer: *issuer, Lab: *lab,
		ReplayCountsAsFailure: *replayCounts || flawed.ReplayCountsAsFailure,
		Flaws:                 flawed.Flaws,
	}
	srv, err := refserver.New(opts)
	if err != nil {
		// the checks above leave the algorithm and the issuer's characters
		return usageErr(hint, "serve: %v", err)
	}
	ready := func(a net.Addr) {
		fmt.Fprintf(e.stderr, "totpemu: serving the reference console on http://%s/ (%s)\n", a, srv.Options().Policy())
		if *lab {
			fmt.Fprintf(e.stderr, "totpemu: lab mode is on: anyone who can reach http://%s/api/v1/lab/clock can set this server's clock\n", a)
		}
		if f := srv.Options().Flaws; f.Any() {
			fmt.Fprintf(e.stderr, "totpemu: warning: deliberately flawed console: %s — for testing the bench only\n", f)
		}
	}
	err = refserver.ListenAndServe(ctx, *addr, srv, refserver.HTTPOptions{}, ready)
	if errors.Is(err, syscall.EADDRINUSE) {
		return failedErr(fmt.Errorf("serve: %w", err), "another program listens there: choose another port with --addr, or :0 for any free one")
	}
	if err != nil {
		return failedErr(fmt.Errorf("serve: %w", err), "")
	}
	fmt.Fprintf(e.stderr, "totpemu: stopped after the requests in flight finished\n")
	return nil
}

// throttleForm is the form --throttle takes.
const throttleForm = "want exponential or exponential:FACTOR, FACTOR a positive duration up to 1h such as 500ms"

// parseThrottle parses a --throttle value: "exponential" is django-otp's
// default factor, 1s; "exponential:FACTOR" sets it.
func parseThrottle(v string) (time.Duration, error) {
	mode, arg, hasArg := strings.Cut(v, ":")
	if mode != "exponential" {
		return 0, errors.New(throttleForm)
	}
	if !hasArg {
		return time.Second, nil
	}
	f, err := time.ParseDuration(arg)
	if err != nil || f <= 0 || f > refserver.MaxThrottleFactor {
		return 0, errors.New(throttleForm)
	}
	return f, nil
}
