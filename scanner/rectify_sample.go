package scanner

import (
	"math"
	"slices"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/common"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
)

// rectifier holds what readRectified decodes with: the binarized matrix
// the finders were traced in, and the luminance it came from.
type rectifier struct {
	dec  *decoder.Decoder
	m    *gozxing.BitMatrix
	luma []byte
	soft []byte // the same picture less sharpened, sampled last (may be nil)
	w, h int
}

// decodeGrid samples the grid h places and decodes it: first the
// binarized pixel under each module's centre, then, when that fails, each
// module's mean luminance against the mean of the modules around it
// (sampleLuma), which a blurred, noisy picture keeps better than any
// pixel threshold.
func (r *rectifier) decodeGrid(h homography, dim int) (QR, bool) {
	qr, ok := r.decodeGridBits(h, dim)
	if ok {
		// The facts from the perspective, not from decodeOne's
		// parallelogram through three finders.
		qr.Bounds = gridBounds(h, dim)
		qr.ModulePx = h.modulePx(float64(dim)/2, float64(dim)/2)
		// On the soft plane (moiré blurred) unless the modules are under
		// 4 px: there the blur lifts a dark module towards the margin's
		// level.
		luma := r.soft
		if luma == nil || qr.ModulePx < 4 {
			luma = r.luma
		}
		qr.QuietZoneModules = float64(lumaQuiet(luma, r.w, r.h)(h, dim))
	}
	return qr, ok
}

func (r *rectifier) decodeGridBits(h homography, dim int) (QR, bool) {
	c := func(mx, my float64) gozxing.ResultPoint {
		x, y := h.at(mx, my)
		return gozxing.NewResultPoint(x, y)
	}
	n := float64(dim)
	points := func() []gozxing.ResultPoint {
		return []gozxing.ResultPoint{c(3.5, n-3.5), c(3.5, 3.5), c(n-3.5, 3.5)}
	}
	if bits, ok := sampleGrid(r.m, h, dim); ok {
		if qr, ok := decodeOne(r.dec, r.m, common.NewDetectorResult(bits, points())); ok {
			return qr, true
		}
	}
	for _, luma := range [][]byte{r.luma, r.soft} {
		if luma == nil {
			continue
		}
		vals, ok := r.sampleLuma(luma, h, dim)
		if !ok {
			return QR{}, false
		}
		for _, beta := range []float64{0, 0.6, 1.2} {
			v := sharpenGrid(vals, dim, beta)
			for _, win := range []int{3, 6} {
				bits := thresholdGrid(v, dim, win)
				if qr, ok := decodeOne(r.dec, r.m, common.NewDetectorResult(bits, points())); ok {
					return qr, true
				}
			}
		}
	}
	return QR{}, false
}

// sampleGrid reads the module at each cell's centre; false when the grid
// runs off the matrix.
func sampleGrid(m *gozxing.BitMatrix, h homography, dim int) (*gozxing.BitMatrix, bool) {
	bits, err := gozxing.NewSquareBitMatrix(dim)
	if err != nil {
		return nil, false
	}
	for y := range dim {
		for x := range dim {
			px, py := h.at(float64(x)+0.5, float64(y)+0.5)
			if !onPlane(px, py, m.GetWidth(), m.GetHeight()) {
				return nil, false
			}
			if m.Get(int(px), int(py)) {
				bits.Set(x, y)
			}
		}
	}
	return bits, true
}

// sampleLuma is each module's luminance (moduleMean).
func (r *rectifier) sampleLuma(luma []byte, h homography, dim int) ([]float64, bool) {
	vals := make([]float64, dim*dim)
	for y := range dim {
		for x := range dim {
			v, ok := moduleMean(luma, r.w, r.h, h, float64(x)+0.5, float64(y)+0.5)
			if !ok {
				return nil, false
			}
			vals[y*dim+x] = v
		}
	}
	return vals, true
}

// moduleMean is the mean luminance of the module centred at (mx, my)
// in g's module coordinates: five bilinear samples, at its centre and a
// fifth of a module towards each corner.
func moduleMean(luma []byte, w, h int, g grid, mx, my float64) (float64, bool) {
	sum := 0.0
	for _, o := range [5][2]float64{{0, 0}, {-0.2, -0.2}, {0.2, -0.2}, {-0.2, 0.2}, {0.2, 0.2}} {
		x, y := g.at(mx+o[0], my+o[1])
		v, ok := bilinearAt(luma, w, h, x-0.5, y-0.5)
		if !ok {
			return 0, false
		}
		sum += v
	}
	return sum / 5, true
}

// bilinearAt interpolates the w x h plane luma at (x, y), pixel centres
// at whole coordinates; false off the plane.
func bilinearAt(luma []byte, w, h int, x, y float64) (float64, bool) {
	if !onPlane(x, y, w-1, h-1) {
		return 0, false
	}
	x0, y0 := math.Floor(x), math.Floor(y)
	xi, yi := int(x0), int(y0)
	if xi < 0 || yi < 0 || xi+1 >= w || yi+1 >= h {
		return 0, false
	}
	fx, fy := x-x0, y-y0
	p := luma[yi*w+xi:]
	q := luma[(yi+1)*w+xi:]
	return (float64(p[0])*(1-fx)+float64(p[1])*fx)*(1-fy) + (float64(q[0])*(1-fx)+float64(q[1])*fx)*fy, true
}

// thresholdGrid calls a module dark when it is darker than the mean of
// the modules within win of it (a summed-area table: one pass whatever
// the window).
func thresholdGrid(vals []float64, dim, win int) *gozxing.BitMatrix {
	bits, _ := gozxing.NewSquareBitMatrix(dim)
	n := dim + 1
	sat := make([]float64, n*n)
	for y := range dim {
		row := 0.0
		for x := range dim {
			row += vals[y*dim+x]
			sat[(y+1)*n+x+1] = sat[y*n+x+1] + row
		}
	}
	for y := range dim {
		y0, y1 := max(0, y-win), min(dim, y+win+1)
		for x := range dim {
			x0, x1 := max(0, x-win), min(dim, x+win+1)
			sum := sat[y1*n+x1] - sat[y0*n+x1] - sat[y1*n+x0] + sat[y0*n+x0]
			if vals[y*dim+x]*float64((y1-y0)*(x1-x0)) < sum {
				bits.Set(x, y)
			}
		}
	}
	return bits
}

// sharpenGrid undoes some of a defocus at the module pitch: each module
// less beta times the mean of its four neighbours' difference from it
// (a blur spreads a module into its neighbours; at half a module's sigma
// a lone module keeps under half its contrast).
func sharpenGrid(vals []float64, dim int, beta float64) []float64 {
	if beta == 0 {
		return vals
	}
	out := make([]float64, len(vals))
	for y := range dim {
		for x := range dim {
			v := vals[y*dim+x]
			sum, n := 0.0, 0
			for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				xx, yy := x+d[0], y+d[1]
				if xx >= 0 && yy >= 0 && xx < dim && yy < dim {
					sum += vals[yy*dim+xx]
					n++
				}
			}
			out[y*dim+x] = v + beta*(v-sum/float64(n))
		}
	}
	return out
}

// lumaQuiet measures a photo's quiet zone on its luminance: each module
// outside the symbol is the mean of five samples, light when above the
// midpoint of the symbol's own dark and light levels (its modules' 10th
// and 90th percentiles). The binarized margin of a photo of a screen is
// speckled by moiré and noise that a phone's reader averages away.
func lumaQuiet(luma []byte, w, h int) func(g grid, dim int) int {
	return func(g grid, dim int) int {
		mean := func(mx, my float64) (float64, bool) { return moduleMean(luma, w, h, g, mx, my) }
		var vals []float64
		for y := range dim {
			for x := range dim {
				if v, ok := mean(float64(x)+0.5, float64(y)+0.5); ok {
					vals = append(vals, v)
				}
			}
		}
		if len(vals) < dim*dim/2 {
			return 0
		}
		slices.Sort(vals)
		threshold := (vals[len(vals)/10] + vals[len(vals)*9/10]) / 2
		return gridQuietZone(g, dim, func(mx, my float64) int {
			v, ok := mean(mx, my)
			switch {
			case !ok:
				return -1
			case v > threshold:
				return 1
			}
			return 0
		})
	}
}
