package scanner

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"testing"

	"github.com/boombuler/barcode/qr"
)

// qrImage draws text as a QR code (EC level M) with px pixels per module
// and quiet modules of margin, on a white canvas at least min pixels wide.
func qrImage(t testing.TB, text string, px, quiet int) *image.Gray {
	t.Helper()
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		t.Fatalf("encode %q: %v", text, err)
	}
	n := code.Bounds().Dx()
	size := (n + 2*quiet) * px
	img := image.NewGray(image.Rect(0, 0, size, size))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.Gray{255}), image.Point{}, draw.Src)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if r, _, _, _ := code.At(x, y).RGBA(); r < 0x8000 {
				draw.Draw(img, image.Rect((x+quiet)*px, (y+quiet)*px, (x+quiet+1)*px, (y+quiet+1)*px),
					image.NewUniform(color.Gray{0}), image.Point{}, draw.Src)
			}
		}
	}
	return img
}

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// qrPNG is a PNG of text as a QR code, 6 pixels per module, quiet zone 4.
func qrPNG(t testing.TB, text string) []byte { return pngBytes(t, qrImage(t, text, 6, 4)) }

// twoCodesPNG holds two codes side by side.
func twoCodesPNG(t testing.TB, a, b string) []byte {
	t.Helper()
	ia, ib := qrImage(t, a, 5, 4), qrImage(t, b, 5, 4)
	w := ia.Bounds().Dx() + ib.Bounds().Dx() + 40
	h := max(ia.Bounds().Dy(), ib.Bounds().Dy())
	img := image.NewGray(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.Gray{255}), image.Point{}, draw.Src)
	draw.Draw(img, ia.Bounds(), ia, image.Point{}, draw.Src)
	draw.Draw(img, ib.Bounds().Add(image.Pt(ia.Bounds().Dx()+40, 0)), ib, image.Point{}, draw.Src)
	return pngBytes(t, img)
}

// blankPNG is an image without any code.
func blankPNG(t testing.TB) []byte {
	img := image.NewGray(image.Rect(0, 0, 200, 120))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.Gray{230}), image.Point{}, draw.Src)
	return pngBytes(t, img)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
