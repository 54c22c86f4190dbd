// Command corpusgen writes the scanner's image corpus: bare QR codes,
// console-like enrollment screenshots (light and dark, PNG and JPEG, full and
// half size), several codes on one page, images without a code, hostile
// files, phone photos of screens (photos.go), and expected.json, the manifest corpus_test.go checks every file
// against. It is deterministic (fixed seeds, no clock), so running it again
// rewrites the same bytes.
//
// Run from the scanner directory: go generate (or go run ./internal/corpusgen).
// Files from other encoders (qrencode-*.png) are committed as they are and
// listed in the manifest from otherEncoders; see testdata/corpus/README.md.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"log"
	"math/rand"
	"os"
	"path/filepath"
	"sort"

	"github.com/boombuler/barcode/qr"
	"github.com/disintegration/imaging"
)

// Entry is one corpus file's expected result.
type Entry struct {
	File  string   `json:"file"`
	Texts []string `json:"texts,omitempty"` // every code's text, any order
	// Error is the expected failure: "no-code" (ErrNoCode), "too-large"
	// (ErrTooLarge) or "decode" (unreadable image); empty when codes decode.
	Error    string  `json:"error,omitempty"`
	Version  int     `json:"version,omitempty"`
	ECLevel  string  `json:"ec_level,omitempty"`
	ModulePx float64 `json:"module_px,omitempty"` // expected pixels per module, within 15%
	Quiet    float64 `json:"quiet_zone_modules,omitempty"`
	Note     string  `json:"note,omitempty"`
}

// Realistic enrollment payloads (the lint side reads them too).
var (
	uriConsole = "otpauth://totp/Example%20Cloud:alice@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Example%20Cloud"
	uriBob     = "otpauth://totp/Acme%20Console:bob@acme.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Console&algorithm=SHA1&digits=6&period=30"
	uriShort   = "otpauth://totp/Tiny:carol?secret=JBSWY3DPEHPK3PXP&issuer=Tiny"
	uriURL     = "https://example.com/enroll?token=4f9a2c"
)

// otherEncoders lists committed files made by other encoders.
var otherEncoders = []Entry{
	{File: "qrencode-M-s4.png", Texts: []string{uriConsole}, ECLevel: "M", ModulePx: 4, Quiet: 4, Note: "qrencode 4.1.1: qrencode -l M -s 4 -m 4"},
	{File: "qrencode-H-s3-m1.png", Texts: []string{uriBob}, ECLevel: "H", ModulePx: 3, Quiet: 1, Note: "qrencode 4.1.1: qrencode -l H -s 3 -m 1 (narrow quiet zone)"},
	{File: "chromium-bare-M-4px.webp", Texts: []string{uriConsole}, ECLevel: "M", ModulePx: 4, Quiet: 4, Note: "bare-M-4px-q75.jpg re-encoded by Chromium: canvas.toDataURL(\"image/webp\", 1.0)"},
	{File: "chromium-console-1280x720-light-full-q80.webp", Texts: []string{uriConsole}, ECLevel: "M", ModulePx: 3, Note: "console-1280x720-light-full.png re-encoded by Chromium: canvas.toDataURL(\"image/webp\", 0.8)"},
}

func main() {
	out := flag.String("out", "testdata/corpus", "directory to write the corpus into")
	flag.Parse()
	g := &gen{dir: *out}
	if err := os.MkdirAll(g.dir, 0o755); err != nil {
		log.Fatal(err)
	}
	g.bare()
	g.screenshots()
	g.multi()
	g.noCode()
	g.hostile()
	g.photos()
	g.entries = append(g.entries, otherEncoders...)
	sort.Slice(g.entries, func(i, j int) bool { return g.entries[i].File < g.entries[j].File })
	data, err := json.MarshalIndent(g.entries, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	g.write("expected.json", append(data, '\n'))
	if g.err != nil {
		log.Fatal(g.err)
	}
}

type gen struct {
	dir     string
	entries []Entry
	err     error
}

func (g *gen) write(name string, data []byte) {
	if g.err != nil {
		return
	}
	g.err = os.WriteFile(filepath.Join(g.dir, name), data, 0o644)
}

func (g *gen) add(e Entry, data []byte) {
	g.write(e.File, data)
	g.entries = append(g.entries, e)
}

func encPNG(img image.Image) []byte {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, img); err != nil {
		log.Fatal(err)
	}
	return b.Bytes()
}

func encJPEG(img image.Image, q int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		log.Fatal(err)
	}
	return b.Bytes()
}

func encGIF(img image.Image) []byte {
	pal := image.NewPaletted(img.Bounds(), color.Palette{color.White, color.Black})
	draw.Draw(pal, pal.Rect, img, img.Bounds().Min, draw.Src)
	var b bytes.Buffer
	if err := gif.Encode(&b, pal, nil); err != nil {
		log.Fatal(err)
	}
	return b.Bytes()
}

// modules encodes text and returns its module matrix (true = dark).
func modules(text string, level qr.ErrorCorrectionLevel) [][]bool {
	code, err := qr.Encode(text, level, qr.Auto)
	if err != nil {
		log.Fatalf("encode %q: %v", text, err)
	}
	n := code.Bounds().Dx()
	m := make([][]bool, n)
	for y := range m {
		m[y] = make([]bool, n)
		for x := range m[y] {
			r, _, _, _ := code.At(x, y).RGBA()
			m[y][x] = r < 0x8000
		}
	}
	return m
}

func version(m [][]bool) int { return (len(m) - 17) / 4 }

// drawQR draws m at (x, y) with px pixels per module and quiet modules of
// margin in the light colour; it returns the drawn size in pixels.
func drawQR(dst *image.RGBA, m [][]bool, x, y, px, quiet int, dark, light color.RGBA) int {
	size := (len(m) + 2*quiet) * px
	fill(dst, image.Rect(x, y, x+size, y+size), light)
	for my, row := range m {
		for mx, on := range row {
			if on {
				r := image.Rect(x+(mx+quiet)*px, y+(my+quiet)*px, x+(mx+quiet+1)*px, y+(my+quiet+1)*px)
				fill(dst, r, dark)
			}
		}
	}
	return size
}

func fill(dst *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(dst.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := dst.Pix[dst.PixOffset(r.Min.X, y):dst.PixOffset(r.Max.X, y)]
		for i := 0; i < len(row); i += 4 {
			row[i], row[i+1], row[i+2], row[i+3] = c.R, c.G, c.B, c.A
		}
	}
}

var levels = map[string]qr.ErrorCorrectionLevel{"L": qr.L, "M": qr.M, "Q": qr.Q, "H": qr.H}

func (g *gen) bare() {
	black, white := color.RGBA{0, 0, 0, 255}, color.RGBA{255, 255, 255, 255}
	for _, c := range []struct {
		ec   string
		px   int
		text string
	}{
		{"L", 2, uriConsole}, {"M", 2, uriConsole}, {"Q", 2, uriConsole}, {"H", 2, uriConsole},
		{"L", 5, uriBob}, {"M", 5, uriBob}, {"Q", 5, uriBob}, {"H", 5, uriBob},
		{"M", 10, uriShort},
	} {
		m := modules(c.text, levels[c.ec])
		size := (len(m) + 8) * c.px
		img := image.NewRGBA(image.Rect(0, 0, size, size))
		drawQR(img, m, 0, 0, c.px, 4, black, white)
		e := Entry{Texts: []string{c.text}, Version: version(m), ECLevel: c.ec, ModulePx: float64(c.px), Quiet: 4}
		e.File = fmt.Sprintf("bare-%s-%dpx.png", c.ec, c.px)
		g.add(e, encPNG(toGray(img)))
	}
	m := modules(uriConsole, qr.M)
	img := image.NewRGBA(image.Rect(0, 0, (len(m)+8)*4, (len(m)+8)*4))
	drawQR(img, m, 0, 0, 4, 4, black, white)
	g.add(Entry{File: "bare-M-4px.gif", Texts: []string{uriConsole}, Version: version(m), ECLevel: "M", ModulePx: 4, Quiet: 4}, encGIF(img))
	g.add(Entry{File: "bare-M-4px-q75.jpg", Texts: []string{uriConsole}, Version: version(m), ECLevel: "M", ModulePx: 4, Quiet: 4}, encJPEG(img, 75))
}

func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(x, y, img.At(x, y))
		}
	}
	return out
}

func (g *gen) multi() {
	white := color.RGBA{255, 255, 255, 255}
	page := image.NewRGBA(image.Rect(0, 0, 1600, 900))
	fill(page, page.Rect, color.RGBA{243, 244, 246, 255})
	rng := rand.New(rand.NewSource(11))
	textBlock(page, rng, image.Rect(40, 30, 1560, 120), 2, color.RGBA{60, 64, 72, 255})
	x := 60
	for _, text := range []string{uriConsole, uriBob, uriURL} {
		m := modules(text, qr.M)
		x += drawQR(page, m, x, 200, 4, 4, color.RGBA{0, 0, 0, 255}, white) + 80
	}
	g.add(Entry{File: "multi-3-codes.png", Texts: []string{uriConsole, uriBob, uriURL}, ModulePx: 4, Note: "two enrollment codes and a URL on one page"}, encPNG(page))

	m := modules(uriURL, qr.Q)
	img := image.NewRGBA(image.Rect(0, 0, (len(m)+8)*4, (len(m)+8)*4))
	drawQR(img, m, 0, 0, 4, 4, color.RGBA{0, 0, 0, 255}, white)
	g.add(Entry{File: "url-code.png", Texts: []string{uriURL}, ECLevel: "Q", Version: version(m), ModulePx: 4, Quiet: 4, Note: "a QR holding an https URL, not an otpauth key"}, encPNG(toGray(img)))
}

func (g *gen) noCode() {
	for _, dark := range []bool{false, true} {
		page := consolePage(1280, 720, 1, dark, rand.New(rand.NewSource(5)))
		name := "nocode-console-light.png"
		if dark {
			name = "nocode-console-dark.png"
		}
		g.add(Entry{File: name, Error: "no-code", Note: "console page without the code"}, encPNG(page))
	}
	rng := rand.New(rand.NewSource(9))
	noise := image.NewGray(image.Rect(0, 0, 640, 480))
	rng.Read(noise.Pix)
	blur := imaging.Blur(noise, 1.5)
	g.add(Entry{File: "nocode-noise-q75.jpg", Error: "no-code", Note: "blurred noise, JPEG"}, encJPEG(blur, 75))
}

func (g *gen) hostile() {
	// A valid PNG header declaring 20000x20000 (400 million pixels) around one tiny IDAT.
	g.add(Entry{File: "hostile-20000x20000.png", Error: "too-large", Note: "declares 20000x20000 in under 100 bytes"}, hugePNG(20000, 20000))
	m := modules(uriConsole, qr.M)
	img := image.NewRGBA(image.Rect(0, 0, (len(m)+8)*3, (len(m)+8)*3))
	drawQR(img, m, 0, 0, 3, 4, color.RGBA{0, 0, 0, 255}, color.RGBA{255, 255, 255, 255})
	jpg := encJPEG(img, 75)
	g.add(Entry{File: "hostile-truncated.jpg", Error: "decode", Note: "a valid JPEG cut in half"}, jpg[:len(jpg)/2])
	// GIF89a 16x16, global palette of 2, one frame whose LZW stream uses codes never defined.
	bad := []byte("GIF89a\x10\x00\x10\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff,\x00\x00\x00\x00\x10\x00\x10\x00\x00\x02")
	bad = append(bad, bytes.Repeat([]byte{0x05, 0xff, 0xff, 0xff, 0xff, 0xff}, 4)...)
	bad = append(bad, 0x00, ';')
	g.add(Entry{File: "hostile-bad-lzw.gif", Error: "decode", Note: "GIF whose LZW data refers to undefined codes"}, bad)
	rng := rand.New(rand.NewSource(13))
	random := make([]byte, 2048)
	rng.Read(random)
	g.add(Entry{File: "hostile-random.bin", Error: "decode", Note: "2048 random bytes"}, random)
}

func hugePNG(w, h int) []byte {
	data := encPNG(image.NewGray(image.Rect(0, 0, 1, 1)))
	put := func(off int, v uint32) {
		data[off], data[off+1], data[off+2], data[off+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	put(16, uint32(w))
	put(20, uint32(h))
	put(29, crc32IEEE(data[12:29]))
	return data
}
