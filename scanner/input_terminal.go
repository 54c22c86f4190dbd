package scanner

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"strconv"
	"strings"
)

// Terminal QR text: a code printed with block characters, as
// google-authenticator (libpam-google-authenticator), qrencode -t
// ASCII|UTF8|ANSI|ANSIUTF8 and npm qrcode's terminal output draw it, alone
// or inside a CI log. A block is a run of lines made of the glyphs below
// (after an optional prefix such as a log timestamp, cut at the line's last
// other character), with ANSI colour escapes anywhere. Each block is
// rendered to a gray bitmap, a character 4 px wide and 8 px tall (the
// half blocks split it in two), which makes the modules of every style
// square, and decoded like any image.

// Limits on what is read of a text input as terminal QR blocks.
const (
	maxTerminalBlocks = 8   // blocks per input
	maxTerminalLines  = 200 // lines per block (a version 40 code is 185 modules)
	maxTerminalCells  = 400 // characters per line
	minTerminalLines  = 8   // a version 1 code in half blocks is 11 lines
	minTerminalCells  = 10
	terminalCellW     = 4
	terminalCellH     = 8
	terminalPad       = 32 // light margin around the rendered block, px
)

// cell is one character of a block: which halves its glyph paints with
// the foreground colour, and its colours as luminances 0..255, or
// defaultFG / defaultBG for the terminal's own (reverse video swaps them
// too).
type cell struct {
	top, bottom bool
	fg, bg      int
}

const (
	defaultFG = -1
	defaultBG = -2
)

// sgrState is the colour state SGR escapes change.
type sgrState struct {
	fg, bg        int
	bold, reverse bool
}

// glyphHalves says which halves a glyph paints; ok is false for a
// character that is no part of a terminal QR code.
func glyphHalves(r rune) (top, bottom, ok bool) {
	switch r {
	case ' ', '\u00a0':
		return false, false, true
	case '█', '#':
		return true, true, true
	case '▀':
		return true, false, true
	case '▄':
		return false, true, true
	}
	return false, false, false
}

// terminalLine parses a line into cells: ANSI SGR colours followed, other
// escapes dropped, a prefix up to the last character that is not a glyph
// cut off. ok is false when what is left is too short to be a code's row,
// or holds neither a painted glyph nor a coloured cell.
func terminalLine(line string) (cells []cell, ok bool) {
	st := sgrState{fg: defaultFG, bg: defaultBG}
	painted := false
	for i := 0; i < len(line); {
		if line[i] == 0x1b {
			n, params := escape(line[i:])
			if params != nil {
				st.apply(params)
			}
			i += n
			continue
		}
		r, size := rune(line[i]), 1
		if r >= 0x80 {
			rs := []rune(line[i:min(len(line), i+4)])
			r, size = rs[0], len(string(rs[0]))
		}
		i += size
		if r == '\r' || r == '\n' {
			continue
		}
		top, bottom, glyph := glyphHalves(r)
		if !glyph {
			cells, painted = cells[:0], false // a prefix: start again after it
			continue
		}
		f, b := st.fg, st.bg
		if st.bold && f >= 0 && f < 128 {
			f = min(255, f+100) // bold brightens the ANSI foreground
		}
		if st.reverse {
			f, b = b, f
		}
		c := cell{top: top, bottom: bottom, fg: f, bg: b}
		if top || bottom || b != defaultBG {
			painted = true
		}
		if len(cells) >= maxTerminalCells {
			return nil, false
		}
		cells = append(cells, c)
	}
	return cells, painted && len(cells) >= minTerminalCells
}

// escape measures an escape sequence at the start of s; params are the
// parameters of an SGR sequence (ESC [ ... m), nil for any other.
func escape(s string) (n int, params []int) {
	if len(s) < 2 || s[1] != '[' {
		return min(2, len(s)), nil
	}
	j := 2
	for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';') {
		j++
	}
	if j >= len(s) {
		return len(s), nil
	}
	if s[j] != 'm' {
		return j + 1, nil
	}
	params = []int{}
	for _, p := range strings.Split(s[2:j], ";") {
		v, _ := strconv.Atoi(p) // "" is 0, a reset
		params = append(params, v)
	}
	return j + 1, params
}

// apply applies SGR parameters (colours as luminances 0..255).
func (st *sgrState) apply(params []int) {
	for k := 0; k < len(params); k++ {
		p := params[k]
		switch {
		case p == 0:
			*st = sgrState{fg: defaultFG, bg: defaultBG}
		case p == 1:
			st.bold = true
		case p == 22:
			st.bold = false
		case p == 7:
			st.reverse = true
		case p == 27:
			st.reverse = false
		case p >= 30 && p <= 37:
			st.fg = ansiLuma(p-30, false)
		case p >= 90 && p <= 97:
			st.fg = ansiLuma(p-90, true)
		case p == 39:
			st.fg = defaultFG
		case p >= 40 && p <= 47:
			st.bg = ansiLuma(p-40, false)
		case p >= 100 && p <= 107:
			st.bg = ansiLuma(p-100, true)
		case p == 49:
			st.bg = defaultBG
		case (p == 38 || p == 48) && k+2 < len(params) && params[k+1] == 5:
			st.set(p == 38, xterm256Luma(params[k+2]))
			k += 2
		case (p == 38 || p == 48) && k+4 < len(params) && params[k+1] == 2:
			st.set(p == 38, int(luma8(byte(params[k+2]), byte(params[k+3]), byte(params[k+4]))))
			k += 4
		}
	}
}

func (st *sgrState) set(fg bool, v int) {
	if fg {
		st.fg = v
	} else {
		st.bg = v
	}
}

// ansiLuma is the luminance of one of the eight ANSI colours (xterm's).
func ansiLuma(c int, bright bool) int {
	rgb := [8][3]byte{{0, 0, 0}, {205, 0, 0}, {0, 205, 0}, {205, 205, 0}, {0, 0, 238}, {205, 0, 205}, {0, 205, 205}, {229, 229, 229}}
	if bright {
		rgb = [8][3]byte{{127, 127, 127}, {255, 0, 0}, {0, 255, 0}, {255, 255, 0}, {92, 92, 255}, {255, 0, 255}, {0, 255, 255}, {255, 255, 255}}
	}
	v := rgb[c&7]
	return int(luma8(v[0], v[1], v[2]))
}

// xterm256Luma is the luminance of an xterm 256-colour index.
func xterm256Luma(i int) int {
	switch {
	case i < 8:
		return ansiLuma(i, false)
	case i < 16:
		return ansiLuma(i-8, true)
	case i < 232:
		i -= 16
		steps := [6]byte{0, 95, 135, 175, 215, 255}
		return int(luma8(steps[i/36%6], steps[i/6%6], steps[i%6]))
	case i < 256:
		return 8 + 10*(i-232)
	}
	return 255
}

// terminalBlocks finds the runs of terminal QR lines in text.
func terminalBlocks(text string) [][][]cell {
	var blocks [][][]cell
	var cur [][]cell
	flush := func() {
		if len(cur) >= minTerminalLines && len(blocks) < maxTerminalBlocks {
			blocks = append(blocks, cur)
		}
		cur = nil
	}
	for _, line := range strings.Split(text, "\n") {
		cells, ok := terminalLine(line)
		if !ok || len(cur) >= maxTerminalLines {
			flush()
			if !ok {
				continue
			}
		}
		cur = append(cur, cells)
	}
	flush()
	return blocks
}

// renderTerminal draws a block as a gray image. inkLight says how to read
// the terminal's default colours: false as dark glyphs on a light page (a
// file, a printed log), true as light glyphs on a dark terminal (what
// qrencode -t UTF8 and google-authenticator assume). Explicit ANSI
// colours are drawn as they are, or with invert as their negative (a code
// drawn light on dark, qrencode -t ANSIUTF8i: its margin is dark). The
// margin around the block is light always: it is the quiet zone the
// decoder needs.
func renderTerminal(block [][]cell, inkLight, invert bool) *image.Gray {
	width := 0
	for _, row := range block {
		width = max(width, len(row))
	}
	defFG, defBG := 0, 255
	if inkLight {
		defFG, defBG = 255, 0
	}
	w, h := width*terminalCellW+2*terminalPad, len(block)*terminalCellH+2*terminalPad
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	half := func(x0, y0 int, v int) {
		for y := y0; y < y0+terminalCellH/2; y++ {
			row := img.Pix[y*img.Stride:]
			for x := x0; x < x0+terminalCellW; x++ {
				row[x] = byte(v)
			}
		}
	}
	for r, row := range block {
		for c := 0; c < width; c++ {
			cl := cell{fg: defaultFG, bg: defaultBG} // a line cut short: the default page
			if c < len(row) {
				cl = row[c]
			}
			resolve := func(v int) int {
				switch v {
				case defaultFG:
					v = defFG
				case defaultBG:
					v = defBG
				}
				if invert {
					v = 255 - v
				}
				return v
			}
			fg, bg := resolve(cl.fg), resolve(cl.bg)
			x, y := terminalPad+c*terminalCellW, terminalPad+r*terminalCellH
			top, bottom := bg, bg
			if cl.top {
				top = fg
			}
			if cl.bottom {
				bottom = fg
			}
			half(x, y, top)
			half(x, y+terminalCellH/2, bottom)
		}
	}
	return img
}

// pngOf encodes a rendering for the image path of ScanInput.
func pngOf(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// parseTerminal makes a source of each terminal QR block in text (two
// renderings, as drawn and its negative: the one that decodes is kept,
// see ScanInput) and of each otpauth line beside them; ok is false when
// text holds no block.
func parseTerminal(name, text string) (*parsed, bool, error) {
	blocks := terminalBlocks(text)
	if len(blocks) == 0 {
		return nil, false, nil
	}
	p := &parsed{form: FormTerminal}
	for i, bl := range blocks {
		n := name
		if len(blocks) > 1 {
			n = fmt.Sprintf("%s block %d", name, i+1)
		}
		// As drawn, then its negative (both with a light margin); with
		// default colours read as dark ink first, the negative is the
		// light-ink reading.
		var src source
		for _, inv := range []bool{false, true} {
			b, err := pngOf(renderTerminal(bl, false, inv))
			if err != nil {
				return nil, true, err
			}
			src.alts = append(src.alts, b)
		}
		src.name, src.image = n, src.alts[0]
		p.sources = append(p.sources, src)
	}
	for _, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(line)
		if lower := strings.ToLower(l); strings.HasPrefix(lower, "otpauth://") || strings.HasPrefix(lower, "otpauth-migration://") {
			p.sources = append(p.sources, source{name: name + " text", text: l})
		}
	}
	return p, true, nil
}
