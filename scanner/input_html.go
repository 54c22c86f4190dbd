package scanner

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxHTMLImages bounds the embedded images read from one page.
const maxHTMLImages = 64

// parseHTML finds the images of an HTML page: each <img src> embedded as
// a data: URL (raster or SVG) or linked to a file of a saved page
// (page_files/qr.png or qr.svg, read from opts.BaseDir, never outside it),
// and each inline <svg> element. Remote images are not fetched; when
// nothing is left the page holds no code, and the finding names what was
// found.
func parseHTML(name, text string, opts Options) (*parsed, error) {
	p := &parsed{form: FormHTML}
	maxBytes := opts.Decode.withDefaults().MaxBytes
	var imgs, linked, read, skipped, svgs int
	var remote []string
	var firstErr, linkErr error
	add := func(srcs ...source) error {
		if len(p.sources)+len(srcs) > maxHTMLImages {
			return fmt.Errorf("%s: %w: more than %d embedded images", name, ErrUnreadable, maxHTMLImages)
		}
		p.sources = append(p.sources, srcs...)
		return nil
	}
	// inline reads one <svg>...</svg> of the page.
	inline := func(raw []byte) error {
		svgs++
		srcs, err := inlineSVG(fmt.Sprintf("%s svg %d", name, svgs), raw, maxBytes)
		if errors.Is(err, ErrTooLarge) {
			return fmt.Errorf("%s: %w: svg %d: %w", name, ErrUnreadable, svgs, err)
		}
		if err != nil {
			skipped++
			if firstErr == nil {
				firstErr = fmt.Errorf("svg %d: %w", svgs, err)
			}
			return nil
		}
		return add(srcs...)
	}
	var svgBuf []byte
	svgDepth := 0
	z := html.NewTokenizer(strings.NewReader(text))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break // io.EOF, or malformed beyond repair: stop with what was found
		}
		raw := z.Raw()
		if svgDepth > 0 {
			// Inside an inline <svg>: keep its text as written (TagName
			// lower-cases it in place, viewBox included).
			svgBuf = append(svgBuf, raw...)
			if int64(len(svgBuf)) > maxBytes {
				return nil, fmt.Errorf("%s: %w: svg %d: %w: over %d bytes", name, ErrUnreadable, svgs+1, ErrTooLarge, maxBytes)
			}
			if tt == html.StartTagToken || tt == html.EndTagToken {
				if tag, _ := z.TagName(); string(tag) == "svg" {
					if tt == html.StartTagToken {
						svgDepth++
					} else {
						svgDepth--
					}
				}
				if svgDepth == 0 {
					if err := inline(svgBuf); err != nil {
						return nil, err
					}
					svgBuf = nil
				}
			}
			continue
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		if tt == html.StartTagToken && len(raw) > 4 && strings.EqualFold(string(raw[1:4]), "svg") && strings.IndexByte(" \t\r\n/>", raw[4]) >= 0 {
			svgBuf, svgDepth = append([]byte(nil), raw...), 1
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
		var img []byte
		var isSVG bool
		var err error
		if strings.HasPrefix(strings.ToLower(src), "data:") {
			img, isSVG, err = decodeDataURL(src, maxBytes)
		} else {
			linked++
			img, err = linkedImage(src, opts.BaseDir, maxBytes)
			switch {
			case errors.Is(err, errRemote):
				remote = append(remote, src)
				continue
			case errors.Is(err, ErrTooLarge):
				return nil, fmt.Errorf("%s: %w: img %d: %w", name, ErrUnreadable, imgs, err)
			case err != nil:
				// The page is read; the file it links to is not there.
				if linkErr == nil {
					linkErr = fmt.Errorf("img %d: %w", imgs, err)
				}
				continue
			}
			read++
			isSVG = rasterFormat(img) == "" && looksSVG(img)
		}
		srcName := fmt.Sprintf("%s img %d", name, imgs)
		var srcs []source
		if err == nil && isSVG {
			srcs, err = svgSources(srcName, img, maxBytes)
		} else if err == nil {
			srcs = []source{{name: srcName, image: img}}
		}
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
		if err := add(srcs...); err != nil {
			return nil, err
		}
	}
	if svgDepth > 0 { // an <svg> the page never closes
		if err := inline(svgBuf); err != nil {
			return nil, err
		}
	}
	if len(p.sources) == 0 {
		msg := fmt.Sprintf("the HTML embeds no image (%d <img>: %d linked, %d of them read; %d inline <svg>; %d not readable)", imgs, linked, read, svgs, skipped)
		if len(remote) > 0 {
			msg += fmt.Sprintf("; remote images are not fetched: %s", strings.Join(remote[:min(3, len(remote))], ", "))
		}
		if linkErr != nil {
			msg += "; " + linkErr.Error()
		}
		if firstErr != nil {
			return nil, fmt.Errorf("%s: %w: %s; %w", name, ErrUnreadable, msg, firstErr)
		}
		p.noCode = msg
	}
	return p, nil
}

// inlineSVG reads an <svg> element of an HTML page: as XML when it is
// well-formed (as the encoders write it), else as the HTML parser reads
// foreign content (unquoted attributes, unclosed elements, names in any
// case), written out again as XML.
func inlineSVG(name string, raw []byte, maxBytes int64) ([]source, error) {
	if _, _, err := svgTagCounts(raw); err != nil {
		return nil, err
	}
	srcs, err := svgSources(name, raw, maxBytes)
	if err == nil || errors.Is(err, ErrTooLarge) {
		return srcs, err
	}
	fixed, ferr := svgFromHTML(raw)
	if ferr != nil {
		return nil, err
	}
	if srcs, ferr := svgSources(name, fixed, maxBytes); ferr == nil || errors.Is(ferr, ErrTooLarge) {
		return srcs, ferr
	}
	return nil, err
}

// svgFromHTML parses an <svg> fragment as HTML and writes its element as
// XML.
func svgFromHTML(raw []byte) ([]byte, error) {
	body := &html.Node{Type: html.ElementNode, DataAtom: atom.Body, Data: "body"}
	nodes, err := html.ParseFragment(bytes.NewReader(raw), body)
	if err != nil {
		return nil, err
	}
	var find func(n *html.Node, depth int) *html.Node
	find = func(n *html.Node, depth int) *html.Node {
		if n.Type == html.ElementNode && n.Data == "svg" {
			return n
		}
		if depth > 8 {
			return nil
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if f := find(c, depth+1); f != nil {
				return f
			}
		}
		return nil
	}
	var root *html.Node
	for _, n := range nodes {
		if root = find(n, 0); root != nil {
			break
		}
	}
	if root == nil {
		return nil, errors.New("no <svg> element")
	}
	var b bytes.Buffer
	var write func(n *html.Node, depth int) error
	write = func(n *html.Node, depth int) error {
		if depth > maxSVGDepth {
			return fmt.Errorf("%w: SVG elements nested more than %d deep", ErrTooLarge, maxSVGDepth)
		}
		switch n.Type {
		case html.TextNode:
			xml.EscapeText(&b, []byte(n.Data))
		case html.ElementNode:
			b.WriteString("<" + n.Data)
			for _, a := range n.Attr {
				if a.Namespace != "" && a.Key != "href" || strings.ContainsAny(a.Key, "<>\"'/=") {
					continue
				}
				b.WriteString(" " + a.Key + `="`)
				xml.EscapeText(&b, []byte(a.Val))
				b.WriteString(`"`)
			}
			b.WriteString(">")
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if err := write(c, depth+1); err != nil {
					return err
				}
			}
			b.WriteString("</" + n.Data + ">")
		}
		return nil
	}
	if err := write(root, 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// errRemote marks an <img src> on another host: never fetched.
var errRemote = errors.New("a remote image")

// linkedImage reads the image a saved page links to, src relative to
// base (percent-escapes decoded, query and fragment dropped); it must lie
// inside base. A remote URL is errRemote; without base nothing is read.
func linkedImage(src, base string, maxBytes int64) ([]byte, error) {
	u, err := url.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("src %q: %w", truncate(src, 64), err)
	}
	switch {
	case u.Scheme == "http" || u.Scheme == "https" || u.Host != "":
		return nil, errRemote
	case u.Scheme != "" && u.Scheme != "file":
		return nil, fmt.Errorf("src %q: scheme %s is not read", truncate(src, 64), u.Scheme)
	case base == "":
		return nil, fmt.Errorf("src %q: a linked image (scan the saved page as a file to read it)", truncate(src, 64))
	}
	p := u.Path
	if u.Opaque != "" { // file:page_files/qr.png
		if p, err = url.PathUnescape(u.Opaque); err != nil {
			return nil, fmt.Errorf("src %q: %w", truncate(src, 64), err)
		}
	}
	rel := filepath.FromSlash(p)
	if filepath.IsAbs(rel) || !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("src %q: outside the page's folder", truncate(src, 64))
	}
	f, err := os.Open(filepath.Join(base, rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("src %q: no such file in the page's folder (save the page with its files: \"Web page, complete\")", truncate(src, 64))
	}
	if err != nil {
		return nil, fmt.Errorf("src %q: %w", truncate(src, 64), pathErr(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("src %q: %w", truncate(src, 64), pathErr(err))
	}
	if int64(len(b)) > maxBytes {
		return nil, fmt.Errorf("src %q: %w: over %d bytes", truncate(src, 64), ErrTooLarge, maxBytes)
	}
	return b, nil
}

// pathErr keeps the reason of a *fs.PathError (the path is in the caller's
// message already).
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
