package scanner

//go:generate go run ./internal/corpusgen

// The image side of the scanner: raster bytes -> image -> QR codes.
//
//   image.go          DecodeImageBytes, DecodeImage, DecodeOptions, QR, the caps
//   decode_ladder.go  the strategy ladder (plain, inverted, TRY_HARDER, contrast stretch, 2x upscale)
//   decode_qr.go      one gozxing pass: detect, decode, measure (version, px/module, quiet zone)
//   luminance.go      gozxing.LuminanceSource built straight from the pixel buffer
//   camera.go         Camera profiles that degrade an image like a phone camera
//   margin.go         Margin: how far each degradation can go before decoding fails

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // register GIF
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"runtime"
	"time"

	_ "golang.org/x/image/webp" // register WebP
)

// Defaults applied by DecodeOptions' zero values.
const (
	DefaultMaxBytes  int64 = 20 << 20   // 20 MiB of encoded image
	DefaultMaxPixels       = 50_000_000 // 50 million pixels (e.g. 8660x5773)
	// DefaultMaxDecodedBytes caps the decoded pixels' memory: a small PNG
	// can expand to gigabytes (7000x7000 at 16 bits a channel is 392 MB,
	// over 800 MB in use while decoding). 96 MiB is an 8-bit RGBA image of
	// 25 million pixels (a 6144x4096 screenshot), a 16-bit one of 12
	// million, a gray one up to the pixel cap; with the gray copy the
	// decoder works on, a scan stays under 200 MB.
	DefaultMaxDecodedBytes int64 = 96 << 20
	DefaultTimeout               = 10 * time.Second
)

// DecodeOptions bounds and shapes a decode. The zero value works.
//
// The time a decode may take comes from ctx: when ctx has no deadline,
// DecodeImageBytes and DecodeImage apply DefaultTimeout.
type DecodeOptions struct {
	// MaxBytes refuses encoded input longer than this before decoding
	// anything. Zero means DefaultMaxBytes.
	MaxBytes int64
	// MaxPixels refuses images with more pixels than this, checked from the
	// header (image.DecodeConfig) before the pixels are decoded. Zero means
	// DefaultMaxPixels.
	MaxPixels int
	// MaxDecodedBytes refuses images whose decoded pixels would take more
	// memory than this (width x height x the bytes a pixel of its colour
	// model takes), checked from the header. Zero means
	// DefaultMaxDecodedBytes.
	MaxDecodedBytes int64
	// Camera, when set, degrades the image before decoding: the codes are
	// found in the image as given, framed (cropped to them plus ten
	// modules), and the frame is passed through the camera; the QR results
	// describe what the camera saw (coordinates in its frame).
	Camera *Camera
}

func (o DecodeOptions) withDefaults() DecodeOptions {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	if o.MaxDecodedBytes <= 0 {
		o.MaxDecodedBytes = DefaultMaxDecodedBytes
	}
	return o
}

// QR is one code found in an image.
type QR struct {
	Text    string          // the payload as decoded (UTF-8)
	Bounds  image.Rectangle // the symbol without its quiet zone, in the input image's pixels
	Version int             // 1..40
	ECLevel string          // error correction level: L, M, Q or H
	// ModulePx is the size of one module in the input image's pixels, from
	// the finder pattern spacing and the version's module count.
	ModulePx float64
	// QuietZoneModules is the light margin around the symbol, in modules,
	// measured in the binarized image on the narrowest side, capped at 10.
	// The QR specification asks for 4.
	QuietZoneModules float64
	// Strategy names the rung of the decoding ladder that found the code:
	// plain, inverted, try-harder, try-harder-inverted, stretched,
	// stretched-inverted (low contrast), upscale-2x, upscale-2x-inverted;
	// for an SVG, prefixed with how it was rendered ("svg 8 px/module: ",
	// "svg fitted: ").
	Strategy string

	// unsized marks a code from an SVG that declares no size (no width
	// and height): its ModulePx and Bounds are in the SVG's user units,
	// and the size it is shown at is the page's to choose, so LintQR does
	// not judge it.
	unsized bool
}

var (
	// ErrNoCode is wrapped when an image decodes but holds no readable QR code.
	ErrNoCode = errors.New("no qr code found")
	// ErrTooLarge is wrapped when the input exceeds MaxBytes or MaxPixels.
	ErrTooLarge = errors.New("image too large")
)

// DecodeImageBytes decodes a PNG, JPEG, GIF or WebP image (the format is
// read from the content) and returns every QR code in it. name names the
// input in errors. The byte cap is checked first, then the pixel cap from
// the header, and only then are the pixels decoded. A panic in an image or
// QR decoder is returned as an error naming the input.
func DecodeImageBytes(ctx context.Context, name string, data []byte, opts DecodeOptions) ([]QR, error) {
	opts = opts.withDefaults()
	if int64(len(data)) > opts.MaxBytes {
		return nil, fmt.Errorf("%s: %w: %d bytes, the limit is %d", name, ErrTooLarge, len(data), opts.MaxBytes)
	}
	img, err := decodeRaster(name, data, opts)
	if err != nil {
		return nil, err
	}
	return decodeImage(ctx, name, img, opts)
}

// DecodeImage returns every QR code in img; see DecodeImageBytes.
func DecodeImage(ctx context.Context, img image.Image, opts DecodeOptions) ([]QR, error) {
	return decodeImage(ctx, "image", img, opts.withDefaults())
}

// decodeRaster checks the header against the pixel cap, then decodes.
func decodeRaster(name string, data []byte, opts DecodeOptions) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("%s: image decoder panicked: %v", name, r)
		}
	}()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: read image header: %w", name, err)
	}
	if err := checkPixels(cfg.Width, cfg.Height, opts.MaxPixels); err != nil {
		return nil, fmt.Errorf("%s: %s %w", name, format, err)
	}
	bpp := bytesPerPixel(cfg.ColorModel)
	if need := int64(cfg.Width) * int64(cfg.Height) * bpp; need > opts.MaxDecodedBytes {
		return nil, fmt.Errorf("%s: %w: %s %dx%d at %d bytes a pixel decodes to %d MiB, the limit is %d MiB (save it as 8-bit or gray, or crop it)",
			name, ErrTooLarge, format, cfg.Width, cfg.Height, bpp, need>>20, opts.MaxDecodedBytes>>20)
	}
	img, _, err = image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: decode %s: %w", name, format, err)
	}
	b := img.Bounds()
	if err := checkPixels(b.Dx(), b.Dy(), opts.MaxPixels); err != nil {
		return nil, fmt.Errorf("%s: decoded %s %w", name, format, err)
	}
	// The decoder reads luminance only: keep a gray copy and let the
	// decoded pixels go now, not after the whole ladder. For a big image,
	// collect at once, or the heap would grow past twice its size first.
	if _, ok := img.(*image.Gray); !ok {
		img = grayOf(img)
		if int64(b.Dx())*int64(b.Dy())*bpp > 32<<20 {
			runtime.GC()
		}
	}
	return img, nil
}

// bytesPerPixel is what a pixel of model takes once decoded (the image
// package's types; JPEG's YCbCr counted at 4:4:4); unknown models count
// as the widest, 8.
func bytesPerPixel(model color.Model) int64 {
	switch model {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.NYCbCrAModel:
		return 4
	}
	if _, ok := model.(color.Palette); ok {
		return 1
	}
	return 8
}

func checkPixels(w, h, maxPixels int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("image is empty (%dx%d)", w, h)
	}
	if int64(w)*int64(h) > int64(maxPixels) {
		return fmt.Errorf("%w: %dx%d is %d pixels, the limit is %d", ErrTooLarge, w, h, int64(w)*int64(h), maxPixels)
	}
	return nil
}

// decodeImage runs the ladder in its own goroutine so that a caller whose
// deadline passes gets its answer at the deadline even while gozxing is in
// the middle of a pass (gozxing cannot be interrupted; the abandoned pass
// finishes in the background and its result is dropped). The ladder itself
// checks ctx between rungs, so it stops soon after.
func decodeImage(ctx context.Context, name string, img image.Image, opts DecodeOptions) ([]QR, error) {
	b := img.Bounds()
	if err := checkPixels(b.Dx(), b.Dy(), opts.MaxPixels); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	type result struct {
		qrs []QR
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r = result{err: fmt.Errorf("%s: qr decoder panicked: %v", name, p)}
			}
			done <- r
		}()
		r.qrs, r.err = runLadder(ctx, img)
		if r.err == nil && opts.Camera != nil {
			r.qrs, r.err = throughCamera(ctx, img, r.qrs, opts)
		}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("%s: %w", name, r.err)
		}
		return r.qrs, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: decoding stopped: %w", name, ctx.Err())
	}
}

// throughCamera decodes img again as opts.Camera sees it, given the codes
// found in img.
func throughCamera(ctx context.Context, img image.Image, qrs []QR, opts DecodeOptions) ([]QR, error) {
	framed, scale := opts.Camera.frame(img, qrs)
	b := framed.Bounds()
	if err := checkPixels(int(float64(b.Dx())*scale)+1, int(float64(b.Dy())*scale)+1, opts.MaxPixels); err != nil {
		return nil, fmt.Errorf("camera %s: %w", opts.Camera.Name, err)
	}
	seen := opts.Camera.apply(framed, scale)
	qrs, err := runLadder(ctx, seen)
	if err != nil {
		return nil, fmt.Errorf("through camera %s: %w", opts.Camera.Name, err)
	}
	return qrs, nil
}
