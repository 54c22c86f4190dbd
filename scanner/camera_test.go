package scanner

import (
	"bytes"
	"context"
	"errors"
	"image"
	"math"
	"testing"
)

func TestCameraByName(t *testing.T) {
	for _, c := range Cameras() {
		got, err := CameraByName(c.Name)
		if err != nil || got != c {
			t.Errorf("CameraByName(%q) = %+v, %v", c.Name, got, err)
		}
	}
	for _, name := range []string{"", "iphone-1", "Budget-Phone"} {
		if _, err := CameraByName(name); err == nil {
			t.Errorf("CameraByName(%q): no error", name)
		}
	}
	if len(Cameras()) < 3 {
		t.Errorf("%d camera profiles, want at least 3", len(Cameras()))
	}
}

func grayPix(img image.Image) []byte { return newLumaSource(img).GetMatrix() }

// TestCameraApplyRepeatable: the same seed gives the same picture, another
// seed other noise, and each degradation alone changes the picture.
func TestCameraApplyRepeatable(t *testing.T) {
	img := decodeCorpusImage(t, "bare-M-5px.png")
	c := Camera{Name: "test", ModulePx: 3, BlurSigma: 0.5, Noise: 10, RotateDeg: 3, TiltDeg: 10, Contrast: 0.8, Seed: 42}
	a, b := grayPix(c.Apply(img)), grayPix(c.Apply(img))
	if !bytes.Equal(a, b) {
		t.Errorf("seed 42 twice: pictures differ")
	}
	c2 := c
	c2.Seed = 43
	if bytes.Equal(a, grayPix(c2.Apply(img))) {
		t.Errorf("seeds 42 and 43: same picture")
	}
	base := grayPix((&Camera{}).Apply(img))
	for _, tc := range []Camera{{BlurSigma: 1}, {Noise: 5, Seed: 1}, {RotateDeg: 10}, {TiltDeg: 20}, {Contrast: 0.5}} {
		if bytes.Equal(base, grayPix(tc.Apply(img))) {
			t.Errorf("%+v: picture unchanged", tc)
		}
	}
}

// TestCameraModulePx: the camera's resolution is the code's size in its picture.
func TestCameraModulePx(t *testing.T) {
	img := decodeCorpusImage(t, "bare-M-10px.png")
	for _, px := range []float64{2, 3, 4.5, 12} {
		qrs, err := DecodeImage(context.Background(), img, DecodeOptions{Camera: &Camera{ModulePx: px}})
		if err != nil {
			t.Fatalf("bare-M-10px through a %.1f px/module camera: %v", px, err)
		}
		if math.Abs(qrs[0].ModulePx-px) > 0.1*px {
			t.Errorf("bare-M-10px through a %.1f px/module camera: code is %.2f px/module", px, qrs[0].ModulePx)
		}
	}
}

// TestCameraProfiles: every profile reads a large clean code; the phones
// read a full-size 1080p console page in both modes.
func TestCameraProfiles(t *testing.T) {
	skipUnderRace(t, "camera profiles over the screenshots")
	for _, tc := range []struct {
		file    string
		cameras []string
	}{
		{"bare-M-10px.png", []string{"current-phone", "budget-phone", "laptop-webcam"}},
		{"console-1920x1080-light-full.png", []string{"current-phone", "budget-phone", "laptop-webcam"}},
		{"console-1920x1080-dark-full-q75.jpg", []string{"current-phone", "budget-phone"}},
	} {
		img := decodeCorpusImage(t, tc.file)
		for _, name := range tc.cameras {
			c, err := CameraByName(name)
			if err != nil {
				t.Fatal(err)
			}
			qrs, err := DecodeImage(context.Background(), img, DecodeOptions{Camera: &c})
			if err != nil || qrs[0].Text == "" {
				t.Errorf("%s through %s: %v", tc.file, c.String(), err)
			}
		}
	}
}

// decodesWith reports whether img's code reads through c.
func decodesWith(t *testing.T, img image.Image, c Camera) bool {
	t.Helper()
	_, err := DecodeImage(context.Background(), img, DecodeOptions{Camera: &c})
	if err != nil && !errors.Is(err, ErrNoCode) {
		t.Fatalf("camera %+v: %v", c, err)
	}
	return err == nil
}

// TestMarginSweep: the sweep is repeatable with a seed, and each limit is
// a boundary: the limit decodes, easier values decode, one step past fails;
// a code shrunk below its margin fails and just above it decodes.
func TestMarginSweep(t *testing.T) {
	skipUnderRace(t, "margin sweep")
	img := decodeCorpusImage(t, "bare-M-5px.png")
	opts := DecodeOptions{Camera: &Camera{Seed: 7}}
	r1, err := Margin(context.Background(), img, opts)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Margin(context.Background(), img, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r1.String() != r2.String() || r1.Seed != 7 {
		t.Errorf("seed 7 twice: %q then %q", r1, r2)
	}
	t.Logf("bare-M-5px.png: %s", r1)
	if r1.ModulePx < 4.5 || r1.ModulePx > 5.5 || r1.Text == "" {
		t.Errorf("report of %+v", r1)
	}
	ref := MarginReferencePx
	for _, tc := range []struct {
		name        string
		easy, limit Camera
		past        Camera
	}{
		{"module_px", Camera{ModulePx: r1.MinModulePx + 1}, Camera{ModulePx: r1.MinModulePx}, Camera{ModulePx: r1.MinModulePx - 0.1}},
		{"blur", Camera{ModulePx: ref, BlurSigma: r1.MaxBlurSigma / 2}, Camera{ModulePx: ref, BlurSigma: r1.MaxBlurSigma}, Camera{ModulePx: ref, BlurSigma: r1.MaxBlurSigma + 0.1}},
		{"noise", Camera{ModulePx: ref, Noise: r1.MaxNoise / 2, Seed: 7}, Camera{ModulePx: ref, Noise: r1.MaxNoise, Seed: 7}, Camera{ModulePx: ref, Noise: r1.MaxNoise + 5, Seed: 7}},
		{"tilt", Camera{ModulePx: ref, TiltDeg: r1.MaxTiltDeg / 2}, Camera{ModulePx: ref, TiltDeg: r1.MaxTiltDeg}, Camera{ModulePx: ref, TiltDeg: r1.MaxTiltDeg + 5}},
		{"contrast", Camera{ModulePx: ref, Contrast: math.Min(1, 2*r1.MinContrast)}, Camera{ModulePx: ref, Contrast: r1.MinContrast}, Camera{ModulePx: ref, Contrast: r1.MinContrast - 0.02}},
	} {
		if !decodesWith(t, img, tc.easy) {
			t.Errorf("%s: easier than the limit (%+v) does not decode", tc.name, tc.easy)
		}
		if !decodesWith(t, img, tc.limit) {
			t.Errorf("%s: at the limit (%+v) does not decode", tc.name, tc.limit)
		}
		unbroken := false
		for _, u := range r1.Unbroken {
			unbroken = unbroken || u == tc.name
		}
		if !unbroken && decodesWith(t, img, tc.past) {
			t.Errorf("%s: one step past the limit (%+v) still decodes", tc.name, tc.past)
		}
	}
}

func TestMarginNoCode(t *testing.T) {
	img := decodeCorpusImage(t, "nocode-console-light.png")
	if _, err := Margin(context.Background(), img, DecodeOptions{}); !errors.Is(err, ErrNoCode) {
		t.Errorf("margin of a page without a code: err %v, want ErrNoCode", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Margin(ctx, decodeCorpusImage(t, "bare-M-5px.png"), DecodeOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("margin with a cancelled context: err %v, want context.Canceled", err)
	}
}
