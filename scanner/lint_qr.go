package scanner

import "fmt"

// DefaultMinModulePx is the module size, in the image's pixels, under which
// LintQR warns that a phone may not scan the code at the size shown. At
// 96 dpi, 2 pixels are about half a millimetre: a version 4 code (33
// modules plus its quiet zone) is then about 2 cm wide on the screen, the
// smallest a phone camera focuses on and resolves at arm's length; below
// that the code only decodes from a screenshot, not through a camera.
const DefaultMinModulePx = 2.0

// minQuietZone is the quiet zone, in modules, the QR specification asks for.
const minQuietZone = 4

// LintQR checks the facts of a QR code as found in an image: its quiet zone
// and its module size. minModulePx <= 0 means DefaultMinModulePx. The
// module size of a code from an SVG that declares no width and height is
// not judged: the page decides the size it is shown at.
func LintQR(q QR, minModulePx float64) []Finding {
	if minModulePx <= 0 {
		minModulePx = DefaultMinModulePx
	}
	var fs []Finding
	if q.QuietZoneModules < minQuietZone {
		fs = append(fs, finding(RuleQRQuietZone,
			"leave a light margin of at least 4 modules around the code (CSS padding, or the encoder's margin option)",
			"the quiet zone is %s wide, under 4 modules", plural(q.QuietZoneModules, "module")))
	}
	if q.ModulePx > 0 && q.ModulePx < minModulePx && !q.unsized {
		fs = append(fs, finding(RuleQRSmall,
			fmt.Sprintf("show the code with modules of at least %s pixels (render it larger, or use a lower EC level or shorter payload for a smaller version)", trimFloat(minModulePx)),
			"one module is %s (version %d, %d modules across), under %s", plural(q.ModulePx, "pixel"), q.Version, 17+4*q.Version, plural(minModulePx, "pixel")))
	}
	return fs
}

// plural writes v and unit, with an "s" unless v is 1.
func plural(v float64, unit string) string {
	if v == 1 {
		return "1 " + unit
	}
	return trimFloat(v) + " " + unit + "s"
}

// trimFloat formats v with at most 2 decimals and no trailing zeros.
func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}
