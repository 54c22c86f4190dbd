package scanner

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// maxJSONDepth bounds the walk of a JSON response.
const maxJSONDepth = 32

// parseJSON reads an API response: Alibaba Cloud and AWS
// CreateVirtualMFADevice (QRCodePNG and Base32StringSeed, at the top or
// under VirtualMFADevice), or the reference console's qr_png and secret.
// Keys are matched ignoring case, '_' and '-'. Without such a key, a
// data:image/ URL under any key is read as the QR image; without any image,
// string values holding an otpauth URI are scanned instead.
func parseJSON(name, text string, opts Options) (*parsed, error) {
	var v any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s: %w: JSON: %v", name, ErrUnreadable, jsonErr(err))
	}
	p := &parsed{form: FormJSON}
	// Collected as "path\x00value" and sorted, so that the outcome does not
	// depend on map order; seeds are prefixed with their priority
	// (Base32StringSeed before the reference console's secret).
	var qrs, uris, seeds, dataURLs []string
	var walk func(v any, path string, depth int)
	walk = func(v any, path string, depth int) {
		if depth > maxJSONDepth {
			return
		}
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				kp := path + "." + k
				s, isString := x.(string)
				switch normKey(k) {
				case "qrcodepng", "qrpng":
					if isString {
						qrs = append(qrs, kp[1:]+"\x00"+s)
						continue
					}
				case "base32stringseed":
					if isString {
						seeds = append(seeds, "0"+kp+"\x00"+s)
						continue
					}
				case "secret":
					if isString {
						seeds = append(seeds, "1"+kp+"\x00"+s)
						continue
					}
				}
				walk(x, kp, depth+1)
			}
		case []any:
			for i, x := range t {
				walk(x, fmt.Sprintf("%s[%d]", path, i), depth+1)
			}
		case string:
			l := strings.ToLower(t[:min(len(t), 24)])
			switch {
			case strings.HasPrefix(l, "otpauth://"), strings.HasPrefix(l, "otpauth-migration://"):
				uris = append(uris, path+"\x00"+t)
			case strings.HasPrefix(l, "data:image/"):
				dataURLs = append(dataURLs, path+"\x00"+t)
			}
		}
	}
	walk(v, "", 0)
	maxBytes := opts.Decode.withDefaults().MaxBytes
	slices.Sort(seeds)
	if len(seeds) > 0 {
		_, p.seed, _ = strings.Cut(seeds[0], "\x00")
		p.hasSeed = true
	}
	slices.Sort(qrs)
	if len(qrs) == 0 {
		// No QRCodePNG key: a data:image/ URL under any key will do.
		slices.Sort(dataURLs)
		qrs = dataURLs
	}
	slices.Sort(uris)
	for _, q := range qrs {
		key, val, _ := strings.Cut(q, "\x00")
		key = strings.TrimPrefix(key, ".")
		var img []byte
		var err error
		isSVG := false
		if strings.HasPrefix(strings.ToLower(val), "data:") {
			img, isSVG, err = decodeDataURL(val, maxBytes)
		} else {
			img, err = decodeBase64Image(val, maxBytes)
		}
		if err == nil && isSVG {
			var srcs []source
			if srcs, err = svgSources(name+" "+key, img, maxBytes); err == nil {
				p.sources = append(p.sources, srcs...)
				continue
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %s: %w", name, ErrUnreadable, key, err)
		}
		p.sources = append(p.sources, source{name: name + " " + key, image: img})
	}
	if len(p.sources) == 0 {
		for _, u := range uris {
			key, val, _ := strings.Cut(u, "\x00")
			p.sources = append(p.sources, source{name: name + " " + strings.TrimPrefix(key, "."), text: val})
		}
	}
	if len(p.sources) == 0 {
		p.noCode = "the JSON has no QRCodePNG (or qr_png) and no otpauth URI"
	}
	return p, nil
}

func normKey(k string) string {
	return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(k))
}

// jsonErr describes a JSON syntax error without quoting the input.
func jsonErr(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	s := err.Error()
	if i := strings.Index(s, " \""); i >= 0 {
		s = s[:i]
	}
	return s
}
