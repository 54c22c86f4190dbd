package scanner

import (
	"context"
	"errors"
	"image"
	"image/color"
	"math"

	"github.com/srwiley/rasterx"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// The rasterx.Scanner behind SVG rendering. rasterx's own ScannerGV
// resets and composites the whole image for every path (a qrencode SVG,
// one <rect> per module, took 0.7 s at 360x360 and an rqrcode one 100 s at
// 3000x3000); this one rasterizes the paths over their own extent, each
// run of paths of one colour together (so that adjacent modules drawn as
// separate rectangles leave no seam between them), and counts the work so
// that a hostile drawing stops at its budget.
//
// In measuring mode (dst nil) nothing is painted: the scanner records the
// axis-aligned edges of every path and their extent, from which the module
// grid is estimated (svgGrid).

// errSVGBudget is raised (as a panic, recovered by renderSVG) when a
// drawing needs more work than its budget.
var errSVGBudget = errors.New("the SVG drawing needs more work than its budget")

// svgScanner implements rasterx.Scanner.
type svgScanner struct {
	ctx context.Context
	dst *image.RGBA // nil when measuring
	z   vector.Rasterizer
	src image.Image

	// the current path, in 26.6 pixels: subpaths as point runs
	pts                    []fixed.Point26_6
	starts                 []int
	minX, minY, maxX, maxY fixed.Int26_6

	// the batch of paths of one colour not yet rasterized
	bpts     []fixed.Point26_6
	bstarts  []int
	batch    image.Rectangle
	batchSrc image.Image

	// budgets: line segments, and pixels rasterized summed over batches
	segments, maxSegments int
	draws                 int
	area, maxArea         int64

	// measuring: edge coordinates (26.6) and the painted extent
	xs, ys  []fixed.Int26_6
	extent  fixed.Rectangle26_6
	painted bool
}

const maxFixed = fixed.Int26_6(math.MaxInt32)

func newSVGScanner(ctx context.Context, dst *image.RGBA, maxSegments int, maxArea int64) *svgScanner {
	s := &svgScanner{ctx: ctx, dst: dst, maxSegments: maxSegments, maxArea: maxArea}
	s.extent = fixed.Rectangle26_6{Min: fixed.Point26_6{X: maxFixed, Y: maxFixed}, Max: fixed.Point26_6{X: -maxFixed, Y: -maxFixed}}
	s.Clear()
	return s
}

func (s *svgScanner) Start(a fixed.Point26_6) {
	s.starts = append(s.starts, len(s.pts))
	s.add(a)
}

func (s *svgScanner) Line(b fixed.Point26_6) {
	if len(s.starts) == 0 {
		s.Start(b)
		return
	}
	s.add(b)
}

func (s *svgScanner) add(p fixed.Point26_6) {
	s.segments++
	if s.segments > s.maxSegments {
		panic(errSVGBudget)
	}
	s.pts = append(s.pts, p)
	s.minX, s.maxX = min(s.minX, p.X), max(s.maxX, p.X)
	s.minY, s.maxY = min(s.minY, p.Y), max(s.maxY, p.Y)
}

// Draw paints (or measures) the path accumulated since Clear.
func (s *svgScanner) Draw() {
	if len(s.pts) < 3 {
		return
	}
	if s.draws++; s.draws%256 == 0 && s.ctx != nil {
		if err := s.ctx.Err(); err != nil {
			panic(err)
		}
	}
	if s.dst == nil {
		s.measure()
		return
	}
	if s.src == nil {
		return
	}
	r := image.Rect(int(s.minX.Floor()), int(s.minY.Floor()), int(s.maxX.Ceil()), int(s.maxY.Ceil())).Intersect(s.dst.Bounds())
	if r.Empty() {
		return
	}
	// Paths of one colour are rasterized together: adjacent modules drawn
	// as separate rectangles would otherwise leave light seams where their
	// anti-aliased edges meet at a fractional scale.
	if s.batchSrc != nil && !sameSource(s.batchSrc, s.src) {
		s.Flush()
	}
	if s.batchSrc == nil {
		s.batch = r
	} else {
		s.batch = s.batch.Union(r)
	}
	s.batchSrc = s.src
	for i, st := range s.starts {
		end := len(s.pts)
		if i+1 < len(s.starts) {
			end = s.starts[i+1]
		}
		s.bstarts = append(s.bstarts, len(s.bpts))
		s.bpts = append(s.bpts, s.pts[st:end]...)
	}
}

// sameSource reports whether two paint sources are one uniform colour.
func sameSource(a, b image.Image) bool {
	ua, ok1 := a.(*image.Uniform)
	ub, ok2 := b.(*image.Uniform)
	return ok1 && ok2 && ua.C == ub.C
}

// Flush rasterizes the paths batched so far.
func (s *svgScanner) Flush() {
	if s.batchSrc == nil {
		return
	}
	r := s.batch
	s.area += int64(r.Dx()) * int64(r.Dy())
	if s.area > s.maxArea {
		panic(errSVGBudget)
	}
	s.z.Reset(r.Dx(), r.Dy())
	ox, oy := float32(r.Min.X), float32(r.Min.Y)
	for i, st := range s.bstarts {
		end := len(s.bpts)
		if i+1 < len(s.bstarts) {
			end = s.bstarts[i+1]
		}
		p := s.bpts[st]
		s.z.MoveTo(float32(p.X)/64-ox, float32(p.Y)/64-oy)
		for _, p := range s.bpts[st+1 : end] {
			s.z.LineTo(float32(p.X)/64-ox, float32(p.Y)/64-oy)
		}
		s.z.ClosePath()
	}
	s.z.Draw(s.dst, r, s.batchSrc, r.Min)
	s.batchSrc, s.bpts, s.bstarts = nil, s.bpts[:0], s.bstarts[:0]
}

// measure records the axis-aligned edges of the path and its extent.
func (s *svgScanner) measure() {
	s.painted = true
	s.extent.Min.X, s.extent.Min.Y = min(s.extent.Min.X, s.minX), min(s.extent.Min.Y, s.minY)
	s.extent.Max.X, s.extent.Max.Y = max(s.extent.Max.X, s.maxX), max(s.extent.Max.Y, s.maxY)
	for i, st := range s.starts {
		end := len(s.pts)
		if i+1 < len(s.starts) {
			end = s.starts[i+1]
		}
		run := s.pts[st:end]
		for j := range run {
			a, b := run[j], run[(j+1)%len(run)]
			switch {
			case a == b:
			case a.X == b.X:
				s.xs = append(s.xs, a.X)
			case a.Y == b.Y:
				s.ys = append(s.ys, a.Y)
			}
		}
	}
}

func (s *svgScanner) GetPathExtent() fixed.Rectangle26_6 {
	return fixed.Rectangle26_6{Min: fixed.Point26_6{X: s.minX, Y: s.minY}, Max: fixed.Point26_6{X: s.maxX, Y: s.maxY}}
}

func (s *svgScanner) SetBounds(w, h int) {}

func (s *svgScanner) SetColor(c interface{}) {
	switch c := c.(type) {
	case color.Color:
		if _, _, _, a := c.RGBA(); a == 0 {
			s.src = nil // fully transparent: nothing to paint
			return
		}
		s.src = image.NewUniform(c)
	case rasterx.ColorFunc:
		s.src = colorFuncImage(c)
	default:
		s.src = nil
	}
}

// SetWinding is a no-op: the rasterizer fills by the non-zero rule (oksvg
// does not read fill-rule; it always asks for non-zero).
func (s *svgScanner) SetWinding(bool) {}

func (s *svgScanner) Clear() {
	s.pts, s.starts = s.pts[:0], s.starts[:0]
	s.minX, s.minY, s.maxX, s.maxY = maxFixed, maxFixed, -maxFixed, -maxFixed
}

func (s *svgScanner) SetClip(image.Rectangle) {}

// colorFuncImage is a gradient's colour function as an image source.
type colorFuncImage rasterx.ColorFunc

func (f colorFuncImage) ColorModel() color.Model { return color.RGBAModel }
func (f colorFuncImage) Bounds() image.Rectangle {
	return image.Rect(-1<<30, -1<<30, 1<<30, 1<<30)
}
func (f colorFuncImage) At(x, y int) color.Color { return f(x, y) }
