package scanner

import (
	"bytes"
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeImageBytes feeds arbitrary bytes, seeded from every corpus file
// (valid PNG, JPEG and GIF, and the hostile ones), through the whole image
// path with small caps. It must return (never panic, never hang past its
// deadline), must refuse what exceeds the caps, must not report a recovered
// decoder panic, and must not allocate out of proportion to the pixel cap.
func FuzzDecodeImageBytes(f *testing.F) {
	files, err := os.ReadDir(corpusDir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range files {
		if strings.HasSuffix(e.Name(), ".json") || strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(corpusDir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	const maxPixels = 1 << 20
	opts := DecodeOptions{MaxBytes: 1 << 20, MaxPixels: maxPixels}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var before, after runtimeMem
		before.read()
		qrs, err := DecodeImageBytes(ctx, "fuzz.img", data, opts)
		after.read()
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.img") {
				t.Errorf("error %q does not name the input", err)
			}
			if strings.Contains(err.Error(), "panicked") {
				t.Errorf("decoder panicked (recovered): %v", err)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%d bytes: decode ran past a 30 s deadline", len(data))
			}
		}
		if int64(len(data)) > opts.MaxBytes && !errors.Is(err, ErrTooLarge) {
			t.Errorf("%d bytes over MaxBytes %d: err %v, want ErrTooLarge", len(data), opts.MaxBytes, err)
		}
		if cfg, _, cerr := image.DecodeConfig(bytes.NewReader(data)); cerr == nil && int64(cfg.Width)*int64(cfg.Height) > maxPixels && err == nil {
			t.Errorf("%dx%d image over MaxPixels %d decoded", cfg.Width, cfg.Height, maxPixels)
		}
		// The ladder keeps a few planes per pixel and a 2x upscale (4x the pixels, RGBA).
		if alloc := after.total - before.total; alloc > 200*maxPixels+64<<20 {
			t.Errorf("%d bytes of input allocated %d bytes", len(data), alloc)
		}
		for _, q := range qrs {
			if q.Text == "" && q.Version == 0 {
				t.Errorf("empty result %+v", q)
			}
		}
	})
}
