package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestScanPeakMemory is the regression test for a 384 KB 16-bit RGBA PNG
// of 7000x7000 that took 791 MB of memory: the pixel cap counted pixels,
// not bytes. Each input is scanned in a child process whose peak
// resident memory (VmHWM, read by the child itself: the rusage of a child
// counts its parent's memory at the fork) must stay under 200 MB: the
// largest accepted images of each kind, and the 16-bit one, now refused
// from its header before any pixel is decoded; and noisy photos, which
// the photo rungs read (a 49-megapixel one took 338 MB before large
// photos were shrunk first).
func TestScanPeakMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("encodes images of up to 49 million pixels; memory under the race detector is not a scan's")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		img     func() image.Image
		refused bool
		jpeg    bool // a phone's photo: noisy, so the photo rungs run
	}{
		{"gray-7000x7000", func() image.Image { return white(image.NewGray(image.Rect(0, 0, 7000, 7000))) }, false, false},
		{"nrgba-4900x4900", func() image.Image { return white(image.NewNRGBA(image.Rect(0, 0, 4900, 4900))) }, false, false},
		{"nrgba64-3400x3400", func() image.Image { return white(image.NewNRGBA64(image.Rect(0, 0, 3400, 3400))) }, false, false},
		{"nrgba64-7000x7000", func() image.Image { return white(image.NewNRGBA64(image.Rect(0, 0, 7000, 7000))) }, true, false},
		{"gray-noise-7000x7000-jpeg", func() image.Image { return noisy(7000, 7000) }, false, true},
		{"gray-noise-4000x3000-jpeg", func() image.Image { return noisy(4000, 3000) }, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".png")
			var b bytes.Buffer
			if tc.jpeg {
				path = filepath.Join(dir, tc.name+".jpg")
				if err := jpeg.Encode(&b, tc.img(), &jpeg.Options{Quality: 85}); err != nil {
					t.Fatal(err)
				}
			} else if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, tc.img()); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestScanPeakMemoryChild$")
			cmd.Env = append(os.Environ(), "TOTPEMU_SCAN_CHILD="+path)
			out, err := cmd.CombinedOutput()
			code := cmd.ProcessState.ExitCode()
			if err != nil && code != 3 {
				t.Fatalf("%s: child: %v\n%s", tc.name, err, out)
			}
			if (code == 3) != tc.refused {
				t.Errorf("%s (%d KB): refused %t, want %t\n%s", tc.name, b.Len()>>10, code == 3, tc.refused, out)
			}
			var peak int64
			for _, line := range strings.Split(string(out), "\n") {
				if v, ok := strings.CutPrefix(line, "peak-kib: "); ok {
					peak, _ = strconv.ParseInt(v, 10, 64)
					peak >>= 10
				}
			}
			if peak == 0 {
				t.Fatalf("%s: the child did not say its peak memory:\n%s", tc.name, out)
			}
			if peak >= 200 {
				t.Errorf("%s: peak resident memory %d MiB, want under 200", tc.name, peak)
			}
			t.Logf("%s: %d KB encoded, peak %d MiB, %s", tc.name, b.Len()>>10, peak, bytes.TrimSpace(out))
		})
	}
}

// noisy is a grey picture with a gentle gradient and sensor noise, as a
// phone photo of a blank screen.
func noisy(w, h int) image.Image {
	img := image.NewGray(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewSource(1))
	for y := range h {
		for x := range w {
			img.Pix[y*w+x] = uint8(max(0, min(255, 100+x*80/w+int(rng.NormFloat64()*6))))
		}
	}
	return img
}

// TestScanPeakMemoryChild scans $TOTPEMU_SCAN_CHILD for TestScanPeakMemory:
// exit 0 read, 3 refused as too large.
func TestScanPeakMemoryChild(t *testing.T) {
	path := os.Getenv("TOTPEMU_SCAN_CHILD")
	if path == "" {
		t.Skip("run by TestScanPeakMemory")
	}
	res, err := ScanPath(context.Background(), path, nil, Options{})
	status, serr := os.ReadFile("/proc/self/status")
	if serr != nil {
		t.Skipf("no /proc/self/status: %v", serr)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Println("peak-kib:", strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	if errors.Is(err, ErrTooLarge) {
		fmt.Println("refused:", err)
		os.Exit(3)
	}
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("read:", res.Status)
	os.Exit(0)
}

func white[T interface{ image.Image }](img T) T {
	switch m := any(img).(type) {
	case *image.Gray:
		fill(m.Pix)
	case *image.NRGBA:
		fill(m.Pix)
	case *image.NRGBA64:
		fill(m.Pix)
	}
	return img
}

func fill(b []byte) {
	for i := range b {
		b[i] = 0xff
	}
}
