package scanner

import (
	"image"
	"image/color"
	"testing"
)

// TestLumaSourceMatchesGrayModel checks every pixel-buffer path against
// color.GrayModel (opaque pixels) for the same picture.
func TestLumaSourceMatchesGrayModel(t *testing.T) {
	const w, h = 7, 5
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			rgba.Set(x, y, color.RGBA{uint8(x * 37), uint8(y * 51), uint8(x*y*13 + 9), 255})
		}
	}
	nrgba := image.NewNRGBA(rgba.Rect)
	gray := image.NewGray(rgba.Rect)
	rgba64 := image.NewRGBA64(rgba.Rect)
	nrgba64 := image.NewNRGBA64(rgba.Rect)
	gray16 := image.NewGray16(rgba.Rect)
	cmyk := image.NewCMYK(rgba.Rect)
	pal := make(color.Palette, 0, w*h)
	paletted := image.NewPaletted(rgba.Rect, nil)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := rgba.At(x, y)
			nrgba.Set(x, y, c)
			gray.Set(x, y, c)
			rgba64.Set(x, y, c)
			nrgba64.Set(x, y, c)
			gray16.Set(x, y, c)
			cmyk.Set(x, y, c)
			pal = append(pal, c)
		}
	}
	paletted.Palette = pal
	for i := range paletted.Pix {
		paletted.Pix[i] = uint8(i)
	}
	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"rgba", rgba}, {"nrgba", nrgba}, {"gray", gray}, {"rgba64", rgba64}, {"nrgba64", nrgba64}, {"gray16", gray16},
		{"cmyk-fallback", cmyk}, {"paletted", paletted},
		{"rgba-subimage", rgba.SubImage(image.Rect(2, 1, 6, 4))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newLumaSource(tc.img)
			b := tc.img.Bounds()
			if s.GetWidth() != b.Dx() || s.GetHeight() != b.Dy() {
				t.Fatalf("%s: size %dx%d, want %dx%d", tc.name, s.GetWidth(), s.GetHeight(), b.Dx(), b.Dy())
			}
			m := s.GetMatrix()
			for y := 0; y < b.Dy(); y++ {
				for x := 0; x < b.Dx(); x++ {
					want := color.GrayModel.Convert(rgba.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y
					got := m[y*b.Dx()+x]
					if d := int(got) - int(want); d < -1 || d > 1 {
						t.Errorf("%s (%d,%d): luma %d, want %d", tc.name, x, y, got, want)
					}
				}
			}
		})
	}
}

// TestLumaSourceTransparentIsWhite: a transparent background (common in PNG
// QR codes on web pages) must read as light, not black.
func TestLumaSourceTransparentIsWhite(t *testing.T) {
	for _, img := range []image.Image{image.NewNRGBA(image.Rect(0, 0, 2, 2)), image.NewRGBA(image.Rect(0, 0, 2, 2))} {
		if got := newLumaSource(img).GetMatrix()[0]; got != 255 {
			t.Errorf("%T fully transparent pixel: luma %d, want 255", img, got)
		}
	}
}

// TestLumaSourceSharesPlanes: the Gray and YCbCr paths read the buffer in
// place (no copy, no per-pixel allocation).
func TestLumaSourceSharesPlanes(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 1920, 1080))
	ycc := image.NewYCbCr(image.Rect(0, 0, 1920, 1080), image.YCbCrSubsampleRatio420)
	for _, img := range []image.Image{gray, ycc} {
		allocs := testing.AllocsPerRun(5, func() { newLumaSource(img) })
		if allocs > 100 { // one without -race; the point is: not one per pixel
			t.Errorf("%T 1920x1080: %.0f allocations per luminance source, want far fewer than the 2 million pixels", img, allocs)
		}
	}
	if &newLumaSource(gray).GetMatrix()[0] != &gray.Pix[0] {
		t.Errorf("gray source copies Pix, want it shared")
	}
	rgba := image.NewRGBA(image.Rect(0, 0, 1920, 1080))
	if allocs := testing.AllocsPerRun(5, func() { newLumaSource(rgba) }); allocs > 100 {
		t.Errorf("rgba 1920x1080: %.0f allocations, want far fewer than the 2 million pixels", allocs)
	}
}

func TestLumaSourceInvertAndRows(t *testing.T) {
	s := newLumaSource(&image.Gray{Pix: []uint8{0, 10, 200, 255}, Stride: 2, Rect: image.Rect(0, 0, 2, 2)})
	inv := s.Invert()
	row, err := inv.GetRow(1, nil)
	if err != nil || row[0] != 55 || row[1] != 0 {
		t.Errorf("inverted row 1 = %v, %v; want [55 0]", row, err)
	}
	if s.GetMatrix()[0] != 0 {
		t.Errorf("Invert modified the source")
	}
	if _, err := s.GetRow(2, nil); err == nil {
		t.Errorf("GetRow(2) on a 2-row source: no error")
	}
}

func TestLumaSourceStretched(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lo, hi uint8
		want   bool
	}{
		{"190-255-stretched", 190, 255, true},
		{"0-255-full-range", 0, 255, false},
		{"250-255-flat", 250, 255, false},
	} {
		img := image.NewGray(image.Rect(0, 0, 10, 10))
		for i := range img.Pix {
			img.Pix[i] = tc.hi
			if i%2 == 0 {
				img.Pix[i] = tc.lo
			}
		}
		st := newLumaSource(img).stretched()
		if (st != nil) != tc.want {
			t.Errorf("%s: stretched %v, want %v", tc.name, st != nil, tc.want)
			continue
		}
		if st != nil && (st.pix[0] != 0 || st.pix[1] != 255) {
			t.Errorf("%s: stretched to %d..%d, want 0..255", tc.name, st.pix[0], st.pix[1])
		}
	}
}
