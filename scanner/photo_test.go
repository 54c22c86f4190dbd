package scanner

import (
	"bytes"
	"context"
	"image"
	"os"
	"testing"
)

// photoSet is a generated set of phone photos of screens: three pictures
// (a bare qrencode code, a light and a dark console screenshot) through
// the photo-of-screen camera (5 px/module, defocus 1.4, moiré, the far
// corner half as bright, JPEG 60) at tilts of 20, 30 and 35 degrees and
// eight seeds, half of them rotated the other way.
func photoSet(t *testing.T) []image.Image {
	t.Helper()
	var out []image.Image
	for _, f := range []string{"testdata/inputs/qrencode.png", "testdata/corpus/console-1920x1080-light-full.png", "testdata/corpus/console-1920x1080-dark-full.png"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
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

// TestPhotoRungMargin measures what the photo rung adds on the generated
// photos: before it, today's ladder read none; with it, at least 20 of 72
// (the figure the README gives is logged). A photo the other rungs read
// stays read by them.
func TestPhotoRungMargin(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("144 decodes of photos: not under -short or the race detector (the plain run has it)")
	}
	set := photoSet(t)
	count := func() int {
		n := 0
		for _, img := range set {
			if qrs, err := DecodeImage(context.Background(), img, DecodeOptions{}); err == nil && len(qrs) > 0 {
				n++
			}
		}
		return n
	}
	skipRungs["photo"], skipRungs["photo-inverted"] = true, true
	before := count()
	delete(skipRungs, "photo")
	delete(skipRungs, "photo-inverted")
	after := count()
	t.Logf("phone photos of screens (generated): %d of %d read without the photo rung, %d with it", before, len(set), after)
	if after < before+20 {
		t.Errorf("the photo rung reads %d of %d, %d without it: want at least 20 more", after, len(set), before)
	}
}
