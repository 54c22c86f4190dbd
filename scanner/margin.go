package scanner

import (
	"context"
	"errors"
	"fmt"
	"image"
	"strings"
)

// MarginReferencePx is the code size, in pixels per module, at which Margin
// sweeps blur, noise, rotation, tilt and contrast (a phone at a comfortable
// distance), so that reports for different images compare.
const MarginReferencePx = 4.0

// MarginReport says how far each degradation, applied alone, can go before
// the code stops decoding. Each limit is the last value of its sweep that
// decoded; a name in Unbroken means the code still decoded at the sweep's
// last value, so the true limit lies beyond.
type MarginReport struct {
	Text     string  // the code measured (the first found)
	ModulePx float64 // its size in the image as given

	MinModulePx  float64 // smallest size, in px/module, that decodes
	MaxBlurSigma float64 // Gaussian blur sigma, in pixels at MarginReferencePx
	MaxNoise     float64 // sensor noise standard deviation, grey levels
	MaxRotateDeg float64 // in-plane rotation, degrees
	MaxTiltDeg   float64 // perspective tilt about the vertical axis, degrees
	MinContrast  float64 // fraction of contrast left under glare (0.3 = 30%)

	Seed     int64
	Unbroken []string // sweeps that never failed: module_px, blur, noise, rotate, tilt, contrast
}

// sweep is one degradation's series of values, easiest first.
type sweep struct {
	name   string
	values []float64
	camera func(v float64) Camera
	set    func(r *MarginReport, v float64)
}

func steps(from, to, step float64) []float64 {
	var out []float64
	n := int((to-from)/step + 0.5)
	for i := 0; i <= n; i++ {
		out = append(out, from+float64(i)*step)
	}
	return out
}

func marginSweeps(seed int64) []sweep {
	ref := func(c Camera) Camera { c.ModulePx, c.Seed = MarginReferencePx, seed; return c }
	return []sweep{
		{"module_px", steps(-6, -0.6, 0.1), // negated so that the sweep runs from easy to hard
			func(v float64) Camera { return Camera{ModulePx: -v, Seed: seed} },
			func(r *MarginReport, v float64) { r.MinModulePx = -v }},
		{"blur", steps(0, 4, 0.1),
			func(v float64) Camera { return ref(Camera{BlurSigma: v}) },
			func(r *MarginReport, v float64) { r.MaxBlurSigma = v }},
		{"noise", steps(0, 120, 5),
			func(v float64) Camera { return ref(Camera{Noise: v}) },
			func(r *MarginReport, v float64) { r.MaxNoise = v }},
		{"rotate", steps(0, 45, 5),
			func(v float64) Camera { return ref(Camera{RotateDeg: v}) },
			func(r *MarginReport, v float64) { r.MaxRotateDeg = v }},
		{"tilt", steps(0, 85, 5),
			func(v float64) Camera { return ref(Camera{TiltDeg: v}) },
			func(r *MarginReport, v float64) { r.MaxTiltDeg = v }},
		{"contrast", steps(-1, -0.02, 0.02),
			func(v float64) Camera { return ref(Camera{Contrast: -v}) },
			func(r *MarginReport, v float64) { r.MinContrast = -v }},
	}
}

// Margin sweeps each degradation separately, from none to where the code
// found in img stops decoding, and reports the last value that decoded.
// The module size sweep starts at the code's own size (at most 6 px/module)
// and goes down in steps of 0.1; the others are measured with the code at
// MarginReferencePx. It uses opts' caps and ctx's deadline (a default of
// DefaultTimeout for each decode when ctx has none); opts.Camera is ignored,
// and its Seed, when opts.Camera is set, seeds the noise.
func Margin(ctx context.Context, img image.Image, opts DecodeOptions) (MarginReport, error) {
	var seed int64 = 1
	if opts.Camera != nil {
		seed = opts.Camera.Seed
	}
	opts.Camera = nil
	qrs, err := DecodeImage(ctx, img, opts)
	if err != nil {
		return MarginReport{}, fmt.Errorf("margin: %w", err)
	}
	r := MarginReport{Text: qrs[0].Text, ModulePx: qrs[0].ModulePx, Seed: seed}
	for _, s := range marginSweeps(seed) {
		values := s.values
		if s.name == "module_px" {
			// Never enlarge: the sweep starts at the code's own size.
			for len(values) > 0 && s.camera(values[0]).ModulePx > qrs[0].ModulePx+1e-9 {
				values = values[1:]
			}
		}
		decodes := func(v float64) (bool, error) {
			c := s.camera(v)
			ok, err := decodesThrough(ctx, img, qrs, &c, opts)
			if err != nil {
				return false, fmt.Errorf("margin: %s %.3g: %w", s.name, v, err)
			}
			return ok, nil
		}
		i, err := firstFailure(values, decodes)
		if err != nil {
			return r, err
		}
		if i == 0 {
			return r, fmt.Errorf("margin: %s: the code does not decode even at the sweep's first value", s.name)
		}
		s.set(&r, values[i-1])
		if i == len(values) {
			r.Unbroken = append(r.Unbroken, s.name)
		}
	}
	return r, nil
}

// sweepStride is how many values of a sweep firstFailure skips between
// probes before it narrows down.
const sweepStride = 4

// firstFailure returns the index of the first of values, easiest first,
// at which decodes fails (len(values) when none does). It probes every
// sweepStride-th value and then the ones between the last success and the
// first failure: for a monotonic sweep the same answer as trying them all,
// with about a third of the decodes.
func firstFailure(values []float64, decodes func(float64) (bool, error)) (int, error) {
	lo := -1 // the last index known to decode
	hi := len(values)
	for i := 0; i < len(values); i += sweepStride {
		ok, err := decodes(values[i])
		if err != nil {
			return 0, err
		}
		if !ok {
			hi = i
			break
		}
		lo = i
	}
	for i := lo + 1; i < hi; i++ {
		ok, err := decodes(values[i])
		if err != nil {
			return 0, err
		}
		if !ok {
			return i, nil
		}
	}
	return hi, nil
}

// decodesThrough reports whether the first code's text is read through c.
func decodesThrough(ctx context.Context, img image.Image, qrs []QR, c *Camera, opts DecodeOptions) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	opts = opts.withDefaults()
	framed, scale := c.frame(img, qrs)
	seen := c.apply(framed, scale)
	got, err := DecodeImage(ctx, seen, DecodeOptions{MaxBytes: opts.MaxBytes, MaxPixels: opts.MaxPixels})
	switch {
	case errors.Is(err, ErrNoCode):
		return false, nil
	case err != nil:
		return false, err
	}
	for _, q := range got {
		if q.Text == qrs[0].Text {
			return true, nil
		}
	}
	return false, nil
}

// String reads like "decodes down to 1.7 px/module, blur sigma 1.4, noise
// 40, rotation 45+ degrees, tilt 35 degrees, contrast 30%"; a + marks a sweep
// that never failed.
func (r MarginReport) String() string {
	plus := func(name string) string {
		for _, u := range r.Unbroken {
			if u == name {
				return "+"
			}
		}
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "decodes down to %.1f px/module%s, blur sigma %.1f%s, noise %.0f%s, rotation %.0f%s degrees, tilt %.0f%s degrees, contrast %.0f%%%s",
		r.MinModulePx, plus("module_px"), r.MaxBlurSigma, plus("blur"), r.MaxNoise, plus("noise"),
		r.MaxRotateDeg, plus("rotate"), r.MaxTiltDeg, plus("tilt"), 100*r.MinContrast, plus("contrast"))
	return b.String()
}
