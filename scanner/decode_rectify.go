package scanner

import (
	"context"
	"math"
	"slices"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// readRectified reads a code seen at a steep angle, where gozxing's own
// detector gives up: it will not pair finder patterns whose module sizes
// differ by more than 1.4 (the far side of a code tilted 35 degrees is
// that much smaller), and it places the fourth corner as if the code
// were a parallelogram. Here the candidates gozxing found are paired
// under perspective (module sizes up to 2.2 apart, a triangle that only
// roughly has a right angle), each finder's four outer corners are found
// (finderQuad), and a projective transform is fitted through the twelve
// corners and the three centres for each plausible size of symbol,
// refined by every alignment pattern found where it predicts one; the
// module grid it gives is sampled and decoded. The decoder's error
// correction is the judge of a size. ctx is checked between triples.
func readRectified(ctx context.Context, src, sample gozxing.LuminanceSource, tryHarder bool) ([]QR, error) {
	hybrid, err := gozxing.NewHybridBinarizer(src).GetBlackMatrix()
	if err != nil {
		return nil, err
	}
	// The global threshold finds some far, dim finders the local one
	// loses in the moiré; each matrix is tried with both's candidates.
	global, err := gozxing.NewGlobalHistgramBinarizer(src).GetBlackMatrix()
	if err != nil {
		global = nil
	}
	hints := map[gozxing.DecodeHintType]interface{}{}
	if tryHarder {
		hints[gozxing.DecodeHintType_TRY_HARDER] = true
	}
	var cands []*detector.FinderPattern
	for _, m := range []*gozxing.BitMatrix{hybrid, global} {
		if m == nil {
			continue
		}
		fpf := detector.NewFinderPatternFinder(m, nil)
		_, _ = fpf.Find(hints) // fills the candidates even when it cannot choose three
		cs := slices.Clone(fpf.GetPossibleCenters())
		slices.SortFunc(cs, func(a, b *detector.FinderPattern) int { return b.GetCount() - a.GetCount() })
		for _, c := range cs[:min(len(cs), 8)] {
			if !slices.ContainsFunc(cands, func(d *detector.FinderPattern) bool {
				return d.AboutEquals(c.GetEstimatedModuleSize(), c.GetY(), c.GetX())
			}) {
				cands = append(cands, c)
			}
		}
	}
	if len(cands) < 3 {
		return nil, errTooFewFinders
	}
	r := &rectifier{dec: decoder.NewDecoder(), luma: src.GetMatrix(), w: src.GetWidth(), h: src.GetHeight()}
	if sample != nil && sample.GetWidth() == r.w && sample.GetHeight() == r.h {
		r.soft = sample.GetMatrix()
	}
	for _, m := range []*gozxing.BitMatrix{hybrid, global} {
		if m == nil {
			continue
		}
		r.m = m
		for _, t := range perspectiveTriples(m, cands) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if qr, ok := r.decode(t); ok {
				return []QR{qr}, nil
			}
		}
	}
	return nil, errNotDecoded
}

// triple is three finder patterns in the code's order, with the outer
// corners of those finderQuad found.
type triple struct {
	tl, tr, bl *detector.FinderPattern
	quads      [3][4][2]float64
	found      [3]bool
}

// perspectiveTriples are the candidate triples that could be a code's
// three finder patterns under perspective, likeliest first (at most
// six): those whose three finders' rings were all traced before those
// with fewer (text and icons make false candidates, rarely a ring),
// then by tripleScore.
func perspectiveTriples(m *gozxing.BitMatrix, cs []*detector.FinderPattern) []triple {
	type scored struct {
		t     triple
		n     int
		score float64
	}
	var out []scored
	for i := range cs {
		for j := i + 1; j < len(cs); j++ {
			for k := j + 1; k < len(cs); k++ {
				a, b, c := orderFinders(cs[i], cs[j], cs[k])
				t := triple{tl: b, tr: c, bl: a}
				s, ok := tripleScore(t)
				if !ok {
					continue
				}
				u, v := t.axes()
				n := 0
				for f, p := range []*detector.FinderPattern{t.tl, t.tr, t.bl} {
					t.quads[f], t.found[f] = finderQuad(m, p.GetX(), p.GetY(), p.GetEstimatedModuleSize(), u, v)
					if t.found[f] {
						n++
					}
				}
				out = append(out, scored{t, n, s})
			}
		}
	}
	slices.SortFunc(out, func(a, b scored) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return int(math.Copysign(1, a.score-b.score))
	})
	ts := make([]triple, 0, 6)
	for _, s := range out[:min(len(out), 6)] {
		ts = append(ts, s.t)
	}
	return ts
}

// axes are unit vectors along the code's top edge and left edge.
func (t triple) axes() (u, v [2]float64) {
	ux, uy := t.tr.GetX()-t.tl.GetX(), t.tr.GetY()-t.tl.GetY()
	vx, vy := t.bl.GetX()-t.tl.GetX(), t.bl.GetY()-t.tl.GetY()
	a, b := math.Hypot(ux, uy), math.Hypot(vx, vy)
	return [2]float64{ux / a, uy / a}, [2]float64{vx / b, vy / b}
}

func orderFinders(a, b, c *detector.FinderPattern) (bl, tl, tr *detector.FinderPattern) {
	p, q, r := gozxing.ResultPoint_OrderBestPatterns(a, b, c)
	return p.(*detector.FinderPattern), q.(*detector.FinderPattern), r.(*detector.FinderPattern)
}

// tripleScore is how far t is from a code's three corners (0: a right
// isosceles triangle of finders of one size); false when it cannot be one.
func tripleScore(t triple) (float64, bool) {
	sizes := []float64{t.tl.GetEstimatedModuleSize(), t.tr.GetEstimatedModuleSize(), t.bl.GetEstimatedModuleSize()}
	lo, hi := slices.Min(sizes), slices.Max(sizes)
	if lo <= 0 || hi > 2.2*lo {
		return 0, false
	}
	ux, uy := t.tr.GetX()-t.tl.GetX(), t.tr.GetY()-t.tl.GetY()
	vx, vy := t.bl.GetX()-t.tl.GetX(), t.bl.GetY()-t.tl.GetY()
	a, b := math.Hypot(ux, uy), math.Hypot(vx, vy)
	// At least a version 1 code's 14 modules between centres, legs within
	// a factor of two, the angle at the top left within 40 degrees of square.
	if a < 14*lo || b < 14*lo || a > 2*b || b > 2*a {
		return 0, false
	}
	cos := (ux*vx + uy*vy) / (a * b)
	if math.Abs(cos) > math.Sin(40*math.Pi/180) {
		return 0, false
	}
	return math.Abs(cos) + math.Abs(a-b)/(a+b) + (hi-lo)/hi, true
}

// decode fits the grid through t's finder patterns for each
// plausible dimension, nearest the estimate first, and decodes it.
func (r *rectifier) decode(t triple) (QR, bool) {
	m := r.m
	fs := [3]*detector.FinderPattern{t.tl, t.tr, t.bl}
	quads, found := t.quads, t.found
	dims := rectifyDims(fs, quads, found)
	if found == [3]bool{true, true, true} {
		if d, ok := r.timingDim(quads); ok {
			dims = slices.DeleteFunc(dims, func(x int) bool { return x == d })
			dims = append([]int{d}, dims...)
		}
	}
	for _, dim := range dims {
		h, ok := fitFinders(fs, quads, found, dim, nil)
		if !ok {
			continue
		}
		h = refineByAlignment(m, fs, quads, found, dim, h)
		if qr, ok := r.decodeGrid(h, dim); ok {
			return qr, true
		}
		if qr, ok := r.decodeGrid(jiggle(m, h, dim), dim); ok {
			return qr, true
		}
	}
	return QR{}, false
}

// finderCorners are the module coordinates of a finder's corners in
// finderQuad's order, for the finder at the top left, top right and
// bottom left of a symbol of dim modules.
func finderCorners(i, dim int) [4][2]float64 {
	ox, oy := 0.0, 0.0
	switch i {
	case 1:
		ox = float64(dim - 7)
	case 2:
		oy = float64(dim - 7)
	}
	return [4][2]float64{{ox, oy}, {ox + 7, oy}, {ox + 7, oy + 7}, {ox, oy + 7}}
}

// fitFinders fits the transform through the finders' centres and the
// corners found, and any extra matches.
func fitFinders(fs [3]*detector.FinderPattern, quads [3][4][2]float64, found [3]bool, dim int, extra []match) (homography, bool) {
	ms := slices.Clone(extra)
	for i, f := range fs {
		c := finderCorners(i, dim)
		ms = append(ms, match{c[0][0] + 3.5, c[0][1] + 3.5, f.GetX(), f.GetY(), 2})
		if found[i] {
			for k := range 4 {
				ms = append(ms, match{c[k][0], c[k][1], quads[i][k][0], quads[i][k][1], 1})
			}
		}
	}
	return fitHomography(ms)
}

// rectifyDims are the dimensions worth trying, nearest an estimate
// first, taking turns between two estimates: the centres' distances over
// the finders' module sizes (gozxing's, good when the tilt is mild), and
// the other finders' centres read in the module coordinates of the
// top-left finder's own transform (its four corners; it sees the tilt
// but extrapolates a small square).
func rectifyDims(fs [3]*detector.FinderPattern, quads [3][4][2]float64, found [3]bool) []int {
	ms0, ms1, ms2 := fs[0].GetEstimatedModuleSize(), fs[1].GetEstimatedModuleSize(), fs[2].GetEstimatedModuleSize()
	ests := []float64{(gozxing.ResultPoint_Distance(fs[0], fs[1])/((ms0+ms1)/2)+gozxing.ResultPoint_Distance(fs[0], fs[2])/((ms0+ms2)/2))/2 + 7}
	if found[0] {
		if h, ok := finderTransform(quads[0]); ok {
			if inv, ok := h.inverse(); ok {
				x, _ := inv.at(fs[1].GetX(), fs[1].GetY())
				_, y := inv.at(fs[2].GetX(), fs[2].GetY())
				ests = append(ests, (x+y)/2+3.5)
			}
		}
	}
	var lists [][]int
	for _, est := range ests {
		var dims []int
		for v := 1; v <= 40; v++ {
			if d := 17 + 4*v; math.Abs(float64(d)-est) <= 0.2*est+4 {
				dims = append(dims, d)
			}
		}
		slices.SortFunc(dims, func(a, b int) int {
			return int(math.Copysign(1, math.Abs(float64(a)-est)-math.Abs(float64(b)-est)))
		})
		lists = append(lists, dims)
	}
	var out []int
	for i := 0; len(out) < 6; i++ {
		more := false
		for _, l := range lists {
			if i < len(l) {
				more = true
				if !slices.Contains(out, l[i]) {
					out = append(out, l[i])
				}
			}
		}
		if !more {
			break
		}
	}
	return out[:min(len(out), 6)]
}

// refineByAlignment looks for each of the version's alignment patterns
// where h puts it, the bottom-right one first, and refits through those
// found.
func refineByAlignment(m *gozxing.BitMatrix, fs [3]*detector.FinderPattern, quads [3][4][2]float64, found [3]bool, dim int, h homography) homography {
	at := alignmentCentres(dim)
	// Bottom right first (the one a parallelogram places worst), then
	// outwards from it.
	slices.SortFunc(at, func(a, b [2]int) int { return (b[0] + b[1]) - (a[0] + a[1]) })
	var extra []match
	for _, p := range at {
		mx, my := float64(p[0])+0.5, float64(p[1])+0.5
		x, y := h.at(mx, my)
		ms := h.modulePx(mx, my)
		if !onPlane(x, y, m.GetWidth(), m.GetHeight()) || !(ms >= 1 && ms < float64(m.GetWidth())) {
			continue
		}
		allow := 4 * ms
		if len(extra) > 0 {
			allow = 2.5 * ms
		}
		x0, y0 := int(x-allow), int(y-allow)
		x1, y1 := int(x+allow), int(y+allow)
		if x0 < 0 || y0 < 0 || x1 >= m.GetWidth() || y1 >= m.GetHeight() || ms < 1 {
			continue
		}
		ap, err := detector.NewAlignmentPatternFinder(m, x0, y0, x1-x0, y1-y0, ms, nil).Find()
		if err != nil || math.Hypot(ap.GetX()-x, ap.GetY()-y) > allow {
			continue
		}
		extra = append(extra, match{mx, my, ap.GetX(), ap.GetY(), 2})
		if g, ok := fitFinders(fs, quads, found, dim, extra); ok {
			h = g
		}
	}
	return h
}

// alignmentCentres are the module coordinates of a symbol's alignment
// pattern centres (none below version 2), leaving out the three places
// under a finder.
func alignmentCentres(dim int) [][2]int {
	ver, err := decoder.Version_GetVersionForNumber((dim - 17) / 4)
	if err != nil || ver.GetVersionNumber() < 2 {
		return nil
	}
	cs := ver.GetAlignmentPatternCenters()
	var at [][2]int
	last := cs[len(cs)-1]
	for _, x := range cs {
		for _, y := range cs {
			if (x == 6 && y == 6) || (x == 6 && y == last) || (x == last && y == 6) {
				continue // under a finder
			}
			at = append(at, [2]int{x, y})
		}
	}
	return at
}

// finderTransform is a finder's own transform: its module coordinates
// 0..7 to pixels, through its four corners (finderQuad's order).
func finderTransform(quad [4][2]float64) (homography, bool) {
	c := finderCorners(0, 21)
	ms := make([]match, 4)
	for k := range 4 {
		ms[k] = match{c[k][0], c[k][1], quad[k][0], quad[k][1], 1}
	}
	return fitHomography(ms)
}
