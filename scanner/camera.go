package scanner

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand"
	"slices"
	"strings"

	"github.com/disintegration/imaging"
)

// Camera degrades an image the way a phone or webcam pointed at a screen
// would, before decoding: perspective tilt, rotation, the resolution at its
// distance, defocus blur, glare (lost contrast) and sensor noise. The zero
// value of each field leaves that aspect alone. Apply is deterministic for a
// given Seed.
type Camera struct {
	Name string
	// ModulePx is the size of one module in the camera's pixels at its
	// distance; the image is resampled (Lanczos) so the code has this size.
	// Zero keeps the image's own scale.
	ModulePx float64
	// BlurSigma is the standard deviation of a Gaussian defocus blur, in
	// the camera's pixels.
	BlurSigma float64
	// Noise is the standard deviation of additive sensor noise, in 8-bit
	// grey levels.
	Noise float64
	// RotateDeg rotates the picture in its plane, counter-clockwise.
	RotateDeg float64
	// TiltDeg turns the screen about its vertical axis away from the camera
	// (perspective: the far side shrinks), as when a phone is held off to one side.
	TiltDeg float64
	// PitchDeg turns the screen about its horizontal axis (its top edge
	// away from the camera when positive), as when a phone is held above
	// or below a screen; with TiltDeg, the two angles of a phone off to
	// one corner.
	PitchDeg float64
	// Contrast is the fraction of the original contrast left after screen
	// glare washes dark towards light: 1 (or 0, unset) keeps it, 0.3 leaves 30%.
	Contrast float64
	// Moire is the amplitude, in 8-bit grey levels, of the interference a
	// camera's sensor grid makes with a screen's pixel grid: fine diagonal
	// bands across the picture.
	Moire float64
	// Lighting is how much darker the far corner is than the near one
	// (0.5: half as bright), as a monitor photographed at an angle.
	Lighting float64
	// JPEGQuality re-encodes the picture as a phone saves it (0: not).
	JPEGQuality int
	// Seed makes the noise repeatable.
	Seed int64
}

// cameras are the named profiles; values are for a code on a laptop screen
// held at a comfortable distance.
var cameras = []Camera{
	{Name: "current-phone", ModulePx: 4, BlurSigma: 0.6, Noise: 4, RotateDeg: 4, TiltDeg: 10, Contrast: 0.85, Seed: 1},
	{Name: "budget-phone", ModulePx: 3.5, BlurSigma: 0.8, Noise: 8, RotateDeg: 5, TiltDeg: 10, Contrast: 0.7, Seed: 1},
	{Name: "laptop-webcam", ModulePx: 2.5, BlurSigma: 0.8, Noise: 8, RotateDeg: 1, Contrast: 0.7, Seed: 1},
	// A phone photo of a monitor: steep, defocused, with moiré, a dim far
	// corner and the phone's JPEG.
	{Name: "photo-of-screen", ModulePx: 5, BlurSigma: 1.4, Noise: 6, RotateDeg: 7, TiltDeg: 35, Contrast: 0.6,
		Moire: 28, Lighting: 0.5, JPEGQuality: 60, Seed: 1},
}

// Cameras returns the named camera profiles.
func Cameras() []Camera { return slices.Clone(cameras) }

// CameraByName returns the profile called name.
func CameraByName(name string) (Camera, error) {
	for _, c := range cameras {
		if c.Name == name {
			return c, nil
		}
	}
	names := make([]string, len(cameras))
	for i, c := range cameras {
		names[i] = c.Name
	}
	return Camera{}, fmt.Errorf("unknown camera profile %q (known: %s)", name, strings.Join(names, ", "))
}

func (c *Camera) String() string {
	s := fmt.Sprintf("%s (%.2g px/module, blur %.2g, noise %.2g, rotation %.3g°, tilt %.3g°", c.Name, c.ModulePx, c.BlurSigma, c.Noise, c.RotateDeg, c.TiltDeg)
	if c.PitchDeg != 0 {
		s += fmt.Sprintf(", pitch %.3g°", c.PitchDeg)
	}
	s += fmt.Sprintf(", contrast %.0f%%", 100*c.contrast())
	if c.Moire > 0 || c.Lighting > 0 || c.JPEGQuality > 0 {
		s += fmt.Sprintf(", moiré %.2g, far corner %.0f%% darker, JPEG %d", c.Moire, 100*c.Lighting, c.JPEGQuality)
	}
	return s + fmt.Sprintf(", seed %d)", c.Seed)
}

func (c *Camera) contrast() float64 {
	if c.Contrast <= 0 || c.Contrast > 1 {
		return 1
	}
	return c.Contrast
}

// Apply returns img as this camera would see it. To resample to ModulePx it
// first finds the code in img (DecodeImage with default options) and frames
// it: the result is the code and ten modules around it. When img holds no
// readable code, ModulePx is ignored and the whole image is used.
func (c *Camera) Apply(img image.Image) image.Image {
	qrs, err := DecodeImage(context.Background(), img, DecodeOptions{})
	if err != nil || len(qrs) == 0 {
		return c.apply(newLumaSource(img).gray(), 1)
	}
	framed, scale := c.frame(img, qrs)
	return c.apply(framed, scale)
}

// frame crops img to the codes plus ten modules and returns the crop with
// the scale factor that brings the first code to ModulePx.
func (c *Camera) frame(img image.Image, qrs []QR) (*image.Gray, float64) {
	r := qrs[0].Bounds
	for _, q := range qrs[1:] {
		r = r.Union(q.Bounds)
	}
	pad := int(math.Ceil(10 * qrs[0].ModulePx))
	r = r.Inset(-pad).Intersect(img.Bounds())
	gray := newLumaSource(img).gray()
	crop := gray.SubImage(r.Sub(img.Bounds().Min)).(*image.Gray)
	scale := 1.0
	if c.ModulePx > 0 && qrs[0].ModulePx > 0 {
		scale = c.ModulePx / qrs[0].ModulePx
	}
	return crop, scale
}

// apply runs the degradations in the order light takes: the screen's
// geometry (tilt, rotation), the lens and sensor resolution (resample),
// defocus blur, glare, then sensor noise. When the camera resolves the code
// more finely than the image (scale > 1) the resample comes first, so the
// geometry is drawn at the finer resolution.
func (c *Camera) apply(src *image.Gray, scale float64) *image.Gray {
	bg := src.GrayAt(src.Rect.Min.X, src.Rect.Min.Y) // the page around the code
	img := src
	resample := func() {
		if scale != 1 {
			b := img.Bounds()
			w, h := max(1, int(math.Round(float64(b.Dx())*scale))), max(1, int(math.Round(float64(b.Dy())*scale)))
			img = grayOf(imaging.Resize(img, w, h, imaging.Lanczos))
		}
	}
	if scale > 1 {
		resample()
	}
	if c.TiltDeg != 0 || c.PitchDeg != 0 {
		// The near side grows: room for it, so the code stays in frame.
		// No larger than 16 megapixels: a sweep to 85 degrees of a large
		// picture must not multiply the pixels the scanner's cap allowed.
		frac := math.Sin(math.Abs(c.TiltDeg)*math.Pi/180) + math.Sin(math.Abs(c.PitchDeg)*math.Pi/180)
		b := img.Bounds()
		frac = math.Min(frac, math.Max(0, math.Sqrt(float64(16<<20)/float64(b.Dx()*b.Dy()))-1))
		img = padded(img, frac, bg)
	}
	if c.TiltDeg != 0 {
		img = tilt(img, c.TiltDeg, bg)
	}
	if c.PitchDeg != 0 {
		img = transposed(tilt(transposed(img), c.PitchDeg, bg))
	}
	if c.RotateDeg != 0 {
		img = grayOf(imaging.Rotate(img, c.RotateDeg, bg))
	}
	if scale < 1 {
		resample()
	}
	if c.BlurSigma > 0 {
		img = grayOf(imaging.Blur(img, c.BlurSigma))
	}
	if k := c.contrast(); k != 1 {
		// Glare adds light: dark is lifted towards white, white stays white.
		lift := 255 * (1 - k)
		img = grayOf(imaging.AdjustFunc(img, func(p color.NRGBA) color.NRGBA {
			v := uint8(math.Round(lift + k*float64(p.R)))
			return color.NRGBA{v, v, v, p.A}
		}))
	}
	if c.Lighting > 0 || c.Moire > 0 {
		img = lightAndMoire(img, c.Lighting, c.Moire)
	}
	if c.Noise > 0 {
		img = addNoise(img, c.Noise, c.Seed)
	}
	if c.JPEGQuality > 0 {
		img = jpegRoundTrip(img, c.JPEGQuality)
	}
	return img
}

// lightAndMoire darkens the picture towards its bottom-right corner by up
// to light, and adds diagonal interference bands of amplitude moire grey
// levels and a period of about 3.3 pixels.
func lightAndMoire(src *image.Gray, light, moire float64) *image.Gray {
	b := src.Bounds()
	out := image.NewGray(b)
	diag := float64(b.Dx() + b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			v := float64(src.Pix[src.PixOffset(x, y)])
			v *= 1 - light*float64(x-b.Min.X+y-b.Min.Y)/diag
			v += moire * math.Sin(2*math.Pi*(0.23*float64(x)+0.19*float64(y)))
			out.Pix[out.PixOffset(x, y)] = uint8(math.Max(0, math.Min(255, math.Round(v))))
		}
	}
	return out
}

// jpegRoundTrip encodes img as JPEG at quality q and decodes it again.
func jpegRoundTrip(img *image.Gray, q int) *image.Gray {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		return img
	}
	out, err := jpeg.Decode(&b)
	if err != nil {
		return img
	}
	return grayOf(out)
}

// grayOf converts an imaging result (NRGBA) to grey in one pass.
func grayOf(img image.Image) *image.Gray { return newLumaSource(img).gray() }

// addNoise returns a copy with seeded Gaussian noise of standard deviation sigma.
func addNoise(src *image.Gray, sigma float64, seed int64) *image.Gray {
	rng := rand.New(rand.NewSource(seed))
	b := src.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
		for x := 0; x < b.Dx(); x++ {
			v := float64(row[x]) + rng.NormFloat64()*sigma
			out.Pix[y*out.Stride+x] = uint8(math.Max(0, math.Min(255, math.Round(v))))
		}
	}
	return out
}

// tilt shows src turned by deg about its vertical centre line, seen by a
// pinhole camera on the axis at a distance of 1.5 image widths (a phone's
// field of view): points on the far side shrink towards the centre. The
// output has src's size; uncovered pixels take bg. Sampling is bilinear.
func tilt(src *image.Gray, deg float64, bg color.Gray) *image.Gray {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	th := deg * math.Pi / 180
	sin, cos := math.Sin(th), math.Cos(th)
	d := 1.5 * float64(max(w, h)) // camera distance, and focal length
	cx, cy := float64(w)/2, float64(h)/2
	for oy := 0; oy < h; oy++ {
		yp := float64(oy) + 0.5 - cy
		for ox := 0; ox < w; ox++ {
			xp := float64(ox) + 0.5 - cx
			// Projection: xp = d*x*cos/(d + x*sin), yp = d*y/(d + x*sin); inverted.
			den := d*cos - xp*sin
			v := bg.Y
			if den > 0 {
				x := xp * d / den
				z := d + x*sin
				y := yp * z / d
				v = bilinear(src, x+cx-0.5+float64(b.Min.X), y+cy-0.5+float64(b.Min.Y), bg.Y)
			}
			out.Pix[oy*out.Stride+ox] = v
		}
	}
	return out
}

// padded surrounds src with bg: frac of its size in all, half of it on
// each side.
func padded(src *image.Gray, frac float64, bg color.Gray) *image.Gray {
	b := src.Bounds()
	px, py := int(frac*float64(b.Dx())/2), int(frac*float64(b.Dy())/2)
	out := image.NewGray(image.Rect(0, 0, b.Dx()+2*px, b.Dy()+2*py))
	for i := range out.Pix {
		out.Pix[i] = bg.Y
	}
	for y := 0; y < b.Dy(); y++ {
		copy(out.Pix[(y+py)*out.Stride+px:], src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):src.PixOffset(b.Max.X, b.Min.Y+y)])
	}
	return out
}

// transposed swaps src's rows and columns.
func transposed(src *image.Gray) *image.Gray {
	b := src.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := 0; y < b.Dy(); y++ {
		row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
		for x := 0; x < b.Dx(); x++ {
			out.Pix[x*out.Stride+y] = row[x]
		}
	}
	return out
}

func bilinear(src *image.Gray, x, y float64, bg uint8) uint8 {
	b := src.Bounds()
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := x-x0, y-y0
	at := func(xi, yi int) float64 {
		if xi < b.Min.X || yi < b.Min.Y || xi >= b.Max.X || yi >= b.Max.Y {
			return float64(bg)
		}
		return float64(src.Pix[src.PixOffset(xi, yi)])
	}
	xi, yi := int(x0), int(y0)
	v := (at(xi, yi)*(1-fx)+at(xi+1, yi)*fx)*(1-fy) + (at(xi, yi+1)*(1-fx)+at(xi+1, yi+1)*fx)*fy
	return uint8(math.Max(0, math.Min(255, math.Round(v))))
}
