package scanner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/boombuler/barcode/qr"
	"github.com/totpemu/totpemu/internal/testenv"
)

// TestSVGCorpus scans every file of testdata/svg (SVGs written by
// qrencode, npm qrcode, Ruby rqrcode, python qrcode and segno; data:
// URLs; pages with inline SVGs and a saved page linking one; hostile
// SVGs) and requires what expected.txt gives for it: the regression test
// for SVG refused as "render it to PNG first" and inline SVG as "the HTML
// embeds no raster image".
func TestSVGCorpus(t *testing.T) {
	f, err := os.Open("testdata/svg/expected.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 3 {
			t.Fatalf("expected.txt: bad line %q", line)
		}
		file, form, want := fs[0], fs[1], strings.Join(fs[2:], " ")
		listed[file] = true
		t0 := time.Now()
		res, err := ScanPath(context.Background(), filepath.Join("testdata/svg", file), nil, Options{})
		took := time.Since(t0)
		if form == "error" {
			if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), file) {
				t.Errorf("%s: result %+v, error %v; want an unreadable-input error naming it and containing %q", file, res, err, want)
			}
			if strings.Contains(want, "too large") && !errors.Is(err, ErrTooLarge) {
				t.Errorf("%s: error %v does not wrap ErrTooLarge", file, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if string(res.Form) != form {
			t.Errorf("%s: form %s, want %s", file, res.Form, form)
		}
		if want == "no-code" {
			if res.Status != StatusNoCode {
				t.Errorf("%s: status %s, want no-code", file, res.Status)
			}
			continue
		}
		var got []string
		for _, c := range res.Codes {
			got = append(got, c.Text())
			if c.QR == nil || !strings.HasPrefix(c.QR.Strategy, "svg ") {
				t.Errorf("%s: code facts %+v; want a strategy starting with svg", file, c.QR)
			}
		}
		wants := strings.Split(want, " | ")
		slices.Sort(got)
		slices.Sort(wants)
		if !slices.Equal(got, wants) {
			t.Errorf("%s: codes %q, want %q", file, got, wants)
		}
		t.Logf("%s: %d code(s) in %v", file, len(got), took.Round(time.Millisecond))
	}
	files, _ := filepath.Glob("testdata/svg/*")
	for _, p := range files {
		if b := filepath.Base(p); b != "expected.txt" && b != "README.md" && b != "saved-page_files" && !listed[b] {
			t.Errorf("testdata/svg/%s has no line in expected.txt", b)
		}
	}
}

// TestSVGWholePixels: an SVG whose modules are one size is rendered with
// each module a whole number of pixels on the pixel grid, so the raster
// holds only black and white (no anti-aliased edge), whatever the module
// size in user units (1 for qrencode and npm qrcode, 11 for rqrcode, a
// millimetre for python qrcode, 4 under a scale() for segno).
func TestSVGWholePixels(t *testing.T) {
	for _, file := range []string{"qrencode.svg", "npm-qrcode.svg", "rqrcode.svg", "python-qrcode-rect.svg", "python-qrcode-path.svg", "segno.svg", "qrencode-svg-path.svg"} {
		data, err := os.ReadFile(filepath.Join("testdata/svg", file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := parseSVG(data, DefaultMaxBytes)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		plans, err := doc.plans(context.Background(), DecodeOptions{}.withDefaults())
		if err != nil || len(plans) == 0 || plans[0].modulePx != svgModulePx {
			t.Fatalf("%s: plans %+v, %v; want a first plan at %d px/module", file, plans, err, svgModulePx)
		}
		gray, err := doc.render(context.Background(), plans[0])
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		// python qrcode's millimetres are not whole numbers of pixels:
		// oksvg's 26.6 fixed point leaves their edges 1/128 unit off.
		grey := 0
		for _, v := range gray.Pix {
			if v > 8 && v < 247 {
				grey++
			}
		}
		if allowed := map[string]int{"python-qrcode-rect.svg": len(gray.Pix) / 10000}[file]; grey > allowed {
			t.Errorf("%s: %d of %d pixels are neither black nor white; the module grid is not on whole pixels", file, grey, len(gray.Pix))
		}
	}
}

// svgOfModules draws a code as an SVG of one <rect> per dark module, in
// a viewBox of modules with a 4-module margin; attrs go on the root.
func svgOfModules(t testing.TB, text, attrs string) string {
	m := qrModules(t, text, qr.M)
	n := len(m) + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" %s><rect width="%d" height="%d" fill="#fff"/>`, n, n, attrs, n, n)
	for y, row := range m {
		for x, dark := range row {
			if dark {
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="1" height="1"/>`, x+4, y+4)
			}
		}
	}
	b.WriteString("</svg>")
	return b.String()
}

// TestSVGFacts: the facts describe the SVG as drawn: CSS pixels at the
// size it declares (and qr-small judged there), its user units when it
// declares none (qr-small not judged: the page sets the size), the quiet
// zone it draws itself.
func TestSVGFacts(t *testing.T) {
	n := len(qrModules(t, goodURI, qr.M)) + 8
	rotated := strings.Replace(svgOfModules(t, goodURI, ""), `<rect width`, fmt.Sprintf(`<g transform="rotate(30 %d %d)"><rect width`, n/2, n/2), 1)
	rotated = strings.TrimSuffix(rotated, "</svg>") + "</g></svg>"
	rotated = regexp.MustCompile(`viewBox="[^"]*"`).ReplaceAllString(rotated, fmt.Sprintf(`viewBox="-12 -12 %d %d"`, n+24, n+24))
	tests := []struct {
		name, svg  string
		modulePx   float64
		quiet      float64
		small      bool
		strategyIn string
	}{
		{"no size: user units", svgOfModules(t, goodURI, ""), 1, 4, false, "svg 8 px/module"},
		{"width and height in px", svgOfModules(t, goodURI, fmt.Sprintf(`width="%d" height="%d"`, 4*n, 4*n)), 4, 4, false, "svg 8 px/module"},
		{"width only", svgOfModules(t, goodURI, fmt.Sprintf(`width="%d"`, 3*n)), 3, 4, false, "svg 8 px/module"},
		{"in cm, as qrencode writes", svgOfModules(t, goodURI, fmt.Sprintf(`width="%.4fcm" height="%.4fcm"`, float64(2*n)*2.54/96, float64(2*n)*2.54/96)), 2, 4, false, "svg 8 px/module"},
		{"small: 1 px a module", svgOfModules(t, goodURI, fmt.Sprintf(`width="%d" height="%d"`, n, n)), 1, 4, true, "svg 8 px/module"},
		{"percent: the page's size", svgOfModules(t, goodURI, `width="100%" height="100%"`), 1, 4, false, "svg 8 px/module"},
		{"rotated: fitted", rotated, 0, -1, false, "svg fitted"},
	}
	for _, tc := range tests {
		res, err := ScanInput(context.Background(), "code.svg", []byte(tc.svg), Options{})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if res.Form != FormSVG || len(res.Codes) != 1 || res.Codes[0].Text() != goodURI {
			t.Errorf("%s: form %s, codes %+v", tc.name, res.Form, res.Codes)
			continue
		}
		q := res.Codes[0].QR
		if tc.modulePx > 0 && math.Abs(q.ModulePx-tc.modulePx) > 0.01*tc.modulePx {
			t.Errorf("%s: module %v px, want %v", tc.name, q.ModulePx, tc.modulePx)
		}
		if tc.quiet >= 0 && q.QuietZoneModules != tc.quiet {
			t.Errorf("%s: quiet zone %v, want %v", tc.name, q.QuietZoneModules, tc.quiet)
		}
		if got := hasRule(res.Codes[0].Findings, RuleQRSmall); got != tc.small {
			t.Errorf("%s: qr-small fired=%v, want %v (facts %+v)", tc.name, got, tc.small, q)
		}
		if !strings.HasPrefix(q.Strategy, tc.strategyIn) {
			t.Errorf("%s: strategy %q, want it to start with %q", tc.name, q.Strategy, tc.strategyIn)
		}
	}
	// rqrcode draws no margin: the quiet zone the SVG shows is 0, though
	// the rendering has a light one for the decoder.
	res, err := ScanPath(context.Background(), "testdata/svg/rqrcode.svg", nil, Options{})
	if err != nil || len(res.Codes) != 1 || res.Codes[0].QR.QuietZoneModules != 0 || !hasRule(res.Codes[0].Findings, RuleQRQuietZone) {
		t.Errorf("rqrcode.svg: %v, %+v; want quiet zone 0 and qr-quiet-zone", err, res)
	}
}

// TestSVGForms: the ways an SVG arrives, each read to the same code.
func TestSVGForms(t *testing.T) {
	svg := svgOfModules(t, goodURI, `width="148" height="148"`)
	tests := []struct {
		name, data string
		form       Form
	}{
		{"file", svg, FormSVG},
		{"with prolog, doctype and comment", `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [ <!ENTITY ns "x"> ]>
<!-- made by hand -->
` + svg, FormSVG},
		{"byte order mark", "\ufeff" + svg, FormSVG},
		{"namespace prefix", strings.NewReplacer(`<svg xmlns="http://www.w3.org/2000/svg"`, `<svg:svg xmlns:svg="http://www.w3.org/2000/svg"`, "<rect", "<svg:rect", "</svg>", "</svg:svg>").Replace(svg), FormSVG},
		{"data URL, base64", "data:image/svg+xml;base64," + b64([]byte(svg)), FormDataURL},
		{"data URL, percent-encoded", "data:image/svg+xml;charset=utf-8," + url.PathEscape(svg), FormDataURL},
		{"data URL, utf8 as it is", "data:image/svg+xml;utf8," + svg, FormDataURL},
		{"data URL, a stray %", "data:image/svg+xml;utf8," + strings.Replace(svg, `width="148"`, `width="100%"`, 1), FormDataURL},
		{"img of a data URL", `<html><body><img src="data:image/svg+xml;base64,` + b64([]byte(svg)) + `"></body></html>`, FormHTML},
		{"inline in HTML", `<!doctype html><html><body><p>Scan</p>` + svg + `</body></html>`, FormHTML},
		{"inline in XHTML", `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body>` + svg + `</body></html>`, FormHTML},
		{"JSON with an SVG data URL", fmt.Sprintf(`{"qr_code":%q}`, "data:image/svg+xml;base64,"+b64([]byte(svg))), FormJSON},
		{"SVG embedding a PNG", `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><image href="data:image/png;base64,` + b64(qrPNG(t, goodURI)) + `"/></svg>`, FormSVG},
	}
	for _, tc := range tests {
		res, err := ScanInput(context.Background(), "in", []byte(tc.data), Options{})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if res.Form != tc.form || res.Status != StatusOK || len(res.Codes) != 1 || res.Codes[0].Text() != goodURI {
			t.Errorf("%s: form %s status %s codes %+v; want %s, one code", tc.name, res.Form, res.Status, res.Codes, tc.form)
		}
	}
}

// TestSVGSavedPage: a saved page's <img src> of an .svg file is read from
// its folder, never outside it.
func TestSVGSavedPage(t *testing.T) {
	dir := t.TempDir()
	svg := svgOfModules(t, goodURI, "")
	if err := os.MkdirAll(filepath.Join(dir, "page", "page_files"), 0o700); err != nil {
		t.Fatal(err)
	}
	for p, b := range map[string]string{
		"page/page_files/qr.svg": svg, "outside.svg": svg,
		"page/ok.html": `<img src="page_files/qr.svg">`, "page/out.html": `<img src="../outside.svg">`,
	} {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	res, err := ScanPath(context.Background(), filepath.Join(dir, "page", "ok.html"), nil, Options{})
	if err != nil || len(res.Codes) != 1 || res.Codes[0].Text() != goodURI {
		t.Errorf("page_files/qr.svg: %v, %+v", err, res)
	}
	res, err = ScanPath(context.Background(), filepath.Join(dir, "page", "out.html"), nil, Options{})
	if err != nil || res.Status != StatusNoCode || !strings.Contains(res.Findings[0].Message, "outside the page's folder") {
		t.Errorf("../outside.svg: %v, %+v", err, res)
	}
}

// TestSVGCaps: every cap refuses before the work it bounds, with an
// error that names the input and wraps ErrTooLarge (and ErrUnreadable
// when refused before parsing, as an input's other caps are).
func TestSVGCaps(t *testing.T) {
	// Full-size rectangles of alternating colours: each is rasterized
	// over the whole image (paths of one colour in a row are batched).
	rects := func(n int) string {
		return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">` + strings.Repeat(`<rect width="100" height="100" fill="#fff"/><rect width="100" height="100" fill="#000"/>`, n/2) + `</svg>`
	}
	tests := []struct {
		name, data string
		opts       Options
		want       string
	}{
		{"bytes over MaxBytes", svgOfModules(t, goodURI, ""), Options{Decode: DecodeOptions{MaxBytes: 4096}}, "SVG of"},
		{"elements", "<svg>" + strings.Repeat("<rect/>", maxSVGElements+1) + "</svg>", Options{}, "more than 20000 elements"},
		{"elements in comments do not count, in tags do", "<svg><!--" + strings.Repeat("<g>", 30000) + "-->" + strings.Repeat("<g/>", maxSVGElements) + "<g/></svg>", Options{}, "more than 20000 elements"},
		{"depth", "<svg>" + strings.Repeat("<g>", maxSVGDepth) + strings.Repeat("</g>", maxSVGDepth) + "</svg>", Options{}, "nested more than 64 deep"},
		{"use expansion", `<svg xmlns:x="http://www.w3.org/1999/xlink"><defs><g id="a">` + strings.Repeat(`<rect width="1" height="1"/>`, 500) + `</g></defs>` + strings.Repeat(`<use x:href="#a"/>`, 50) + `</svg>`, Options{}, "with what <use> repeats"},
		{"raster size", regexp.MustCompile(`viewBox="[^"]*"`).ReplaceAllString(svgOfModules(t, goodURI, ""), `viewBox="0 0 3000 3000"`), Options{}, "modules (1 unit a module) need over 4194304 pixels at 2 px/module"},
		{"raster size under a smaller MaxPixels", svgOfModules(t, goodURI, ""), Options{Decode: DecodeOptions{MaxPixels: 10_000}}, "need over 10000 pixels"},
		{"rendering work", rects(maxSVGElements - 2), Options{}, "needs more work than its budget"},
	}
	// Refused quickly (0.9 s on two cores for the worst); the race
	// detector runs it some 20 times slower (16.5 s seen in CI).
	limit := 5 * time.Second
	if raceEnabled {
		limit = 60 * time.Second
	}
	for _, tc := range tests {
		t0 := time.Now()
		_, err := ScanInput(context.Background(), "big.svg", []byte(tc.data), tc.opts)
		if err == nil || !errors.Is(err, ErrTooLarge) || !strings.HasPrefix(err.Error(), "big.svg") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want ErrTooLarge naming big.svg and containing %q", tc.name, err, tc.want)
		}
		if d := time.Since(t0); d > limit {
			t.Errorf("%s: refused after %v, over %v", tc.name, d, limit)
		}
	}
	// The cap fits the largest real code: qrencode's version 40 SVG, one
	// <rect> per module, is about 16,000 elements (TestQrencodeSVGLive).
}

// TestSVGOdd: malformed and odd SVGs give an error or no code, never a
// panic or a hang.
func TestSVGOdd(t *testing.T) {
	tests := []struct {
		name, data string
		noCode     bool // readable, without a code (else an error)
	}{
		{"empty svg", `<svg xmlns="http://www.w3.org/2000/svg"/>`, true},
		{"zero viewBox", `<svg viewBox="0 0 0 0"><rect width="1" height="1"/></svg>`, true},
		{"huge coordinates", `<svg viewBox="0 0 10 10"><path d="M1e30 1e30 L-1e30 5 C 1e38 1e38 -1e38 -1e38 3 3z"/></svg>`, true},
		{"NaN", `<svg viewBox="0 0 10 10"><path d="M NaN NaN L 1 1"/><rect x="NaN" width="Inf" height="1"/></svg>`, true},
		{"bad colours", `<svg viewBox="0 0 10 10"><rect width="5" height="5" fill="hsl(1,,)" stroke="rgb(1,2)" style="fill:#12345;stroke-width:abc;opacity:x"/></svg>`, true},
		{"bad transform", `<svg viewBox="0 0 10 10"><g transform="rotate(,)scale(">` + `<rect width="5" height="5"/></g></svg>`, true},
		{"use of itself", `<svg><defs><g id="a"><use href="#a"/></g></defs><use href="#a"/><use href="#missing"/></svg>`, true},
		{"css", `<svg viewBox="0 0 10 10"><style>@media x { .a { fill: red } } .b{fill:}rect:hover{fill:#000} /* x</style><rect class="a b" width="5" height="5"/></svg>`, true},
		{"other namespace", `<svg xmlns="http://example.com/"><rect/></svg>`, false},
		{"unclosed", `<svg><rect>`, false},
		{"bad entity", `<svg>&bogus;</svg>`, false},
		{"not utf-8 charset", `<?xml version="1.0" encoding="x-unknown"?><svg/>`, false},
		{"inline svg never closed", `<html><body><svg viewBox="0 0 10 10"><rect width=5 height=5>`, true},
	}
	for _, tc := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		res, err := ScanInput(ctx, "odd.svg", []byte(tc.data), Options{})
		cancel()
		switch {
		case tc.noCode && (err != nil || res.Status != StatusNoCode):
			t.Errorf("%s: %v, %+v; want no code", tc.name, err, res)
		case !tc.noCode && (err == nil || !errors.Is(err, ErrUnreadable) || !strings.HasPrefix(err.Error(), "odd.svg")):
			t.Errorf("%s: error %v; want an unreadable-input error naming odd.svg", tc.name, err)
		}
	}
}

// FuzzSVG: any SVG text parses or is refused without a panic, and what
// parses renders within the caps and the deadline.
func FuzzSVG(f *testing.F) {
	files, _ := filepath.Glob("testdata/svg/*.svg")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte(`<svg viewBox="0 0 9 9"><path stroke="#000" d="M1 1.5h7m-7 1h3M0 0v9"/><use href="#a"/></svg>`))
	f.Add([]byte(`<svg:svg xmlns:svg="http://www.w3.org/2000/svg" width="9mm"><svg:rect x="1mm" width="10%" height="1em" style="fill:rgba(0,0,0,.9)"/></svg:svg>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		t0 := time.Now()
		defer func() {
			if d := time.Since(t0); d > 8*time.Second {
				t.Fatalf("%d bytes took %v", len(data), d)
			}
		}()
		doc, err := parseSVG(data, 64<<10)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		opts := DecodeOptions{MaxPixels: 1 << 16}.withDefaults()
		plans, err := doc.plans(ctx, opts)
		if err != nil {
			return
		}
		for _, p := range plans {
			if int64(p.w)*int64(p.h) > 1<<16 || p.w <= 0 || p.h <= 0 {
				t.Fatalf("plan %+v over the cap", p)
			}
			if _, err := doc.render(ctx, p); err != nil && !errors.Is(err, ErrTooLarge) && ctx.Err() == nil {
				t.Fatalf("render: %v", err)
			}
		}
	})
}

// TestQrencodeSVGLive draws codes with Debian's qrencode at test time
// (-t SVG, its --svg-path and --rle forms, module sizes -s 1..10, margins
// 0..4, three payloads) and reads each back, with the module size in CSS
// pixels (qrencode sizes its SVG at 72 dpi: s px a module is 4/3 s CSS
// px) and the quiet zone it draws.
func TestQrencodeSVGLive(t *testing.T) {
	qrencode := testenv.LookPath(t, "SVG QR codes from a real encoder", "qrencode")
	payloads := []string{
		"otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP",
		"otpauth://totp/Example%20Cloud:alice@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Example%20Cloud",
		"otpauth://totp/Acme:" + strings.Repeat("x", 120) + "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme&algorithm=SHA256&digits=8&period=60",
	}
	forms := [][]string{{}, {"--svg-path"}, {"--rle"}, {"--inline", "--foreground=1A237E"}}
	n := 0
	var slowest time.Duration
	for s := 1; s <= 10; s++ {
		for _, m := range []int{0, 1, 2, 4} {
			for i, p := range payloads {
				form := forms[(s+m+i)%len(forms)]
				args := append([]string{"-t", "SVG", "-s", fmt.Sprint(s), "-m", fmt.Sprint(m), "-o", "-"}, form...)
				out, err := exec.Command(qrencode, append(args, p)...).Output()
				if err != nil {
					t.Fatalf("qrencode %v: %v", args, err)
				}
				t0 := time.Now()
				res, err := ScanInput(context.Background(), "qrencode.svg", out, Options{})
				slowest = max(slowest, time.Since(t0))
				n++
				if err != nil || len(res.Codes) != 1 || res.Codes[0].Text() != p {
					t.Errorf("qrencode %v %.30q: %v, %+v", args, p, err, res)
					continue
				}
				q := res.Codes[0].QR
				if want := float64(s) * 96 / 72; math.Abs(q.ModulePx-want) > 0.02*want || q.QuietZoneModules != float64(m) {
					t.Errorf("qrencode %v: %.3f px/module, quiet zone %v; want %.3f, %d", args, q.ModulePx, q.QuietZoneModules, want, m)
				}
			}
		}
	}
	t.Logf("%d SVGs drawn and read, the slowest in %v", n, slowest.Round(time.Millisecond))
}
