package testbench_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/totpemu/totpemu/internal/testenv"
	"github.com/totpemu/totpemu/testbench"
	"github.com/totpemu/totpemu/testbench/internal/fake"
)

// reportAll runs every scenario against the default console whose clock
// is 13 s fast (so the boundary shows its refusals), with one expectation
// unmet, so every part of the reports has content.
func reportAll(t *testing.T) *testbench.Report {
	t.Helper()
	f := fake.New()
	f.Offset, f.Back = 13*time.Second, 0
	rep := runFake(t, f, 7*time.Second, nil)
	es := []testbench.Expectation{}
	for _, s := range []string{"window-back=1", "boundary-refusal@10s<=0.05", "drift-first-refused-day>30"} {
		e, err := testbench.ParseExpectation(s)
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	testbench.CheckExpectations(rep, es)
	return rep
}

var networkRef = regexp.MustCompile(`(?i)(src|href|action|poster|srcset)\s*=\s*["']?\s*(https?:|//)|url\(\s*["']?\s*(https?:|//)|@import`)

func TestHTMLReportSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := testbench.WriteHTML(&b, reportAll(t)); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, id := range []string{"chart-acceptance", "chart-boundary", "chart-drift"} {
		if !strings.Contains(s, `<svg id="`+id+`"`) {
			t.Errorf("no <svg id=%q>", id)
		}
	}
	for _, el := range []string{"<polyline", "<rect", "<circle", "<table class=checks>", "<table class=summary>", "expect.drift-first-refused-day&gt;30"} {
		if !strings.Contains(s, el) {
			t.Errorf("no %s in the report", el)
		}
	}
	if m := networkRef.FindString(s); m != "" {
		t.Errorf("the report refers to the network: %q", m)
	}
	for _, tag := range []string{"<script", "<link", "<img", "<iframe", "<object", "<embed"} {
		if strings.Contains(s, tag) {
			t.Errorf("the report has %s", tag)
		}
	}
}

// TestHTMLReportBrowser opens the report in headless Chromium from a
// file:// URL at 1280 px (a desktop) and 390 px (a phone), takes a
// full-page screenshot of each (saved as bench-report.png and
// bench-report-phone.png in $TOTPEMU_SCREENSHOT_DIR when set, e.g. docs),
// checks no request but the file's own was made, and what a reader
// tripped on (the regression): the heading over three lines, a summary
// to scroll sideways, anything wider than the window.
func TestHTMLReportBrowser(t *testing.T) {
	chromium := testenv.FindChromium(t, "browser test")
	rep := reportAll(t)
	// A target described as the reference console describes itself: the
	// heading that wrapped over three lines.
	rep.Target = "embedded reference console (window -0/+1 steps, replay step, lockout 5 failures for 5m0s, clock offset 13s, 6 digits, SHA1, 30 s, 20-byte secrets, bind with 2 code(s), resync false, LAB MODE (clock settable over HTTP))"
	var b bytes.Buffer
	if err := testbench.WriteHTML(&b, rep); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "bench-report.html")
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		width int
		name  string
	}{{1280, "bench-report.png"}, {390, "bench-report-phone.png"}} {
		t.Run(fmt.Sprintf("width=%d", tc.width), func(t *testing.T) {
			shot, layout, urls := openReport(t, chromium, file, tc.width)
			img, err := png.Decode(bytes.NewReader(shot))
			if err != nil {
				t.Fatalf("the screenshot is not a PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != tc.width || b.Dy() < 1400 {
				t.Errorf("screenshot %v: want %d px wide, the whole report taller than 1400 px", b, tc.width)
			}
			if layout.ScrollWidth > layout.InnerWidth {
				t.Errorf("at %d px the page is %d px wide: it scrolls sideways", tc.width, layout.ScrollWidth)
			}
			for _, el := range layout.Wide {
				t.Errorf("at %d px %s is wider than its box", tc.width, el)
			}
			if tc.width >= 1280 && layout.H1Lines > 1 {
				t.Errorf("at %d px the heading takes %d lines", tc.width, layout.H1Lines)
			}
			if layout.H1Lines > 2 {
				t.Errorf("at %d px the heading takes %d lines", tc.width, layout.H1Lines)
			}
			// TOTPEMU_SCREENSHOT_DIR=docs keeps the pictures the README shows.
			if dir := os.Getenv("TOTPEMU_SCREENSHOT_DIR"); dir != "" {
				if !filepath.IsAbs(dir) {
					dir = filepath.Join("..", dir)
				}
				if err := os.WriteFile(filepath.Join(dir, tc.name), shot, 0o644); err != nil {
					t.Errorf("saving the screenshot: %v", err)
				}
			}
			url := "file://" + file
			if len(urls) == 0 {
				t.Fatal("no request seen at all: the listener saw nothing")
			}
			for _, u := range urls {
				if u != url {
					t.Errorf("request to %s besides the file itself", u)
				}
			}
		})
	}
}

// layout is what the page measures of itself in the browser.
type layout struct {
	ScrollWidth, InnerWidth, H1Lines int
	Wide                             []string // elements whose content overflows them
}

const measureLayout = `(() => {
  const h1 = document.querySelector('h1');
  const lh = parseFloat(getComputedStyle(h1).lineHeight) || 1.2 * parseFloat(getComputedStyle(h1).fontSize);
  const wide = [];
  for (const el of document.querySelectorAll('pre, td, th, p, h1, h2, svg')) {
    const r = el.getBoundingClientRect();
    if (el.scrollWidth > el.clientWidth + 1 || r.right > window.innerWidth + 1) {
      wide.push(el.tagName.toLowerCase() + ' "' + el.textContent.slice(0, 40) + '"');
    }
  }
  return {ScrollWidth: document.documentElement.scrollWidth, InnerWidth: window.innerWidth,
    H1Lines: Math.round(h1.getBoundingClientRect().height / lh), Wide: wide};
})()`

// openReport opens file at width px and returns a full-page screenshot,
// the page's layout and the URLs it requested.
func openReport(t *testing.T, chromium, file string, width int) ([]byte, layout, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	actx, acancel := testenv.ChromiumAllocator(ctx, t, chromium, width, 1400)
	defer acancel()
	var mu sync.Mutex
	var urls []string
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			urls = append(urls, e.Request.URL)
			mu.Unlock()
		}
	}))
	defer bcancel()
	url := "file://" + file
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(int64(width), 1400), chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("chart-drift"))); err != nil {
		t.Fatalf("opening %s at %d px: %v", url, width, err)
	}
	lay, err := chromedp.Run(bctx, chromedp.Evaluate[layout](measureLayout))
	if err != nil {
		t.Fatalf("measuring the page at %d px: %v", width, err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot at %d px: %v", width, err)
	}
	mu.Lock()
	defer mu.Unlock()
	return shot, lay, slices.Clone(urls)
}

// TestJUnitSchema checks the JUnit output against the structure of the
// JUnit XML schema (the Jenkins/Ant junit.xsd): a <testsuite> root with
// name and integer tests/failures/errors/skipped and decimal time; each
// <testcase> with name, classname and time; at most one <failure> or
// <skipped> in it, a failure with a message; the counts matching.
func TestJUnitSchema(t *testing.T) {
	var b bytes.Buffer
	rep := reportAll(t)
	rep.Checks = append(rep.Checks, testbench.Check{ID: "x.skipped", Status: testbench.Skip, Detail: "not run <because> & so"})
	if err := testbench.WriteJUnit(&b, rep); err != nil {
		t.Fatal(err)
	}
	type failure struct {
		Message *string `xml:"message,attr"`
		Type    string  `xml:"type,attr"`
		Text    string  `xml:",chardata"`
	}
	type tcase struct {
		Name      *string    `xml:"name,attr"`
		Classname *string    `xml:"classname,attr"`
		Time      *string    `xml:"time,attr"`
		Failures  []failure  `xml:"failure"`
		Errors    []failure  `xml:"error"`
		Skipped   []struct{} `xml:"skipped"`
		Any       []xml.Name `xml:",any"`
	}
	var suite struct {
		XMLName  xml.Name
		Name     *string `xml:"name,attr"`
		Tests    *int    `xml:"tests,attr"`
		Failures *int    `xml:"failures,attr"`
		Errors   *int    `xml:"errors,attr"`
		Skipped  *int    `xml:"skipped,attr"`
		Time     *float64
		TimeAttr string  `xml:"time,attr"`
		Cases    []tcase `xml:"testcase"`
	}
	dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	dec.Strict = true
	if err := dec.Decode(&suite); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, b.String())
	}
	if suite.XMLName.Local != "testsuite" || suite.Name == nil || suite.Tests == nil || suite.Failures == nil || suite.Errors == nil || suite.Skipped == nil {
		t.Fatalf("testsuite root or its required attributes missing: %+v", suite)
	}
	if !regexp.MustCompile(`^\d+(\.\d+)?$`).MatchString(suite.TimeAttr) {
		t.Errorf("testsuite time %q is not a decimal", suite.TimeAttr)
	}
	fails, skips := 0, 0
	for _, c := range suite.Cases {
		if c.Name == nil || *c.Name == "" || c.Classname == nil || c.Time == nil {
			t.Errorf("testcase without name, classname or time: %+v", c)
		}
		if len(c.Failures)+len(c.Errors)+len(c.Skipped) > 1 {
			t.Errorf("testcase %s has more than one of failure, error, skipped", *c.Name)
		}
		for _, f := range c.Failures {
			if f.Message == nil || f.Text == "" {
				t.Errorf("testcase %s: failure without message or detail", *c.Name)
			}
		}
		fails += len(c.Failures)
		skips += len(c.Skipped)
	}
	if *suite.Tests != len(suite.Cases) || *suite.Tests != len(rep.Checks) || *suite.Failures != fails || *suite.Skipped != skips {
		t.Errorf("counts tests=%d failures=%d skipped=%d, cases %d (checks %d), failures %d, skipped %d",
			*suite.Tests, *suite.Failures, *suite.Skipped, len(suite.Cases), len(rep.Checks), fails, skips)
	}
	if fails == 0 || !strings.Contains(b.String(), "expected &gt; 30") {
		t.Errorf("the unmet expectation is not a failure carrying the measured value:\n%s", b.String())
	}
}
