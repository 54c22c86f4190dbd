package scanner

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/net/html"
)

// maxHTMLImages bounds the embedded images read from one page.
const maxHTMLImages = 64

// parseHTML finds the raster images of an HTML page's <img src>: embedded
// as data: URLs, or linked to a file of a saved page (page_files/qr.png,
// read from opts.BaseDir, never outside it). Remote images are not
// fetched, and embedded SVG or other non-raster types are skipped; when
// nothing raster is left the page holds no code, and the finding names
// what was found.
func parseHTML(name, text string, opts Options) (*parsed, error) {
	p := &parsed{form: FormHTML}
	maxBytes := opts.Decode.withDefaults().MaxBytes
	var imgs, linked, read, skipped int
	var remote []string
	var firstErr, linkErr error
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
		var img []byte
		var err error
		if strings.HasPrefix(strings.ToLower(src), "data:") {
			img, err = decodeDataURL(src, maxBytes)
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
		if len(p.sources) >= maxHTMLImages {
			return nil, fmt.Errorf("%s: %w: more than %d embedded images", name, ErrUnreadable, maxHTMLImages)
		}
		p.sources = append(p.sources, source{name: fmt.Sprintf("%s img %d", name, imgs), image: img})
	}
	if len(p.sources) == 0 {
		msg := fmt.Sprintf("the HTML embeds no raster image (%d <img>: %d linked, %d of them read; %d not readable)", imgs, linked, read, skipped)
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
