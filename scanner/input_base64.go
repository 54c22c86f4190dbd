package scanner

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// base64Prefixes are how base64 of each raster format starts, in the
// standard and the URL-safe alphabets.
var base64Prefixes = []string{"iVBORw0KGgo", "/9j/", "_9j_", "R0lGOD", "UklGR"}

// looksBase64 reports whether text is meant as base64: it starts like the
// base64 of an image, or it is long and made of base64 characters only
// (line breaks allowed, spaces not: those make prose).
func looksBase64(text string) bool {
	for _, p := range base64Prefixes {
		if strings.HasPrefix(text, p) {
			return true
		}
	}
	if len(text) < 32 {
		return false
	}
	for i := 0; i < len(text); i++ {
		if c := base64Class(text[i]); c == b64Invalid || text[i] == ' ' {
			return false
		}
	}
	return true
}

type b64class int

const (
	b64Invalid b64class = iota
	b64Std              // A-Z a-z 0-9 + /
	b64URL              // - _
	b64Pad              // =
	b64Space            // white space, skipped (MIME line breaks)
)

func base64Class(c byte) b64class {
	switch {
	case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
		return b64Std
	case c == '-', c == '_':
		return b64URL
	case c == '=':
		return b64Pad
	case c == ' ', c == '\n', c == '\r', c == '\t':
		return b64Space
	}
	return b64Invalid
}

// decodeBase64Image decodes standard base64 (white space allowed) holding
// a raster image of at most maxBytes. The length is checked before
// anything is decoded; characters outside the alphabet and the URL-safe
// alphabet are refused with their position.
func decodeBase64Image(s string, maxBytes int64) ([]byte, error) {
	out, err := decodeBase64(s, maxBytes)
	if err != nil {
		return nil, err
	}
	if rasterFormat(out) == "" {
		return nil, errors.New("base64 data is not a PNG, JPEG, GIF or WebP image")
	}
	return out, nil
}

// decodeBase64 decodes standard base64 (white space allowed) of at most
// maxBytes; see decodeBase64Image.
func decodeBase64(s string, maxBytes int64) ([]byte, error) {
	limit := int64(base64.StdEncoding.EncodedLen(int(min(maxBytes, 1<<40))))
	if int64(len(s)) > limit+limit/32+64 { // room for line breaks
		return nil, fmt.Errorf("%w: base64 of %d characters decodes to more than %d bytes", ErrTooLarge, len(s), maxBytes)
	}
	clean := make([]byte, 0, len(s))
	pad := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch base64Class(c) {
		case b64Space:
			continue
		case b64Pad:
			pad++
			if pad > 2 {
				return nil, fmt.Errorf("base64: character %d: more than two '=' padding characters", i+1)
			}
		case b64Std:
			if pad > 0 {
				return nil, fmt.Errorf("base64: character %d follows '=' padding, which may only end the data", i+1)
			}
		case b64URL:
			return nil, fmt.Errorf("base64: character %d is '-' or '_' of the URL-safe alphabet; QRCodePNG is standard base64 (with + and /)", i+1)
		default:
			return nil, fmt.Errorf("base64: character %d is not in the base64 alphabet (A-Z, a-z, 0-9, +, /)", i+1)
		}
		clean = append(clean, c)
	}
	if int64(len(clean)) > limit {
		return nil, fmt.Errorf("%w: base64 of %d characters decodes to more than %d bytes", ErrTooLarge, len(clean), maxBytes)
	}
	if len(clean) == 0 {
		return nil, errors.New("base64: no data")
	}
	enc := base64.StdEncoding
	if pad == 0 && len(clean)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	out, err := enc.DecodeString(string(clean))
	if err != nil {
		return nil, fmt.Errorf("base64 of %s does not decode (truncated?)", characters(len(clean)))
	}
	return out, nil
}

// rasterTypes are the media types a data: URL may declare.
var rasterTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/jpg": true, "image/pjpeg": true,
	"image/gif": true, "image/webp": true,
}

// decodeDataURL decodes a data: URL holding a raster image
// (data:image/png;base64,...) or an SVG (data:image/svg+xml, base64 or
// percent-encoded, ;utf8 or ;charset=... allowed); isSVG says which.
// Other media types, and raster data URLs without ;base64, are refused.
func decodeDataURL(s string, maxBytes int64) (data []byte, isSVG bool, err error) {
	rest, ok := cutPrefixFold(s, "data:")
	if !ok {
		return nil, false, errors.New("not a data: URL")
	}
	header, body, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, false, errors.New("data: URL has no ',' before its data")
	}
	parts := strings.Split(header, ";")
	mediaType := strings.ToLower(strings.TrimSpace(parts[0]))
	if mediaType == "" {
		mediaType = "text/plain"
	}
	isSVG = mediaType == "image/svg+xml"
	if !rasterTypes[mediaType] && !isSVG {
		return nil, false, fmt.Errorf("data: URL of type %q: only images (png, jpeg, gif, webp, svg+xml) are read", truncate(mediaType, 40))
	}
	isBase64 := false
	for _, p := range parts[1:] {
		if strings.EqualFold(strings.TrimSpace(p), "base64") {
			isBase64 = true
		}
	}
	if !isBase64 && !isSVG {
		return nil, false, fmt.Errorf("data: URL of type %s is not ;base64 encoded", mediaType)
	}
	if strings.Contains(body, "%") {
		if len(body) > 3*int(min(maxBytes, 1<<40)) {
			return nil, false, fmt.Errorf("%w: data: URL of %d characters", ErrTooLarge, len(body))
		}
		u, err := url.PathUnescape(body)
		switch {
		case err == nil:
			body = u
		case isSVG && !isBase64:
			// SVG written into the URL as it is (;utf8,): a % of its own.
		default:
			return nil, false, errors.New("data: URL has a bad percent escape")
		}
	}
	if !isBase64 { // SVG as text
		if int64(len(body)) > maxBytes {
			return nil, false, fmt.Errorf("%w: data: URL of an SVG of %d bytes, the limit is %d", ErrTooLarge, len(body), maxBytes)
		}
		data = []byte(body)
	} else if isSVG {
		if data, err = decodeBase64(body, maxBytes); err != nil {
			return nil, false, err
		}
	} else if data, err = decodeBase64Image(body, maxBytes); err != nil {
		return nil, false, err
	}
	if isSVG && !looksSVG(data) {
		return nil, false, errors.New("data: URL of type image/svg+xml does not hold an SVG document")
	}
	return data, isSVG, nil
}
