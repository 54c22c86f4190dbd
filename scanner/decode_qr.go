package scanner

import (
	"errors"
	"image"
	"math"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/common"
	multidetector "github.com/makiuchi-d/gozxing/multi/qrcode/detector"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/detector"
)

// maxQuietZone is where quiet zone measurement stops counting (modules).
const maxQuietZone = 10

// readCodes finds and decodes every QR code in src, binarized with gozxing's
// HybridBinarizer. It runs the multi-code detector and, when that decodes
// nothing, the single-code one (which accepts some layouts the multi
// detector rejects). Geometry is in src's pixel coordinates.
//
// It reads gozxing's detector and decoder directly rather than through
// qrcode.QRCodeReader so that the symbol's dimension (hence its version) and
// the finder pattern centres (hence pixels per module) stay available.
//
// seen, when not nil, is called for every candidate finder pattern centre
// the detectors find, decoded or not.
func readCodes(src gozxing.LuminanceSource, tryHarder bool, seen func(gozxing.ResultPoint)) ([]QR, error) {
	bin := gozxing.NewHybridBinarizer(src)
	matrix, err := bin.GetBlackMatrix()
	if err != nil {
		return nil, err
	}
	hints := map[gozxing.DecodeHintType]interface{}{}
	if tryHarder {
		hints[gozxing.DecodeHintType_TRY_HARDER] = true
	}
	// The multi detector scans the same rows as the single one: count what
	// it sees, and skip the single detector when it saw under three centres.
	count := 0
	multiHints := map[gozxing.DecodeHintType]interface{}{
		gozxing.DecodeHintType_NEED_RESULT_POINT_CALLBACK: gozxing.ResultPointCallback(func(p gozxing.ResultPoint) {
			count++
			if seen != nil {
				seen(p)
			}
		}),
	}
	if tryHarder {
		multiHints[gozxing.DecodeHintType_TRY_HARDER] = true
	}
	dec := decoder.NewDecoder()
	var out []QR
	if results, err := multidetector.NewMultiDetector(matrix).DetectMulti(multiHints); err == nil {
		for _, dr := range results {
			if qr, ok := decodeOne(dec, matrix, dr); ok {
				out = appendUnique(out, qr)
			}
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	if count < 3 {
		return nil, errTooFewFinders
	}
	dr, err := detector.NewDetector(matrix).Detect(hints)
	if err != nil {
		return nil, err
	}
	if qr, ok := decodeOne(dec, matrix, dr); ok {
		return []QR{qr}, nil
	}
	return nil, errNotDecoded
}

var (
	errNotDecoded    = errors.New("qr symbol detected but not decoded")
	errTooFewFinders = errors.New("fewer than three finder patterns")
)

// decodeOne decodes one detected symbol and measures it.
func decodeOne(dec *decoder.Decoder, matrix *gozxing.BitMatrix, dr *common.DetectorResult) (QR, bool) {
	bits := dr.GetBits()
	res, err := dec.Decode(bits, nil)
	if err != nil {
		return QR{}, false
	}
	points := dr.GetPoints()
	if md, ok := res.GetOther().(*decoder.QRCodeDecoderMetaData); ok {
		md.ApplyMirroredCorrection(points)
	}
	dim := bits.GetWidth()
	qr := QR{
		Text:    res.GetText(),
		Version: (dim - 17) / 4,
		ECLevel: res.GetECLevel(),
	}
	if len(points) >= 3 {
		g := symbolGeometry(points[1], points[2], points[0], dim)
		qr.Bounds = g.bounds()
		qr.ModulePx = g.modulePx()
		qr.QuietZoneModules = float64(gridQuietZone(g, dim, matrixSampler(g, matrix)))
	}
	return qr, true
}

// appendUnique appends qr unless the same text was already found at an
// overlapping place (the multi detector may report one symbol twice).
func appendUnique(list []QR, qr QR) []QR {
	for _, q := range list {
		if q.Text == qr.Text && q.Bounds.Overlaps(qr.Bounds) {
			return list
		}
	}
	return append(list, qr)
}

// geometry maps module coordinates (0..dim, the symbol without its quiet
// zone) to pixels: p = origin + mx*u + my*v.
type geometry struct {
	origin, u, v [2]float64
	dim          int
}

// symbolGeometry derives the module grid from the three finder pattern
// centres, which sit 3.5 modules in from the symbol's corners.
func symbolGeometry(topLeft, topRight, bottomLeft gozxing.ResultPoint, dim int) geometry {
	span := float64(dim - 7)
	tl := [2]float64{topLeft.GetX(), topLeft.GetY()}
	u := [2]float64{(topRight.GetX() - tl[0]) / span, (topRight.GetY() - tl[1]) / span}
	v := [2]float64{(bottomLeft.GetX() - tl[0]) / span, (bottomLeft.GetY() - tl[1]) / span}
	origin := [2]float64{tl[0] - 3.5*u[0] - 3.5*v[0], tl[1] - 3.5*u[1] - 3.5*v[1]}
	return geometry{origin: origin, u: u, v: v, dim: dim}
}

func (g geometry) at(mx, my float64) (float64, float64) {
	return g.origin[0] + mx*g.u[0] + my*g.v[0], g.origin[1] + mx*g.u[1] + my*g.v[1]
}

// modulePx is the mean length of one module along the two axes.
func (g geometry) modulePx() float64 {
	return (math.Hypot(g.u[0], g.u[1]) + math.Hypot(g.v[0], g.v[1])) / 2
}

// bounds is the pixel rectangle covering the symbol's four corners.
func (g geometry) bounds() image.Rectangle { return gridBounds(g, g.dim) }

// matrixSampler samples the binarized matrix at module centres.
func matrixSampler(g grid, m *gozxing.BitMatrix) func(mx, my float64) int {
	w, h := m.GetWidth(), m.GetHeight()
	return func(mx, my float64) int {
		x, y := g.at(mx, my)
		if !onPlane(x, y, w, h) {
			return -1
		}
		if m.Get(int(x), int(y)) {
			return 0
		}
		return 1
	}
}

// grid maps a symbol's module coordinates to pixels: geometry (three
// finders, affine) or homography (a perspective).
type grid interface {
	at(mx, my float64) (float64, float64)
}

// gridBounds is the pixel rectangle holding the symbol's four corners.
func gridBounds(g grid, dim int) image.Rectangle {
	d := float64(dim)
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, c := range [][2]float64{{0, 0}, {d, 0}, {0, d}, {d, d}} {
		x, y := g.at(c[0], c[1])
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		minY, maxY = math.Min(minY, y), math.Max(maxY, y)
	}
	return image.Rect(int(math.Floor(minX)), int(math.Floor(minY)), int(math.Ceil(maxX)), int(math.Ceil(maxY)))
}

// gridQuietZone counts, on each side, the rings of modules just outside
// the symbol that sample light, and returns the smallest count (at most
// maxQuietZone). sample is 1 for a light module, 0 for a dark one, -1 off
// the image: a ring that leaves the image ends the count, so a code
// cropped at the image edge has the margin the image gives it.
func gridQuietZone(g grid, dim int, sample func(mx, my float64) int) int {
	d := float64(dim)
	best := maxQuietZone
	// side: 0 top, 1 bottom, 2 left, 3 right
	for side := 0; side < 4; side++ {
		n := 0
		for k := 1; k <= best; k++ {
			off := float64(k) - 0.5 // centre of the k-th module outside the edge
			ok := true
			for t := -float64(k) + 0.5; t < d+float64(k) && ok; t++ {
				switch side {
				case 0:
					ok = sample(t, -off) == 1
				case 1:
					ok = sample(t, d+off) == 1
				case 2:
					ok = sample(-off, t) == 1
				case 3:
					ok = sample(d+off, t) == 1
				}
			}
			if !ok {
				break
			}
			n = k
		}
		if n < best {
			best = n
		}
	}
	return best
}
