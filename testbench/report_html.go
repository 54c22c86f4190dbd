package testbench

import (
	"fmt"
	"html"
	"io"
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
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px;margin-bottom:4px}h2{font-size:16px;margin-top:28px}.meta{margin:2px 0;color:#444}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
table.checks td:nth-child(2){white-space:nowrap}td:last-child{overflow-wrap:anywhere}
.pass{color:#1a7f37;font-weight:bold}.warn{color:#9a6700;font-weight:bold}.fail{color:#cf222e;font-weight:bold}.skip{color:#666}.incomplete{color:#8250df;font-weight:bold}
table.summary th{white-space:nowrap;background:#f6f8fa}
pre{background:#f6f8fa;padding:10px;white-space:pre-wrap;overflow-wrap:anywhere}
svg{background:#fff;border:1px solid #ddd;max-width:100%;height:auto}
svg text{font:11px system-ui,sans-serif}
@media (max-width:600px){body{margin:10px}td,th{padding:2px 4px}svg text{font-size:15px}}
</style></head><body>
`)
	// The heading names the target; its policy (a console's long
	// description in parentheses) goes on a line of its own.
	name, policy := r.Target, ""
	if i := strings.Index(name, " ("); i > 0 && strings.HasSuffix(name, ")") {
		name, policy = name[:i], name[i+2:len(name)-1]
	}
	fmt.Fprintf(b, "<h1>totpemu bench: %s</h1>\n", esc(name))
	if policy != "" {
		fmt.Fprintf(b, "<p class=meta>policy: %s</p>\n", esc(policy))
	}
	fmt.Fprintf(b, "<p class=meta>time: %s</p>\n", esc(timeText(r.TimeSource)))
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
		b.WriteString("<h2>Drifting token: days against clock offset</h2>\n<p>The line is the token's clock offset, day by day. Small dots: each day of use as the measured edges predict (green always accepted, amber at some phases of the step only, red refused). Large dots: the days the bench submitted the token's code (outlined green accepted, red refused). Dashed lines: the clock errors the window always accepts.</p>\n")
		svgDrift(b, d, r.Results.Window)
	}
	// The summary as a table: a row per scenario, its lines in it, so
	// that it wraps on a narrow screen instead of scrolling.
	var sum strings.Builder
	writeSummary(&sum, r.Results)
	b.WriteString("<h2>Summary</h2>\n<table class=summary>\n")
	open := false
	for _, l := range strings.Split(strings.TrimRight(sum.String(), "\n"), "\n") {
		name, text, _ := strings.Cut(l, "\t")
		text = strings.ReplaceAll(text, "\t", " ")
		switch {
		case name != "":
			if open {
				b.WriteString("</td></tr>\n")
			}
			fmt.Fprintf(b, "<tr><th>%s</th><td>%s", esc(name), esc(text))
			open = true
		case open:
			fmt.Fprintf(b, "<br>%s", esc(text))
		}
	}
	if open {
		b.WriteString("</td></tr>\n")
	}
	b.WriteString("</table>\n")
	b.WriteString("<h2>Checks</h2>\n<table class=checks><tr><th>check</th><th>status</th><th>detail</th></tr>\n")
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
