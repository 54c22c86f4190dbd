package scanner

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"

	"github.com/disintegration/imaging"
	"github.com/makiuchi-d/gozxing"
)

// Limits of the 2x upscale rungs, which cost the most. They run only when
// the full-resolution rungs saw at least minUpscaleCandidates finder pattern
// candidates (a code too fine to decode still shows some; a page without a
// code rarely does) or the image has at most alwaysUpscalePixels (a bare
// code, a camera's frame: cheap to enlarge anyway), and only when the
// enlarged region has at most upscaleMaxPixels (the size of a whole 1920x1080
// image enlarged), which keeps memory well under 150 MB.
const (
	upscaleMaxPixels     = 3840 * 2160
	minUpscaleCandidates = 2
	alwaysUpscalePixels  = 512 * 512
)

// ladder holds the luminance planes the rungs share, built on first use.
type ladder struct {
	img         image.Image
	base, inv   *lumaSource
	up, upInv   *lumaSource
	str, strInv *lumaSource
	strDone     bool

	// candidates are the finder pattern centres the full-resolution rungs
	// saw; the upscale rungs enlarge only the region around them (upRegion).
	candidates []candidate
	upRegion   image.Rectangle // set by upscaleAllowed
	mean       int             // mean luminance, -1 until computed

	// The photo rungs' planes, by level (decode_photo.go).
	photoPl   [4]*photoPlane
	photoDone [4]bool
	isPhoto   int // photoLike: 0 unknown, 1 yes, 2 no

	// The regrid rung's code drawn again at whole pixels (decode_regrid.go).
	regrid       *lumaSource
	regridDone   bool
	regridPitch  float64
	regridOrigin image.Point
}

type candidate struct{ x, y, moduleSize float64 }

func (l *ladder) seen(p gozxing.ResultPoint) {
	ms := 1.0
	if f, ok := p.(interface{ GetEstimatedModuleSize() float64 }); ok {
		ms = f.GetEstimatedModuleSize()
	}
	l.candidates = append(l.candidates, candidate{p.GetX(), p.GetY(), ms})
}

// candidateBox is the bounding box of the finder candidates' centres and
// their largest module size.
func (l *ladder) candidateBox() (minX, minY, maxX, maxY, ms float64) {
	minX, minY = math.Inf(1), math.Inf(1)
	maxX, maxY = math.Inf(-1), math.Inf(-1)
	for _, c := range l.candidates {
		minX, maxX = math.Min(minX, c.x), math.Max(maxX, c.x)
		minY, maxY = math.Min(minY, c.y), math.Max(maxY, c.y)
		ms = math.Max(ms, c.moduleSize)
	}
	return minX, minY, maxX, maxY, ms
}

// region is the part of the image worth enlarging: the candidates' bounding
// box widened by 16 of their modules when it already spans three corners,
// else by 60 (the rest of a code of up to version 13 whose other finder
// patterns were missed, and its quiet zone); the whole image when there are
// no candidates or the region covers most of it anyway.
func (l *ladder) region() image.Rectangle {
	whole := image.Rect(0, 0, l.plain().Width, l.plain().Height)
	if len(l.candidates) == 0 {
		return whole
	}
	minX, minY, maxX, maxY, ms := l.candidateBox()
	pad := 60 * ms
	if len(l.candidates) >= 3 && maxX-minX > 10*ms && maxY-minY > 10*ms {
		pad = 16 * ms // three corners seen: only the finder halves and quiet zone lie outside
	}
	pad = math.Max(32, pad)
	r := image.Rect(int(minX-pad), int(minY-pad), int(maxX+pad), int(maxY+pad)).Intersect(whole)
	if r.Empty() || 2*r.Dx()*r.Dy() > whole.Dx()*whole.Dy() {
		return whole
	}
	return r
}

// stretched is the plain luminance with its contrast stretched to the full
// range (1st to 99th percentile mapped to 0..255), as a camera's auto
// exposure would: gozxing's HybridBinarizer loses dark modules lighter than
// about 155 on white (screen glare). Nil when the image already spans most
// of the range or is flat.
func (l *ladder) stretched() *lumaSource {
	if !l.strDone {
		l.strDone = true
		l.str = l.plain().stretched()
	}
	return l.str
}

func (l *ladder) stretchedInverted() *lumaSource {
	if l.strInv == nil && l.stretched() != nil {
		l.strInv = l.stretched().inverted()
	}
	return l.strInv
}

func (l *ladder) plain() *lumaSource {
	if l.base == nil {
		l.base = newLumaSource(l.img)
	}
	return l.base
}

func (l *ladder) inverted() *lumaSource {
	if l.inv == nil {
		l.inv = l.plain().inverted()
	}
	return l.inv
}

// upscaled is the plain luminance of region() enlarged 2x with a Lanczos
// filter: codes of about 1.5 pixels per module (a screenshot shown at half
// size) have finder patterns too thin for the binarizer until they are
// enlarged.
func (l *ladder) upscaled() *lumaSource {
	if l.up == nil {
		src := l.plain().gray().SubImage(l.upRegion)
		up := imaging.Resize(src, 2*l.upRegion.Dx(), 2*l.upRegion.Dy(), imaging.Lanczos)
		l.up = newLumaSource(up)
	}
	return l.up
}

func (l *ladder) upscaledInverted() *lumaSource {
	if l.upInv == nil {
		l.upInv = l.upscaled().inverted()
	}
	return l.upInv
}

// rung is one attempt: a luminance plane, whether gozxing tries harder, and
// the factor from that plane's pixels back to the input's.
type rung struct {
	name      string
	source    func(*ladder) *lumaSource
	tryHarder bool
	scale     float64
	upscale   bool
	inverted  bool // reads the negative: follows its plain twin in rungs
	regrid    bool // a redrawing of the code: its facts are the redrawing's, mapped back
	photo     bool // reads a photo plane (level)
	level     int
	rectify   bool // read by readRectified: a steep perspective
}

// rungs run in order, cheapest and likeliest first; the first that decodes
// anything wins. Inverted comes before TRY_HARDER because a dark-mode page
// is common and inverting costs one pass over the pixels; on a mostly dark
// image each inverted rung goes first (see ladder.order).
var rungs = []rung{
	{name: "plain", source: (*ladder).plain, scale: 1},
	{name: "inverted", source: (*ladder).inverted, scale: 1, inverted: true},
	{name: "try-harder", source: (*ladder).plain, tryHarder: true, scale: 1},
	{name: "try-harder-inverted", source: (*ladder).inverted, tryHarder: true, scale: 1, inverted: true},
	{name: "stretched", source: (*ladder).stretched, scale: 1},
	{name: "stretched-inverted", source: (*ladder).stretchedInverted, scale: 1, inverted: true},
	{name: "upscale-2x", source: (*ladder).upscaled, scale: 0.5, upscale: true},
	{name: "upscale-2x-inverted", source: (*ladder).upscaledInverted, scale: 0.5, upscale: true, inverted: true},
	{name: "regrid", source: (*ladder).regridded, scale: 1, regrid: true},
}

// The photo rungs close the ladder, at the picture's scale and then at
// each smaller one (photoLongSides): the filtered plane, then the same
// read under a steep perspective.
func init() {
	for k := 0; k <= len(photoLongSides); k++ {
		suffix := ""
		if k > 0 {
			suffix = fmt.Sprintf("-%dpx", photoLongSides[k-1])
		}
		rungs = append(rungs,
			rung{name: "photo" + suffix, source: photoSource(k), tryHarder: true, scale: 1, photo: true, level: k},
			rung{name: "photo-inverted" + suffix, source: photoInvSource(k), tryHarder: true, scale: 1, inverted: true, photo: true, level: k},
			rung{name: "rectified" + suffix, source: photoSource(k), tryHarder: true, scale: 1, photo: true, level: k, rectify: true},
			rung{name: "rectified-inverted" + suffix, source: photoInvSource(k), tryHarder: true, scale: 1, inverted: true, photo: true, level: k, rectify: true},
		)
	}
}

// skipRungs leaves rungs out, for the tests that measure what a rung
// adds. Never set outside tests.
var skipRungs = map[string]bool{}

// runLadder tries each rung until one finds a code, checking ctx before
// each. When a full-resolution rung fails having seen finder patterns with
// small modules (under smallModulePx), the upscale rungs are tried next
// rather than last. It returns ErrNoCode when no rung finds a code.
func runLadder(ctx context.Context, img image.Image) ([]QR, error) {
	l := &ladder{img: img, mean: -1}
	p := l.plain()
	if p.Width*p.Height <= photoShrinkPixels || !l.photoLike() {
		return runRungs(ctx, l, img.Bounds().Min, 1, nil)
	}
	// A large photo is read at a fraction of its size (box-averaged by a
	// whole factor): its modules are wide, and every plane of it costs its
	// pixel count. Up to photoFullResPixels the plain rungs read it at full
	// size first: a small code in a large picture with a noisy background
	// (a screenshot of a photo) needs every pixel.
	if p.Width*p.Height <= photoFullResPixels {
		full := []string{"plain", "inverted", "try-harder", "try-harder-inverted"}
		qrs, err := runRungs(ctx, l, img.Bounds().Min, 1, func(r rung) bool { return slices.Contains(full, r.name) })
		if (err != nil && !errors.Is(err, ErrNoCode)) || len(qrs) > 0 {
			return qrs, err
		}
	}
	shrink := 1
	for p.Width*p.Height > photoShrinkPixels*shrink*shrink {
		shrink++
	}
	small := &ladder{img: boxShrink(p, shrink), mean: -1, isPhoto: 1}
	return runRungs(ctx, small, img.Bounds().Min, shrink, nil)
}

// runRungs runs the ladder on l (those rungs only allows, nil: all), the
// results scaled by shrink and moved to origin, the input's.
func runRungs(ctx context.Context, l *ladder, origin image.Point, shrink int, only func(rung) bool) ([]QR, error) {
	done := make([]bool, len(rungs))
	for i, r := range rungs {
		done[i] = only != nil && !only(r)
	}
	try := func(i int) ([]QR, error) {
		done[i] = true
		r := rungs[i]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if r.upscale && !l.upscaleAllowed() {
			return nil, nil
		}
		if skipRungs[r.name] {
			return nil, nil
		}
		src := r.source(l)
		if src == nil {
			return nil, nil
		}
		seen := l.seen
		if r.upscale || r.regrid || r.photo {
			seen = nil
		}
		// The photo planes' soft twin: what the rectifier samples.
		var soft gozxing.LuminanceSource
		if r.photo {
			soft = l.photoAt(r.level).soft(r.inverted)
		}
		var qrs []QR
		var err error
		if r.rectify {
			qrs, err = readRectified(ctx, src, soft, r.tryHarder)
		} else {
			qrs, err = readCodes(src, r.tryHarder, seen)
		}
		if err != nil || len(qrs) == 0 {
			return nil, nil
		}
		if len(qrs) == 1 && !r.rectify && !r.upscale && !r.regrid && l.photoLike() {
			// A photo's code is seen under perspective: its facts (bounds,
			// module size, quiet zone) come from the rectified grid when
			// that reads the same code, not from a parallelogram.
			if rq, err := readRectified(ctx, src, soft, r.tryHarder); err == nil && len(rq) == 1 && rq[0].Text == qrs[0].Text {
				qrs[0].Bounds, qrs[0].ModulePx, qrs[0].QuietZoneModules = rq[0].Bounds, rq[0].ModulePx, rq[0].QuietZoneModules
			}
		}
		for i := range qrs {
			q := &qrs[i]
			q.Strategy = r.name
			if r.scale != 1 {
				q.ModulePx *= r.scale
				q.Bounds = scaleRect(q.Bounds, r.scale)
			}
			if r.upscale {
				q.Bounds = q.Bounds.Add(l.upRegion.Min)
			}
			if r.photo {
				pl := l.photoAt(r.level)
				q.ModulePx /= pl.scale
				q.Bounds = scaleRect(q.Bounds, 1/pl.scale).Add(pl.region.Min)
			}
			if r.regrid {
				// Drawn at 4 px a module after a 4-module quiet zone.
				f := l.regridPitch / 4
				q.ModulePx = l.regridPitch
				q.Bounds = scaleRect(q.Bounds.Sub(image.Pt(16, 16)), f).Add(l.regridOrigin)
			}
			if shrink > 1 {
				q.ModulePx *= float64(shrink)
				q.Bounds = scaleRect(q.Bounds, float64(shrink))
			}
			q.Bounds = q.Bounds.Add(origin)
		}
		return qrs, nil
	}
	for _, i := range l.order() {
		r := rungs[i]
		if done[i] {
			continue
		}
		qrs, err := try(i)
		if err != nil || len(qrs) > 0 {
			return qrs, err
		}
		if r.upscale || !l.smallModules() {
			continue
		}
		for _, j := range l.order() {
			if rungs[j].upscale && !done[j] {
				if qrs, err := try(j); err != nil || len(qrs) > 0 {
					return qrs, err
				}
			}
		}
	}
	return nil, ErrNoCode
}

// upscaleAllowed decides, once the full-resolution rungs have run, whether
// the upscale rungs may run, and fixes the region they enlarge.
func (l *ladder) upscaleAllowed() bool {
	if l.upRegion.Empty() {
		l.upRegion = l.region()
	}
	p := l.plain()
	if len(l.candidates) < minUpscaleCandidates && p.Width*p.Height > alwaysUpscalePixels {
		return false
	}
	return 4*l.upRegion.Dx()*l.upRegion.Dy() <= upscaleMaxPixels
}

// order is the order to try the rungs in: as listed, or, on a mostly dark
// image (a dark-mode page, mean luminance under 100), each inverted rung
// before its plain twin.
func (l *ladder) order() []int {
	idx := make([]int, len(rungs))
	for i := range idx {
		idx[i] = i
	}
	if l.meanLuma() < 100 {
		for i := 0; i+1 < len(idx); i++ {
			if !rungs[idx[i]].inverted && rungs[idx[i+1]].inverted {
				idx[i], idx[i+1] = idx[i+1], idx[i]
				i++
			}
		}
	}
	// A large photo is read at the smaller scales first: its modules are
	// wide, and the smaller planes cost less. (A screenshot has no smaller
	// planes, so the order needs no photoLike here, off the path of a
	// code the first rung reads.)
	if p := l.plain(); max(p.Width, p.Height) > 1300 {
		slices.SortStableFunc(idx, func(a, b int) int {
			pa, pb := rungs[a].photo && rungs[a].level == 0, rungs[b].photo && rungs[b].level == 0
			switch {
			case pa && !pb && rungs[b].photo:
				return 1
			case pb && !pa && rungs[a].photo:
				return -1
			}
			return 0
		})
	}
	return idx
}

// meanLuma samples every 7th pixel of the plain luminance.
func (l *ladder) meanLuma() int {
	if l.mean < 0 {
		p := l.plain().pix
		sum, n := 0, 0
		for i := 0; i < len(p); i += 7 {
			sum += int(p[i])
			n++
		}
		l.mean = 255
		if n > 0 {
			l.mean = sum / n
		}
	}
	return l.mean
}

// smallModulePx is the estimated module size under which finder pattern
// candidates count as "small modules": the upscale rungs move up the ladder.
const smallModulePx = 2.5

func (l *ladder) smallModules() bool {
	n := 0
	for _, c := range l.candidates {
		if c.moduleSize < smallModulePx {
			n++
		}
	}
	return n >= minUpscaleCandidates
}

func scaleRect(r image.Rectangle, s float64) image.Rectangle {
	return image.Rect(
		int(math.Floor(float64(r.Min.X)*s)), int(math.Floor(float64(r.Min.Y)*s)),
		int(math.Ceil(float64(r.Max.X)*s)), int(math.Ceil(float64(r.Max.Y)*s)))
}
