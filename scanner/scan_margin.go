package scanner

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ImageMargin is the margin measured for one image of an input (see
// Margin): how far each degradation, alone, can go before the code stops
// decoding. It leaves out the code's text, which holds the secret.
type ImageMargin struct {
	Source       string   `json:"source"`
	ModulePx     float64  `json:"module_px"`
	MinModulePx  float64  `json:"min_module_px"`
	MaxBlurSigma float64  `json:"max_blur_sigma"`
	MaxNoise     float64  `json:"max_noise"`
	MaxRotateDeg float64  `json:"max_rotate_deg"`
	MaxTiltDeg   float64  `json:"max_tilt_deg"`
	MinContrast  float64  `json:"min_contrast"`
	Unbroken     []string `json:"unbroken"`
	Seed         int64    `json:"seed"`
	// Summary reads like "decodes down to 1.7 px/module, blur sigma 1.4, ...".
	Summary string `json:"summary"`
}

// MarginLimits is what a pipeline requires of a margin: each set field is
// a degradation the code must survive. Zero fields are not checked.
type MarginLimits struct {
	ModulePx  float64 // must decode at this px/module or smaller
	BlurSigma float64 // must decode under at least this blur
	Noise     float64 // ... this much noise
	RotateDeg float64 // ... this rotation
	TiltDeg   float64 // ... this tilt
	Contrast  float64 // must decode with this fraction of contrast left, or less
}

// ParseMarginLimits reads limits written as "px=2.5,blur=1,noise=20,
// rotate=10,tilt=30,contrast=50%" (any subset, any order; contrast as a
// fraction or a percentage).
func ParseMarginLimits(s string) (MarginLimits, error) {
	var l MarginLimits
	if strings.TrimSpace(s) == "" {
		return l, errors.New("margin limits are empty; write e.g. px=2.5,blur=1,tilt=30,contrast=50%")
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return l, fmt.Errorf("margin limit %q is not NAME=VALUE", part)
		}
		pct := strings.HasSuffix(v, "%")
		f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		if err != nil || f <= 0 || f != f || f > 1e6 {
			return l, fmt.Errorf("margin limit %s=%q is not a positive number", k, v)
		}
		if pct && k != "contrast" {
			return l, fmt.Errorf("margin limit %s takes no %%", k)
		}
		switch k {
		case "px", "module_px":
			l.ModulePx = f
		case "blur":
			l.BlurSigma = f
		case "noise":
			l.Noise = f
		case "rotate", "rotation":
			l.RotateDeg = f
		case "tilt":
			l.TiltDeg = f
		case "contrast":
			if pct || f > 1 {
				f /= 100
			}
			if f > 1 {
				return l, fmt.Errorf("margin limit contrast=%s is over 100%%", v)
			}
			l.Contrast = f
		default:
			return l, fmt.Errorf("unknown margin limit %q (px, blur, noise, rotate, tilt, contrast)", k)
		}
	}
	return l, nil
}

// check returns what of m falls short of l.
func (l MarginLimits) check(m ImageMargin) []string {
	var short []string
	if l.ModulePx > 0 && m.MinModulePx > l.ModulePx+1e-9 {
		short = append(short, fmt.Sprintf("decodes only down to %.1f px/module, not %.1f", m.MinModulePx, l.ModulePx))
	}
	if l.BlurSigma > 0 && m.MaxBlurSigma < l.BlurSigma-1e-9 {
		short = append(short, fmt.Sprintf("blur sigma %.1f, not %.1f", m.MaxBlurSigma, l.BlurSigma))
	}
	if l.Noise > 0 && m.MaxNoise < l.Noise-1e-9 {
		short = append(short, fmt.Sprintf("noise %.0f, not %.0f", m.MaxNoise, l.Noise))
	}
	if l.RotateDeg > 0 && m.MaxRotateDeg < l.RotateDeg-1e-9 {
		short = append(short, fmt.Sprintf("rotation %.0f degrees, not %.0f", m.MaxRotateDeg, l.RotateDeg))
	}
	if l.TiltDeg > 0 && m.MaxTiltDeg < l.TiltDeg-1e-9 {
		short = append(short, fmt.Sprintf("tilt %.0f degrees, not %.0f", m.MaxTiltDeg, l.TiltDeg))
	}
	if l.Contrast > 0 && m.MinContrast > l.Contrast+1e-9 {
		short = append(short, fmt.Sprintf("contrast down to %.0f%%, not %.0f%%", 100*m.MinContrast, 100*l.Contrast))
	}
	return short
}

// measureMargin runs Margin on the raster image src and checks the limits
// of opts, adding a margin-low finding to res when they are not met.
func measureMargin(ctx context.Context, res *InputResult, src source, opts Options) error {
	dopts := opts.Decode.withDefaults()
	img, err := decodeRaster(src.name, src.image, dopts)
	if err != nil {
		return err
	}
	if dopts.Camera == nil && opts.MarginSeed != 0 {
		dopts.Camera = &Camera{Seed: opts.MarginSeed}
	}
	r, err := Margin(ctx, img, dopts)
	if err != nil {
		return fmt.Errorf("%s: %w", src.name, err)
	}
	m := ImageMargin{Source: src.name, ModulePx: r.ModulePx, MinModulePx: r.MinModulePx, MaxBlurSigma: r.MaxBlurSigma,
		MaxNoise: r.MaxNoise, MaxRotateDeg: r.MaxRotateDeg, MaxTiltDeg: r.MaxTiltDeg, MinContrast: r.MinContrast,
		Unbroken: append([]string{}, r.Unbroken...), Seed: r.Seed, Summary: r.String()}
	res.Margins = append(res.Margins, m)
	if opts.MinMargin != nil {
		if short := opts.MinMargin.check(m); len(short) > 0 {
			res.Findings = append(res.Findings, finding(RuleMarginLow,
				"make the code larger, with a larger quiet zone and more contrast, or a lower version (shorter payload)",
				"%s: the margin falls short: %s", src.name, strings.Join(short, "; ")))
		}
	}
	return nil
}
