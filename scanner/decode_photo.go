package scanner

import (
	"image"
	"math"

	"github.com/disintegration/imaging"
)

// photoMaxPixels bounds the region the photo rung filters (about 50 MB
// of working copies).
const photoMaxPixels = 3 << 20

// photoed is the rung for a phone photo of a screen: the lighting
// flattened (each pixel divided by its neighbourhood's brightness, so a
// dim far corner reads like the near one), the moiré's fine bands blurred
// away, the defocus sharpened back (unsharp masking), and the contrast
// stretched. gozxing's detector then finds the finder patterns and undoes
// the perspective itself.
func (l *ladder) photoed() *lumaSource {
	if l.photoDone {
		return l.photo
	}
	l.photoDone = true
	// A large picture is worked on only around the finder patterns the
	// other rungs saw (too few seen: no code to rescue).
	p := l.plain()
	l.photoRegion, l.photoScale = image.Rect(0, 0, p.Width, p.Height), 1
	if p.Width*p.Height > alwaysUpscalePixels {
		if len(l.candidates) < minUpscaleCandidates {
			return nil
		}
		l.photoRegion = l.region()
	}
	if l.photoRegion.Dx() < 64 || l.photoRegion.Dy() < 64 {
		return nil
	}
	// Flattening divides by the background: work on the picture with a
	// light background (a dark-mode page is read as its negative).
	src := p
	if borderMean(p.gray()) < 100 {
		src = l.inverted()
	}
	var g image.Image = src.gray().SubImage(l.photoRegion)
	// The filters work in 4 bytes a pixel: over photoMaxPixels the region
	// is shrunk first (a photo's modules are many pixels wide).
	if n := l.photoRegion.Dx() * l.photoRegion.Dy(); n > photoMaxPixels {
		l.photoScale = math.Sqrt(float64(photoMaxPixels) / float64(n))
		g = imaging.Resize(g, int(float64(l.photoRegion.Dx())*l.photoScale), 0, imaging.Box)
	}
	gb := g.Bounds()
	b := image.Rect(0, 0, gb.Dx(), gb.Dy())
	// Flat field: the local brightness over a window several modules
	// wide (a sixteenth of the picture), computed at an eighth of the
	// size (the window is wide and smooth).
	r := float64(max(8, min(b.Dx(), b.Dy())/16))
	small := imaging.Resize(g, max(8, b.Dx()/8), max(8, b.Dy()/8), imaging.Box)
	bg := grayOf(imaging.Resize(imaging.Blur(small, r/8), b.Dx(), b.Dy(), imaging.Linear))
	soft := grayOf(imaging.Blur(g, 1.0))
	flat := image.NewGray(b)
	for i := range soft.Pix {
		v := 200 * float64(soft.Pix[i]) / math.Max(16, float64(bg.Pix[i]))
		flat.Pix[i] = uint8(math.Min(255, v))
	}
	// Unsharp mask against the defocus: a strong one at about a module's
	// scale (chosen on the generated photos of photo_test.go).
	blurred := grayOf(imaging.Blur(flat, 1.8))
	out := image.NewGray(b)
	for i := range flat.Pix {
		v := float64(flat.Pix[i]) + 3.0*(float64(flat.Pix[i])-float64(blurred.Pix[i]))
		out.Pix[i] = uint8(math.Max(0, math.Min(255, v)))
	}
	l.photo = newLumaSource(out)
	if s := l.photo.stretched(); s != nil {
		l.photo = s
	}
	return l.photo
}

func (l *ladder) photoedInverted() *lumaSource {
	if l.photoInv == nil && l.photoed() != nil {
		l.photoInv = l.photoed().inverted()
	}
	return l.photoInv
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
