package scanner

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/boombuler/barcode/qr"
)

// fracPayload is the payload of the fractional-scale sweep and testdata.
const fracPayload = "otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Example"

// npmRender draws m as npm qrcode 1.5.4's qrToImageData does with its
// width option (lib/renderer/utils.js): scale = width / (size + 2 margin),
// possibly fractional; pixel i shows module floor((i - margin scale) /
// scale), light outside [margin scale, symbol - margin scale). dark draws
// light modules on a dark page.
func npmRender(m [][]bool, scale float64, margin int, dark bool) *image.Gray {
	size := len(m)
	symbol := int(math.Floor(float64(size+2*margin) * scale))
	sm := float64(margin) * scale
	img := image.NewGray(image.Rect(0, 0, symbol, symbol))
	fg, bg := uint8(0), uint8(255)
	if dark {
		fg, bg = 255, 0
	}
	for i := 0; i < symbol; i++ {
		for j := 0; j < symbol; j++ {
			c := bg
			fi, fj := float64(i), float64(j)
			if fi >= sm && fj >= sm && fi < float64(symbol)-sm && fj < float64(symbol)-sm {
				si, sj := int(math.Floor((fi-sm)/scale)), int(math.Floor((fj-sm)/scale))
				if si < size && sj < size && m[si][sj] {
					c = fg
				}
			}
			img.Pix[i*img.Stride+j] = c
		}
	}
	return img
}

// TestFractionalScales decodes a code drawn the way npm qrcode draws it
// with a width, at every scale from 2.00 to 6.10 pixels per module in
// steps of 0.01, dark on light and light on dark: 822 images, every one
// decoded with the right payload (before the regrid rung, 54 failed:
// modules 2 or 3 pixels wide at random trip the finder pattern detector).
// Without -short, zbarimg's count on the same images is logged beside.
func TestFractionalScales(t *testing.T) {
	m := qrModules(t, fracPayload, qr.M)
	zbar := ""
	if !testing.Short() {
		zbar, _ = exec.LookPath("zbarimg")
	}
	dir := t.TempDir()
	decoded, total := 0, 0
	zdecoded := map[bool]int{}
	var failed []string
	// Under the race detector (some 20 times slower) every tenth scale:
	// the plain run has the whole sweep.
	step := 1
	if raceEnabled {
		step = 10
	}
	for _, dark := range []bool{false, true} {
		for k := 200; k <= 610; k += step {
			s := float64(k) / 100
			img := npmRender(m, s, 4, dark)
			total++
			qrs, err := DecodeImage(context.Background(), img, DecodeOptions{})
			if err == nil && len(qrs) == 1 && qrs[0].Text == fracPayload {
				decoded++
				if math.Abs(qrs[0].ModulePx-s) > 0.25 {
					t.Errorf("%.2f px/module (dark %v): facts say %.2f", s, dark, qrs[0].ModulePx)
				}
			} else {
				failed = append(failed, fmt.Sprintf("%.2f dark=%v (%v)", s, dark, err))
			}
			if zbar != "" {
				var b bytes.Buffer
				if err := png.Encode(&b, img); err != nil {
					t.Fatal(err)
				}
				p := filepath.Join(dir, "q.png")
				if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				if out, err := exec.Command(zbar, "-q", "--raw", p).Output(); err == nil && bytes.Contains(out, []byte(fracPayload)) {
					zdecoded[dark]++
				}
			}
		}
	}
	if zbar != "" {
		t.Logf("2.00 to 6.10 px/module in 0.01 steps: totpemu %d of %d; zbarimg %d of %d dark on light, %d of %d light on dark", decoded, total, zdecoded[false], total/2, zdecoded[true], total/2)
	} else {
		t.Logf("2.00 to 6.10 px/module in 0.01 steps, light and dark: totpemu %d of %d (zbarimg not run)", decoded, total)
	}
	if decoded != total {
		t.Errorf("%d of %d not decoded: %v", total-decoded, total, failed)
	}
}

// TestNpmQrcodeWidth102 is the regression test for npm qrcode's width 102
// (2.08 px/module), reported as input-no-code; with the other widths in
// testdata/fractional, made by npm qrcode itself.
func TestNpmQrcodeWidth102(t *testing.T) {
	files, err := filepath.Glob("testdata/fractional/*.png")
	if err != nil || len(files) < 6 {
		t.Fatalf("testdata/fractional: %v, %d files", err, len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		qrs, err := DecodeImageBytes(context.Background(), f, b, DecodeOptions{})
		if err != nil || len(qrs) != 1 || qrs[0].Text != fracPayload {
			t.Errorf("%s: %d codes, %v", f, len(qrs), err)
		}
	}
}
