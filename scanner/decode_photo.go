package scanner

import (
	"image"
	"math"

	"github.com/disintegration/imaging"
)

// photoMaxPixels bounds the region the photo rung filters (about 50 MB
// of working copies).
const photoMaxPixels = 3 << 20

// photoShrinkPixels is the size over which a photo is shrunk (by a whole
// factor, to at most this many pixels) before the rungs after the plain
// ones read it: a 12-megapixel phone photo to 3 megapixels. Over
// photoFullResPixels the plain rungs are skipped at full size too, keeping
// peak memory well under 200 MB for the largest accepted picture.
const (
	photoShrinkPixels  = 4 << 20
	photoFullResPixels = 16 << 20
)

// boxShrink averages p over f by f blocks.
func boxShrink(p *lumaSource, f int) *image.Gray {
	w, h := p.Width/f, p.Height/f
	out := image.NewGray(image.Rect(0, 0, max(1, w), max(1, h)))
	sums := make([]int, w)
	for y := range h {
		clear(sums)
		for dy := range f {
			row := p.pix[(y*f+dy)*p.Width:]
			for x := range w {
				for dx := range f {
					sums[x] += int(row[x*f+dx])
				}
			}
		}
		for x := range w {
			out.Pix[y*out.Stride+x] = uint8(sums[x] / (f * f))
		}
	}
	return out
}

// photoLongSides are the long sides of the smaller planes a photo is also
// read at, after its own scale: a phone's 12-megapixel photo gives a
// code's modules 20 or 30 pixels, too wide for the binarizer's windows
// and for the filters' module-sized kernels, which were made for 4 to 8.
var photoLongSides = []int{1000, 640, 420}

// photoPlane is the photo rungs' picture at one scale.
type photoPlane struct {
	plane, inv *lumaSource
	flat       *lumaSource // before sharpening: what the rectified rungs sample
	flatInv    *lumaSource
	region     image.Rectangle
	scale      float64 // the plane's pixels per input pixel
}

// soft is the plane before sharpening, or its negative.
func (pl *photoPlane) soft(inverted bool) *lumaSource {
	if !inverted {
		return pl.flat
	}
	if pl.flatInv == nil {
		pl.flatInv = pl.flat.inverted()
	}
	return pl.flatInv
}

// photoAt is the photo plane at level k (0: the picture's own scale, or
// shrunk to photoMaxPixels; k > 0: photoLongSides[k-1]), nil when that
// level does not apply.
//
// A plane is the picture as a phone photo of a screen needs it: the
// lighting flattened (each pixel divided by its neighbourhood's
// brightness, so a dim far corner reads like the near one), the moiré's
// fine bands blurred away, the defocus sharpened back (unsharp masking),
// and the contrast stretched. gozxing's detector then finds the finder
// patterns and undoes a mild perspective itself; readRectified a steep one.
func (l *ladder) photoAt(k int) *photoPlane {
	if l.photoDone[k] {
		return l.photoPl[k]
	}
	l.photoDone[k] = true
	p := l.plain()
	region, scale := image.Rect(0, 0, p.Width, p.Height), 1.0
	photo := l.photoLike()
	if p.Width*p.Height > alwaysUpscalePixels && !photo {
		// A large screenshot is worked on only around the finder patterns
		// the other rungs saw (too few seen: no code to rescue).
		if len(l.candidates) < minUpscaleCandidates {
			return nil
		}
		region = l.photoArea()
	}
	if region.Dx() < 64 || region.Dy() < 64 {
		return nil
	}
	if n := region.Dx() * region.Dy(); n > photoMaxPixels {
		scale = math.Sqrt(float64(photoMaxPixels) / float64(n))
	}
	if k > 0 {
		// Smaller planes only for a photo larger than them by a third.
		long := float64(max(region.Dx(), region.Dy()))
		target := float64(photoLongSides[k-1])
		if !photo || long*scale < 1.3*target {
			return nil
		}
		scale = target / long
	}
	// Flattening divides by the background: work on the picture with a
	// light background (a dark-mode page is read as its negative).
	src := p
	if borderMean(p.gray()) < 100 {
		src = l.inverted()
	}
	var g image.Image = src.gray().SubImage(region)
	if scale != 1 {
		g = imaging.Resize(g, max(1, int(float64(region.Dx())*scale)), 0, imaging.Box)
	}
	out, flat := photoFilter(g)
	pl := &photoPlane{plane: newLumaSource(out), flat: newLumaSource(flat), region: region, scale: scale}
	if s := pl.plane.stretched(); s != nil {
		pl.plane = s
	}
	l.photoPl[k] = pl
	return pl
}

// photoFilter returns g flattened, de-moiréd and sharpened, and the
// flattened picture before sharpening.
func photoFilter(g image.Image) (out, flat *image.Gray) {
	gb := g.Bounds()
	b := image.Rect(0, 0, gb.Dx(), gb.Dy())
	// Flat field: the local brightness over a window several modules
	// wide (a sixteenth of the picture), computed at an eighth of the
	// size (the window is wide and smooth).
	r := float64(max(8, min(b.Dx(), b.Dy())/16))
	small := imaging.Resize(g, max(8, b.Dx()/8), max(8, b.Dy()/8), imaging.Box)
	bg := grayOf(imaging.Resize(imaging.Blur(small, r/8), b.Dx(), b.Dy(), imaging.Linear))
	soft := grayOf(imaging.Blur(g, 1.0))
	flat = image.NewGray(b)
	for i := range soft.Pix {
		v := 200 * float64(soft.Pix[i]) / math.Max(16, float64(bg.Pix[i]))
		flat.Pix[i] = uint8(math.Min(255, v))
	}
	// Unsharp mask against the defocus: a strong one at about a module's
	// scale (chosen on the generated photos of photo_test.go).
	blurred := grayOf(imaging.Blur(flat, 1.8))
	out = image.NewGray(b)
	for i := range flat.Pix {
		v := float64(flat.Pix[i]) + 3.0*(float64(flat.Pix[i])-float64(blurred.Pix[i]))
		out.Pix[i] = uint8(math.Max(0, math.Min(255, v)))
	}
	return out, flat
}

// photoSource and photoInvSource are the rungs' planes at level k.
func photoSource(k int) func(*ladder) *lumaSource {
	return func(l *ladder) *lumaSource {
		if pl := l.photoAt(k); pl != nil {
			return pl.plane
		}
		return nil
	}
}

func photoInvSource(k int) func(*ladder) *lumaSource {
	return func(l *ladder) *lumaSource {
		pl := l.photoAt(k)
		if pl == nil {
			return nil
		}
		if pl.inv == nil {
			pl.inv = pl.plane.inverted()
		}
		return pl.inv
	}
}

// photoLike tells a photo from a screenshot by its noise: in a
// screenshot (even a JPEG one) most pixels equal their right-hand
// neighbour, in a camera's picture few do. A photo is filtered whole
// (shrunk to photoMaxPixels): its far finder is often one no other rung
// saw.
func (l *ladder) photoLike() bool {
	if l.isPhoto != 0 {
		return l.isPhoto == 1
	}
	l.isPhoto = 2
	p := l.plain()
	same, n := 0, 0
	for y := 0; y < p.Height; y += 3 {
		row := p.pix[y*p.Width : (y+1)*p.Width]
		for x := 1; x < len(row); x += 2 {
			if row[x] == row[x-1] {
				same++
			}
			n++
		}
	}
	if n > 0 && same*10 < n*3 {
		l.isPhoto = 1
	}
	return l.isPhoto == 1
}

// photoArea is the part of a large screenshot the photo rungs work on: the
// finder candidates' bounding box grown on every side by its own larger
// side, and by at least 40 of their modules. Under a steep perspective
// the plain planes often see only the near finders (and a false one from
// the data); the far one lies within a code's width of them.
func (l *ladder) photoArea() image.Rectangle {
	whole := image.Rect(0, 0, l.plain().Width, l.plain().Height)
	minX, minY, maxX, maxY, ms := l.candidateBox()
	pad := math.Max(math.Max(maxX-minX, maxY-minY), 40*ms)
	return image.Rect(int(minX-pad), int(minY-pad), int(maxX+pad), int(maxY+pad)).Intersect(whole)
}

// borderMean is the mean of the picture's outermost rows and columns: the
// page around the code.
func borderMean(g *image.Gray) int {
	b := g.Bounds()
	sum, n := 0, 0
	for x := b.Min.X; x < b.Max.X; x++ {
		sum += int(g.GrayAt(x, b.Min.Y).Y) + int(g.GrayAt(x, b.Max.Y-1).Y)
		n += 2
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		sum += int(g.GrayAt(b.Min.X, y).Y) + int(g.GrayAt(b.Max.X-1, y).Y)
		n += 2
	}
	return sum / n
}
