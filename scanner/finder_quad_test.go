package scanner

import (
	"fmt"
	"math"
	"testing"

	"github.com/makiuchi-d/gozxing"
)

// drawFinder renders a finder pattern (modules 0..7 of the symbol) through
// h into a w x w matrix, with an optional dark bar from the ring's right
// edge to the matrix edge (a blurred ring touching its neighbours).
func drawFinder(t *testing.T, h homography, w int, bar bool) *gozxing.BitMatrix {
	t.Helper()
	m, err := gozxing.NewSquareBitMatrix(w)
	if err != nil {
		t.Fatal(err)
	}
	inv, ok := h.inverse()
	if !ok {
		t.Fatal("no inverse")
	}
	for y := range w {
		for x := range w {
			mx, my := inv.at(float64(x)+0.5, float64(y)+0.5)
			d := math.Max(math.Abs(mx-3.5), math.Abs(my-3.5))
			dark := d < 1.5 || (d >= 2.5 && d < 3.5)
			if bar && mx >= 6.5 && my > 3 && my < 4 {
				dark = true
			}
			if dark {
				m.Set(x, y)
			}
		}
	}
	return m
}

// TestFinderQuad traces a finder drawn at 5 px a module, upright, rotated
// and under perspective, and checks each corner against where the
// drawing put it; a ring that leaks into its neighbours is refused.
func TestFinderQuad(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    homography
	}{
		{"upright-5px", homography{{5, 0, 40}, {0, 5, 40}, {0, 0, 1}}},
		{"rotated-10deg", homography{{5 * math.Cos(0.17), -5 * math.Sin(0.17), 45}, {5 * math.Sin(0.17), 5 * math.Cos(0.17), 35}, {0, 0, 1}}},
		{"perspective-far-right", homography{{5, 0.3, 40}, {0.2, 5, 40}, {0.02, 0.004, 1}}},
		{"rotated-45deg", homography{{5 * math.Cos(0.785), -5 * math.Sin(0.785), 60}, {5 * math.Sin(0.785), 5 * math.Cos(0.785), 30}, {0, 0, 1}}},
		{"rotated-30deg", homography{{5 * math.Cos(0.524), -5 * math.Sin(0.524), 55}, {5 * math.Sin(0.524), 5 * math.Cos(0.524), 30}, {0, 0, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := drawFinder(t, tc.h, 120, false)
			cx, cy := tc.h.at(3.5, 3.5)
			ux, uy := tc.h.at(4.5, 3.5)
			vx, vy := tc.h.at(3.5, 4.5)
			ms := tc.h.modulePx(3.5, 3.5)
			u := [2]float64{(ux - cx) / math.Hypot(ux-cx, uy-cy), (uy - cy) / math.Hypot(ux-cx, uy-cy)}
			v := [2]float64{(vx - cx) / math.Hypot(vx-cx, vy-cy), (vy - cy) / math.Hypot(vx-cx, vy-cy)}
			quad, ok := finderQuad(m, cx, cy, ms, u, v)
			if !ok {
				t.Fatalf("no quad for the finder at (%.1f, %.1f), %.1f px a module", cx, cy, ms)
			}
			for k, c := range finderCorners(0, 21) {
				wx, wy := tc.h.at(c[0], c[1])
				if d := math.Hypot(quad[k][0]-wx, quad[k][1]-wy); d > 1.2 {
					t.Errorf("corner %v at (%.1f, %.1f), want (%.1f, %.1f): %.2f px off", c, quad[k][0], quad[k][1], wx, wy, d)
				}
			}
			if _, ok := finderQuad(drawFinder(t, tc.h, 120, true), cx, cy, ms, u, v); ok {
				t.Errorf("a ring leaking to the edge gave a quad")
			}
		})
	}
	// Not a finder: a light centre, or a centre off the matrix.
	m := drawFinder(t, homography{{5, 0, 40}, {0, 5, 40}, {0, 0, 1}}, 120, false)
	for _, c := range [][2]float64{{47.5, 57.5}, {-3, 10}, {500, 20}} {
		if _, ok := finderQuad(m, c[0], c[1], 5, [2]float64{1, 0}, [2]float64{0, 1}); ok {
			t.Errorf("%s: a quad", fmt.Sprint(c))
		}
	}
}
