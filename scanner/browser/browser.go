// Package browser loads a live page in headless Chromium (with chromedp,
// already the project's browser driver for its tests) and hands back
// everything on it that may hold a QR code, for the scanner: full-page
// screenshots at device scales 1 and 2, every <img> as the browser decoded
// it, every inline <svg> as markup, and every <canvas> as a PNG. Cookies
// and headers sign the page in (a console behind a login); a CSS selector
// to wait for covers pages that draw the code late.
//
// It imports the scanner nothing of ours but nothing of the scanner
// either: the caller scans each Capture (cmd/totpemu's scan --browser,
// enroll --qr --browser).
package browser

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os/exec"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Limits.
const (
	DefaultTimeout = 30 * time.Second
	maxElements    = 64       // images, SVGs, canvases taken from a page, each
	maxDataURL     = 16 << 20 // bytes of one element's data
	pageWidth      = 1280
)

// Options say what to load and how.
type Options struct {
	URL     string
	Cookies map[string]string // NAME -> VALUE, set for the URL's host
	Headers map[string]string // sent with every request of the page
	WaitFor string            // a CSS selector to wait for before capturing; "" means the body
	Timeout time.Duration     // for all of it; 0 means DefaultTimeout
	// Chromium is the browser's path; "" finds chromium, chromium-browser
	// or google-chrome on $PATH.
	Chromium string
	// Scales are the device scales of the screenshots; nil means 1 and 2.
	Scales []float64
}

// Capture is one thing on the page that may hold a code.
type Capture struct {
	Source string // where it came from: "screenshot at 2x", "img 3 (qr.png)", "svg 1", "canvas 1"
	Data   []byte // PNG, JPEG, GIF or WebP bytes, or SVG markup
}

// ErrNoChromium is returned when no browser can be found.
var ErrNoChromium = errors.New("headless Chromium is needed for --browser and was not found (looked for chromium, chromium-browser, google-chrome on $PATH; Debian: apt-get install chromium)")

// Find returns the browser's path: path itself when given, else the first
// of chromium, chromium-browser, google-chrome on $PATH.
func Find(path string) (string, error) {
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("chromium %s: %w", path, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Load opens opts.URL and returns the page's captures: the screenshots
// first, then the DOM's images, SVGs and canvases. Elements that cannot be
// read (a cross-origin image the page may not export) are left out and
// named in skipped.
func Load(ctx context.Context, opts Options) (caps []Capture, skipped []string, err error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "file") || (u.Scheme != "file" && u.Host == "") {
		return nil, nil, fmt.Errorf("--browser %q: want an http://, https:// or file:// URL", opts.URL)
	}
	path, err := Find(opts.Chromium)
	if err != nil {
		return nil, nil, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	scales := opts.Scales
	if scales == nil {
		scales = []float64{1, 2}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(pageWidth, 900))
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	call := func(f func(ctx context.Context, t *chromedp.Target) error) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			return chromedp.Void{}, f(ctx, t)
		}
	}
	setup := []chromedp.Action[chromedp.Void]{call(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{})
		return err
	})}
	if len(opts.Headers) > 0 {
		h := network.Headers{}
		for k, v := range opts.Headers {
			h[k] = v
		}
		setup = append(setup, call(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: h})
			return err
		}))
	}
	for name, value := range opts.Cookies {
		setup = append(setup, call(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: opts.URL})
			return err
		}))
	}
	wait := opts.WaitFor
	if wait == "" {
		wait = "body"
	}
	setup = append(setup, chromedp.Navigate(opts.URL), chromedp.WaitVisible(chromedp.CSS(wait)))
	if err := chromedp.Do(bctx, setup...); err != nil {
		return nil, nil, fmt.Errorf("loading %s in Chromium: %w", opts.URL, timeoutHint(ctx, err, wait))
	}
	for _, s := range scales {
		if err := chromedp.Do(bctx, chromedp.EmulateViewport(pageWidth, 900, chromedp.EmulateScale(s))); err != nil {
			return nil, nil, fmt.Errorf("a %gx viewport for %s: %w", s, opts.URL, timeoutHint(ctx, err, wait))
		}
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			return nil, nil, fmt.Errorf("a screenshot of %s at %gx: %w", opts.URL, s, timeoutHint(ctx, err, wait))
		}
		caps = append(caps, Capture{Source: fmt.Sprintf("screenshot at %gx", s), Data: png})
	}
	elems, err := chromedp.Run(bctx, chromedp.Evaluate[[]element](collectJS))
	if err != nil {
		return caps, nil, fmt.Errorf("reading the images of %s: %w", opts.URL, timeoutHint(ctx, err, wait))
	}
	for _, e := range elems {
		if e.Err != "" {
			skipped = append(skipped, e.Source+": "+e.Err)
			continue
		}
		data, err := e.bytes()
		if err != nil {
			skipped = append(skipped, e.Source+": "+err.Error())
			continue
		}
		caps = append(caps, Capture{Source: e.Source, Data: data})
	}
	return caps, skipped, nil
}

// timeoutHint names what was awaited when the time ran out.
func timeoutHint(ctx context.Context, err error, wait string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("timed out waiting for %q (--wait-for, --timeout): %w", wait, err)
	}
	return err
}

// element is one image, SVG or canvas as collectJS returns it.
type element struct {
	Source string `json:"source"`
	Data   string `json:"data"` // a data: URL, or SVG markup
	SVG    bool   `json:"svg"`
	Err    string `json:"err"`
}

func (e element) bytes() ([]byte, error) {
	if len(e.Data) > maxDataURL*4/3+64 {
		return nil, fmt.Errorf("over %d bytes", maxDataURL)
	}
	if e.SVG {
		return []byte(e.Data), nil
	}
	_, b64, ok := strings.Cut(e.Data, ";base64,")
	if !ok || !strings.HasPrefix(e.Data, "data:image/") {
		return nil, errors.New("not a base64 image data URL")
	}
	return base64.StdEncoding.DecodeString(b64)
}

// collectJS returns the page's images (drawn into a canvas at their
// natural size, so the bytes are what the browser decoded), inline SVGs
// (markup) and canvases (PNG).
var collectJS = fmt.Sprintf(`(() => {
  const out = [], max = %d;
  const push = (o) => { if (out.length < 3 * max) out.push(o); };
  Array.from(document.images).slice(0, max).forEach((img, i) => {
    const src = img.currentSrc || img.src || '';
    const name = 'img ' + (i + 1) + ' (' + (src.startsWith('data:') ? src.slice(0, 30) + '...' : src.split('/').pop().slice(0, 60)) + ')';
    if (!img.complete || !img.naturalWidth) { push({source: name, err: 'not loaded'}); return; }
    try {
      const c = document.createElement('canvas');
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      const g = c.getContext('2d');
      g.fillStyle = '#fff'; g.fillRect(0, 0, c.width, c.height);
      g.drawImage(img, 0, 0);
      push({source: name, data: c.toDataURL('image/png')});
    } catch (e) { push({source: name, err: 'the page may not export it (' + e.name + ')'}); }
  });
  Array.from(document.querySelectorAll('svg')).slice(0, max).forEach((s, i) => {
    if (s.parentElement && s.parentElement.closest('svg')) return;
    push({source: 'svg ' + (i + 1), data: new XMLSerializer().serializeToString(s), svg: true});
  });
  Array.from(document.querySelectorAll('canvas')).slice(0, max).forEach((c, i) => {
    try { push({source: 'canvas ' + (i + 1), data: c.toDataURL('image/png')}); }
    catch (e) { push({source: 'canvas ' + (i + 1), err: 'the page may not export it (' + e.name + ')'}); }
  });
  return out;
})()`, maxElements)

// scaleOK reports whether s is a device scale Chromium takes.
func scaleOK(s float64) bool { return s >= 0.25 && s <= 4 && !math.IsNaN(s) }

// ParseScales parses "1,2" into device scales.
func ParseScales(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		var v float64
		if _, err := fmt.Sscanf(strings.TrimSpace(f), "%g", &v); err != nil || !scaleOK(v) {
			return nil, fmt.Errorf("device scale %q: want a number from 0.25 to 4", f)
		}
		out = append(out, v)
	}
	return out, nil
}
