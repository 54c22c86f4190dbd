package testbench

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"time"
)

// WriteHTML writes the report as one self-contained HTML file: inline CSS
// and SVG, no script, no font, no fetch of any kind. Charts: acceptance
// against the device's clock offset (window scenario), the boundary grid
// as a heat map, the drifting token's days against its offset; then the
// text report's summary and the table of checks.
func WriteHTML(w io.Writer, r *Report) error {
	b := &strings.Builder{}
	esc := html.EscapeString
	b.WriteString(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>totpemu bench report</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
.pass{color:#1a7f37;font-weight:bold}.warn{color:#9a6700;font-weight:bold}.fail{color:#cf222e;font-weight:bold}.skip{color:#666}.incomplete{color:#8250df;font-weight:bold}
pre{background:#f6f8fa;padding:10px;overflow-x:auto}svg{background:#fff;border:1px solid #ddd}
svg text{font:11px system-ui,sans-serif}
</style></head><body>
`)
	fmt.Fprintf(b, "<h1>totpemu bench: %s</h1>\n<p>time: %s</p>\n", esc(r.Target), esc(timeText(r.TimeSource)))
	count := map[Status]int{}
	for _, c := range r.Checks {
		count[c.Status]++
	}
	fmt.Fprintf(b, "<p><span class=fail>%d fail</span>, <span class=warn>%d warn</span>, <span class=pass>%d pass</span>", count[Fail], count[Warn], count[Pass])
	if count[Incomplete] > 0 {
		fmt.Fprintf(b, ", <span class=incomplete>%d incomplete</span> (the run was interrupted)", count[Incomplete])
	}
	b.WriteString("</p>\n")
	if w := r.Results.Window; w != nil {
		b.WriteString("<h2>Acceptance against the device's clock offset</h2>\n")
		svgAcceptance(b, w.interval())
	}
	if bd := r.Results.Boundary; bd != nil {
		b.WriteString("<h2>The 30 s boundary: phase read against typing latency</h2>\n")
		svgBoundary(b, interval{from: secs(bd.AcceptedFromS), until: secs(bd.AcceptedUntilS), period: time.Duration(bd.PeriodS) * time.Second})
	}
	if d := r.Results.Drift; d != nil && r.Results.Window != nil {
		b.WriteString("<h2>Drifting token: days against clock offset</h2>\n<p>Each dot is a day the token was used (green accepted, red refused); dashed lines are the edges of the clock errors the window always accepts.</p>\n")
		svgDrift(b, d, r.Results.Window)
	}
	var txt bytes.Buffer
	if err := WriteText(&txt, r); err != nil {
		return err
	}
	summary, _, _ := strings.Cut(txt.String(), "\nCHECK ")
	fmt.Fprintf(b, "<h2>Summary</h2>\n<pre>%s</pre>\n", esc(summary))
	b.WriteString("<h2>Checks</h2>\n<table><tr><th>check</th><th>status</th><th>detail</th></tr>\n")
	for _, c := range r.Checks {
		fmt.Fprintf(b, "<tr><td>%s</td><td class=%s>%s</td><td>%s</td></tr>\n", esc(c.ID), esc(string(c.Status)), esc(strings.ToUpper(string(c.Status))), esc(c.Detail))
	}
	b.WriteString("</table>\n")
	var subs []string
	for _, s := range r.Scenarios {
		subs = append(subs, fmt.Sprintf("%s %d", s, r.Submissions[s]))
	}
	fmt.Fprintf(b, "<p>codes submitted: %s</p>\n</body></html>\n", esc(strings.Join(subs, ", ")))
	_, err := io.WriteString(w, b.String())
	return err
}

const chartW, chartH, padL, padB, padT, padR = 720, 240, 50, 36, 14, 16

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
	for _, dd := range d.Days {
		col := "#1a7f37"
		if !dd.Accepted {
			col = "#cf222e"
		}
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>day %d: %+.1f s, %s</title></circle>`+"\n",
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
