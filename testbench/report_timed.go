package testbench

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// writeWindowText writes the window's summary lines.
func writeWindowText(w io.Writer, wr *WindowResult) {
	fmt.Fprintf(w, "WINDOW\ta code is accepted from %+.2f s to %+.2f s of its step (±%.2f s)\n", wr.AcceptedFromS, wr.AcceptedUntilS, wr.EdgeUncertaintyS)
	switch {
	case wr.Kind == KindSeconds && wr.BackSeconds != nil:
		fmt.Fprintf(w, "\twindow -%gs/+%gs in seconds of the server's clock; no whole-step window describes it\n", *wr.BackSeconds, *wr.ForwardSeconds)
	case wr.Kind == KindSeconds:
		fmt.Fprintf(w, "\ta window in seconds (its edges are not a whole number of steps apart)\n")
	case wr.BackSteps != nil:
		fmt.Fprintf(w, "\twindow %s steps of the server's own clock (period %d s)%s\n", WindowSteps(*wr.BackSteps, *wr.ForwardSteps), wr.PeriodS, limits(wr.BackAtLimit, wr.ForwardAtLimit))
	default:
		fmt.Fprintf(w, "\ta window in steps; in the server's own steps: not known without its clock (no Date header)\n")
	}
	if -wr.TrueBackSteps <= wr.TrueForwardSteps {
		fmt.Fprintf(w, "\tcodes accepted at every phase of the true step: %+d to %+d steps from it\n", -wr.TrueBackSteps, wr.TrueForwardSteps)
	} else {
		fmt.Fprintf(w, "\tcodes accepted at every phase of the true step: none\n")
	}
	fmt.Fprintf(w, "\tdevice clock error always accepted: %s\n", skewText(wr.AlwaysAcceptedSkewS))
	fmt.Fprintf(w, "\tsometimes accepted: over %+.2f s and under %+.2f s\n", wr.SometimesAcceptedSkewS[0], wr.SometimesAcceptedSkewS[1])
}

// WindowSteps writes a window of b steps back and f forward as the
// reference console and every report show it: "-1/+1".
func WindowSteps(b, f int) string { return fmt.Sprintf("-%d/+%d", b, f) }

// limits says which side of a window reached the search's limit.
func limits(back, fwd bool) string {
	switch {
	case back && fwd:
		return "; both sides at the search's limit (--max-steps): maybe more"
	case back:
		return "; back at the search's limit (--max-steps): maybe more"
	case fwd:
		return "; forward at the search's limit (--max-steps): maybe more"
	}
	return ""
}

// writeTimedText writes the time-driven scenarios' summary lines.
func writeTimedText(w io.Writer, res Results) {
	if s := res.ServerClock; s != nil {
		switch {
		case s.OffsetS != nil:
			src := map[string]string{"date-header+codes": "the Date header, where the codes agree", "date-header": "the Date header", "codes": "the codes"}[s.Source]
			fmt.Fprintf(w, "SERVER CLOCK\t%+.3f s from the truth (±%.3f s; from %s)\n", *s.OffsetS, s.UncertaintyS, src)
			if s.DateHeaderAgrees != nil && !*s.DateHeaderAgrees {
				fmt.Fprintf(w, "\tthe Date header says %+.3f s: another clock (a proxy?)\n", *s.DateHeaderOffsetS)
			}
		case s.OffsetModS != nil:
			fmt.Fprintf(w, "SERVER CLOCK\t%+.3f s from the truth modulo %d s (±%.3f s; no Date header)\n", *s.OffsetModS, s.PeriodS, s.UncertaintyS)
		default:
			fmt.Fprintf(w, "SERVER CLOCK\tnot measured: no Date header, and the window is in seconds\n")
		}
		if s.BackSteps != nil {
			fmt.Fprintf(w, "\tin its own steps: window %s\n", WindowSteps(*s.BackSteps, *s.ForwardSteps))
		}
	}
	if b := res.Boundary; b != nil {
		var refs, safe []string
		for _, l := range TypingLatenciesS {
			k := strconv.Itoa(l)
			refs = append(refs, fmt.Sprintf("%s s %.1f%%", k, 100*b.RefusalProbabilityByLatencyS[k]))
			if v := b.LatestSafeReadS[k]; v != nil {
				safe = append(safe, fmt.Sprintf("%s s: %.1f s", k, *v))
			} else {
				safe = append(safe, k+" s: never")
			}
		}
		fmt.Fprintf(w, "BOUNDARY\trefused when typing takes %s\n", strings.Join(refs, ", "))
		fmt.Fprintf(w, "\tlatest safe moment to read a code (seconds into its step): %s\n", strings.Join(safe, ", "))
	}
	if d := res.Drift; d != nil {
		first := "never within " + strconv.Itoa(d.MaxDays) + " days"
		if d.FirstRefusedDay != nil {
			first = fmt.Sprintf("from day %d (%+.1f s off)", *d.FirstRefusedDay, driftOffset(d.PPM, *d.FirstRefusedDay).Seconds())
		}
		fmt.Fprintf(w, "DRIFT\ttoken at %+g ppm used daily: refused %s; server tracks drift: %s\n", d.PPM, first, yesNo(d.ServerTracksDrift))
		if tr := d.Tracking; tr != nil {
			back := "REFUSED"
			if tr.FixedDeviceAccepted {
				back = "accepted, window " + yes(tr.MovesBack != nil && *tr.MovesBack, "back", "stays ahead")
			}
			fmt.Fprintf(w, "\tfollows a device ahead after %d success(es), by %d step(s)%s; the device set right then: %s\n",
				tr.MovesAfterSuccesses, tr.TrackedStepsMax, yes(tr.AtLeast, " or more", ""), back)
		}
		for _, ph := range d.Phones {
			fmt.Fprintf(w, "\t%s on %d day(s): %s\n", ph.Profile, len(ph.Days), yes(ph.AllAccepted, "always accepted", "REFUSED on some"))
		}
	}
}
