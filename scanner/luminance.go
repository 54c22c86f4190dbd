package scanner

import (
	"fmt"
	"image"
	"image/color"

	"github.com/makiuchi-d/gozxing"
)

// lumaSource is a gozxing.LuminanceSource over a contiguous width*height
// buffer of 8-bit luminance (0 black, 255 white). It is built straight from
// the decoded pixel buffer (newLumaSource), never through image.Image.At per
// pixel, which is what gozxing's own NewLuminanceSourceFromImage does.
type lumaSource struct {
	gozxing.LuminanceSourceBase
	pix []byte // len == Width*Height, row-major; may alias the image's buffer: never written
}

// newLumaSource returns the luminance of img. For *image.Gray and the Y plane
// of *image.YCbCr with a tight stride the buffer is shared, not copied; RGBA
// and NRGBA are converted in one pass over Pix (transparent pixels composited
// on white, as a browser shows them on a white page); paletted images go
// through a 256-entry table; anything else falls back to color.GrayModel.
func newLumaSource(img image.Image) *lumaSource {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	s := &lumaSource{LuminanceSourceBase: gozxing.LuminanceSourceBase{Width: w, Height: h}}
	if w <= 0 || h <= 0 {
		return s
	}
	switch m := img.(type) {
	case *image.Gray:
		s.pix = planeOf(m.Pix, m.Stride, m.PixOffset(b.Min.X, b.Min.Y), w, h)
	case *image.YCbCr:
		s.pix = planeOf(m.Y, m.YStride, m.YOffset(b.Min.X, b.Min.Y), w, h)
	case *image.NYCbCrA:
		s.pix = planeOf(m.Y, m.YStride, m.YOffset(b.Min.X, b.Min.Y), w, h)
	case *image.RGBA:
		s.pix = make([]byte, w*h)
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			out := s.pix[y*w : (y+1)*w]
			for x := range out {
				p := row[4*x : 4*x+4 : 4*x+4]
				// Premultiplied: luma of the colour over black, plus white for the uncovered part.
				l := luma8(p[0], p[1], p[2]) + 255 - uint32(p[3])
				out[x] = clamp255(l)
			}
		}
	case *image.NRGBA:
		s.pix = make([]byte, w*h)
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			out := s.pix[y*w : (y+1)*w]
			for x := range out {
				p := row[4*x : 4*x+4 : 4*x+4]
				a := uint32(p[3])
				l := luma8(p[0], p[1], p[2])
				if a != 255 {
					l = (l*a + 255*(255-a) + 127) / 255
				}
				out[x] = byte(l)
			}
		}
	case *image.NRGBA64:
		// 16-bit PNGs: the high byte of each channel (no per-pixel
		// interface call: At boxes a colour per pixel, which for a
		// 12-million-pixel image is a gigabyte of garbage). The 16-bit
		// loops repeat the 8-bit ones with a stride of 8: one loop taking
		// the stride measured 10 to 25 % slower (BenchmarkLuminanceLayouts:
		// a variable stride keeps the bounds checks a constant one removes).
		s.pix = make([]byte, w*h)
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			out := s.pix[y*w : (y+1)*w]
			for x := range out {
				p := row[8*x : 8*x+8 : 8*x+8]
				a := uint32(p[6])
				l := luma8(p[0], p[2], p[4])
				if a != 255 {
					l = (l*a + 255*(255-a) + 127) / 255
				}
				out[x] = byte(l)
			}
		}
	case *image.RGBA64:
		s.pix = make([]byte, w*h)
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			out := s.pix[y*w : (y+1)*w]
			for x := range out {
				p := row[8*x : 8*x+8 : 8*x+8]
				out[x] = clamp255(luma8(p[0], p[2], p[4]) + 255 - uint32(p[6]))
			}
		}
	case *image.Gray16:
		s.pix = make([]byte, w*h)
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			out := s.pix[y*w : (y+1)*w]
			for x := range out {
				out[x] = row[2*x]
			}
		}
	case *image.Paletted:
		var table [256]byte
		for i := range table {
			table[i] = 255 // indexes past the palette read as background
		}
		for i, c := range m.Palette {
			if i < 256 {
				table[i] = grayOnWhite(c)
			}
		}
		s.pix = make([]byte, w*h)
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			out := s.pix[y*w : (y+1)*w]
			for x := range out {
				out[x] = table[row[x]]
			}
		}
	default:
		s.pix = make([]byte, w*h)
		i := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				s.pix[i] = grayOnWhite(img.At(x, y))
				i++
			}
		}
	}
	return s
}

// planeOf returns the w*h plane starting at off with the given stride,
// sharing buf when the rows are contiguous.
func planeOf(buf []byte, stride, off, w, h int) []byte {
	if stride == w {
		return buf[off : off+w*h : off+w*h]
	}
	out := make([]byte, w*h)
	for y := 0; y < h; y++ {
		copy(out[y*w:(y+1)*w], buf[off+y*stride:])
	}
	return out
}

// luma8 is ITU-R BT.601 luma of 8-bit components, the weights color.GrayModel uses.
func luma8(r, g, b byte) uint32 {
	return (19595*uint32(r) + 38470*uint32(g) + 7471*uint32(b) + 1<<15) >> 16
}

func clamp255(v uint32) byte {
	if v > 255 {
		return 255
	}
	return byte(v)
}

// grayOnWhite is the luminance of c composited over white.
func grayOnWhite(c color.Color) byte {
	r, g, b, a := c.RGBA() // premultiplied, 16 bit
	l := (19595*r + 38470*g + 7471*b + 1<<15) >> 16
	l += 0xffff - a
	return clamp255(l >> 8)
}

// GetRow copies row y into row (allocating when it is too small).
func (s *lumaSource) GetRow(y int, row []byte) ([]byte, error) {
	if y < 0 || y >= s.Height {
		return nil, fmt.Errorf("requested row %d is outside the image", y)
	}
	if len(row) < s.Width {
		row = make([]byte, s.Width)
	}
	copy(row, s.pix[y*s.Width:(y+1)*s.Width])
	return row, nil
}

// GetMatrix returns the whole buffer; callers must not modify it.
func (s *lumaSource) GetMatrix() []byte { return s.pix }

// Invert returns a copy with every value v replaced by 255-v: dark mode
// codes (light modules on a dark page) read as ordinary ones.
func (s *lumaSource) Invert() gozxing.LuminanceSource { return s.inverted() }

func (s *lumaSource) inverted() *lumaSource {
	out := &lumaSource{LuminanceSourceBase: s.LuminanceSourceBase, pix: make([]byte, len(s.pix))}
	for i, v := range s.pix {
		out.pix[i] = 255 - v
	}
	return out
}

// stretched returns a copy whose 1st..99th percentile range is stretched
// to 0..255, or nil when that range already exceeds 160 levels (nothing to
// gain) or is under 8 (a flat image: stretching would only amplify noise).
func (s *lumaSource) stretched() *lumaSource {
	var hist [256]int
	for _, v := range s.pix {
		hist[v]++
	}
	cut := len(s.pix) / 100
	lo, hi, n := 0, 255, 0
	for lo < 255 && n+hist[lo] <= cut {
		n += hist[lo]
		lo++
	}
	n = 0
	for hi > 0 && n+hist[hi] <= cut {
		n += hist[hi]
		hi--
	}
	if hi-lo > 160 || hi-lo < 8 {
		return nil
	}
	var table [256]byte
	for v := range table {
		table[v] = byte(min(255, max(0, (v-lo)*255/(hi-lo))))
	}
	out := &lumaSource{LuminanceSourceBase: s.LuminanceSourceBase, pix: make([]byte, len(s.pix))}
	for i, v := range s.pix {
		out.pix[i] = table[v]
	}
	return out
}

// gray returns the buffer as an *image.Gray sharing its pixels (read only).
func (s *lumaSource) gray() *image.Gray {
	return &image.Gray{Pix: s.pix, Stride: s.Width, Rect: image.Rect(0, 0, s.Width, s.Height)}
}

func (s *lumaSource) String() string { return gozxing.LuminanceSourceString(s) }
