package scanner

import (
	"image"
	"image/color"
	"image/draw"
	"testing"

	"github.com/boombuler/barcode/qr"
)

// testURI is a realistic enrollment payload.
const testURI = "otpauth://totp/Example%20Cloud:alice@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Example%20Cloud"

// qrModules encodes text and returns its module matrix (true = dark).
func qrModules(t testing.TB, text string, level qr.ErrorCorrectionLevel) [][]bool {
	t.Helper()
	code, err := qr.Encode(text, level, qr.Auto)
	if err != nil {
		t.Fatalf("encode %q: %v", text, err)
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

// renderQR draws the code with px pixels per module and quiet modules of
// margin, dark on light (or light on dark when inverted).
func renderQR(t testing.TB, text string, level qr.ErrorCorrectionLevel, px, quiet int, inverted bool) *image.Gray {
	t.Helper()
	m := qrModules(t, text, level)
	size := (len(m) + 2*quiet) * px
	img := image.NewGray(image.Rect(0, 0, size, size))
	dark, light := color.Gray{0}, color.Gray{255}
	if inverted {
		dark, light = light, dark
	}
	draw.Draw(img, img.Bounds(), image.NewUniform(light), image.Point{}, draw.Src)
	for y, row := range m {
		for x, on := range row {
			if on {
				r := image.Rect((x+quiet)*px, (y+quiet)*px, (x+quiet+1)*px, (y+quiet+1)*px)
				draw.Draw(img, r, image.NewUniform(dark), image.Point{}, draw.Src)
			}
		}
	}
	return img
}

// place pastes src onto a w x h canvas of background bg at (x, y).
func place(w, h int, bg color.Gray, at image.Point, srcs ...image.Image) *image.Gray {
	canvas := image.NewGray(image.Rect(0, 0, w, h))
	draw.Draw(canvas, canvas.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
	for _, src := range srcs {
		draw.Draw(canvas, src.Bounds().Sub(src.Bounds().Min).Add(at), src, src.Bounds().Min, draw.Src)
		at = at.Add(image.Pt(src.Bounds().Dx()+40, 0))
	}
	return canvas
}

// skipUnderRace skips a test that is pure computation over large images
// when the race detector is on (see race_test.go); the plain run has it.
func skipUnderRace(t *testing.T, what string) {
	t.Helper()
	if raceEnabled {
		t.Skip(what + ": pure computation, run without the race detector (go test ./... in CI)")
	}
}
