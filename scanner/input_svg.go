package scanner

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/srwiley/oksvg"
	"github.com/srwiley/rasterx"
	"golang.org/x/image/colornames"
	"golang.org/x/image/math/fixed"
	"golang.org/x/net/html/charset"
)

// SVG QR codes, as consoles draw them (qrencode -t SVG, npm qrcode's
// toString({type: 'svg'}), Ruby rqrcode, python qrcode, segno), from a file,
// a data: URL or inline in an HTML page.
//
// The way in:
//
//  1. Caps, before any parsing: the bytes (DecodeOptions.MaxBytes), then a
//     cheap count of the start tags and of their nesting (svgTagCounts).
//  2. A normalizing pass (svgNormalize) with encoding/xml writes the subset
//     of SVG that oksvg reads, working around what oksvg gets wrong for
//     the forms QR encoders write: strokes of horizontal and vertical
//     lines (npm qrcode, segno, qrencode --svg-path draw each row of
//     modules as a stroked "M4 4.5h7m1 0h2" path) become filled rectangles,
//     because oksvg strokes in device pixels (its stroke widths ignore the
//     transform) and defaults stroke-width to 2, not 1; other stroke widths
//     are written in the root's units and scaled at rendering; transforms
//     are written as matrix() (oksvg reads scale(4) as scale(4, 0));
//     lengths with units and percentages are resolved; 8-digit colours,
//     rgba(), transparent and currentColor are written as oksvg's colours;
//     nested <svg> becomes a <g>; elements oksvg would draw wrongly
//     (clipPath, mask, pattern, symbol, marker, text, foreignObject) are
//     left out and named in the no-code finding; <use> inside <defs>
//     (oksvg would recurse without end) is dropped, and what <use>
//     expands to counts against the element cap.
//  3. oksvg parses the result into paths (a panic becomes an error).
//  4. A measuring pass draws the paths without painting and collects the
//     axis-aligned edges: QR encoders draw modules of one size in user
//     units (1 for qrencode and npm qrcode, 11 px for rqrcode's
//     module_size, a millimetre for python qrcode), so the edges sit on a
//     grid whose pitch is the module size (svgGrid).
//  5. The drawing is rendered on white at a whole number of pixels per
//     module (8, fewer when the code is large, at least 2) with the grid on
//     pixel edges and a 4-module light margin, capped in pixels, and
//     decoded by the ladder like any image. When no grid is found (a
//     rotated or dotted style), or that rendering holds no code, the
//     drawing is fitted to at most 1024 pixels instead.

// Limits on an SVG input.
const (
	maxSVGElements     = 20_000 // start tags, and elements <use> expands to
	maxSVGDepth        = 64
	maxSVGRasterPixels = 1 << 22 // 2048x2048
	maxSVGSegments     = 4_000_000
	svgAreaBudget      = 64 // pixels rasterized over all paths, times the raster's
	svgModulePx        = 8
	svgMinModulePx     = 2
	svgPadModules      = 4
	svgFitPx           = 1024
	svgMaxModules      = 4096 // modules across the drawing for a grid to count
)

const svgNS = "http://www.w3.org/2000/svg"

// svgBox is a rectangle in user units.
type svgBox struct{ x, y, w, h float64 }

// svgDoc is an SVG parsed and ready to render.
type svgDoc struct {
	icon   *oksvg.SvgIcon
	widths []float64 // each path's stroke width in the root's user units
	// vb is the viewport in user units; hasVB is false when the SVG gives
	// neither a viewBox nor a size (the drawing's extent is used).
	vb    svgBox
	hasVB bool
	// cssW, cssH are the size the SVG declares (width, height) in CSS
	// pixels; 0 when it declares none (the page sizes it).
	cssW, cssH float64
	// notes name what was left out (for the no-code finding).
	notes []string
	// images are the data: raster images of <image> elements.
	images [][]byte
}

// sized reports whether the SVG declares its size.
func (d *svgDoc) sized() bool { return d.cssW > 0 && d.cssH > 0 }

// looksSVG reports whether data is an SVG document: its root element,
// after an XML declaration, comments, processing instructions and a
// doctype, is <svg> (or <prefix:svg>).
func looksSVG(data []byte) bool {
	s := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	for {
		s = bytes.TrimLeft(s, " \t\r\n")
		switch {
		case bytes.HasPrefix(s, []byte("<?")):
			i := bytes.Index(s, []byte("?>"))
			if i < 0 {
				return false
			}
			s = s[i+2:]
		case bytes.HasPrefix(s, []byte("<!--")):
			i := bytes.Index(s[4:], []byte("-->"))
			if i < 0 {
				return false
			}
			s = s[4+i+3:]
		case bytes.HasPrefix(s, []byte("<!")):
			n := skipDirective(s)
			if n < 0 {
				return false
			}
			s = s[n:]
		case bytes.HasPrefix(s, []byte("<")):
			name := s[1:]
			if i := bytes.IndexAny(name, " \t\r\n/>"); i >= 0 {
				name = name[:i]
			}
			if i := bytes.LastIndexByte(name, ':'); i >= 0 {
				name = name[i+1:]
			}
			return string(name) == "svg"
		default:
			return false
		}
	}
}

// skipDirective returns the length of the <!...> at the start of s (a
// doctype with an internal subset in brackets included), or -1.
func skipDirective(s []byte) int {
	depth := 0
	var quote byte
	for i := 2; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == '>' && depth <= 0:
			return i + 1
		}
	}
	return -1
}

// svgTagCounts counts the start tags of data and their deepest nesting
// without parsing it, and stops with an ErrTooLarge error as soon as
// either passes its cap.
func svgTagCounts(data []byte) (elements, depth int, err error) {
	d := 0
	for i := 0; i < len(data); {
		j := bytes.IndexByte(data[i:], '<')
		if j < 0 {
			break
		}
		i += j
		rest := data[i:]
		skipTo := func(end string, from int) {
			if k := bytes.Index(rest[from:], []byte(end)); k >= 0 {
				i += from + k + len(end)
			} else {
				i = len(data)
			}
		}
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			skipTo("-->", 4)
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			skipTo("]]>", 9)
		case bytes.HasPrefix(rest, []byte("<?")):
			skipTo("?>", 2)
		case bytes.HasPrefix(rest, []byte("<!")):
			if n := skipDirective(rest); n > 0 {
				i += n
			} else {
				i = len(data)
			}
		case bytes.HasPrefix(rest, []byte("</")):
			d--
			skipTo(">", 2)
		case len(rest) > 1 && isNameStart(rest[1]):
			elements++
			if elements > maxSVGElements {
				return elements, depth, fmt.Errorf("%w: SVG of more than %d elements", ErrTooLarge, maxSVGElements)
			}
			end, selfClosing := tagEnd(rest)
			if !selfClosing {
				d++
				depth = max(depth, d)
				if depth > maxSVGDepth {
					return elements, depth, fmt.Errorf("%w: SVG elements nested more than %d deep", ErrTooLarge, maxSVGDepth)
				}
			}
			i += end
		default:
			i++
		}
	}
	return elements, depth, nil
}

func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || c >= 0x80
}

// tagEnd returns the length of the tag at the start of s (quoted
// attribute values may hold '>') and whether it ends with "/>".
func tagEnd(s []byte) (int, bool) {
	var quote byte
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i + 1, s[i-1] == '/'
		}
	}
	return len(s), false
}

// parseSVG caps, normalizes and parses an SVG document.
func parseSVG(data []byte, maxBytes int64) (doc *svgDoc, err error) {
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("%w: SVG of %d bytes, the limit is %d", ErrTooLarge, len(data), maxBytes)
	}
	if _, _, err := svgTagCounts(data); err != nil {
		return nil, err
	}
	n, err := svgNormalize(data)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("SVG: oksvg panicked: %v", r)
		}
	}()
	icon, err := oksvg.ReadIconStream(bytes.NewReader(n.out.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("SVG: %w", err)
	}
	doc = &n.doc
	doc.icon = icon
	for _, p := range icon.SVGPaths {
		doc.widths = append(doc.widths, p.LineWidth)
	}
	return doc, nil
}

// affine is a 2D transform: x' = a x + c y + e, y' = b x + d y + f.
type affine [6]float64

var identity = affine{1, 0, 0, 1, 0, 0}

// then returns p·q: q applied first.
func (p affine) mul(q affine) affine {
	return affine{
		p[0]*q[0] + p[2]*q[1], p[1]*q[0] + p[3]*q[1],
		p[0]*q[2] + p[2]*q[3], p[1]*q[2] + p[3]*q[3],
		p[0]*q[4] + p[2]*q[5] + p[4], p[1]*q[4] + p[3]*q[5] + p[5],
	}
}

// scale is the transform's mean linear scale.
func (p affine) scale() float64 { return math.Sqrt(math.Abs(p[0]*p[3] - p[1]*p[2])) }

func (p affine) String() string {
	var b strings.Builder
	b.WriteString("matrix(")
	for i, v := range p {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fmtNum(v))
	}
	b.WriteByte(')')
	return b.String()
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', 10, 64) }

// svgNumbers splits a list of SVG numbers (separated by white space or
// commas; "1.5.5" is 1.5 and .5, "1-2" is 1 and -2). ok is false on
// anything else, or a number that is not finite.
func svgNumbers(s string) (nums []float64, ok bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		n := numberLen(s[i:])
		if n == 0 {
			return nil, false
		}
		v, err := strconv.ParseFloat(s[i:i+n], 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, false
		}
		nums = append(nums, v)
		i += n
	}
	return nums, true
}

// numberLen is the length of the SVG number at the start of s, 0 if none.
func numberLen(s string) int {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits, dot := 0, false
	for i < len(s) {
		c := s[i]
		if c >= '0' && c <= '9' {
			digits++
		} else if c == '.' && !dot {
			dot = true
		} else {
			break
		}
		i++
	}
	if digits == 0 {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k > j {
			i = k
		}
	}
	return i
}

// parseTransform reads an SVG transform list.
func parseTransform(s string) (affine, bool) {
	m := identity
	s = strings.TrimSpace(s)
	for s != "" {
		open := strings.IndexByte(s, '(')
		cl := strings.IndexByte(s, ')')
		if open <= 0 || cl < open {
			return identity, false
		}
		name := strings.TrimSpace(s[:open])
		args, ok := svgNumbers(s[open+1 : cl])
		if !ok {
			return identity, false
		}
		s = strings.TrimLeft(s[cl+1:], " \t\r\n,")
		var t affine
		switch {
		case name == "matrix" && len(args) == 6:
			t = affine{args[0], args[1], args[2], args[3], args[4], args[5]}
		case name == "translate" && (len(args) == 1 || len(args) == 2):
			t = identity
			t[4] = args[0]
			if len(args) == 2 {
				t[5] = args[1]
			}
		case name == "scale" && (len(args) == 1 || len(args) == 2):
			sy := args[0]
			if len(args) == 2 {
				sy = args[1]
			}
			t = affine{args[0], 0, 0, sy, 0, 0}
		case name == "rotate" && (len(args) == 1 || len(args) == 3):
			a := args[0] * math.Pi / 180
			sin, cos := math.Sincos(a)
			t = affine{cos, sin, -sin, cos, 0, 0}
			if len(args) == 3 {
				cx, cy := args[1], args[2]
				t = affine{1, 0, 0, 1, cx, cy}.mul(t).mul(affine{1, 0, 0, 1, -cx, -cy})
			}
		case name == "skewX" && len(args) == 1:
			t = affine{1, 0, math.Tan(args[0] * math.Pi / 180), 1, 0, 0}
		case name == "skewY" && len(args) == 1:
			t = affine{1, math.Tan(args[0] * math.Pi / 180), 0, 1, 0, 0}
		default:
			return identity, false
		}
		m = m.mul(t)
	}
	return m, true
}

// svgLength converts an SVG length to user units (CSS pixels); ref is
// what 100% is (ok is false for a percentage when ref <= 0).
func svgLength(s string, ref float64) (float64, bool) {
	s = strings.TrimSpace(s)
	n := numberLen(s)
	if n == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(s[:n], 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	switch strings.ToLower(strings.TrimSpace(s[n:])) {
	case "", "px":
		return v, true
	case "pt":
		return v * 96 / 72, true
	case "pc":
		return v * 16, true
	case "mm":
		return v * 96 / 25.4, true
	case "cm":
		return v * 96 / 2.54, true
	case "in":
		return v * 96, true
	case "em":
		return v * 16, true
	case "ex":
		return v * 8, true
	case "%":
		if ref <= 0 {
			return 0, false
		}
		return v / 100 * ref, true
	}
	return 0, false
}

// svgColor writes a paint in a form oksvg reads: 4- and 8-digit hex and
// rgb()/rgba() (commas or spaces, percentages) as #rrggbb, or none when
// mostly transparent; transparent as none; currentColor as black (the
// default text colour); named colours, url() and hsl() as they are. ""
// means the value is to be ignored (missing, inherit, or not a colour, as
// CSS ignores an invalid value), so that oksvg never sees what it refuses.
func svgColor(v string) string {
	t := strings.ToLower(strings.TrimSpace(v))
	switch {
	case t == "" || t == "inherit" || t == "unset" || t == "initial":
		return ""
	case t == "none":
		return "none"
	case t == "transparent":
		return "none"
	case t == "currentcolor":
		return "#000000"
	case strings.HasPrefix(t, "#"):
		h := t[1:]
		for _, c := range h {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return ""
			}
		}
		alpha := "ff"
		switch len(h) {
		case 4:
			alpha, h = h[3:]+h[3:], h[:3]
		case 8:
			alpha, h = h[6:], h[:6]
		case 3, 6:
		default:
			return ""
		}
		if a, _ := strconv.ParseUint(alpha, 16, 8); a < 0x80 {
			return "none"
		}
		return "#" + h
	case strings.HasPrefix(t, "rgb(") || strings.HasPrefix(t, "rgba("):
		open, cl := strings.IndexByte(t, '('), strings.LastIndexByte(t, ')')
		if cl < open {
			return ""
		}
		parts := strings.FieldsFunc(t[open+1:cl], func(r rune) bool { return r == ',' || r == ' ' || r == '/' })
		if len(parts) != 3 && len(parts) != 4 {
			return ""
		}
		var rgb [3]int
		for i := range 3 {
			p := parts[i]
			scale := 1.0
			if strings.HasSuffix(p, "%") {
				p, scale = p[:len(p)-1], 2.55
			}
			f, err := strconv.ParseFloat(p, 64)
			if err != nil || math.IsNaN(f) {
				return ""
			}
			rgb[i] = int(math.Max(0, math.Min(255, math.Round(f*scale))))
		}
		if len(parts) == 4 {
			if a, ok := svgLength(parts[3], 1); !ok || a < 0.5 {
				return "none"
			}
		}
		return fmt.Sprintf("#%02x%02x%02x", rgb[0], rgb[1], rgb[2])
	case strings.HasPrefix(t, "url(") && strings.HasSuffix(t, ")"):
		return strings.TrimSpace(v)
	}
	if _, ok := colornames.Map[t]; ok {
		return t
	}
	return ""
}

// svgFrame is what an open element passes on to its children.
type svgFrame struct {
	out     string // the element written, "" when none
	m       affine // from its user space to the root's
	local   affine // its own transform
	strokeW float64
	stroke  string
	fill    string
	linecap string
	defs    bool
	style   bool // a <style>: its text is CSS
}

// svgNormalizer holds the state of svgNormalize.
type svgNormalizer struct {
	doc      svgDoc
	out      bytes.Buffer
	stack    []svgFrame
	skip     int // depth inside a subtree left out
	root     bool
	drawn    int            // elements written plus what <use> expands to
	defCount map[string]int // elements of each <defs> entry, as oksvg groups them
	defID    string
	noted    map[string]bool
	css      []cssRule
	cssText  strings.Builder
}

// svgPaintKeys are the properties read from attributes and style.
var svgPaintKeys = map[string]bool{
	"fill": true, "stroke": true, "stroke-width": true, "stroke-linecap": true, "stroke-linejoin": true,
	"stroke-miterlimit": true, "stroke-dasharray": true, "stroke-dashoffset": true,
	"opacity": true, "fill-opacity": true, "stroke-opacity": true, "transform": true,
	"display": true, "visibility": true, "clip-path": true, "mask": true, "filter": true,
}

// svgGeometry are the length attributes of each shape.
var svgGeometry = map[string][]string{
	"rect":    {"x", "y", "width", "height", "rx", "ry"},
	"circle":  {"cx", "cy", "r"},
	"ellipse": {"cx", "cy", "rx", "ry"},
	"line":    {"x1", "y1", "x2", "y2"},
	"use":     {"x", "y"},
	"svg":     {"x", "y", "width", "height"},
}

// svgNormalize rewrites an SVG document into the subset oksvg reads well
// (see the comment at the top of the file) and reads its viewport.
func svgNormalize(data []byte) (*svgNormalizer, error) {
	n := &svgNormalizer{defCount: map[string]int{}, noted: map[string]bool{}}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = charset.NewReaderLabel
	dec.Entity = xml.HTMLEntity
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("malformed SVG: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxSVGDepth {
				return nil, fmt.Errorf("%w: SVG elements nested more than %d deep", ErrTooLarge, maxSVGDepth)
			}
			if err := n.start(t); err != nil {
				return nil, err
			}
		case xml.EndElement:
			depth--
			n.end()
		case xml.CharData:
			if n.skip == 0 && len(n.stack) > 0 && n.stack[len(n.stack)-1].style && n.cssText.Len() < 1<<20 {
				n.cssText.Write(t)
			}
		}
	}
	if !n.root {
		return nil, errors.New("malformed SVG: no <svg> element")
	}
	return n, nil
}

func (n *svgNormalizer) note(what string) {
	if !n.noted[what] {
		n.noted[what] = true
		n.doc.notes = append(n.doc.notes, what)
	}
}

func (n *svgNormalizer) start(t xml.StartElement) error {
	if n.skip > 0 {
		n.skip++
		return nil
	}
	local := t.Name.Local
	if !n.root {
		if local != "svg" {
			return fmt.Errorf("malformed SVG: the root element is <%s>, not <svg>", truncate(local, 32))
		}
	}
	if sp := t.Name.Space; sp != "" && sp != svgNS && sp != "svg" {
		n.skip = 1 // another vocabulary (metadata, an editor's own)
		return nil
	}
	parent := svgFrame{m: identity, strokeW: 1, stroke: "none", fill: "black", linecap: "butt"}
	if len(n.stack) > 0 {
		parent = n.stack[len(n.stack)-1]
	}
	f := parent
	f.out = ""

	// Attributes: paint properties (style wins), geometry, the rest.
	props := map[string]string{}
	attrs := map[string]string{}
	var order []string
	for _, a := range t.Attr {
		k := a.Name.Local
		if a.Name.Space == "xmlns" || k == "xmlns" {
			continue
		}
		if a.Name.Space != "" && k != "href" {
			continue // xml:space, an editor's attributes
		}
		if svgPaintKeys[k] {
			props[k] = a.Value
			continue
		}
		if k == "style" {
			continue
		}
		if _, dup := attrs[k]; !dup {
			order = append(order, k)
		}
		attrs[k] = a.Value
	}
	if len(n.css) > 0 {
		classes := strings.Fields(attrs["class"])
		for _, r := range n.css {
			if r.sel.matches(local, attrs["id"], classes) {
				for k, v := range r.decls {
					props[k] = v
				}
			}
		}
	}
	for _, a := range t.Attr {
		if a.Name.Local == "style" && a.Name.Space == "" {
			for _, decl := range strings.Split(a.Value, ";") {
				k, v, ok := strings.Cut(decl, ":")
				if k = strings.ToLower(strings.TrimSpace(k)); ok && svgPaintKeys[k] {
					props[k] = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "!important"))
				}
			}
		}
	}
	if props["display"] == "none" || props["visibility"] == "hidden" || props["visibility"] == "collapse" {
		n.skip = 1
		return nil
	}
	for _, k := range []string{"clip-path", "mask", "filter"} {
		if v := props[k]; v != "" && v != "none" {
			n.note(k + " ignored")
		}
	}

	// What the element becomes.
	out := local
	switch local {
	case "svg":
		if n.root {
			out = "g" // nested: a group with its viewport's transform
		}
	case "g", "a":
		out = "g"
	case "switch":
		out = "g"
	case "style":
		// Read as CSS by the normalizer; oksvg never sees it.
		f.style = true
		n.cssText.Reset()
		n.stack = append(n.stack, f)
		return nil
	case "defs", "rect", "circle", "ellipse", "line", "polyline", "polygon", "path",
		"linearGradient", "radialGradient", "stop":
	case "use":
		if parent.defs {
			n.skip = 1 // oksvg would expand it again and again
			return nil
		}
	case "title", "desc", "metadata", "script":
		n.skip = 1
		return nil
	default:
		if local == "image" {
			n.image(attrs["href"])
		}
		n.note("<" + truncate(local, 32) + "> not drawn")
		n.skip = 1
		return nil
	}
	if local == "defs" {
		f.defs = true
	}

	// Geometry lengths, in user units.
	refW, refH := n.doc.vb.w, n.doc.vb.h
	geo := svgGeometry[local]
	if local == "svg" && !n.root {
		geo = svgGeometry["svg"]
	}
	for _, k := range geo {
		v, ok := attrs[k]
		if !ok || local == "svg" && !n.root {
			continue
		}
		ref := refW
		switch k {
		case "y", "height", "cy", "ry", "y1", "y2":
			ref = refH
		case "r":
			ref = math.Hypot(refW, refH) / math.Sqrt2
		}
		if l, ok := svgLength(v, ref); ok {
			attrs[k] = fmtNum(l)
		} else {
			delete(attrs, k)
		}
	}

	// The transform, and the root's and nested svg's viewports.
	local2 := identity
	if v, ok := props["transform"]; ok {
		if m, ok := parseTransform(v); ok {
			local2 = m
		}
	}
	if local == "svg" {
		if n.root {
			local2 = local2.mul(n.nestedViewport(attrs))
		} else {
			n.rootViewport(attrs)
		}
		for _, k := range []string{"x", "y", "width", "height", "viewBox", "preserveAspectRatio"} {
			delete(attrs, k)
		}
	}
	f.m = parent.m.mul(local2)
	f.local = local2

	// Paint.
	if v := svgColor(props["fill"]); v != "" {
		f.fill = v
	}
	if v := svgColor(props["stroke"]); v != "" {
		f.stroke = v
	}
	if v, ok := props["stroke-width"]; ok {
		if w, ok := svgLength(v, math.Hypot(refW, refH)/math.Sqrt2); ok && w >= 0 {
			f.strokeW = w
		}
	}
	if v, ok := props["stroke-linecap"]; ok {
		f.linecap = strings.TrimSpace(v)
	}
	n.root = true

	// Count what will be drawn, <use> expansions included.
	n.drawn++
	if parent.defs {
		if id := attrs["id"]; id != "" {
			n.defID = id
		}
		if n.defID != "" {
			n.defCount[n.defID]++
		}
	}
	if local == "use" {
		href := strings.TrimPrefix(strings.TrimSpace(attrs["href"]), "#")
		n.drawn += n.defCount[href]
	}
	if n.drawn > maxSVGElements {
		return fmt.Errorf("%w: SVG of more than %d elements (with what <use> repeats)", ErrTooLarge, maxSVGElements)
	}

	// Strokes of horizontal and vertical lines become filled rectangles.
	if (local == "path" || local == "line") && f.stroke != "none" && f.strokeW > 0 &&
		(f.linecap == "butt" || f.linecap == "square") && (props["stroke-dasharray"] == "" || props["stroke-dasharray"] == "none") {
		d := attrs["d"]
		if local == "line" {
			d = fmt.Sprintf("M%s %s L%s %s", attrs["x1"], attrs["y1"], attrs["x2"], attrs["y2"])
		}
		if rects, flat, ok := strokeRects(d, f.strokeW, f.linecap == "square"); ok {
			if f.fill != "none" && !flat && local == "path" {
				n.write("path", order, attrs, props, f, "none", f.fill)
				n.out.WriteString("</path>")
			}
			attrs["d"] = rects
			order = append(slices.DeleteFunc(order, func(k string) bool {
				return k == "d" || k == "x1" || k == "y1" || k == "x2" || k == "y2"
			}), "d")
			if so, ok := props["stroke-opacity"]; ok {
				props["fill-opacity"] = so
			} else {
				delete(props, "fill-opacity")
			}
			f.out = "path"
			n.write("path", order, attrs, props, f, "none", f.stroke)
			n.stack = append(n.stack, f)
			return nil
		}
	}
	f.out = out
	n.write(out, order, attrs, props, f, f.stroke, f.fill)
	n.stack = append(n.stack, f)
	return nil
}

// write writes a start tag: the kept attributes, then the paint as
// resolved (the stroke width in the root's units).
func (n *svgNormalizer) write(name string, order []string, attrs, props map[string]string, f svgFrame, stroke, fill string) {
	n.out.WriteByte('<')
	n.out.WriteString(name)
	attr := func(k, v string) {
		n.out.WriteByte(' ')
		n.out.WriteString(k)
		n.out.WriteString(`="`)
		xml.EscapeText(&n.out, []byte(v))
		n.out.WriteByte('"')
	}
	for _, k := range order {
		if v, ok := attrs[k]; ok {
			attr(k, v)
		}
	}
	if f.local != identity {
		// oksvg composes the element's transform with its parent's.
		attr("transform", f.local.String())
	}
	attr("fill", fill)
	attr("stroke", stroke)
	attr("stroke-width", fmtNum(f.strokeW*f.m.scale()))
	for _, k := range []string{"stroke-linecap", "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "opacity", "fill-opacity", "stroke-opacity"} {
		v, ok := props[k]
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "stroke-linecap", "stroke-linejoin":
		case "stroke-dasharray":
			if v == "none" {
				continue
			}
			nums, ok := svgNumbers(v)
			if !ok || len(nums) == 0 {
				continue
			}
			var parts []string
			for _, x := range nums {
				parts = append(parts, fmtNum(x*f.m.scale()))
			}
			v = strings.Join(parts, " ")
		default:
			x, ok := svgLength(v, 1)
			if !ok {
				continue
			}
			v = fmtNum(x)
		}
		attr(k, v)
	}
	n.out.WriteByte('>')
}

func (n *svgNormalizer) end() {
	if n.skip > 0 {
		n.skip--
		return
	}
	if len(n.stack) == 0 {
		return
	}
	f := n.stack[len(n.stack)-1]
	n.stack = n.stack[:len(n.stack)-1]
	if f.style {
		n.css = append(n.css, parseCSS(n.cssText.String())...)
		n.cssText.Reset()
	}
	if f.defs && (len(n.stack) == 0 || !n.stack[len(n.stack)-1].defs) {
		n.defID = ""
	}
	if f.out != "" {
		n.out.WriteString("</" + f.out + ">")
	}
}

// rootViewport reads the root's viewBox and size.
func (n *svgNormalizer) rootViewport(attrs map[string]string) {
	d := &n.doc
	if nums, ok := svgNumbers(attrs["viewBox"]); ok && len(nums) == 4 && nums[2] > 0 && nums[3] > 0 {
		d.vb, d.hasVB = svgBox{nums[0], nums[1], nums[2], nums[3]}, true
	}
	w, wok := svgLength(attrs["width"], 0)
	h, hok := svgLength(attrs["height"], 0)
	switch {
	case wok && hok && w > 0 && h > 0:
		d.cssW, d.cssH = w, h
	case wok && w > 0 && d.hasVB:
		d.cssW, d.cssH = w, w*d.vb.h/d.vb.w
	case hok && h > 0 && d.hasVB:
		d.cssW, d.cssH = h*d.vb.w/d.vb.h, h
	}
	if !d.hasVB && d.sized() {
		d.vb, d.hasVB = svgBox{0, 0, d.cssW, d.cssH}, true
	}
}

// nestedViewport is the transform of a nested <svg>: to its x, y and,
// with a viewBox and a size, scaled to fit (xMidYMid meet).
func (n *svgNormalizer) nestedViewport(attrs map[string]string) affine {
	x, _ := svgLength(attrs["x"], n.doc.vb.w)
	y, _ := svgLength(attrs["y"], n.doc.vb.h)
	m := affine{1, 0, 0, 1, x, y}
	w, wok := svgLength(attrs["width"], n.doc.vb.w)
	h, hok := svgLength(attrs["height"], n.doc.vb.h)
	if nums, ok := svgNumbers(attrs["viewBox"]); ok && len(nums) == 4 && nums[2] > 0 && nums[3] > 0 && wok && hok && w > 0 && h > 0 {
		s := math.Min(w/nums[2], h/nums[3])
		m = m.mul(affine{s, 0, 0, s, (w-nums[2]*s)/2 - nums[0]*s, (h-nums[3]*s)/2 - nums[1]*s})
	}
	return m
}

// image keeps the raster image of an <image href="data:...">.
func (n *svgNormalizer) image(href string) {
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(href)), "data:") || len(n.doc.images) >= maxHTMLImages {
		return
	}
	if img, isSVG, err := decodeDataURL(strings.TrimSpace(href), DefaultMaxBytes); err == nil && !isSVG {
		n.doc.images = append(n.doc.images, img)
	}
}

// strokeRects converts path data made only of horizontal and vertical
// lines (M, L, H, V, absolute or relative; no curves, no Z) stroked w
// wide into the path data of filled rectangles, one per segment (square
// caps extend each end by w/2). flat is true when every subpath runs
// along one line, so that filling the original draws nothing.
func strokeRects(d string, w float64, square bool) (rects string, flat bool, ok bool) {
	var b strings.Builder
	var cx, cy float64
	cmd := byte(0)
	flat = true
	dir := 0 // of the current subpath: 0 none yet, 1 horizontal, 2 vertical
	lineY, lineX := 0.0, 0.0
	segs := 0
	add := func(x1, y1, x2, y2 float64) bool {
		h := w / 2
		ext := 0.0
		if square {
			ext = h
		}
		var x0, y0, xa, ya float64
		switch {
		case y1 == y2:
			if x1 == x2 && !square {
				return true
			}
			x0, xa = math.Min(x1, x2)-ext, math.Max(x1, x2)+ext
			y0, ya = y1-h, y1+h
			if dir == 2 || dir == 1 && y1 != lineY {
				flat = false
			}
			if dir == 0 {
				dir, lineY = 1, y1
			}
		case x1 == x2:
			y0, ya = math.Min(y1, y2)-ext, math.Max(y1, y2)+ext
			x0, xa = x1-h, x1+h
			if dir == 1 || dir == 2 && x1 != lineX {
				flat = false
			}
			if dir == 0 {
				dir, lineX = 2, x1
			}
		default:
			return false
		}
		segs++
		fmt.Fprintf(&b, "M%s %sH%sV%sH%sZ", fmtNum(x0), fmtNum(y0), fmtNum(xa), fmtNum(ya), fmtNum(x0))
		return true
	}
	for i := 0; i < len(d); {
		c := d[i]
		if c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		if strings.IndexByte("MmLlHhVv", c) >= 0 {
			cmd = c
			i++
			continue
		}
		if strings.IndexByte("ZzCcSsQqTtAa", c) >= 0 || cmd == 0 {
			return "", false, false
		}
		need := 2
		if cmd == 'H' || cmd == 'h' || cmd == 'V' || cmd == 'v' {
			need = 1
		}
		var v [2]float64
		for k := 0; k < need; k++ {
			for i < len(d) && (d[i] == ' ' || d[i] == ',' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
				i++
			}
			l := numberLen(d[i:])
			if l == 0 {
				return "", false, false
			}
			x, err := strconv.ParseFloat(d[i:i+l], 64)
			if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
				return "", false, false
			}
			v[k] = x
			i += l
		}
		nx, ny := cx, cy
		switch cmd {
		case 'M':
			nx, ny = v[0], v[1]
		case 'm':
			nx, ny = cx+v[0], cy+v[1]
		case 'L':
			nx, ny = v[0], v[1]
		case 'l':
			nx, ny = cx+v[0], cy+v[1]
		case 'H':
			nx = v[0]
		case 'h':
			nx = cx + v[0]
		case 'V':
			ny = v[0]
		case 'v':
			ny = cy + v[0]
		}
		if cmd == 'M' || cmd == 'm' {
			dir = 0
			cx, cy = nx, ny
			if cmd == 'M' {
				cmd = 'L'
			} else {
				cmd = 'l'
			}
			continue
		}
		if !add(cx, cy, nx, ny) {
			return "", false, false
		}
		cx, cy = nx, ny
	}
	if segs == 0 {
		return "", false, false
	}
	return b.String(), flat, true
}

// svgPlan is one way of rendering an SVG: raster pixels per user unit,
// where the viewport's corner lands, the raster's size.
type svgPlan struct {
	scale    float64
	tx, ty   float64
	w, h     int
	modulePx int // whole pixels per module; 0 when fitted
	vb       svgBox
}

// plans returns the renderings to try: at whole pixels per module on the
// grid measured, then fitted.
func (d *svgDoc) plans(ctx context.Context, opts DecodeOptions) ([]svgPlan, error) {
	maxPx := min(int64(opts.MaxPixels), maxSVGRasterPixels, opts.MaxDecodedBytes/4)
	vb := d.vb
	var grid svgGridFit
	var ok bool
	if !d.hasVB {
		// Measure at 1 px a unit to find the extent first.
		ext, _, err := d.measure(ctx, svgBox{0, 0, 1, 1}, 1)
		if err != nil {
			return nil, err
		}
		if ext.w <= 0 || ext.h <= 0 {
			return nil, nil
		}
		vb = ext
	}
	ms := 4096 / math.Max(vb.w, vb.h)
	_, g, err := d.measure(ctx, vb, ms)
	if err != nil {
		return nil, err
	}
	grid, ok = g.fit(ms)
	var plans []svgPlan
	if ok {
		found := false
		for k := svgModulePx; k >= svgMinModulePx; k-- {
			s := float64(k) / grid.u
			pad := float64(svgPadModules * k)
			w, h := int(math.Ceil(vb.w*s+2*pad)), int(math.Ceil(vb.h*s+2*pad))
			if int64(w)*int64(h) > maxPx {
				continue
			}
			tx := pad + math.Round(grid.ox*s) - grid.ox*s
			ty := pad + math.Round(grid.oy*s) - grid.oy*s
			plans = append(plans, svgPlan{scale: s, tx: tx, ty: ty, w: w, h: h, modulePx: k, vb: vb})
			found = true
			break
		}
		if !found {
			return nil, fmt.Errorf("%w: SVG of %s x %s modules (%s a module) need over %d pixels at %d px/module",
				ErrTooLarge, trimFloat(math.Round(vb.w/grid.u)), trimFloat(math.Round(vb.h/grid.u)), plural(math.Round(grid.u*100)/100, "unit"), maxPx, svgMinModulePx)
		}
	}
	long := float64(svgFitPx)
	pad := 16.0
	for {
		s := (long - 2*pad) / math.Max(vb.w, vb.h)
		w, h := int(math.Ceil(vb.w*s+2*pad)), int(math.Ceil(vb.h*s+2*pad))
		if int64(w)*int64(h) <= maxPx {
			plans = append(plans, svgPlan{scale: s, tx: pad, ty: pad, w: w, h: h, vb: vb})
			break
		}
		if long /= 1.5; long < 64 {
			return nil, fmt.Errorf("%w: SVG of %s x %s units does not fit in %d pixels", ErrTooLarge, trimFloat(vb.w), trimFloat(vb.h), maxPx)
		}
	}
	return plans, nil
}

// measure draws the paths without painting, at s pixels a unit with vb's
// corner at the origin, and returns the drawing's extent (in user units)
// and its axis-aligned edges.
func (d *svgDoc) measure(ctx context.Context, vb svgBox, s float64) (ext svgBox, g svgEdges, err error) {
	sc := newSVGScanner(ctx, nil, maxSVGSegments, 0)
	if err := d.draw(sc, 1<<24, 1<<24, svgPlan{scale: s, vb: vb}); err != nil {
		return svgBox{}, svgEdges{}, err
	}
	if !sc.painted {
		return svgBox{}, svgEdges{}, nil
	}
	e := sc.extent
	x0, y0 := float64(e.Min.X)/64/s+vb.x, float64(e.Min.Y)/64/s+vb.y
	x1, y1 := float64(e.Max.X)/64/s+vb.x, float64(e.Max.Y)/64/s+vb.y
	x0, y0 = math.Min(x0, 0), math.Min(y0, 0)
	return svgBox{x0, y0, x1 - x0, y1 - y0}, svgEdges{xs: sc.xs, ys: sc.ys}, nil
}

// draw runs oksvg's drawing through sc under plan, turning panics (a
// budget passed, the deadline, oksvg's own) into errors.
func (d *svgDoc) draw(sc *svgScanner, w, h int, p svgPlan) (err error) {
	defer func() {
		if r := recover(); r != nil {
			switch r := r.(type) {
			case error:
				if errors.Is(r, errSVGBudget) {
					err = fmt.Errorf("%w: %w", ErrTooLarge, r)
				} else if errors.Is(r, context.DeadlineExceeded) || errors.Is(r, context.Canceled) {
					err = fmt.Errorf("rendering the SVG stopped: %w", r)
				} else {
					err = fmt.Errorf("rendering the SVG: oksvg panicked: %v", r)
				}
			default:
				err = fmt.Errorf("rendering the SVG: oksvg panicked: %v", r)
			}
		}
	}()
	for i := range d.icon.SVGPaths {
		d.icon.SVGPaths[i].LineWidth = d.widths[i] * p.scale
	}
	d.icon.Transform = rasterx.Identity.Translate(p.tx-p.scale*p.vb.x, p.ty-p.scale*p.vb.y).Scale(p.scale, p.scale)
	d.icon.Draw(rasterx.NewDasher(w, h, sc), 1)
	if sc.dst != nil {
		sc.Flush()
	}
	return nil
}

// render paints the SVG under plan on white and returns it as gray.
func (d *svgDoc) render(ctx context.Context, p svgPlan) (*image.Gray, error) {
	rgba := image.NewRGBA(image.Rect(0, 0, p.w, p.h))
	draw.Draw(rgba, rgba.Bounds(), image.White, image.Point{}, draw.Src)
	sc := newSVGScanner(ctx, rgba, maxSVGSegments, int64(p.w)*int64(p.h)*svgAreaBudget)
	if err := d.draw(sc, p.w, p.h, p); err != nil {
		return nil, err
	}
	gray := image.NewGray(rgba.Bounds())
	for i, j := 0, 0; i < len(rgba.Pix); i, j = i+4, j+1 {
		r, g, b := uint32(rgba.Pix[i]), uint32(rgba.Pix[i+1]), uint32(rgba.Pix[i+2])
		gray.Pix[j] = uint8((299*r + 587*g + 114*b + 500) / 1000)
	}
	return gray, nil
}

// facts maps a code's facts from the raster of plan back to the SVG as
// drawn: CSS pixels at the size the SVG declares, else its user units;
// the quiet zone no wider than the SVG draws it (the viewport's edge).
func (p svgPlan) facts(q QR, d *svgDoc) QR {
	m := q.ModulePx
	if m > 0 {
		vx0, vy0 := p.tx, p.ty
		vx1, vy1 := p.tx+p.vb.w*p.scale, p.ty+p.vb.h*p.scale
		b := q.Bounds
		dist := math.Min(math.Min(float64(b.Min.X)-vx0, vx1-float64(b.Max.X)), math.Min(float64(b.Min.Y)-vy0, vy1-float64(b.Max.Y)))
		q.QuietZoneModules = math.Min(q.QuietZoneModules, math.Max(0, math.Floor(dist/m+0.1)))
	}
	fx, fy := 1.0, 1.0
	if d.sized() {
		fx, fy = d.cssW/p.vb.w, d.cssH/p.vb.h
	} else {
		q.unsized = true
	}
	at := func(x, y int) image.Point {
		return image.Pt(int(math.Round((float64(x)-p.tx)/p.scale*fx)), int(math.Round((float64(y)-p.ty)/p.scale*fy)))
	}
	q.Bounds = image.Rectangle{Min: at(q.Bounds.Min.X, q.Bounds.Min.Y), Max: at(q.Bounds.Max.X, q.Bounds.Max.Y)}
	q.ModulePx = math.Round(m/p.scale*(fx+fy)/2*1000) / 1000
	if p.modulePx > 0 {
		q.Strategy = fmt.Sprintf("svg %d px/module: %s", p.modulePx, q.Strategy)
	} else {
		q.Strategy = "svg fitted: " + q.Strategy
	}
	return q
}

// svgEdges are the axis-aligned edges a measuring pass saw (26.6).
type svgEdges struct {
	xs, ys []fixed.Int26_6
}

// svgGridFit is a module grid: its pitch u and offsets from the
// viewport's corner, in user units.
type svgGridFit struct{ u, ox, oy float64 }

// fit finds the module grid of the edges measured at s pixels a unit.
func (g svgEdges) fit(s float64) (svgGridFit, bool) {
	// oksvg keeps path points in 26.6 fixed point of their own units:
	// edges jitter by up to 1/128 unit.
	q := 2 * s / 64
	ux, ox, okx := gridAxis(g.xs, q)
	uy, oy, oky := gridAxis(g.ys, q)
	switch {
	case okx && oky:
		if math.Abs(ux-uy) > 0.02*math.Max(ux, uy) {
			return svgGridFit{}, false
		}
		u := (ux + uy) / 2
		return svgGridFit{u / s, ox / s, oy / s}, true
	case okx:
		return svgGridFit{ux / s, ox / s, 0}, true
	case oky:
		return svgGridFit{uy / s, 0, oy / s}, true
	}
	return svgGridFit{}, false
}

// gridAxis finds the pitch and offset of edge coordinates (26.6 pixels)
// that sit on a regular grid: the smallest gap between distinct edges
// that nine in ten edges fall on multiples of.
func gridAxis(raw []fixed.Int26_6, jitter float64) (u, off float64, ok bool) {
	if len(raw) < 8 {
		return 0, 0, false
	}
	vals := make([]float64, len(raw))
	for i, v := range raw {
		vals[i] = float64(v) / 64
	}
	slices.Sort(vals)
	span := vals[len(vals)-1] - vals[0]
	tol := max(1.0/32, span*1e-5, jitter)
	uniq := vals[:1]
	for _, v := range vals[1:] {
		if v-uniq[len(uniq)-1] > tol {
			uniq = append(uniq, v)
		}
	}
	if len(uniq) < 4 {
		return 0, 0, false
	}
	gaps := make([]float64, 0, len(uniq)-1)
	for i := 1; i < len(uniq); i++ {
		gaps = append(gaps, uniq[i]-uniq[i-1])
	}
	slices.Sort(gaps)
	tried := 0
	for i, j := 0, 0; i < len(gaps) && tried < 6; i = j {
		// A cluster of gaps within 3% of each other: its mean is the
		// candidate pitch (the smallest, or the median of gaps quantized
		// to 1/64 pixel, would drift off the grid across the code).
		total := 0.0
		for j = i; j < len(gaps) && gaps[j] <= gaps[i]*1.03; j++ {
			total += gaps[j]
		}
		c := total / float64(j-i)
		if c < 2*tol {
			continue
		}
		tried++
		if span/c > svgMaxModules {
			continue
		}
		// Refine the pitch by least squares over the edges near the
		// grid, then count the edges on it.
		v0 := uniq[0]
		fit := func(c, within float64) (u float64, on int) {
			var num, den float64
			for _, v := range uniq {
				r := (v - v0) / c
				k := math.Round(r)
				if math.Abs(r-k)*c <= within {
					on++
					num += k * (v - v0)
					den += k * k
				}
			}
			if den == 0 {
				return c, 0
			}
			return num / den, on
		}
		u, _ := fit(c, math.Max(tol, 0.2*c))
		u, on := fit(u, math.Max(tol, 0.05*u))
		if on*10 < len(uniq)*9 {
			continue
		}
		// The offset: the mean residue of the edges on the grid.
		var sum float64
		var cnt int
		for _, v := range uniq {
			r := (v - v0) / u
			k := math.Round(r)
			if math.Abs(r-k)*u <= math.Max(tol, 0.05*u) {
				sum += v - k*u
				cnt++
			}
		}
		return u, sum / float64(cnt), true
	}
	return 0, 0, false
}

// cssRule is one rule of a <style>: a simple selector and the paint
// properties it sets.
type cssRule struct {
	sel   cssSelector
	decls map[string]string
}

// cssSelector is a compound selector of an element name, classes and an
// id (rect, .dark, path.qr, #code, *); anything more is not read.
type cssSelector struct {
	elem, id string
	classes  []string
}

func (s cssSelector) matches(elem, id string, classes []string) bool {
	if s.elem != "" && s.elem != "*" && s.elem != elem || s.id != "" && s.id != id {
		return false
	}
	for _, c := range s.classes {
		if !slices.Contains(classes, c) {
			return false
		}
	}
	return true
}

// parseCSS reads the rules of a style sheet whose selectors are simple
// and whose declarations set paint properties; at-rules, combinators and
// pseudo-classes are skipped.
func parseCSS(text string) []cssRule {
	for {
		i := strings.Index(text, "/*")
		if i < 0 {
			break
		}
		j := strings.Index(text[i+2:], "*/")
		if j < 0 {
			text = text[:i]
			break
		}
		text = text[:i] + " " + text[i+2+j+2:]
	}
	text = strings.NewReplacer("<![CDATA[", "", "]]>", "").Replace(text)
	var rules []cssRule
	for _, block := range strings.Split(text, "}") {
		sels, body, ok := strings.Cut(block, "{")
		if !ok || strings.Contains(body, "{") {
			continue
		}
		decls := map[string]string{}
		for _, d := range strings.Split(body, ";") {
			k, v, ok := strings.Cut(d, ":")
			if k = strings.ToLower(strings.TrimSpace(k)); ok && svgPaintKeys[k] {
				decls[k] = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "!important"))
			}
		}
		if len(decls) == 0 {
			continue
		}
		for _, sel := range strings.Split(sels, ",") {
			if s, ok := parseSelector(strings.TrimSpace(sel)); ok && len(rules) < 1000 {
				rules = append(rules, cssRule{s, decls})
			}
		}
	}
	return rules
}

func parseSelector(sel string) (cssSelector, bool) {
	if sel == "" || strings.ContainsAny(sel, " >+~:[@()") {
		return cssSelector{}, false
	}
	var s cssSelector
	for sel != "" {
		i := strings.IndexAny(sel[1:], ".#") + 1
		if i == 0 {
			i = len(sel)
		}
		part := sel[:i]
		sel = sel[i:]
		switch part[0] {
		case '.':
			s.classes = append(s.classes, part[1:])
		case '#':
			s.id = part[1:]
		default:
			if s.elem != "" || len(s.classes) > 0 || s.id != "" {
				return cssSelector{}, false
			}
			s.elem = part
		}
	}
	return s, true
}

// svgSources parses an SVG into the sources to scan: its drawing, and
// each raster image an <image> embeds as a data: URL.
func svgSources(name string, data []byte, maxBytes int64) ([]source, error) {
	doc, err := parseSVG(data, maxBytes)
	if err != nil {
		return nil, err
	}
	srcs := []source{{name: name, svg: doc}}
	for i, img := range doc.images {
		srcs = append(srcs, source{name: fmt.Sprintf("%s image %d", name, i+1), image: img})
	}
	return srcs, nil
}

// decodeSVG renders an SVG source (at whole pixels per module, then
// fitted when that finds nothing), decodes the rendering like any image
// and maps the facts back to the SVG. The source comes back with its
// image set to the rendering that was decoded, for the margin.
func decodeSVG(ctx context.Context, src source, opts DecodeOptions) ([]QR, source, error) {
	opts = opts.withDefaults()
	plans, err := src.svg.plans(ctx, opts)
	if err != nil {
		return nil, src, fmt.Errorf("%s: %w", src.name, err)
	}
	if len(plans) == 0 {
		src.svg.notes = append(src.svg.notes, "it draws nothing")
		return nil, src, fmt.Errorf("%s: %w", src.name, ErrNoCode)
	}
	for i, p := range plans {
		gray, err := src.svg.render(ctx, p)
		if err != nil {
			return nil, src, fmt.Errorf("%s: %w", src.name, err)
		}
		if src.image, err = pngOf(gray); err != nil {
			return nil, src, fmt.Errorf("%s: %w", src.name, err)
		}
		doc := src.svg
		src.facts = func(q QR) QR { return p.facts(q, doc) }
		qrs, err := decodeSource(ctx, src, opts)
		if errors.Is(err, ErrNoCode) && i+1 < len(plans) {
			continue
		}
		return qrs, src, err
	}
	return nil, src, fmt.Errorf("%s: %w", src.name, ErrNoCode)
}
