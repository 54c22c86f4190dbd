package scanner

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"
)

// readImage decodes the image file f.
func readImage(t *testing.T, f string) image.Image {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	return img
}

// photoSet is a generated set of phone photos of screens: three pictures
// (a bare qrencode code, a light and a dark console screenshot) through
// the photo-of-screen camera (5 px/module, defocus 1.4, moiré, the far
// corner half as bright, JPEG 60) at tilts of 20, 30 and 35 degrees and
// eight seeds, half of them rotated the other way.
func photoSet(t *testing.T) []image.Image {
	t.Helper()
	var out []image.Image
	for _, f := range []string{"testdata/inputs/qrencode.png", "testdata/corpus/console-1920x1080-light-full.png", "testdata/corpus/console-1920x1080-dark-full.png"} {
		img := readImage(t, f)
		for seed := int64(1); seed <= 8; seed++ {
			for _, tilt := range []float64{20, 30, 35} {
				cam, err := CameraByName("photo-of-screen")
				if err != nil {
					t.Fatal(err)
				}
				cam.Seed, cam.TiltDeg = seed, tilt
				if seed%2 == 0 {
					cam.RotateDeg = -cam.RotateDeg
				}
				out = append(out, cam.Apply(img))
			}
		}
	}
	return out
}

// TestPhotoRungMargin measures what the photo rungs add on the generated
// photos: without them the ladder reads almost none; the filtered plane
// reads at least a quarter more, and with the rectified rungs at least
// 90 % are read (the figures the README gives are logged).
func TestPhotoRungMargin(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("up to 216 decodes of photos: not under -short or the race detector (the plain run has it)")
	}
	set := photoSet(t)
	// The passes without the photo rungs, where most photos fail through
	// every other rung, take every third photo unless TOTPEMU_PHOTO_ALL is
	// set (the README's figures).
	some := set
	if os.Getenv("TOTPEMU_PHOTO_ALL") == "" {
		some = nil
		for i := 0; i < len(set); i += 3 {
			some = append(some, set[i])
		}
	}
	count := func(set []image.Image) int {
		n := 0
		for _, img := range set {
			if qrs, err := DecodeImage(context.Background(), img, DecodeOptions{}); err == nil && len(qrs) > 0 {
				n++
			}
		}
		return n
	}
	var filteredRungs, rectifiedRungs []string
	for _, r := range rungs {
		switch {
		case r.rectify:
			rectifiedRungs = append(rectifiedRungs, r.name)
		case r.photo:
			filteredRungs = append(filteredRungs, r.name)
		}
	}
	for _, r := range append(filteredRungs, rectifiedRungs...) {
		skipRungs[r] = true
	}
	defer clear(skipRungs)
	before := count(some)
	for _, r := range filteredRungs {
		delete(skipRungs, r)
	}
	filtered := count(some)
	for _, r := range rectifiedRungs {
		delete(skipRungs, r)
	}
	after := count(set)
	t.Logf("phone photos of screens (generated): of %d, %d read without the photo rungs, %d with the filtered plane; of %d, %d with the rectified rungs too", len(some), before, filtered, len(set), after)
	if (filtered-before)*4 < len(some) {
		t.Errorf("the filtered photo plane reads %d of %d, %d without it: want at least a quarter more", filtered, len(some), before)
	}
	if after*10 < len(set)*9 {
		t.Errorf("with the rectified rungs %d of %d read: want at least 90%%", after, len(set))
	}
}

// heldOutPhotos is a second set, made with settings the rungs were not
// tuned on: other codes (bare codes at levels L and H, a 1280x720 console,
// a long URL, a migration export, a dark console), modules of 4, 6 and 8
// pixels, the phone off to a corner (tilt and pitch together, either
// way), defocus of sigma 1 to 2 pixels (up to half a module), other
// moiré, lighting and JPEG quality, other seeds.
func heldOutPhotos(t *testing.T) []image.Image {
	t.Helper()
	files := []string{"testdata/corpus/bare-L-5px.png", "testdata/corpus/bare-H-5px.png", "testdata/corpus/console-1280x720-light-full.png", "testdata/corpus/url-code.png", "testdata/inputs/migration-export.png", "testdata/corpus/console-1280x720-dark-full.png"}
	var out []image.Image
	for i, f := range files {
		img := readImage(t, f)
		for k := range 8 {
			n := i*8 + k
			cam := Camera{Name: "held-out",
				ModulePx:    []float64{4, 6, 8}[n%3],
				BlurSigma:   []float64{1.0, 1.6, 2.0, 1.3}[n%4],
				Noise:       []float64{4, 8}[n%2],
				RotateDeg:   []float64{3, -9, 14, -5, 8}[n%5],
				TiltDeg:     []float64{35, -25, 30, -35, 20, -30, 25}[n%7],
				PitchDeg:    []float64{0, 15, -20, 25, -10}[n%5],
				Contrast:    []float64{0.5, 0.7, 0.6}[n%3],
				Moire:       []float64{20, 35, 28}[n%3],
				Lighting:    []float64{0.3, 0.6, 0.45}[n%3],
				JPEGQuality: []int{50, 60, 70}[n%3],
				Seed:        int64(101 + n)}
			out = append(out, cam.Apply(img))
		}
	}
	return out
}

// TestPhotoHeldOut reads the held-out photos: at least 85 % of them (the
// count is logged; TOTPEMU_PHOTO_DIR=dir writes them as PNG for another
// reader such as zbarimg).
func TestPhotoHeldOut(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("48 decodes of photos: not under -short or the race detector (the plain run has it)")
	}
	set := heldOutPhotos(t)
	dir := os.Getenv("TOTPEMU_PHOTO_DIR")
	n := 0
	for i, img := range set {
		qrs, err := DecodeImage(context.Background(), img, DecodeOptions{})
		if err == nil && len(qrs) > 0 {
			n++
		} else {
			t.Logf("held-out photo %d not read", i)
		}
		if dir != "" {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("held-out-%02d.png", i)))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
	t.Logf("held-out phone photos of screens: %d of %d read", n, len(set))
	if n*100 < len(set)*85 {
		t.Errorf("%d of %d held-out photos read: want at least 85%%", n, len(set))
	}
}

// TestPhotoFullSize reads held-out photos at a phone's resolution: every
// fourth of the first 24 (every other with TOTPEMU_PHOTO_ALL), enlarged
// four times (modules of 16 to 32 pixels, pictures of 1.4 to 4.8
// thousand pixels a side) with fresh sensor noise. Before the smaller photo planes and the shrinking of
// large photos, none was read (and a 49-megapixel photo took 338 MB).
func TestPhotoFullSize(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("6 to 12 decodes of photos of up to 23 megapixels: not under -short or the race detector (the plain run has it)")
	}
	set := heldOutPhotos(t)
	n, total := 0, 0
	step := 4 // TOTPEMU_PHOTO_ALL: every other one (the README's figure)
	if os.Getenv("TOTPEMU_PHOTO_ALL") != "" {
		step = 2
	}
	for i := 0; i < 24; i += step {
		b := set[i].Bounds()
		big := addNoise(grayOf(imaging.Resize(set[i], 4*b.Dx(), 4*b.Dy(), imaging.Lanczos)), 5, int64(i))
		total++
		if qrs, err := DecodeImage(context.Background(), big, DecodeOptions{}); err == nil && len(qrs) > 0 {
			n++
		} else {
			t.Logf("held-out photo %d at %dx%d not read", i, 4*b.Dx(), 4*b.Dy())
		}
	}
	t.Logf("held-out photos at a phone's resolution: %d of %d read", n, total)
	if n*4 < total*3 {
		t.Errorf("%d of %d full-size photos read: want at least 75%%", n, total)
	}
}

// TestPhotoQuietZone is the regression test for photos whose quiet zone
// was reported as 0 modules (a false qr-quiet-zone warning): the margin
// was read on the binarized photo, speckled by moiré, through a
// parallelogram that under perspective runs into the code. A photo of a
// code with 4 modules of margin reports at least 4; one with 1 module
// of white and then a dark page (quiet-zone-1.png on dark grey) still
// reports under 4.
func TestPhotoQuietZone(t *testing.T) {
	for _, tc := range []struct {
		file   string
		enough bool
	}{
		{"testdata/corpus/bare-L-5px.png", true},
		{"testdata/corpus/url-code.png", true},
		{"testdata/inputs/quiet-zone-1.png", false},
	} {
		img := readImage(t, tc.file)
		if !tc.enough {
			page := image.NewGray(image.Rect(0, 0, img.Bounds().Dx()+80, img.Bounds().Dy()+80))
			for i := range page.Pix {
				page.Pix[i] = 40
			}
			draw.Draw(page, img.Bounds().Add(image.Pt(40, 40)), img, img.Bounds().Min, draw.Src)
			img = page
		}
		for _, tilt := range []float64{20, -35} {
			cam, err := CameraByName("photo-of-screen")
			if err != nil {
				t.Fatal(err)
			}
			cam.TiltDeg = tilt
			qrs, err := DecodeImage(context.Background(), cam.Apply(img), DecodeOptions{})
			if err != nil || len(qrs) != 1 {
				t.Errorf("%s at tilt %g: %v, %d codes", tc.file, tilt, err, len(qrs))
				continue
			}
			if q := qrs[0].QuietZoneModules; (q >= 4) != tc.enough {
				t.Errorf("%s at tilt %g (%s): quiet zone %g modules, want 4 or more: %t", tc.file, tilt, qrs[0].Strategy, q, tc.enough)
			}
		}
	}
	// The corpus photo turned a quarter: read on a small plane (2.5 px a
	// module), where the soft plane's blur made the first ring dark.
	img := imaging.Rotate90(readImage(t, "testdata/corpus/photo-bare-H-tilt-30-pitch-20.jpg"))
	qrs, err := DecodeImage(context.Background(), img, DecodeOptions{})
	if err != nil || len(qrs) != 1 {
		t.Fatalf("the corpus photo turned 90 degrees: %v, %d codes", err, len(qrs))
	}
	if q := qrs[0].QuietZoneModules; q < 4 {
		t.Errorf("the corpus photo turned 90 degrees (%s): quiet zone %g modules, want 4 or more", qrs[0].Strategy, q)
	}
}

// TestLargeNoisyPictureSmallCode is the regression test for a small code
// in a large picture with a noisy background (a screenshot of a photo, a
// 4K page over a noisy gradient): taken for a photo, it was shrunk before
// any rung read it, and its 2-pixel modules were lost. The plain rungs
// now read such a picture at full size first.
func TestLargeNoisyPictureSmallCode(t *testing.T) {
	code := readImage(t, "testdata/corpus/bare-M-2px.png")
	page := image.NewGray(image.Rect(0, 0, 3840, 2160))
	rng := rand.New(rand.NewSource(7))
	for y := range 2160 {
		for x := range 3840 {
			page.Pix[y*3840+x] = uint8(max(0, min(255, 120+x*100/3840+int(rng.NormFloat64()*8))))
		}
	}
	at := image.Pt(1001, 777)
	draw.Draw(page, code.Bounds().Add(at), code, code.Bounds().Min, draw.Src)
	l := &ladder{img: page, mean: -1}
	if !l.photoLike() {
		t.Fatal("the noisy page is not taken for a photo: the test would not show the fix")
	}
	qrs, err := DecodeImage(context.Background(), page, DecodeOptions{})
	if err != nil || len(qrs) != 1 {
		t.Fatalf("a 2 px/module code at %v in a noisy 3840x2160 picture: %v, %d codes", at, err, len(qrs))
	}
	if !qrs[0].Bounds.Overlaps(code.Bounds().Add(at)) || qrs[0].ModulePx > 2.5 {
		t.Errorf("found at %v, %.2f px/module; drawn at %v, 2 px/module", qrs[0].Bounds, qrs[0].ModulePx, code.Bounds().Add(at))
	}
}

// TestPhotoFactsAtEveryScale checks the facts of a photo read on a
// smaller plane or after the shrink of a large photo are mapped back to
// the input's pixels: the same photo enlarged 3 and 6 times (read by
// another rung, the 6x one shrunk first) reports bounds and module size
// 3 and 6 times the plain photo's, within a module.
func TestPhotoFactsAtEveryScale(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("decodes photos of up to 5 megapixels: not under -short or the race detector")
	}
	set := heldOutPhotos(t)
	for _, i := range []int{1} {
		base, err := DecodeImage(context.Background(), set[i], DecodeOptions{})
		if err != nil || len(base) != 1 {
			t.Fatalf("held-out photo %d: %v, %d codes", i, err, len(base))
		}
		for _, k := range []int{3, 6} {
			b := set[i].Bounds()
			big := imaging.Resize(set[i], k*b.Dx(), k*b.Dy(), imaging.Lanczos)
			qrs, err := DecodeImage(context.Background(), big, DecodeOptions{})
			if err != nil || len(qrs) != 1 {
				t.Errorf("held-out photo %d at %dx: %v, %d codes", i, k, err, len(qrs))
				continue
			}
			want := scaleRect(base[0].Bounds, float64(k))
			tol := int(float64(k) * base[0].ModulePx)
			got := qrs[0].Bounds
			if abs(got.Min.X-want.Min.X) > tol || abs(got.Min.Y-want.Min.Y) > tol || abs(got.Max.X-want.Max.X) > tol || abs(got.Max.Y-want.Max.Y) > tol {
				t.Errorf("held-out photo %d at %dx (%s): bounds %v, want %v within %d px (%s at 1x)", i, k, qrs[0].Strategy, got, want, tol, base[0].Strategy)
			}
			if m := qrs[0].ModulePx / float64(k); math.Abs(m-base[0].ModulePx) > 0.15*base[0].ModulePx {
				t.Errorf("held-out photo %d at %dx (%s): %.2f px/module, want %d x %.2f", i, k, qrs[0].Strategy, qrs[0].ModulePx, k, base[0].ModulePx)
			}
			t.Logf("held-out photo %d: 1x %s %v %.2f px; %dx %s %v %.2f px", i, base[0].Strategy, base[0].Bounds, base[0].ModulePx, k, qrs[0].Strategy, got, qrs[0].ModulePx)
		}
	}
}
