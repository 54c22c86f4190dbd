package scanner

import "math"

// timingDim reads the symbol's dimension from its timing patterns, the
// alternating row and column that join the finders: each finder's own
// transform (its four corners, finderCorners' order) places the ends of
// the row (just past the top-left finder's separator to just before the
// top-right's) without knowing the size, the luminance along the segment
// is counted in dark runs against its running mean, and a timing row of
// k dark modules belongs to a symbol of 2k+15 modules. The row and the
// column are read; false when neither gives a dimension a QR code can
// have, or they disagree.
func (r *rectifier) timingDim(quads [3][4][2]float64) (int, bool) {
	var local [3]homography
	for i := range 3 {
		h, ok := finderTransform(quads[i])
		if !ok {
			return 0, false
		}
		local[i] = h
	}
	var dims []int
	// Row 6 from the top-left finder's right edge to the top-right's left
	// edge; column 6 from the top-left's bottom edge to the bottom-left's top.
	for _, seg := range [2][2][2]float64{{{7.5, 6.5}, {-0.5, 6.5}}, {{6.5, 7.5}, {6.5, -0.5}}} {
		x0, y0 := local[0].at(seg[0][0], seg[0][1])
		far := local[1]
		if seg[0][1] == 7.5 {
			far = local[2]
		}
		x1, y1 := far.at(seg[1][0], seg[1][1])
		ms0, ms1 := local[0].modulePx(3.5, 3.5), far.modulePx(3.5, 3.5)
		if k, ok := r.darkRuns(x0, y0, x1, y1, ms0, ms1); ok {
			if d := 2*k + 15; d >= 21 && d <= 177 && (d-17)%4 == 0 {
				dims = append(dims, d)
			}
		}
	}
	switch {
	case len(dims) == 2 && dims[0] != dims[1]:
		return 0, false
	case len(dims) > 0:
		return dims[0], true
	}
	return 0, false
}

// darkRuns counts the dark runs on the segment from (x0, y0) to (x1, y1)
// (a run still dark at the end, or dark from the start, is not counted),
// whose module size goes from ms0 to ms1: the luminance sampled every
// quarter pixel, smoothed over a fifth of a module and called dark below
// the mean over two modules around it, with a hysteresis of a tenth of
// the local contrast so noise does not split a run.
func (r *rectifier) darkRuns(x0, y0, x1, y1, ms0, ms1 float64) (int, bool) {
	length := math.Hypot(x1-x0, y1-y0)
	if !(length < float64(4*(r.w+r.h))) { // NaN, or a transform gone wild
		return 0, false
	}
	n := int(length * 4)
	if n < 8 || ms0 < 1 || ms1 < 1 {
		return 0, false
	}
	prof := make([]float64, n)
	for i := range n {
		t := (float64(i) + 0.5) / float64(n)
		v, ok := bilinearAt(r.luma, r.w, r.h, x0+t*(x1-x0)-0.5, y0+t*(y1-y0)-0.5)
		if !ok {
			return 0, false
		}
		prof[i] = v
	}
	msAt := func(i int) float64 { // module size in samples at i
		t := float64(i) / float64(n)
		return 4 * (ms0 + t*(ms1-ms0))
	}
	smooth := make([]float64, n)
	mean := make([]float64, n)
	lo, hi := make([]float64, n), make([]float64, n)
	for i := range n {
		s := int(msAt(i) / 5)
		smooth[i] = windowMean(prof, i, s)
		w := int(msAt(i))
		mean[i] = windowMean(prof, i, w)
		lo[i], hi[i] = windowMinMax(prof, i, w)
	}
	// The ends are the separators' centres: a run touching either is a
	// finder's ring the corners placed a little off, not a timing module.
	runs, dark, start := 0, false, 0
	for i := range n {
		hys := (hi[i] - lo[i]) / 10
		switch {
		case !dark && smooth[i] < mean[i]-hys:
			dark, start = true, i
		case dark && smooth[i] > mean[i]+hys:
			dark = false
			if float64(start) > 0.3*msAt(0) {
				runs++
			}
		}
	}
	return runs, runs > 0
}

func windowMean(p []float64, i, w int) float64 {
	sum, k := 0.0, 0
	for j := max(0, i-w); j <= min(len(p)-1, i+w); j++ {
		sum += p[j]
		k++
	}
	return sum / float64(k)
}

func windowMinMax(p []float64, i, w int) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for j := max(0, i-w); j <= min(len(p)-1, i+w); j++ {
		lo, hi = math.Min(lo, p[j]), math.Max(hi, p[j])
	}
	return lo, hi
}
