package testbench

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
)

// The charts of the HTML report (report_html.go): inline SVG, drawn at
// chartW x chartH and scaled down by CSS on a narrow screen.

const chartW, chartH, padL, padB, padT, padR = 720, 240, 64, 38, 14, 22

func svgOpen(b *strings.Builder, id, title string) {
	fmt.Fprintf(b, `<svg id="%s" width="%d" height="%d" viewBox="0 0 %d %d" role="img"><title>%s</title>`+"\n",
		id, chartW, chartH, chartW, chartH, html.EscapeString(title))
}

func svgAxes(b *strings.Builder, xlabel, ylabel string) {
	x0, y0 := padL, chartH-padB
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n",
		x0, y0, chartW-padR, y0, x0, padT, x0, y0)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", (padL+chartW-padR)/2, chartH-4, html.EscapeString(xlabel))
	fmt.Fprintf(b, `<text x="12" y="%d" transform="rotate(-90 12 %d)" text-anchor="middle">%s</text>`+"\n", (padT+chartH-padB)/2, (padT+chartH-padB)/2, html.EscapeString(ylabel))
}

func svgAcceptance(b *strings.Builder, f interval) {
	P := f.period.Seconds()
	sk := f.sometimesSkew()
	xmin, xmax := math.Floor(sk[0]/P-1)*P, math.Ceil(sk[1]/P+1)*P
	sx := func(x float64) float64 { return padL + (x-xmin)/(xmax-xmin)*float64(chartW-padL-padR) }
	sy := func(y float64) float64 { return float64(chartH-padB) - y*float64(chartH-padB-padT) }
	svgOpen(b, "chart-acceptance", "share of logins accepted against the device clock offset")
	svgAxes(b, "device clock offset (s)", "accepted")
	for x := xmin; x <= xmax+1e-9; x += P {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/><text x="%.1f" y="%d" text-anchor="middle">%+.0f</text>`+"\n",
			sx(x), padT, sx(x), chartH-padB, sx(x), chartH-padB+14, x)
	}
	for _, y := range []float64{0, 0.5, 1} {
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%.0f%%</text>`+"\n", padL-4, sy(y)+4, y*100)
	}
	var pts []string
	for i := 0; i <= 240; i++ {
		x := xmin + (xmax-xmin)*float64(i)/240
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(x), sy(f.acceptedFraction(secs(x)))))
	}
	fmt.Fprintf(b, `<polyline fill="none" stroke="#0969da" stroke-width="2" points="%s"/>`+"\n</svg>\n", strings.Join(pts, " "))
}

func svgBoundary(b *strings.Builder, f interval) {
	n := int(f.period / time.Second)
	cw := float64(chartW-padL-padR) / float64(n)
	ch := float64(chartH-padB-padT) / float64(gridMaxLatS+1)
	svgOpen(b, "chart-boundary", "boundary heat map: share accepted by phase read (x) and latency (y)")
	svgAxes(b, "second of the step at which the code is read", "latency (s)")
	for l := 0; l <= gridMaxLatS; l++ {
		for s := range n {
			acc := 0
			for i := range 10 {
				if f.acceptsX(time.Duration(s)*time.Second + time.Duration(i)*boundaryPhaseStep + time.Duration(l)*time.Second) {
					acc++
				}
			}
			col := heat(float64(acc) / 10)
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, padL+float64(s)*cw, float64(chartH-padB)-float64(l+1)*ch, cw+0.3, ch+0.3, col)
		}
		b.WriteString("\n")
		if l%5 == 0 {
			fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%d</text>`+"\n", padL-4, float64(chartH-padB)-float64(l)*ch-ch/2+4, l)
		}
	}
	for s := 0; s <= n; s += 5 {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", padL+float64(s)*cw, chartH-padB+14, s)
	}
	b.WriteString("</svg>\n<p>Green: accepted at every phase of that second; red: refused. A person reads the code at the second shown on the x axis and types it in the latency on the y axis.</p>\n")
}

// heat colours a share accepted from red (0) to green (1).
func heat(a float64) string {
	r := int(220 - 180*a)
	g := int(60 + 130*a)
	return fmt.Sprintf("rgb(%d,%d,70)", r, g)
}

func svgDrift(b *strings.Builder, d *DriftResult, w *WindowResult) {
	maxDay := float64(d.MaxDays)
	if d.FirstRefusedDay != nil {
		maxDay = float64(*d.FirstRefusedDay) * 1.5
	}
	P := float64(w.PeriodS)
	ymax := maxDay * 86400 * d.PPM / 1e6
	ymin := 0.0
	if ymax < 0 {
		ymin, ymax = ymax, 0
	}
	al := w.AlwaysAcceptedSkewS
	ymin = min(ymin, al[0]-P)
	ymax = max(ymax, al[1]+P)
	sx := func(x float64) float64 { return padL + x/maxDay*float64(chartW-padL-padR) }
	sy := func(y float64) float64 {
		return float64(chartH-padB) - (y-ymin)/(ymax-ymin)*float64(chartH-padB-padT)
	}
	svgOpen(b, "chart-drift", "drifting token: clock offset by day, the window's edges")
	svgAxes(b, "day", "token clock offset (s)")
	// The edges of the device clock errors always accepted.
	for _, e := range []float64{al[1], al[0]} {
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#cf222e" stroke-dasharray="4 3"/><text x="%d" y="%.1f">%+.0f s</text>`+"\n",
			padL, sy(e), chartW-padR, sy(e), padL+4, sy(e)-3, e)
	}
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888"/>`+"\n", sx(0), sy(0), sx(maxDay), sy(maxDay*86400*d.PPM/1e6))
	// Each day of use, as the measured edges predict it (at most 400
	// dots: every k-th day on a long run).
	so := w.SometimesAcceptedSkewS
	every := max(1, int(math.Ceil(maxDay/400)))
	for day := every; float64(day) <= maxDay; day += every {
		off := float64(day) * 86400 * d.PPM / 1e6
		col, what := "#1a7f37", "always accepted"
		switch {
		case off <= so[0] || off >= so[1]:
			col, what = "#cf222e", "refused"
		case off < al[0] || off > al[1]:
			col, what = "#bf8700", "accepted at some phases only"
		}
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2.2" fill="%s"><title>day %d: %+.1f s, %s (predicted)</title></circle>`+"\n",
			sx(float64(day)), sy(off), col, day, off, what)
	}
	for _, dd := range d.Days {
		col := "#1a7f37"
		if !dd.Accepted {
			col = "#cf222e"
		}
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="5" fill="%s" stroke="#222" stroke-width="1.2"><title>day %d: %+.1f s, %s (submitted)</title></circle>`+"\n",
			sx(float64(dd.Day)), sy(dd.OffsetS), col, dd.Day, dd.OffsetS, yes(dd.Accepted, "accepted", "refused"))
	}
	for x := 0.0; x <= maxDay; x += niceStep(maxDay) {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%.0f</text>`+"\n", sx(x), chartH-padB+14, x)
	}
	fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%+.0f</text><text x="%d" y="%.1f" text-anchor="end">%+.0f</text>`+"\n</svg>\n",
		padL-4, sy(ymin), ymin, padL-4, sy(ymax)+8, ymax)
}

func niceStep(span float64) float64 {
	for _, s := range []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000} {
		if span/s <= 10 {
			return s
		}
	}
	return 2000
}
