package main

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/boombuler/barcode/qr"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestScanImages runs testdata/scan/*.txtar, the "totpemu scan" scripts
// that need raster images: the setup writes them into the script's work
// directory (a txtar holds text only).
func TestScanImages(t *testing.T) {
	const uri = "otpauth://totp/Example:alice@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example"
	files := map[string][]byte{
		"code.png":  encodeImage(t, "png", codeImage(t, uri, 6, 4, false)),
		"code.jpg":  encodeImage(t, "jpeg", codeImage(t, uri, 6, 4, false)),
		"code.gif":  encodeImage(t, "gif", codeImage(t, uri, 6, 4, false)),
		"dark.png":  encodeImage(t, "png", codeImage(t, uri, 6, 4, true)),
		"tight.png": encodeImage(t, "png", codeImage(t, uri, 6, 1, false)),
		"url.png":   encodeImage(t, "png", codeImage(t, "https://example.com/mfa/help", 6, 4, false)),
		"blank.png": encodeImage(t, "png", sideBySide()),
		"two.png":   encodeImage(t, "png", sideBySide(codeImage(t, uri, 5, 4, false), codeImage(t, "https://example.com/", 5, 4, false))),
		"export.png": encodeImage(t, "png", codeImage(t, "otpauth-migration://offline?data="+
			"CjgKFDEyMzQ1Njc4OTAxMjM0NTY3ODkwEhFhbGljZUBleGFtcGxlLmNvbRoHRXhhbXBsZSABKAEwAhABGAEosdH51gM%3D", 6, 4, false)),
		"corrupt.png": encodeImage(t, "png", codeImage(t, uri, 6, 4, false))[:100],
	}
	testscript.Run(t, testscript.Params{
		Dir:       "testdata/scan",
		Condition: scriptCondition,
		Setup: func(env *testscript.Env) error {
			env.Setenv("TOTPEMU_STATE", env.WorkDir+"/state/device.json")
			for name, data := range files {
				if err := os.WriteFile(filepath.Join(env.WorkDir, name), data, 0o644); err != nil {
					return err
				}
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits": cmdExits,
		},
	})
}

// codeImage draws text as a QR code with px pixels per module and a quiet
// zone of quiet modules; inverted draws light modules on dark (dark mode).
func codeImage(t *testing.T, text string, px, quiet int, inverted bool) *image.Gray {
	t.Helper()
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		t.Fatal(err)
	}
	n := code.Bounds().Dx()
	dark, light := color.Gray{20}, color.Gray{250}
	if inverted {
		dark, light = light, dark
	}
	size := (n + 2*quiet) * px
	img := image.NewGray(image.Rect(0, 0, size, size))
	draw.Draw(img, img.Bounds(), image.NewUniform(light), image.Point{}, draw.Src)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if r, _, _, _ := code.At(x, y).RGBA(); r < 0x8000 {
				draw.Draw(img, image.Rect((x+quiet)*px, (y+quiet)*px, (x+quiet+1)*px, (y+quiet+1)*px), image.NewUniform(dark), image.Point{}, draw.Src)
			}
		}
	}
	return img
}

// sideBySide places images in a row on a light page (a blank page with none).
func sideBySide(imgs ...*image.Gray) *image.Gray {
	w, h := 40, 200
	for _, m := range imgs {
		w += m.Bounds().Dx() + 40
		h = max(h, m.Bounds().Dy())
	}
	page := image.NewGray(image.Rect(0, 0, w, h))
	draw.Draw(page, page.Bounds(), image.NewUniform(color.Gray{245}), image.Point{}, draw.Src)
	x := 40
	for _, m := range imgs {
		draw.Draw(page, m.Bounds().Add(image.Pt(x, 0)), m, image.Point{}, draw.Src)
		x += m.Bounds().Dx() + 40
	}
	return page
}

func encodeImage(t *testing.T, format string, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 75})
	case "gif":
		err = gif.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
