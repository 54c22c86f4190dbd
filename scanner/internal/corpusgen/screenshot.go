package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math/rand"
	"strings"

	"github.com/disintegration/imaging"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// theme colours of the console-like page.
type theme struct {
	page, header, card, text, muted, box, qrDark, qrLight color.RGBA
}

var (
	light = theme{
		page: rgb(243, 244, 246), header: rgb(35, 47, 62), card: rgb(255, 255, 255),
		text: rgb(22, 25, 31), muted: rgb(110, 117, 128), box: rgb(235, 240, 247),
		qrDark: rgb(0, 0, 0), qrLight: rgb(255, 255, 255),
	}
	// Dark mode draws the code light on dark, as some consoles do: read by
	// the inverted rung.
	dark = theme{
		page: rgb(24, 25, 28), header: rgb(12, 13, 15), card: rgb(38, 40, 45),
		text: rgb(230, 232, 236), muted: rgb(150, 155, 165), box: rgb(50, 54, 62),
		qrDark: rgb(232, 234, 237), qrLight: rgb(38, 40, 45),
	}
)

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 255} }

// screenshot sizes: width, height, device pixel ratio for text, px per module.
var sizes = []struct{ w, h, dpr, px int }{
	{1280, 720, 1, 3}, {1920, 1080, 1, 3}, {2560, 1440, 1, 4}, {3840, 2160, 2, 6},
}

func (g *gen) screenshots() {
	m := modules(uriConsole, qrM)
	for _, s := range sizes {
		for _, mode := range []string{"light", "dark"} {
			rng := rand.New(rand.NewSource(int64(s.w)))
			page, _ := screenshot(s.w, s.h, s.dpr, s.px, mode == "dark", m, rng)
			half := imaging.Resize(page, s.w/2, s.h/2, imaging.Lanczos)
			for _, size := range []string{"full", "half"} {
				img, px := image.Image(page), float64(s.px)
				if size == "half" {
					img, px = half, px/2
				}
				base := fmt.Sprintf("console-%dx%d-%s-%s", s.w, s.h, mode, size)
				e := Entry{Texts: []string{uriConsole}, Version: version(m), ECLevel: "M", ModulePx: px}
				e.File = base + ".png"
				g.add(e, encPNG(img))
				e.File = base + "-q75.jpg"
				g.add(e, encJPEG(img, 75))
			}
		}
	}
}

// screenshot draws an "Account Protection" page with the code and its
// "Scan failed?" manual-entry box; it returns the page and the code's origin.
func screenshot(w, h, dpr, px int, darkMode bool, m [][]bool, rng *rand.Rand) (*image.RGBA, image.Point) {
	t := light
	if darkMode {
		t = dark
	}
	img := consolePage(w, h, dpr, darkMode, rng)
	u := dpr
	card := image.Rect(w/5+24*u, 64*u+24*u, w-40*u, h-24*u)
	drawText(img, card.Min.X+24*u, card.Min.Y+20*u, u, t.text, "Account Protection: bind a virtual MFA device")
	drawText(img, card.Min.X+24*u, card.Min.Y+44*u, u, t.muted, "1. Open Google Authenticator on your phone and scan this QR code.")
	qrSize := (len(m) + 8) * px
	origin := image.Pt(card.Min.X+24*u, card.Min.Y+70*u)
	drawQR(img, m, origin.X, origin.Y, px, 4, t.qrDark, t.qrLight)
	// "Scan failed?" box to the right of the code.
	bx := image.Rect(origin.X+qrSize+32*u, origin.Y, min(origin.X+qrSize+32*u+420*u, card.Max.X-24*u), origin.Y+110*u)
	fill(img, bx, t.box)
	drawText(img, bx.Min.X+12*u, bx.Min.Y+10*u, u, t.text, "Scan failed? Enter this key manually:")
	drawText(img, bx.Min.X+12*u, bx.Min.Y+34*u, u, t.text, "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP")
	drawText(img, bx.Min.X+12*u, bx.Min.Y+58*u, u, t.muted, "Account: alice@example.com   Type: time based")
	// Code entry fields and the Next button below.
	y := origin.Y + qrSize + 24*u
	drawText(img, origin.X, y, u, t.text, "2. Enter two consecutive codes:")
	fill(img, image.Rect(origin.X, y+22*u, origin.X+160*u, y+52*u), t.box)
	fill(img, image.Rect(origin.X+180*u, y+22*u, origin.X+340*u, y+52*u), t.box)
	fill(img, image.Rect(origin.X+360*u, y+22*u, origin.X+440*u, y+52*u), rgb(236, 114, 17))
	drawText(img, origin.X+384*u, y+30*u, u, rgb(255, 255, 255), "Next")
	return img, origin
}

// consolePage draws the page chrome: background, header bar, navigation
// and a card with text-like paragraphs, without any code.
func consolePage(w, h, dpr int, darkMode bool, rng *rand.Rand) *image.RGBA {
	t := light
	if darkMode {
		t = dark
	}
	u := dpr
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fill(img, img.Rect, t.page)
	fill(img, image.Rect(0, 0, w, 64*u), t.header)
	fill(img, image.Rect(20*u, 20*u, 44*u, 44*u), rgb(236, 114, 17))
	drawText(img, 56*u, 26*u, u, rgb(230, 232, 236), "Example Cloud Console     Services   Billing   Support")
	nav := image.Rect(0, 64*u, w/5, h)
	fill(img, nav, t.card)
	for i, item := range []string{"Overview", "Users", "Groups", "Roles", "Policies", "Identity providers", "Account settings", "Security credentials"} {
		drawText(img, 20*u, 64*u+24*u+i*28*u, u, t.muted, item)
	}
	card := image.Rect(w/5+24*u, 64*u+24*u, w-40*u, h-24*u)
	fill(img, card, t.card)
	// Paragraph-like blocks along the card's lower right.
	textBlock(img, rng, image.Rect(card.Max.X-card.Dx()/3, card.Min.Y+200*u, card.Max.X-24*u, card.Max.Y-24*u), u, t.muted)
	return img
}

// textBlock fills r with lines of word-like bars.
func textBlock(img *image.RGBA, rng *rand.Rand, r image.Rectangle, u int, c color.RGBA) {
	for y := r.Min.Y; y+8*u < r.Max.Y; y += 20 * u {
		for x := r.Min.X; ; {
			wd := (18 + rng.Intn(60)) * u
			if x+wd > r.Max.X {
				break
			}
			fill(img, image.Rect(x, y, x+wd, y+8*u), c)
			x += wd + 8*u
		}
	}
}

// drawText writes s with the 7x13 bitmap font scaled by u (nearest
// neighbour, as a browser at that device pixel ratio would show crisp text).
func drawText(dst *image.RGBA, x, y, u int, c color.RGBA, s string) {
	face := basicfont.Face7x13
	w := font.MeasureString(face, s).Ceil()
	small := image.NewRGBA(image.Rect(0, 0, w, 13))
	d := font.Drawer{Dst: small, Src: image.NewUniform(c), Face: face, Dot: fixed.P(0, 11)}
	d.DrawString(strings.TrimSpace(s))
	var src image.Image = small
	if u > 1 {
		src = imaging.Resize(small, w*u, 13*u, imaging.NearestNeighbor)
	}
	draw.Draw(dst, src.Bounds().Add(image.Pt(x, y)), src, image.Point{}, draw.Over)
}
