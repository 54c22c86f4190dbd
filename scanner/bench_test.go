package scanner

import (
	"context"
	"fmt"
	"image"
	"runtime"
	"testing"

	"github.com/makiuchi-d/gozxing"
)

// benchImages are the screenshots the README's targets name: 1080p and
// 1440p, light and dark, full and half size, PNG and JPEG.
var benchImages = []string{
	"console-1920x1080-light-full.png", "console-1920x1080-light-full-q75.jpg",
	"console-1920x1080-dark-full.png", "console-1920x1080-dark-full-q75.jpg",
	"console-1920x1080-light-half.png", "console-1920x1080-light-half-q75.jpg",
	"console-1920x1080-dark-half.png", "console-1920x1080-dark-half-q75.jpg",
	"console-2560x1440-light-full.png", "console-2560x1440-light-full-q75.jpg",
	"console-2560x1440-dark-full.png", "console-2560x1440-dark-full-q75.jpg",
	"console-2560x1440-light-half.png", "console-2560x1440-light-half-q75.jpg",
	"console-2560x1440-dark-half.png", "console-2560x1440-dark-half-q75.jpg",
	"console-3840x2160-light-full.png", "console-3840x2160-dark-full-q75.jpg",
}

// BenchmarkDecodeImageBytes measures the whole path per corpus image:
// raster decode, luminance, ladder.
func BenchmarkDecodeImageBytes(b *testing.B) {
	for _, name := range benchImages {
		data := readCorpusFile(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				qrs, err := DecodeImageBytes(context.Background(), name, data, DecodeOptions{})
				if err != nil || len(qrs) != 1 {
					b.Fatalf("%s: %d codes, %v", name, len(qrs), err)
				}
			}
		})
	}
}

// BenchmarkDecodeImage measures the QR part alone (luminance and ladder) on
// an already decoded image, against gozxing's generic path for contrast.
func BenchmarkDecodeImage(b *testing.B) {
	for _, name := range []string{"console-1920x1080-light-full.png", "console-1920x1080-light-full-q75.jpg"} {
		img := decodeCorpusImage(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeImage(context.Background(), img, DecodeOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func decodeCorpusImage(tb testing.TB, name string) image.Image {
	tb.Helper()
	img, err := decodeRaster(name, readCorpusFile(tb, name), DecodeOptions{}.withDefaults())
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// TestPeakMemory4K: decoding the 3840x2160 screenshots stays under 150 MB
// of heap (the README's target; whole-process RSS is measured with
// /usr/bin/time -v, see the README).
func TestPeakMemory4K(t *testing.T) {
	skipUnderRace(t, "peak memory of a 4K decode")
	if testing.Short() {
		t.Skip("decodes 4K images")
	}
	for _, name := range []string{"console-3840x2160-light-full.png", "console-3840x2160-dark-full-q75.jpg", "console-3840x2160-dark-half.png"} {
		data := readCorpusFile(t, name)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := DecodeImageBytes(context.Background(), name, data, DecodeOptions{}); err != nil {
			t.Fatal(err)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %.1f MB allocated in total, heap in use now %.1f MB, heap high-water (HeapSys) %.1f MB",
			name, float64(alloc)/1e6, float64(after.HeapInuse)/1e6, float64(after.HeapSys)/1e6)
		if alloc > 150e6 {
			t.Errorf("%s: %.1f MB allocated, want under 150 MB", name, float64(alloc)/1e6)
		}
	}
}

// BenchmarkLuminanceSource compares building the luminance plane of a
// 1080p screenshot from the pixel buffer (ours) with gozxing's generic
// image.Image path, which calls At for every pixel.
func BenchmarkLuminanceSource(b *testing.B) {
	for _, name := range []string{"console-1920x1080-light-full.png", "console-1920x1080-light-full-q75.jpg"} {
		img := decodeCorpusImage(b, name)
		b.Run("pixbuf/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				newLumaSource(img).GetMatrix()
			}
		})
		b.Run("gozxing-generic/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				src := gozxing.NewLuminanceSourceFromImage(img)
				src.GetMatrix()
			}
		})
	}
}

// BenchmarkLuminanceLayouts converts 1920x1080 pictures of each pixel
// layout that has a fast path to luminance.
func BenchmarkLuminanceLayouts(b *testing.B) {
	r := image.Rect(0, 0, 1920, 1080)
	for _, img := range []image.Image{image.NewNRGBA(r), image.NewRGBA(r), image.NewNRGBA64(r), image.NewRGBA64(r), image.NewGray16(r)} {
		b.Run(fmt.Sprintf("%T", img), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				newLumaSource(img).GetMatrix()
			}
		})
	}
}
