package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/totpemu/totpemu/scanner"
	"github.com/totpemu/totpemu/scanner/browser"
)

// browserFlags are --browser and its companions: the inputs are URLs of
// live pages, loaded in headless Chromium (scanner/browser).
type browserFlags struct {
	on               bool
	cookies, headers []string
	waitFor          string
	chromium, scales string
	timeout          time.Duration
}

const browserHelp = `  --browser              the inputs are URLs of live pages: each is loaded in
                         headless Chromium and its full-page screenshots
                         (device scale 1 and 2) and its images, inline SVGs
                         and canvases are scanned, each code reported with
                         where it came from
  --cookie NAME=VALUE    with --browser: a cookie for the page (a signed-in
                         session), repeatable
  --header 'NAME: VALUE' with --browser: a header for every request of the
                         page, repeatable
  --wait-for SELECTOR    with --browser: a CSS selector to wait for before
                         reading the page (a code drawn late), e.g. '#qr'
  --timeout DURATION     with --browser: for loading and reading (default 30s)
  --chromium PATH        with --browser: the browser (default: chromium,
                         chromium-browser or google-chrome on $PATH)
  --scales LIST          with --browser: device scales of the screenshots
                         (default 1,2)
`

func (b *browserFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&b.on, "browser", false, "")
	fs.StringArrayVar(&b.cookies, "cookie", nil, "")
	fs.StringArrayVar(&b.headers, "header", nil, "")
	fs.StringVar(&b.waitFor, "wait-for", "", "")
	fs.DurationVar(&b.timeout, "timeout", browser.DefaultTimeout, "")
	fs.StringVar(&b.chromium, "chromium", "", "")
	fs.StringVar(&b.scales, "scales", "1,2", "")
}

// check refuses the companions without --browser.
func (b *browserFlags) check(fs *pflag.FlagSet, cmd string) error {
	if b.on {
		if b.timeout <= 0 || b.timeout > 10*time.Minute {
			return usageErr("e.g. --timeout 45s", "%s: --timeout %v: want more than 0, at most 10m", cmd, b.timeout)
		}
		return nil
	}
	for _, f := range []string{"cookie", "header", "wait-for", "timeout", "chromium", "scales"} {
		if fs.Changed(f) {
			return usageErr("add --browser: the input is then a page's URL", "%s: --%s goes with --browser", cmd, f)
		}
	}
	return nil
}

// options are the browser's options for url.
func (b *browserFlags) options(cmd, url string) (browser.Options, error) {
	o := browser.Options{URL: url, WaitFor: b.waitFor, Timeout: b.timeout, Chromium: b.chromium}
	var err error
	if o.Scales, err = browser.ParseScales(b.scales); err != nil {
		return o, usageErr("e.g. --scales 1,1.25,2", "%s: --scales: %v", cmd, err)
	}
	for _, c := range b.cookies {
		name, value, ok := strings.Cut(c, "=")
		if !ok || name == "" || strings.ContainsAny(c, ";\r\n") {
			return o, usageErr("e.g. --cookie session=abc123", "%s: --cookie %q: want NAME=VALUE", cmd, truncated(c))
		}
		if o.Cookies == nil {
			o.Cookies = map[string]string{}
		}
		o.Cookies[name] = value
	}
	for _, h := range b.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(h, "\r\n") {
			return o, usageErr("e.g. --header 'Authorization: Bearer ...'", "%s: --header %q: want 'NAME: VALUE'", cmd, truncated(name))
		}
		if o.Headers == nil {
			o.Headers = map[string]string{}
		}
		o.Headers[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	return o, nil
}

// truncated keeps an argument short in an error (a cookie may be a
// secret: only its start is shown).
func truncated(s string) string {
	if len(s) > 12 {
		return s[:12] + "..."
	}
	return s
}

// scanPage loads url and scans what it shows: a result per capture that
// holds a code, named "URL (where)"; when none does, one result for the
// page saying what was looked at. Captures without a code are said on
// stderr.
func (b *browserFlags) scanPage(ctx context.Context, e *env, cmd, url string, opts scanner.Options) ([]scanned, error) {
	bo, err := b.options(cmd, url)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(e.stderr, "totpemu: loading %s in headless Chromium\n", url)
	caps, skipped, err := browser.Load(ctx, bo)
	if err != nil {
		return nil, inputErr(fmt.Errorf("%s: %w", cmd, err), "check the URL opens in a browser; --cookie and --header sign in, --wait-for waits for the code")
	}
	var out []scanned
	var empty []string
	for _, c := range caps {
		name := fmt.Sprintf("%s (%s)", url, c.Source)
		res, err := scanner.ScanInput(ctx, name, c.Data, opts)
		if err != nil || len(res.Codes) == 0 {
			empty = append(empty, c.Source)
			continue
		}
		out = append(out, scanned{name: name, res: res})
	}
	if len(empty) > 0 {
		fmt.Fprintf(e.stderr, "totpemu: %s: %d of %d captures held no code: %s\n", url, len(empty), len(caps), strings.Join(empty, ", "))
	}
	for _, s := range skipped {
		fmt.Fprintf(e.stderr, "totpemu: %s: not read: %s\n", url, s)
	}
	if len(out) == 0 {
		res := &scanner.InputResult{Name: url, Status: scanner.StatusNoCode, Form: scanner.FormPage,
			Findings: []scanner.Finding{{Rule: "input-no-code", Severity: scanner.SeverityError,
				Message: fmt.Sprintf("no QR code on the page: %d screenshots and elements read (%s)", len(caps), strings.Join(empty, ", ")),
				Hint:    "sign in with --cookie or --header if the page needs it, wait for the code with --wait-for"}}}
		out = append(out, scanned{name: url, res: res})
	}
	return out, nil
}
