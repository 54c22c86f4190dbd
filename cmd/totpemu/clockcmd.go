package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/totpemu/totpemu/clock"
)

func init() {
	register(&command{
		name:    "clock",
		summary: "sync over NTP and report the local clock's offset with the evidence",
		usage: `Usage: totpemu clock [--ntp SERVER[,SERVER]] [--json]

Queries several NTP servers at once, drops the ones that cannot be trusted
(Kiss-o'-Death, stratum 0 or 16+, unsynchronised, too far from their own
reference, an answer that fails validation, silence), takes the median of
the rest and requires a majority of them to agree, so one wrong server
cannot move the clock. A silent server does not count against the
majority: with one of two answering, its time is used, with a warning;
--min-sources asks for more valid answers. Prints the local clock's offset from that truth
and, per server, the evidence: offset, round trip, stratum, root distance,
and why a server was dropped.

Flags:
  --ntp SERVER[,SERVER]  servers to ask, each host or host:port
                         (default 0.pool.ntp.org,...,3.pool.ntp.org)
  --timeout DURATION     how long to wait for each server (default 2s)
  --min-sources N        fail unless at least N servers answer validly
                         (default 1), e.g. --min-sources 2
  --json                 print the evidence as JSON

Exit status: 0 synced; 1 no source survived; 2 usage error.

Examples:
  totpemu clock
  totpemu clock --ntp time.cloudflare.com,time.google.com
  totpemu clock --ntp 127.0.0.1:11123 --timeout 500ms --json
`,
		run: runClock,
	})
}

func runClock(ctx context.Context, e *env, args []string) error {
	c := commands["clock"]
	fs := newFlags(c)
	ntpFlag := fs.String("ntp", "", "")
	asJSON := fs.Bool("json", false, "")
	timeout := fs.Duration("timeout", clock.DefaultNTPTimeout, "")
	minSources := fs.Int("min-sources", 1, "")
	if err := parse(e, c, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr(`run "totpemu clock --help"`, "clock: takes no arguments, got %q", fs.Arg(0))
	}
	var servers []string
	if fs.Changed("ntp") {
		var err error
		if servers, err = splitServers("--ntp", *ntpFlag); err != nil {
			return err
		}
	}
	if *minSources < 1 || *minSources > 64 {
		return usageErr("e.g. --min-sources 2", "--min-sources: %d is outside 1..64", *minSources)
	}
	if *timeout <= 0 || *timeout > time.Minute {
		return usageErr("e.g. --timeout 500ms", "--timeout: %s is outside (0, 1m]", *timeout)
	}
	_, ev, err := syncNTP(ctx, e, clock.NTPOptions{Servers: servers, Base: e.clock, Timeout: *timeout, MinSources: *minSources})
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(ev); jerr != nil {
			return jerr
		}
	} else {
		printEvidence(e, ev, err == nil)
	}
	return err
}

func printEvidence(e *env, ev clock.Evidence, ok bool) {
	if ok {
		fmt.Fprintf(e.stdout, "offset %+.3f s (local clock %s by %s)\n", ev.Offset.Seconds(), aheadBehind(ev.Offset), ev.Offset.Abs().Round(time.Microsecond))
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tOFFSET\tRTT\tSTRATUM\tROOT DIST\tRESULT")
	for _, s := range ev.Sources {
		result := "used"
		if s.Dropped != "" {
			result = "dropped: " + s.Dropped
		}
		if !s.Answered {
			// No reply: nothing measured, not a zero.
			fmt.Fprintf(tw, "%s\t–\t–\t–\t–\t%s\n", s.Server, result)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", s.Server, signedMS(s.Offset), plainMS(s.RTT), s.Stratum, plainMS(s.RootDistance), result)
	}
	tw.Flush()
}

// aheadBehind says which way the local clock is off, given the correction
// to add to it.
func aheadBehind(correction time.Duration) string {
	if correction >= 0 {
		return "behind"
	}
	return "ahead"
}

func signedMS(d time.Duration) string {
	return fmt.Sprintf("%+.3f ms", float64(d)/float64(time.Millisecond))
}

func plainMS(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond))
}
