package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/boombuler/barcode/qr"
	"github.com/disintegration/imaging"
)

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeBareCodes(t *testing.T) {
	levels := map[string]qr.ErrorCorrectionLevel{"L": qr.L, "M": qr.M, "Q": qr.Q, "H": qr.H}
	for _, ec := range []string{"L", "M", "Q", "H"} {
		for _, px := range []int{2, 3, 8} {
			t.Run(fmt.Sprintf("ec=%s/px=%d", ec, px), func(t *testing.T) {
				img := renderQR(t, testURI, levels[ec], px, 4, false)
				qrs, err := DecodeImage(context.Background(), img, DecodeOptions{})
				if err != nil {
					t.Fatalf("ec=%s px=%d: %v", ec, px, err)
				}
				if len(qrs) != 1 {
					t.Fatalf("ec=%s px=%d: %d codes, want 1", ec, px, len(qrs))
				}
				q := qrs[0]
				dim := len(qrModules(t, testURI, levels[ec]))
				if q.Text != testURI || q.ECLevel != ec || q.Version != (dim-17)/4 {
					t.Errorf("ec=%s px=%d: got text %q ec %q version %d; want ec %s version %d", ec, px, q.Text, q.ECLevel, q.Version, ec, (dim-17)/4)
				}
				if math.Abs(q.ModulePx-float64(px)) > 0.1*float64(px) {
					t.Errorf("ec=%s px=%d: ModulePx %.2f", ec, px, q.ModulePx)
				}
				if q.QuietZoneModules != 4 {
					t.Errorf("ec=%s px=%d: QuietZoneModules %.1f, want 4", ec, px, q.QuietZoneModules)
				}
				want := image.Rect(4*px, 4*px, (4+dim)*px, (4+dim)*px)
				if d := rectDistance(q.Bounds, want); d > px {
					t.Errorf("ec=%s px=%d: bounds %v, want about %v", ec, px, q.Bounds, want)
				}
				if q.Strategy != "plain" {
					t.Errorf("ec=%s px=%d: strategy %q, want plain", ec, px, q.Strategy)
				}
			})
		}
	}
}

func rectDistance(a, b image.Rectangle) int {
	d := 0
	for _, v := range []int{a.Min.X - b.Min.X, a.Min.Y - b.Min.Y, a.Max.X - b.Max.X, a.Max.Y - b.Max.Y} {
		if v < 0 {
			v = -v
		}
		d = max(d, v)
	}
	return d
}

// TestQuietZoneMeasured: the margin drawn is the margin reported, up to the cap.
func TestQuietZoneMeasured(t *testing.T) {
	for _, quiet := range []int{1, 2, 4, 6, 12} {
		img := renderQR(t, "https://example.com/q", qr.M, 4, quiet, false)
		qrs, err := DecodeImage(context.Background(), img, DecodeOptions{})
		if err != nil {
			t.Fatalf("quiet=%d: %v", quiet, err)
		}
		want := float64(min(quiet, maxQuietZone))
		if qrs[0].QuietZoneModules != want {
			t.Errorf("quiet=%d: QuietZoneModules %.1f, want %.1f", quiet, qrs[0].QuietZoneModules, want)
		}
	}
}

func TestDecodeStrategies(t *testing.T) {
	// A 3 px/module code on a page shrunk to half with Lanczos, as a
	// screenshot shown at half size: 1.5 px/module, too fine for the plain
	// rung (checked below), read after the 2x upscale.
	halfPage := imaging.Resize(place(1200, 800, color.Gray{240}, image.Pt(401, 203), renderQR(t, testURI, qr.M, 3, 4, false)), 600, 400, imaging.Lanczos)
	if _, err := readCodes(newLumaSource(halfPage), true, nil); err == nil {
		t.Fatalf("half-size page decodes without upscaling: the test no longer exercises the upscale rung")
	}
	glare := renderQR(t, testURI, qr.M, 4, 6, false)
	for i, v := range glare.Pix {
		if v == 0 {
			glare.Pix[i] = 190 // dark modules washed out by glare: HybridBinarizer alone misses them
		}
	}
	for _, tc := range []struct {
		name, strategy string
		img            image.Image
	}{
		{"glare-dark-at-190", "stretched", glare},
		{"dark-mode-light-modules", "inverted", place(600, 400, color.Gray{30}, image.Pt(100, 50), renderQR(t, testURI, qr.M, 4, 4, true))},
		{"half-size-1.5px-per-module", "upscale-2x", halfPage},
		// The same on a 4K page: too big to enlarge whole, only the region
		// around the finder candidates is.
		{"4k-page-1.5px-per-module", "upscale-2x", place(3840, 2160, color.Gray{240}, image.Pt(2000, 1200), halfPage)},
	} {
		qrs, err := DecodeImage(context.Background(), tc.img, DecodeOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if qrs[0].Text != testURI || qrs[0].Strategy != tc.strategy {
			t.Errorf("%s: text %q strategy %q; want strategy %s", tc.name, qrs[0].Text, qrs[0].Strategy, tc.strategy)
		}
		t.Logf("%s: %+v", tc.name, qrs[0])
	}
}

func TestDecodeSeveralCodes(t *testing.T) {
	texts := []string{testURI, "otpauth://totp/Other:bob@example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Other", "https://example.com/not-a-key"}
	var codes []image.Image
	for _, s := range texts {
		codes = append(codes, renderQR(t, s, qr.M, 4, 4, false))
	}
	img := place(1400, 500, color.Gray{255}, image.Pt(20, 60), codes...)
	qrs, err := DecodeImage(context.Background(), img, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, q := range qrs {
		got[q.Text] = true
	}
	for _, s := range texts {
		if !got[s] {
			t.Errorf("three codes on one page: %q not found (found %d codes)", s, len(qrs))
		}
	}
}

func TestDecodeImageTypes(t *testing.T) {
	gray := renderQR(t, testURI, qr.Q, 4, 4, false)
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, gray, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(gray.Rect)
	nrgba := image.NewNRGBA(gray.Rect) // dark modules opaque, light ones transparent
	for i, v := range gray.Pix {
		rgba.Pix[4*i], rgba.Pix[4*i+1], rgba.Pix[4*i+2], rgba.Pix[4*i+3] = v, v, v, 255
		if v < 128 {
			nrgba.Pix[4*i+3] = 255
		}
	}
	pal := image.NewPaletted(gray.Rect, color.Palette{color.White, color.Black})
	for i, v := range gray.Pix {
		if v < 128 {
			pal.Pix[i] = 1
		}
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"png-gray", encodePNG(t, gray)}, {"png-rgba", encodePNG(t, rgba)},
		{"png-transparent", encodePNG(t, nrgba)}, {"png-paletted", encodePNG(t, pal)},
		{"jpeg-q75", jpg.Bytes()},
	} {
		qrs, err := DecodeImageBytes(context.Background(), tc.name, tc.data, DecodeOptions{})
		if err != nil || len(qrs) != 1 || qrs[0].Text != testURI {
			t.Errorf("%s: %v, %v", tc.name, qrs, err)
		}
	}
}

func TestDecodeNoCode(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	noise := image.NewGray(image.Rect(0, 0, 300, 200))
	rng.Read(noise.Pix)
	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"blank-white", place(300, 200, color.Gray{255}, image.Point{})},
		{"noise", noise},
	} {
		_, err := DecodeImageBytes(context.Background(), tc.name, encodePNG(t, tc.img), DecodeOptions{})
		if !errors.Is(err, ErrNoCode) || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s: err %v, want ErrNoCode naming the input", tc.name, err)
		}
	}
}

// hugePNG is a valid PNG header declaring w x h with one tiny IDAT.
func hugePNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 1, 1))
	data := encodePNG(t, img)
	// IHDR data starts at 16: width, height (big endian); patch and fix the CRC.
	put := func(off, v int) {
		data[off], data[off+1], data[off+2], data[off+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	put(16, w)
	put(20, h)
	crc := crc32IEEE(data[12:29])
	put(29, int(crc))
	return data
}

func TestPixelCapBeforeAllocation(t *testing.T) {
	data := hugePNG(t, 20000, 20000)
	if len(data) > 100 {
		t.Fatalf("hostile PNG is %d bytes, want under 100", len(data))
	}
	var before, after runtimeMem
	before.read()
	_, err := DecodeImageBytes(context.Background(), "huge.png", data, DecodeOptions{})
	after.read()
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "huge.png") || !strings.Contains(err.Error(), "20000x20000") {
		t.Fatalf("20000x20000 PNG of %d bytes: err %v, want ErrTooLarge naming the input and size", len(data), err)
	}
	if alloc := after.total - before.total; alloc > 1<<20 {
		t.Errorf("20000x20000 PNG: allocated %d bytes before refusing, want under 1 MiB", alloc)
	}
	allocs := testing.AllocsPerRun(10, func() {
		_, _ = DecodeImageBytes(context.Background(), "huge.png", data, DecodeOptions{})
	})
	t.Logf("20000x20000 PNG (%d bytes) refused with %.0f allocations", len(data), allocs)
	if allocs > 100 {
		t.Errorf("20000x20000 PNG: %.0f allocations to refuse, want under 100", allocs)
	}
}

func TestCaps(t *testing.T) {
	small := encodePNG(t, renderQR(t, testURI, qr.M, 2, 4, false))
	for _, tc := range []struct {
		name string
		opts DecodeOptions
		data []byte
		want error
	}{
		{"bytes-over-MaxBytes", DecodeOptions{MaxBytes: int64(len(small) - 1)}, small, ErrTooLarge},
		{"bytes-at-MaxBytes", DecodeOptions{MaxBytes: int64(len(small))}, small, nil},
		{"pixels-over-MaxPixels", DecodeOptions{MaxPixels: 100}, small, ErrTooLarge},
		{"65536x65536-default-caps", DecodeOptions{}, hugePNG(t, 65535, 65535), ErrTooLarge},
	} {
		_, err := DecodeImageBytes(context.Background(), tc.name, tc.data, tc.opts)
		if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
			t.Errorf("%s (opts %+v, %d bytes): err %v, want %v", tc.name, tc.opts, len(tc.data), err, tc.want)
		}
	}
	if _, err := DecodeImage(context.Background(), image.NewGray(image.Rect(0, 0, 100, 100)), DecodeOptions{MaxPixels: 9999}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("DecodeImage 100x100 with MaxPixels 9999: err %v, want ErrTooLarge", err)
	}
}

func TestHostileBytes(t *testing.T) {
	good := encodePNG(t, renderQR(t, testURI, qr.M, 3, 4, false))
	var jpg bytes.Buffer
	_ = jpeg.Encode(&jpg, renderQR(t, testURI, qr.M, 3, 4, false), nil)
	rng := rand.New(rand.NewSource(7))
	random := make([]byte, 4096)
	rng.Read(random)
	badGIF := append([]byte("GIF89a\x10\x00\x10\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff,\x00\x00\x00\x00\x10\x00\x10\x00\x00\x02"), bytes.Repeat([]byte{0x05, 0xff, 0xff, 0xff, 0xff, 0xff}, 4)...)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"random-4096", random},
		{"truncated-png", good[:len(good)/2]},
		{"truncated-jpeg", jpg.Bytes()[:jpg.Len()/2]},
		{"gif-bad-lzw", badGIF},
		{"png-0x0", hugePNG(t, 0, 0)},
		{"text", []byte("otpauth://totp/x?secret=JBSWY3DP")},
	} {
		_, err := DecodeImageBytes(context.Background(), tc.name, tc.data, DecodeOptions{})
		if err == nil || errors.Is(err, ErrNoCode) || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s: err %v, want a decode error naming the input", tc.name, err)
		}
	}
}

// panicky is an image whose pixels cannot be read: the QR path must recover.
type panicky struct{ image.Gray }

func (p *panicky) At(x, y int) color.Color { panic("broken pixel source") }

func TestDecoderPanicRecovered(t *testing.T) {
	image.RegisterFormat("panicfmt", "PANIC!", func(io.Reader) (image.Image, error) { panic("decoder bug") },
		func(io.Reader) (image.Config, error) {
			return image.Config{ColorModel: color.GrayModel, Width: 10, Height: 10}, nil
		})
	_, err := DecodeImageBytes(context.Background(), "boom.img", []byte("PANIC! data"), DecodeOptions{})
	if err == nil || !strings.Contains(err.Error(), "boom.img") || !strings.Contains(err.Error(), "panic") {
		t.Errorf("image decoder panic: err %v, want an error naming boom.img", err)
	}
	p := &panicky{Gray: *image.NewGray(image.Rect(0, 0, 10, 10))}
	_, err = DecodeImage(context.Background(), p, DecodeOptions{})
	if err == nil || !strings.Contains(err.Error(), "panic") {
		t.Errorf("qr path panic: err %v, want a recovered panic", err)
	}
}

// TestDeadline: a large busy image under the whole ladder (TRY_HARDER
// included) returns at its deadline, not when gozxing finishes.
func TestDeadline(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	noise := image.NewGray(image.Rect(0, 0, 6000, 4000))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.Intn(2) * 255)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := DecodeImage(ctx, noise, DecodeOptions{})
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("6000x4000 noise with a 50ms deadline: err %v, want DeadlineExceeded", err)
	}
	if took > 2*time.Second {
		t.Errorf("6000x4000 noise with a 50ms deadline: returned after %v", took)
	}
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if _, err := DecodeImage(cctx, renderQR(t, testURI, qr.M, 3, 4, false), DecodeOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err %v, want context.Canceled", err)
	}
}

// TestDecodeSubImage: bounds are reported in the coordinates of the image
// given, also when its origin is not (0, 0).
func TestDecodeSubImage(t *testing.T) {
	page := place(800, 600, color.Gray{255}, image.Pt(300, 200), renderQR(t, testURI, qr.M, 4, 4, false))
	dim := len(qrModules(t, testURI, qr.M))
	want := image.Rect(316, 216, 316+4*dim, 216+4*dim)
	for _, r := range []image.Rectangle{page.Bounds(), image.Rect(250, 150, 700, 600)} {
		qrs, err := DecodeImage(context.Background(), page.SubImage(r), DecodeOptions{})
		if err != nil {
			t.Fatalf("sub-image %v: %v", r, err)
		}
		if d := rectDistance(qrs[0].Bounds, want); d > 4 {
			t.Errorf("sub-image %v: bounds %v, want about %v", r, qrs[0].Bounds, want)
		}
	}
}
