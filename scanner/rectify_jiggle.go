package scanner

import (
	"github.com/makiuchi-d/gozxing"
)

// jiggle improves h by moving the four corners of the symbol it places,
// one coordinate at a time, while more of the symbol's function patterns
// (finders, separators, timing rows, alignment patterns) sample as they
// must be, in steps from half a module down to a thirty-second (as quirc
// does). It corrects what the fit through the finders' corners
// extrapolates wrongly far from them: the bottom right of a steep photo.
func jiggle(m *gozxing.BitMatrix, h homography, dim int) homography {
	n := float64(dim)
	mod := [4][2]float64{{0, 0}, {n, 0}, {n, n}, {0, n}}
	var c [4][2]float64
	for i, p := range mod {
		c[i][0], c[i][1] = h.at(p[0], p[1])
	}
	fit := func(c [4][2]float64) (homography, bool) {
		ms := make([]match, 4)
		for i := range 4 {
			ms[i] = match{mod[i][0], mod[i][1], c[i][0], c[i][1], 1}
		}
		return fitHomography(ms)
	}
	fixed := functionModules(dim)
	best := fixedScore(m, h, fixed)
	step := h.modulePx(n/2, n/2) / 2
	for pass := 0; pass < 5; pass++ {
		for i := range 4 {
			for k := range 2 {
				for _, d := range []float64{step, -step} {
					t := c
					t[i][k] += d
					g, ok := fit(t)
					if !ok {
						continue
					}
					if s := fixedScore(m, g, fixed); s > best {
						best, c, h = s, t, g
						break
					}
				}
			}
		}
		step /= 2
	}
	return h
}

// fixedModule is a module whose colour every symbol of a size shares.
type fixedModule struct {
	x, y int
	dark bool
}

// functionModules lists the function patterns' modules of a symbol of
// dim modules: the three finders with their separators, the two timing
// rows, and the alignment patterns.
func functionModules(dim int) []fixedModule {
	var out []fixedModule
	for _, o := range [][2]int{{0, 0}, {dim - 7, 0}, {0, dim - 7}} {
		for y := -1; y <= 7; y++ {
			for x := -1; x <= 7; x++ {
				mx, my := o[0]+x, o[1]+y
				if mx < 0 || my < 0 || mx >= dim || my >= dim {
					continue
				}
				d := max(abs(x-3), abs(y-3))
				out = append(out, fixedModule{mx, my, d != 2 && d != 4})
			}
		}
	}
	for i := 8; i < dim-8; i++ {
		out = append(out, fixedModule{i, 6, i%2 == 0}, fixedModule{6, i, i%2 == 0})
	}
	for _, a := range alignmentCentres(dim) {
		for y := -2; y <= 2; y++ {
			for x := -2; x <= 2; x++ {
				out = append(out, fixedModule{a[0] + x, a[1] + y, max(abs(x), abs(y)) != 1})
			}
		}
	}
	return out
}

// fixedScore counts the fixed modules h samples in their colour.
func fixedScore(m *gozxing.BitMatrix, h homography, fixed []fixedModule) int {
	s := 0
	for _, f := range fixed {
		px, py := h.at(float64(f.x)+0.5, float64(f.y)+0.5)
		if !onPlane(px, py, m.GetWidth(), m.GetHeight()) {
			continue
		}
		if m.Get(int(px), int(py)) == f.dark {
			s++
		}
	}
	return s
}
