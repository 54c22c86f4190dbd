package scanner

import (
	"context"
	"fmt"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// TestReadRectifiedSteep is the regression test for codes under a steep
// perspective that gozxing's detector refuses ("module size is too
// different": the far finders are under 1/1.4 the near one's size; or
// the fourth corner placed as for a parallelogram): clean pictures of a
// version 12 code, turned away about one axis or two, most of which
// readCodes cannot read (at least 3 of the 6) and readRectified reads
// with the right text and version.
func TestReadRectifiedSteep(t *testing.T) {
	img := readImage(t, "testdata/corpus/bare-H-5px.png")
	want, err := readCodes(newLumaSource(img), false, nil)
	if err != nil || len(want) != 1 {
		t.Fatalf("the upright code: %v %v", want, err)
	}
	refused := 0
	for _, tc := range []struct {
		tilt, pitch, rotate float64
		hybridFinds         bool // the local threshold alone finds all three finders
	}{
		{35, 0, 0, true}, {-35, 0, 0, true}, {35, 20, 0, true}, {-30, -25, 10, true}, {30, 30, -20, true}, {40, 10, 5, false},
	} {
		t.Run(fmt.Sprintf("tilt%g-pitch%g-rotate%g", tc.tilt, tc.pitch, tc.rotate), func(t *testing.T) {
			cam := Camera{ModulePx: 5, TiltDeg: tc.tilt, PitchDeg: tc.pitch, RotateDeg: tc.rotate}
			src := newLumaSource(cam.Apply(img))
			if qrs, err := readCodes(src, true, nil); err != nil || len(qrs) == 0 {
				refused++
				t.Logf("gozxing's detector: %v", err)
			}
			qrs, err := readRectified(context.Background(), src, nil, true)
			if err != nil || len(qrs) != 1 {
				t.Fatalf("readRectified: %v, %d codes", err, len(qrs))
			}
			if qrs[0].Text != want[0].Text || qrs[0].Version != want[0].Version {
				t.Errorf("read version %d %q, want version %d %q", qrs[0].Version, qrs[0].Text, want[0].Version, want[0].Text)
			}
			if !tc.hybridFinds {
				return
			}
			// The timing rows alone give the size (the fit's first guess).
			m, err := gozxing.NewHybridBinarizer(src).GetBlackMatrix()
			if err != nil {
				t.Fatal(err)
			}
			fpf := detector.NewFinderPatternFinder(m, nil)
			_, _ = fpf.Find(map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true})
			r := &rectifier{m: m, luma: src.GetMatrix(), w: src.GetWidth(), h: src.GetHeight()}
			ts := perspectiveTriples(m, fpf.GetPossibleCenters())
			if len(ts) == 0 || ts[0].found != [3]bool{true, true, true} {
				t.Fatalf("the finders' rings were not all traced: %d triples", len(ts))
			}
			if d, ok := r.timingDim(ts[0].quads); !ok || d != 17+4*want[0].Version {
				t.Errorf("timing rows give %d modules (%t), want %d", d, ok, 17+4*want[0].Version)
			}
		})
	}
	if refused < 3 {
		t.Errorf("gozxing's own detector refused %d of the 6 pictures: want at least 3 (the test would not show the rectifier)", refused)
	}
}
