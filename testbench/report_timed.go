package testbench

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// writeTimedText writes the time-driven scenarios' summary lines.
func writeTimedText(w io.Writer, res Results) {
	if s := res.ServerClock; s != nil {
		if s.WholeStepsKnown {
			fmt.Fprintf(w, "SERVER CLOCK\t%+.2f s from the truth (±%.2f s; whole steps from the Date header, which says %+.1f s)\n", s.OffsetS, s.UncertaintyS, *s.DateOffsetS+0)
			fmt.Fprintf(w, "\tin its own steps: %d back, %d forward\n", *s.BackSteps, *s.ForwardSteps)
		} else {
			fmt.Fprintf(w, "SERVER CLOCK\t%+.2f s from the truth modulo %d s (±%.2f s; no Date header)\n", s.OffsetModS, s.PeriodS, s.UncertaintyS)
		}
		fmt.Fprintf(w, "\tdevice clock error always accepted: %+.1f s to %+.1f s; sometimes: over %+.1f s and under %+.1f s\n",
			s.AlwaysAcceptedSkewS[0], s.AlwaysAcceptedSkewS[1], s.SometimesAcceptedSkewS[0], s.SometimesAcceptedSkewS[1])
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
		agree := 0
		for _, s := range b.Samples {
			if s.Accepted == s.Predicted {
				agree++
			}
		}
		fmt.Fprintf(w, "\t%d of %d grid points submitted answered as predicted\n", agree, len(b.Samples))
	}
	if d := res.Drift; d != nil {
		first := "never within " + strconv.Itoa(d.MaxDays) + " days"
		if d.FirstRefusedDay != nil {
			first = fmt.Sprintf("from day %d (%+.1f s off)", *d.FirstRefusedDay, float64(*d.FirstRefusedDay)*86400*d.PPM/1e6)
		}
		fmt.Fprintf(w, "DRIFT\ttoken at %+g ppm used daily: refused %s; server tracks drift: %s\n", d.PPM, first, yesNo(d.ServerTracksDrift))
		for _, ph := range d.Phones {
			fmt.Fprintf(w, "\t%s on %d day(s): %s\n", ph.Profile, len(ph.Days), yes(ph.AllAccepted, "always accepted", "REFUSED on some"))
		}
	}
}
