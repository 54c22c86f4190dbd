package scanner

import (
	"fmt"
	"math"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// TestFitHomography fits transforms of known projective maps through
// four and through many points and checks every point lands within a
// thousandth of a pixel, and that the inverse maps back.
func TestFitHomography(t *testing.T) {
	for _, h := range []homography{
		{{5, 0, 100}, {0, 5, 80}, {0, 0, 1}},                   // a plain 5 px grid
		{{4.2, -1.1, 130}, {0.9, 4.6, 40}, {0.004, 0.0, 1}},    // rotated and tilted
		{{3.1, 0.4, 20}, {-0.3, 2.7, 300}, {-0.006, 0.003, 1}}, // steep, both ways
	} {
		for _, n := range []int{4, 12, 40} {
			t.Run(fmt.Sprintf("%v/%d", h[2], n), func(t *testing.T) {
				var ms []match
				for i := range n {
					mx, my := float64(i%7)*7, float64(i/7)*9+float64(i%3)
					if n == 4 {
						mx, my = float64(i%2)*45, float64(i/2)*45
					}
					px, py := h.at(mx, my)
					ms = append(ms, match{mx, my, px, py, 1})
				}
				g, ok := fitHomography(ms)
				if !ok {
					t.Fatalf("fit of %d points of %v failed", n, h)
				}
				inv, ok := g.inverse()
				if !ok {
					t.Fatalf("no inverse of %v", g)
				}
				for _, m := range ms {
					x, y := g.at(m.mx, m.my)
					if d := math.Hypot(x-m.px, y-m.py); d > 1e-3 {
						t.Errorf("(%g, %g) maps to (%.3f, %.3f), want (%.3f, %.3f)", m.mx, m.my, x, y, m.px, m.py)
					}
					bx, by := inv.at(m.px, m.py)
					if d := math.Hypot(bx-m.mx, by-m.my); d > 1e-3 {
						t.Errorf("inverse of (%.1f, %.1f) is (%.3f, %.3f), want (%g, %g)", m.px, m.py, bx, by, m.mx, m.my)
					}
				}
			})
		}
	}
}

// TestFitHomographyDegenerate: too few points, or all in a line, fix no
// transform.
func TestFitHomographyDegenerate(t *testing.T) {
	line := []match{{0, 0, 0, 0, 1}, {1, 1, 5, 5, 1}, {2, 2, 10, 10, 1}, {3, 3, 15, 15, 1}, {4, 4, 20, 20, 1}}
	for name, ms := range map[string][]match{"three points": line[:3], "five in a line": line} {
		if _, ok := fitHomography(ms); ok {
			t.Errorf("%s: fitted a transform", name)
		}
	}
}

// TestOnPlane: NaN and infinities are off every plane (a degenerate
// transform gives them; int(NaN) is undefined).
func TestOnPlane(t *testing.T) {
	for _, tc := range []struct {
		x, y float64
		want bool
	}{
		{0, 0, true}, {9.99, 4.99, true}, {10, 0, false}, {-0.01, 1, false},
		{math.NaN(), 1, false}, {1, math.NaN(), false}, {math.Inf(1), 1, false}, {math.Inf(-1), 1, false},
	} {
		if got := onPlane(tc.x, tc.y, 10, 5); got != tc.want {
			t.Errorf("onPlane(%g, %g, 10, 5) = %t, want %t", tc.x, tc.y, got, tc.want)
		}
	}
}

// TestRectifierDegenerate is the regression test for transforms that
// send points to NaN or far off the picture: sampling, the timing rows,
// the alignment search and the jiggle refuse them instead of indexing
// with an undefined int.
func TestRectifierDegenerate(t *testing.T) {
	m, err := gozxing.NewSquareBitMatrix(64)
	if err != nil {
		t.Fatal(err)
	}
	luma := make([]byte, 64*64)
	r := &rectifier{m: m, luma: luma, w: 64, h: 64}
	nan := math.NaN()
	for name, h := range map[string]homography{
		"nan":      {{nan, 0, 0}, {0, nan, 0}, {0, 0, 1}},
		"infinite": {{1e300, 0, 0}, {0, 1e300, 0}, {0, 0, 1e-300}},
		"far":      {{1e9, 0, 0}, {0, 1e9, 0}, {0, 0, 1}},
	} {
		if _, ok := sampleGrid(m, h, 21); ok {
			t.Errorf("%s: sampleGrid gave a grid", name)
		}
		if _, ok := r.sampleLuma(luma, h, 21); ok {
			t.Errorf("%s: sampleLuma gave values", name)
		}
		if s := fixedScore(m, h, functionModules(21)); s != 0 {
			t.Errorf("%s: %d function modules sampled", name, s)
		}
		if g := jiggle(m, h, 21); fmt.Sprint(g) != fmt.Sprint(h) {
			t.Errorf("%s: the jiggle moved a transform that samples nothing: %v", name, g)
		}
		if q := gridQuietZone(h, 21, matrixSampler(h, m)); q != 0 {
			t.Errorf("%s: a quiet zone of %d modules off the picture", name, q)
		}
		fs := [3]*detector.FinderPattern{detector.NewFinderPattern1(10, 10, 2), detector.NewFinderPattern1(50, 10, 2), detector.NewFinderPattern1(10, 50, 2)}
		if g := refineByAlignment(m, fs, [3][4][2]float64{}, [3]bool{}, 25, h); fmt.Sprint(g) != fmt.Sprint(h) {
			t.Errorf("%s: alignment patterns found off the picture: %v", name, g)
		}
		var quads [3][4][2]float64
		for i := range quads {
			for k, c := range finderCorners(0, 21) {
				quads[i][k][0], quads[i][k][1] = h.at(c[0], c[1])
			}
		}
		if d, ok := r.timingDim(quads); ok {
			t.Errorf("%s: timing rows gave %d modules", name, d)
		}
	}
}
