package testbench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as a short summary of each scenario, then a
// table of the checks, read at a glance.
func WriteText(w io.Writer, r *Report) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "target: %s\n", r.Target)
	fmt.Fprintf(b, "time:   %s\n\n", timeText(r.TimeSource))
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	writeSummary(tw, r.Results)
	tw.Flush()

	b.WriteString("\n")
	tw = tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATUS\tDETAIL")
	count := map[Status]int{}
	for _, c := range r.Checks {
		count[c.Status]++
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.ID, strings.ToUpper(string(c.Status)), c.Detail)
	}
	tw.Flush()

	var subs []string
	total := 0
	for _, s := range r.Scenarios {
		subs = append(subs, fmt.Sprintf("%s %d", s, r.Submissions[s]))
		total += r.Submissions[s]
	}
	for s, n := range r.Submissions {
		if !slices.Contains(r.Scenarios, s) {
			subs = append(subs, fmt.Sprintf("%s %d", s, n))
			total += n
		}
	}
	fmt.Fprintf(b, "\ncodes submitted: %s (total %d)\n", strings.Join(subs, ", "), total)
	for _, n := range r.Notes {
		fmt.Fprintf(b, "note: %s\n", n)
	}
	fmt.Fprintf(b, "result: %d fail, %d warn, %d pass", count[Fail], count[Warn], count[Pass])
	if count[Skip] > 0 {
		fmt.Fprintf(b, ", %d skipped", count[Skip])
	}
	if count[Incomplete] > 0 {
		fmt.Fprintf(b, ", %d incomplete (interrupted)", count[Incomplete])
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSummary writes each scenario's summary lines: "NAME\tdetail" and,
// continuing it, "\tdetail" (a tabwriter aligns them; the HTML report
// makes a table of them).
func writeSummary(tw io.Writer, res Results) {
	if e := res.Enroll; e != nil {
		fmt.Fprintf(tw, "ENROLL\tkey shown as %s; bind with %d code(s) %s; login %s\n", strings.Join(e.KeyForms, ", "), e.BindCodes,
			yes(e.BindAccepted, "accepted", "refused"), yes(e.CodeAccepted, "accepted", "refused"))
		var t []string
		for _, k := range []string{"enroll", "scan", "bind", "login"} {
			if v, ok := e.TimingsMS[k]; ok {
				t = append(t, fmt.Sprintf("%s %.1f ms", k, v))
			}
		}
		fmt.Fprintf(tw, "\ttimes: %s\n", strings.Join(t, ", "))
	}
	if l := res.Lockout; l != nil {
		if l.FailuresBeforeLock != nil {
			fmt.Fprintf(tw, "LOCKOUT\tlocked after %d wrong codes; right code refused while locked: %s; success resets the count: %s\n",
				*l.FailuresBeforeLock, yesNo(l.RightCodeRefusedWhenLocked), yesNo(l.SuccessResets))
		} else if l.ThrottledAfter != nil {
			fmt.Fprintf(tw, "LOCKOUT\tno lock: a silent throttle, %d wrong codes each sent after the last one's delay; a right code then: %s\n",
				*l.ThrottledAfter, yes(l.RightCodeRefusedWhenLocked != nil && *l.RightCodeRefusedWhenLocked, "refused", "accepted"))
		} else {
			fmt.Fprintf(tw, "LOCKOUT\tno lock within %d wrong codes; a right code afterwards refused: %s\n", l.MaxAttempts, yesNo(l.RightCodeRefusedWhenLocked))
		}
	}
	if th := res.Throttle; th != nil {
		switch th.Kind {
		case "silent":
			fmt.Fprintf(tw, "THROTTLE\tsilent (a right code refused as wrong for a while after failures): delays after 1..%d failures in a row %v s\n", len(th.DelaysS), th.DelaysS)
		case "429":
			fmt.Fprintf(tw, "THROTTLE\t\"slow down\" (HTTP 429); Retry-After seen: %v s\n", th.DelaysS)
		default:
			fmt.Fprintf(tw, "THROTTLE\tnone seen\n")
		}
	}
	if wr := res.Window; wr != nil {
		writeWindowText(tw, wr)
	}
	if rp := res.Replay; rp != nil {
		fmt.Fprintf(tw, "REPLAY\tsame code %s; older in-window code %s; reformatted %s\n",
			refused(rp.SameCodeRejected), refused(rp.OlderCodeRejected), refused(rp.ReformattedCodeRejected))
	}
	writeSecurityText(tw, res)
	writeTimedText(tw, res)
}

// writeSecurityText writes the RACE, REUSE and BRUTE FORCE lines.
func writeSecurityText(tw io.Writer, res Results) {
	if r := res.Race; r != nil {
		spread := "release spread not measured"
		if r.SpreadMSP50 != nil {
			spread = fmt.Sprintf("released within %.3f ms (median %.3f ms)", *r.SpreadMSMax, *r.SpreadMSP50)
		}
		fmt.Fprintf(tw, "RACE	%d bursts of %d copies of one code: at most %d accepted (%d bursts over one); %s, %s\n",
			r.Bursts, r.Burst, r.ReplayMaxAccepted, r.ReplayBurstsOverOne, r.Method, spread)
		if r.LockoutLimit != nil && r.WrongEvaluatedBeforeLock != nil {
			right := "refused"
			switch {
			case *r.RightAcceptedAfterLimit:
				right = "ACCEPTED after the limit"
			case *r.RightAccepted:
				right = "accepted before the lock"
			}
			fmt.Fprintf(tw, "\tlockout burst of %d wrong + the right code: %d judged as wrong (limit %d), right code %s\n",
				3**r.LockoutLimit, *r.WrongEvaluatedBeforeLock, *r.LockoutLimit, right)
		}
		if r.ReplaysCountAsFailures != nil {
			s := "refused replays are not counted as failures"
			if *r.ReplaysCountAsFailures {
				s = fmt.Sprintf("refused replays COUNT as failures: %d lock the account", *r.ReplaysToLock)
			}
			fmt.Fprintf(tw, "\t%s\n", s)
		}
	}
	if r := res.Reuse; r != nil {
		fmt.Fprintf(tw, "REUSE	the bind's code at login %s; a code in a second session %s\n",
			refused(negate(r.BindCodeAcceptedAtLogin)), refused(negate(r.CodeAcceptedInSecondSession)))
	}
	if r := res.BruteForce; r != nil {
		fifty := "never"
		if r.HoursTo50Pct != nil {
			fifty = hoursText(*r.HoursTo50Pct)
		}
		fmt.Fprintf(tw, "BRUTE FORCE	computed, not attempted: %.2f codes accepted per guess, %s; 50 %% chance after %s (1 h %s, 1 day %s, 30 days %s)\n",
			r.CodesAcceptedPerGuess, r.Limit, fifty, pct(r.P1h), pct(r.P1d), pct(r.P30d))
	}
}

// negate is !*b, nil for nil.
func negate(b *bool) *bool {
	if b == nil {
		return nil
	}
	return ptr(!*b)
}

func timeText(ts TimeSource) string {
	var s string
	switch ts.Kind {
	case TimeVirtual:
		s = "virtual (the bench drives the target's lab clock)"
	case TimeNTP:
		s = "real, truth from NTP"
		if len(ts.Servers) > 0 {
			s += " (" + strings.Join(ts.Servers, ", ") + ")"
		}
	case TimeSystem:
		s = "real, truth from the system clock (no NTP: its own error is not measured)"
	default:
		s = string(ts.Kind)
	}
	if ts.OffsetMS != nil {
		s += fmt.Sprintf("; local clock offset %+.1f ms", *ts.OffsetMS)
	}
	if ts.Note != "" {
		s += "; " + ts.Note
	}
	return s
}

func yes(b bool, t, f string) string {
	if b {
		return t
	}
	return f
}

func yesNo(b *bool) string {
	if b == nil {
		return "not measured"
	}
	return yes(*b, "yes", "no")
}

func refused(b *bool) string {
	if b == nil {
		return "not testable"
	}
	return yes(*b, "refused", "ACCEPTED")
}
