package scanner

import (
	"math"

	"github.com/makiuchi-d/gozxing"
)

// finderQuad finds the four outer corners of the finder pattern centred
// at (cx, cy) in the binarized matrix m: its dark 7x7 ring is filled from
// a point found by walking out from the centre (stone, light ring, then
// the dark ring), and the corners are the ring's extreme pixels along the
// code's diagonals (u and v are the code's axes, unit vectors along
// top-left to top-right and top-left to bottom-left). The corners come in
// the order of the finder's module corners (0,0), (7,0), (7,7), (0,7),
// each at its pixel's outer vertex along the diagonal. It reports false
// when no ring is found or the fill leaks out of the finder (a blurred
// ring touching its neighbours).
func finderQuad(m *gozxing.BitMatrix, cx, cy, ms float64, u, v [2]float64) ([4][2]float64, bool) {
	var quad [4][2]float64
	reach := 7 * ms
	box := [4]int{max(0, int(cx-reach)), max(0, int(cy-reach)), min(m.GetWidth(), int(cx+reach)+1), min(m.GetHeight(), int(cy+reach)+1)}
	if ms < 1 || cx < 0 || cy < 0 || int(cx) >= m.GetWidth() || int(cy) >= m.GetHeight() || !m.Get(int(cx), int(cy)) {
		return quad, false
	}
	w, h := box[2]-box[0], box[3]-box[1]
	// Walk out along each of the four half-axes until one reaches the ring.
	for _, d := range [][2]float64{{-u[0], -u[1]}, {-v[0], -v[1]}, {u[0], u[1]}, {v[0], v[1]}} {
		sx, sy, ok := walkToRing(m, cx, cy, d, 6*ms)
		if !ok {
			continue
		}
		pix, ok := fillDark(m, sx, sy, box, w, h)
		if !ok || float64(len(pix)) < 6*ms*ms {
			continue
		}
		// The ring must surround the centre: its extent reaches past the
		// centre on both sides of each axis.
		d1, d2 := [2]float64{u[0] + v[0], u[1] + v[1]}, [2]float64{u[0] - v[0], u[1] - v[1]}
		lo1, hi1, lo2, hi2 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		var p1lo, p1hi, p2lo, p2hi [2]int
		for _, p := range pix {
			x, y := float64(p[0])+0.5-cx, float64(p[1])+0.5-cy
			if s := x*d1[0] + y*d1[1]; s < lo1 {
				lo1, p1lo = s, p
			}
			if s := x*d1[0] + y*d1[1]; s > hi1 {
				hi1, p1hi = s, p
			}
			if s := x*d2[0] + y*d2[1]; s < lo2 {
				lo2, p2lo = s, p
			}
			if s := x*d2[0] + y*d2[1]; s > hi2 {
				hi2, p2hi = s, p
			}
		}
		if lo1 > -ms || hi1 < ms || lo2 > -ms || hi2 < ms {
			continue
		}
		neg := func(d [2]float64) [2]float64 { return [2]float64{-d[0], -d[1]} }
		quad = [4][2]float64{vertex(p1lo, neg(d1)), vertex(p2hi, d2), vertex(p1hi, d1), vertex(p2lo, neg(d2))}
		return quad, true
	}
	return quad, false
}

// vertex is where the ring's corner is, given its extreme pixel p along
// the outward diagonal d: the pixel's own corner (or edge middle) farthest
// along d, half a pixel beyond its centre on each axis d leans along.
func vertex(p [2]int, d [2]float64) [2]float64 {
	off := func(c, other float64) float64 {
		if math.Abs(c) < 0.4*math.Abs(other) {
			return 0 // d runs nearly along the other axis
		}
		return math.Copysign(0.5, c)
	}
	return [2]float64{float64(p[0]) + 0.5 + off(d[0], d[1]), float64(p[1]) + 0.5 + off(d[1], d[0])}
}

// walkToRing steps from (cx, cy) along d (a unit vector) through the dark
// stone and the light ring to the first dark pixel after them, within
// limit pixels.
func walkToRing(m *gozxing.BitMatrix, cx, cy float64, d [2]float64, limit float64) (int, int, bool) {
	state := 0 // 0 stone, 1 light ring
	for t := 0.0; t < limit; t += 0.5 {
		x, y := int(cx+t*d[0]), int(cy+t*d[1])
		if x < 0 || y < 0 || x >= m.GetWidth() || y >= m.GetHeight() {
			return 0, 0, false
		}
		dark := m.Get(x, y)
		switch {
		case state == 0 && !dark:
			state = 1
		case state == 1 && dark:
			return x, y, true
		}
	}
	return 0, 0, false
}

// fillDark returns the 4-connected dark pixels reached from (sx, sy),
// reporting false when they reach the edge of box (w by h pixels).
func fillDark(m *gozxing.BitMatrix, sx, sy int, box [4]int, w, h int) ([][2]int, bool) {
	seen := make([]bool, w*h)
	stack := [][2]int{{sx, sy}}
	seen[(sy-box[1])*w+sx-box[0]] = true
	var out [][2]int
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		out = append(out, p)
		for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
			x, y := p[0]+d[0], p[1]+d[1]
			if x < box[0] || y < box[1] || x >= box[2] || y >= box[3] {
				if x >= 0 && y >= 0 && x < m.GetWidth() && y < m.GetHeight() && m.Get(x, y) {
					return nil, false
				}
				continue
			}
			i := (y-box[1])*w + x - box[0]
			if !seen[i] && m.Get(x, y) {
				seen[i] = true
				stack = append(stack, [2]int{x, y})
			}
		}
	}
	return out, true
}
