package scanner

import "math"

// homography is a projective transform from a code's module coordinates
// (0..dim on each axis, the symbol without its quiet zone) to pixels:
// what a camera held at an angle does to the code's plane.
type homography [3][3]float64

// at maps module coordinates (mx, my) to pixels.
func (h homography) at(mx, my float64) (float64, float64) {
	w := h[2][0]*mx + h[2][1]*my + h[2][2]
	return (h[0][0]*mx + h[0][1]*my + h[0][2]) / w, (h[1][0]*mx + h[1][1]*my + h[1][2]) / w
}

// modulePx is the length in pixels of one module at (mx, my): the mean
// of the steps along the two axes.
func (h homography) modulePx(mx, my float64) float64 {
	x0, y0 := h.at(mx, my)
	x1, y1 := h.at(mx+1, my)
	x2, y2 := h.at(mx, my+1)
	return (math.Hypot(x1-x0, y1-y0) + math.Hypot(x2-x0, y2-y0)) / 2
}

// onPlane tells whether (x, y) lies in a w x h plane: false for NaN,
// which every comparison refuses (a degenerate transform gives NaN, and
// converting NaN to int is undefined).
func onPlane(x, y float64, w, h int) bool {
	return x >= 0 && y >= 0 && x < float64(w) && y < float64(h)
}

// match is one point whose place is known both in module coordinates and
// in pixels, with the weight its fit gives it.
type match struct{ mx, my, px, py, w float64 }

// fitHomography is the least-squares projective transform through at
// least four matches (the direct linear transform, with both sides
// normalised to about unit size first so the system is well conditioned).
// It reports false when the matches do not fix one (fewer than four, or
// three in a line).
func fitHomography(ms []match) (homography, bool) {
	if len(ms) < 4 {
		return homography{}, false
	}
	// Normalise: centre each side on its mean and scale it to about 1.
	var cmx, cmy, cpx, cpy, sw float64
	for _, m := range ms {
		cmx, cmy, cpx, cpy, sw = cmx+m.w*m.mx, cmy+m.w*m.my, cpx+m.w*m.px, cpy+m.w*m.py, sw+m.w
	}
	cmx, cmy, cpx, cpy = cmx/sw, cmy/sw, cpx/sw, cpy/sw
	var rm, rp float64
	for _, m := range ms {
		rm = math.Max(rm, math.Hypot(m.mx-cmx, m.my-cmy))
		rp = math.Max(rp, math.Hypot(m.px-cpx, m.py-cpy))
	}
	if rm == 0 || rp == 0 {
		return homography{}, false
	}
	// Each match gives two rows of A h = b, with h = (h00 h01 h02 h10 h11
	// h12 h20 h21) and h22 = 1; solve the normal equations.
	var ata [8][8]float64
	var atb [8]float64
	add := func(row [8]float64, b, w float64) {
		for i := range 8 {
			for j := range 8 {
				ata[i][j] += w * row[i] * row[j]
			}
			atb[i] += w * row[i] * b
		}
	}
	for _, m := range ms {
		x, y := (m.mx-cmx)/rm, (m.my-cmy)/rm
		u, v := (m.px-cpx)/rp, (m.py-cpy)/rp
		add([8]float64{x, y, 1, 0, 0, 0, -x * u, -y * u}, u, m.w)
		add([8]float64{0, 0, 0, x, y, 1, -x * v, -y * v}, v, m.w)
	}
	h, ok := solve8(ata, atb)
	if !ok {
		return homography{}, false
	}
	n := homography{{h[0], h[1], h[2]}, {h[3], h[4], h[5]}, {h[6], h[7], 1}}
	// Undo the normalisation: H = Tp^-1 * N * Tm.
	tm := homography{{1 / rm, 0, -cmx / rm}, {0, 1 / rm, -cmy / rm}, {0, 0, 1}}
	tpInv := homography{{rp, 0, cpx}, {0, rp, cpy}, {0, 0, 1}}
	return tpInv.mul(n).mul(tm), true
}

func (h homography) mul(g homography) homography {
	var r homography
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				r[i][j] += h[i][k] * g[k][j]
			}
		}
	}
	return r
}

// solve8 solves a x = b by Gaussian elimination with partial pivoting.
func solve8(a [8][8]float64, b [8]float64) ([8]float64, bool) {
	for c := range 8 {
		p := c
		for r := c + 1; r < 8; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		if math.Abs(a[p][c]) < 1e-12 {
			return b, false
		}
		a[c], a[p] = a[p], a[c]
		b[c], b[p] = b[p], b[c]
		for r := c + 1; r < 8; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k < 8; k++ {
				a[r][k] -= f * a[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	var x [8]float64
	for r := 7; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < 8; k++ {
			s -= a[r][k] * x[k]
		}
		x[r] = s / a[r][r]
	}
	return x, true
}

// inverse maps pixels back to module coordinates.
func (h homography) inverse() (homography, bool) {
	a, b, c := h[0][0], h[0][1], h[0][2]
	d, e, f := h[1][0], h[1][1], h[1][2]
	g, i, k := h[2][0], h[2][1], h[2][2]
	det := a*(e*k-f*i) - b*(d*k-f*g) + c*(d*i-e*g)
	if math.Abs(det) < 1e-12 {
		return homography{}, false
	}
	return homography{
		{(e*k - f*i) / det, (c*i - b*k) / det, (b*f - c*e) / det},
		{(f*g - d*k) / det, (a*k - c*g) / det, (c*d - a*f) / det},
		{(d*i - e*g) / det, (b*g - a*i) / det, (a*e - b*d) / det},
	}, true
}
