package scanner

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/html"
)

// maxHTMLImages bounds the embedded images read from one page.
const maxHTMLImages = 64

// parseHTML finds the raster images an HTML page embeds as data: URLs in
// <img src>. Images the page links to (src="file.png") are not fetched, and
// embedded SVG or other non-raster types are skipped; when nothing raster
// is left the input is refused, naming what was found.
func parseHTML(name, text string, opts Options) (*parsed, error) {
	p := &parsed{form: FormHTML}
	maxBytes := opts.Decode.withDefaults().MaxBytes
	var imgs, linked, skipped int
	var firstErr error
	z := html.NewTokenizer(strings.NewReader(text))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break // io.EOF, or malformed beyond repair: stop with what was found
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tag, hasAttr := z.TagName()
		if string(tag) != "img" || !hasAttr {
			continue
		}
		imgs++
		var src string
		for {
			k, v, more := z.TagAttr()
			if string(k) == "src" {
				src = strings.TrimSpace(string(v))
			}
			if !more {
				break
			}
		}
		if !strings.HasPrefix(strings.ToLower(src), "data:") {
			linked++
			continue
		}
		img, err := decodeDataURL(src, maxBytes)
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return nil, fmt.Errorf("%s: %w: img %d: %w", name, ErrUnreadable, imgs, err)
			}
			skipped++
			if firstErr == nil {
				firstErr = fmt.Errorf("img %d: %w", imgs, err)
			}
			continue
		}
		if len(p.sources) >= maxHTMLImages {
			return nil, fmt.Errorf("%s: %w: more than %d embedded images", name, ErrUnreadable, maxHTMLImages)
		}
		p.sources = append(p.sources, source{name: fmt.Sprintf("%s img %d", name, imgs), image: img})
	}
	if len(p.sources) == 0 {
		msg := fmt.Sprintf("the HTML embeds no raster image in a data: URL (%d <img>: %d linked, not fetched; %d not readable)", imgs, linked, skipped)
		if firstErr != nil {
			return nil, fmt.Errorf("%s: %w: %s; %w", name, ErrUnreadable, msg, firstErr)
		}
		p.noCode = msg
	}
	return p, nil
}
