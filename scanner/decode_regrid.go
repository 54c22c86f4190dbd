package scanner

import (
	"image"
	"math"
)

// regridded is the rung for a code scaled by a fraction of a pixel per
// module (npm qrcode's width option, a browser at device scale 1.25): its
// modules come out 2 or 3 pixels wide at random, which trips the
// binarizer and the finder pattern detector. In the region the other
// rungs pointed at (region), it finds the code's extent against the
// background, its version from the top-left finder's 7-module edge, a
// first pitch from the finders' edges, then the pitch and origin on each
// axis that best fit the timing pattern (fitAxis: a fraction of a pixel
// over the whole code), samples every module's centre, and draws the
// modules again at 4 whole pixels each, with a quiet zone, for the
// detector. It assumes an upright code on a plain background (a
// screenshot or an encoder's image, not a photo) and returns nil when the
// region does not hold one.
func (l *ladder) regridded() *lumaSource {
	if l.regridDone {
		return l.regrid
	}
	l.regridDone = true
	p := l.plain()
	if len(l.candidates) == 0 && p.Width*p.Height > alwaysUpscalePixels {
		return nil // a large picture where no rung saw a finder pattern
	}
	area := l.region()
	// The background is the luminance at the region's corners; the code's
	// modules are the pixels far from it.
	lo, hi := 255, 0
	for y := area.Min.Y; y < area.Max.Y; y += 2 {
		for x := area.Min.X; x < area.Max.X; x += 2 {
			v := int(p.pix[y*p.Width+x])
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if hi-lo < 48 {
		return nil
	}
	mid := (lo + hi) / 2
	bgDark := int(p.pix[area.Min.Y*p.Width+area.Min.X]) < mid
	fg := func(x, y int) bool { return (int(p.pix[y*p.Width+x]) < mid) != bgDark }
	// The code's extent: the first and last rows and columns holding a
	// module.
	left, top, right, bottom := area.Max.X, area.Max.Y, area.Min.X-1, area.Min.Y-1
	for y := area.Min.Y; y < area.Max.Y; y++ {
		for x := area.Min.X; x < area.Max.X; x++ {
			if fg(x, y) {
				left, right = min(left, x), max(right, x)
				top, bottom = min(top, y), max(bottom, y)
			}
		}
	}
	w, h := right-left+1, bottom-top+1
	if w < 21*2 || h < 21*2 || abs(w-h) > w/20 {
		return nil
	}
	// The top-left finder's top edge is 7 modules of foreground.
	run := 0
	for x := left; x <= right && fg(x, top+1); x++ {
		run++
	}
	if run < 14 {
		return nil
	}
	v := int(math.Round((7*float64(w)/float64(run) - 17) / 4))
	if v < 1 || v > 40 {
		return nil
	}
	size := 17 + 4*v
	// The pitch from the finders' edges, 34 modules apart in a version 6
	// code: the top-right finder's left edge on the top row, the
	// bottom-left's top edge on the left column (the far quiet zone may
	// have eaten part of the last module, so the extent alone is short).
	px, py := float64(w)/float64(size), float64(h)/float64(size)
	trLeft := right
	for trLeft > left && fg(trLeft-1, top+1) {
		trLeft--
	}
	if d := float64(trLeft-left) / float64(size-7); math.Abs(d-px) < 0.1*px {
		px = d
	}
	blTop := bottom
	for blTop > top && fg(left+1, blTop-1) {
		blTop--
	}
	if d := float64(blTop-top) / float64(size-7); math.Abs(d-py) < 0.1*py {
		py = d
	}
	// Refine the pitch and origin on each axis against the timing
	// pattern (row and column 6: the finders' dark edge, a light
	// separator, alternating modules, a separator, the other finder's
	// edge), which pins them to a fraction of a pixel.
	ox, px := fitAxis(size, float64(left)-0.5, px, func(c int, pos float64) bool {
		return fg(min(int(pos), right), min(int(float64(top)-0.5+6.5*py), bottom))
	})
	oy, py := fitAxis(size, float64(top)-0.5, py, func(r int, pos float64) bool {
		return fg(min(int(float64(left)-0.5+6.5*px), right), min(int(pos), bottom))
	})
	const mod, quiet = 4, 4
	side := (size + 2*quiet) * mod
	g := image.NewGray(image.Rect(0, 0, side, side))
	for i := range g.Pix {
		g.Pix[i] = 255
	}
	for r := range size {
		for c := range size {
			// The first pixel of a module is up to one pixel after its
			// start; the far quiet zone may cut the last one short.
			x := min(int(ox+(float64(c)+0.5)*px), right)
			y := min(int(oy+(float64(r)+0.5)*py), bottom)
			if !fg(x, y) {
				continue
			}
			for yy := (r + quiet) * mod; yy < (r+quiet+1)*mod; yy++ {
				row := g.Pix[yy*side+(c+quiet)*mod : yy*side+(c+quiet+1)*mod]
				for i := range row {
					row[i] = 0
				}
			}
		}
	}
	l.regrid = newLumaSource(g)
	l.regridPitch = px
	l.regridOrigin = image.Pt(left-int(quiet*px), top-int(quiet*py))
	return l.regrid
}

// timingAt is module i of row (or column) 6 of a code of size modules:
// dark across the finders, light at the separators, alternating between.
func timingAt(i, size int) bool {
	switch {
	case i < 7 || i >= size-7:
		return true
	case i == 7 || i == size-8:
		return false
	}
	return i%2 == 0
}

// fitAxis finds the origin (within a pixel before o0) and pitch (within
// 3 % of p0) whose samples of row or column 6 (at(i, pos) is whether the
// pixel at pos is a module) best match the timing pattern.
func fitAxis(size int, o0, p0 float64, at func(i int, pos float64) bool) (o, p float64) {
	// Every (origin, pitch) that matches best is as likely: the middle of
	// them is the estimate (the first would sit on an edge).
	best, n := -1, 0
	var so, sp float64
	for dp := -30; dp <= 30; dp++ {
		pp := p0 * (1 + float64(dp)/1000)
		for do := -10; do <= 10; do++ {
			oo := o0 + float64(do)/20
			score := 0
			for i := range size {
				if at(i, oo+(float64(i)+0.5)*pp) == timingAt(i, size) {
					score++
				}
			}
			switch {
			case score > best:
				best, n, so, sp = score, 1, oo, pp
			case score == best:
				n++
				so, sp = so+oo, sp+pp
			}
		}
	}
	return so / float64(n), sp / float64(n)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
