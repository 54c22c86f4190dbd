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
// and its module size. minModulePx <= 0 means DefaultMinModulePx.
func LintQR(q QR, minModulePx float64) []Finding {
	if minModulePx <= 0 {
		minModulePx = DefaultMinModulePx
	}
	var fs []Finding
	if q.QuietZoneModules < minQuietZone {
		fs = append(fs, finding(RuleQRQuietZone,
			"leave a light margin of at least 4 modules around the code (CSS padding, or the encoder's margin option)",
			"the quiet zone is %s modules wide, under 4", trimFloat(q.QuietZoneModules)))
	}
	if q.ModulePx > 0 && q.ModulePx < minModulePx {
		fs = append(fs, finding(RuleQRSmall,
			fmt.Sprintf("show the code with modules of at least %s pixels (render it larger, or use a lower EC level or shorter payload for a smaller version)", trimFloat(minModulePx)),
			"one module is %s pixels (version %d, %d modules across), under %s", trimFloat(q.ModulePx), q.Version, 17+4*q.Version, trimFloat(minModulePx)))
	}
	return fs
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
