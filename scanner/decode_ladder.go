package scanner

import (
	"context"
	"image"
	"math"

	"github.com/disintegration/imaging"
)

// upscaleMaxPixels bounds the 2x upscale rung: the upscaled image may have
// at most this many pixels (a 1920x1080 input becomes 3840x2160), which keeps
// a decode of a 4K screenshot's half-size version well under 150 MB.
const upscaleMaxPixels = 3840 * 2160

// minUpscaleCandidates is how many finder pattern candidates the
// full-resolution rungs must have seen before the (costly) upscale rungs
// run: a code too fine to decode still shows some of its finder patterns,
// while a page without a code rarely does.
// Images of at most alwaysUpscalePixels (a code framed by a camera, a
// bare code) are cheap to enlarge and always get the upscale rungs.
const (
	minUpscaleCandidates = 2
	alwaysUpscalePixels  = 512 * 512
)

// ladder holds the luminance planes the rungs share, built on first use.
type ladder struct {
	img                image.Image
	base, inv          *lumaSource
	up, upInv          *lumaSource
	str, strInv        *lumaSource
	strDone            bool
	upscaleUnavailable bool
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

// upscaled is the plain luminance enlarged 2x with a Lanczos filter: codes
// of about 1.5 pixels per module (a screenshot shown at half size) have
// finder patterns too thin for the binarizer until they are enlarged.
func (l *ladder) upscaled() *lumaSource {
	if l.up == nil {
		p := l.plain()
		up := imaging.Resize(p.gray(), 2*p.Width, 2*p.Height, imaging.Lanczos)
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
}

// rungs run in order, cheapest and likeliest first; the first that decodes
// anything wins. Inverted comes before TRY_HARDER because a dark-mode page
// is common and inverting costs one pass over the pixels.
var rungs = []rung{
	{name: "plain", source: (*ladder).plain, scale: 1},
	{name: "inverted", source: (*ladder).inverted, scale: 1},
	{name: "try-harder", source: (*ladder).plain, tryHarder: true, scale: 1},
	{name: "try-harder-inverted", source: (*ladder).inverted, tryHarder: true, scale: 1},
	{name: "stretched", source: (*ladder).stretched, scale: 1},
	{name: "stretched-inverted", source: (*ladder).stretchedInverted, scale: 1},
	{name: "upscale-2x", source: (*ladder).upscaled, scale: 0.5, upscale: true},
	{name: "upscale-2x-inverted", source: (*ladder).upscaledInverted, scale: 0.5, upscale: true},
}

// runLadder tries each rung until one finds a code, checking ctx before
// each. It returns ErrNoCode when none does.
func runLadder(ctx context.Context, img image.Image) ([]QR, error) {
	b := img.Bounds()
	l := &ladder{img: img, upscaleUnavailable: 4*b.Dx()*b.Dy() > upscaleMaxPixels}
	candidates := 0
	seen := func() { candidates++ }
	for _, r := range rungs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if r.upscale && (l.upscaleUnavailable || candidates < minUpscaleCandidates && b.Dx()*b.Dy() > alwaysUpscalePixels) {
			continue
		}
		src := r.source(l)
		if src == nil {
			continue
		}
		qrs, err := readCodes(src, r.tryHarder, seen)
		if err != nil || len(qrs) == 0 {
			continue
		}
		for i := range qrs {
			q := &qrs[i]
			q.Strategy = r.name
			if r.scale != 1 {
				q.ModulePx *= r.scale
				q.Bounds = scaleRect(q.Bounds, r.scale)
			}
			q.Bounds = q.Bounds.Add(b.Min)
		}
		return qrs, nil
	}
	return nil, ErrNoCode
}

func scaleRect(r image.Rectangle, s float64) image.Rectangle {
	return image.Rect(
		int(math.Floor(float64(r.Min.X)*s)), int(math.Floor(float64(r.Min.Y)*s)),
		int(math.Ceil(float64(r.Max.X)*s)), int(math.Ceil(float64(r.Max.Y)*s)))
}
