package scanner

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// DefaultMaxInputBytes caps what is read of one input: enough for the
// base64 form of a DefaultMaxBytes image, with room for the JSON or HTML
// around it.
const DefaultMaxInputBytes int64 = 32 << 20

// Form is the shape an input came in, detected from its content.
type Form string

// Input forms.
const (
	FormImage   Form = "image"    // PNG, JPEG, GIF or WebP bytes
	FormBase64  Form = "base64"   // base64 of an image, as APIs return QRCodePNG
	FormDataURL Form = "data-url" // data:image/png;base64,...
	FormHTML    Form = "html"     // an HTML page whose <img> embeds a data: URL
	FormJSON    Form = "json"     // an API response with QRCodePNG and Base32StringSeed
	FormText    Form = "text"     // otpauth:// or otpauth-migration:// text, one per line
	// FormTerminal is a code drawn with block characters (google-
	// authenticator, qrencode -t UTF8|ASCII|ANSI), alone or in a CI log.
	FormTerminal Form = "terminal"
	// FormSVG is an SVG document (qrencode -t SVG, npm qrcode's svg).
	FormSVG Form = "svg"
	// FormPage is a live page loaded by scanner/browser (the caller's
	// result for a page where no capture held a code).
	FormPage Form = "page"
)

// ErrUnreadable is wrapped by every error about an input that cannot be
// read as any supported form (as opposed to an image that holds no code).
var ErrUnreadable = errors.New("unreadable input")

// source is one thing to scan inside an input: raster bytes or a payload
// text.
type source struct {
	name  string
	image []byte
	text  string
	// alts are renderings of one terminal block under both readings of
	// the terminal's default colours; ScanInput keeps the one that
	// decodes as image.
	alts [][]byte
	// svg is an SVG to render (input_svg.go) before image is decoded;
	// facts then maps the facts of a code in the rendering back to it.
	svg   *svgDoc
	facts func(QR) QR
}

// parsed is an input split into the things to scan.
type parsed struct {
	form    Form
	sources []source
	seed    string // Base32StringSeed from a JSON response
	hasSeed bool
	// noCode says why a readable input has no source to decode (an HTML
	// page with no embedded image, a JSON response with no QR field): it
	// holds no code, which is a finding (exit 1), not an unreadable input.
	noCode string
}

// ReadInput reads r up to max bytes (DefaultMaxInputBytes when max <= 0)
// and refuses anything longer without reading it all.
func ReadInput(name string, r io.Reader, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxInputBytes
	}
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", name, ErrUnreadable, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", name, ErrTooLarge, max)
	}
	return data, nil
}

// ReadPath reads the input named by path: "-" is stdin, anything else a
// regular file whose size is checked before it is read.
func ReadPath(path string, stdin io.Reader, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxInputBytes
	}
	if path == "-" {
		return ReadInput("stdin", stdin, max)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", path, ErrUnreadable, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w: not a regular file", path, ErrUnreadable)
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%s: %w: %d bytes, the limit is %d", path, ErrTooLarge, st.Size(), max)
	}
	return ReadInput(path, f, max)
}

// rasterFormat names the raster format of data from its magic bytes, or "".
func rasterFormat(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "jpeg"
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return "gif"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "webp"
	}
	return ""
}

// otherFormat names formats people may hand over that are not supported.
func otherFormat(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("BM")) && len(data) > 14:
		return "BMP"
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		return "TIFF"
	case bytes.HasPrefix(data, []byte("%PDF")):
		return "PDF"
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return "ZIP"
	case len(data) >= 12 && string(data[4:8]) == "ftyp":
		return "HEIF/AVIF"
	}
	return ""
}

// detect splits an input into what to scan, from its content alone.
func detect(name string, data []byte, opts Options) (*parsed, error) {
	// An answer saved with its HTTP headers (curl -i; a 100 Continue
	// before the final one): the body is the input.
	headers := bytes.HasPrefix(data, []byte("HTTP/"))
	for k := 0; k < 4 && bytes.HasPrefix(data, []byte("HTTP/")); k++ {
		i := bytes.Index(data, []byte("\r\n\r\n"))
		n := 4
		if j := bytes.Index(data, []byte("\n\n")); j >= 0 && (i < 0 || j < i) {
			i, n = j, 2
		}
		if i < 0 {
			return nil, fmt.Errorf("%s: %w: HTTP headers without a body", name, ErrUnreadable)
		}
		data = data[i+n:]
	}
	if headers && len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s: %w: HTTP headers without a body", name, ErrUnreadable)
	}
	if f := rasterFormat(data); f != "" {
		return &parsed{form: FormImage, sources: []source{{name: name, image: data}}}, nil
	}
	if f := otherFormat(data); f != "" {
		return nil, fmt.Errorf("%s: %w: %s is not supported; convert it to PNG", name, ErrUnreadable, f)
	}
	head := data
	if len(head) > 512 {
		head = head[:512]
	}
	if bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(head[:validPrefix(head)]) {
		return nil, fmt.Errorf("%s: %w: binary data that is not a PNG, JPEG, GIF or WebP image", name, ErrUnreadable)
	}
	text := strings.TrimSpace(strings.TrimPrefix(string(data), "\ufeff"))
	lower := strings.ToLower(text[:min(len(text), 64)])
	switch {
	case text == "":
		return nil, fmt.Errorf("%s: %w: the input is empty", name, ErrUnreadable)
	case strings.HasPrefix(lower, "data:"):
		maxBytes := opts.Decode.withDefaults().MaxBytes
		img, isSVG, err := decodeDataURL(text, maxBytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %w", name, ErrUnreadable, err)
		}
		if isSVG {
			srcs, err := svgSources(name, img, maxBytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w: %w", name, ErrUnreadable, err)
			}
			return &parsed{form: FormDataURL, sources: srcs}, nil
		}
		return &parsed{form: FormDataURL, sources: []source{{name: name, image: img}}}, nil
	case strings.HasPrefix(lower, "{"), strings.HasPrefix(lower, "["):
		return parseJSON(name, text, opts)
	case strings.HasPrefix(lower, "<") && looksSVG([]byte(text)):
		srcs, err := svgSources(name, []byte(text), opts.Decode.withDefaults().MaxBytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %w", name, ErrUnreadable, err)
		}
		return &parsed{form: FormSVG, sources: srcs}, nil
	case strings.HasPrefix(lower, "<"):
		return parseHTML(name, text, opts)
	}
	// Untrimmed: a block's first row may start with light modules.
	if p, ok, err := parseTerminal(name, strings.TrimPrefix(string(data), "\ufeff")); ok || err != nil {
		if err != nil {
			return nil, fmt.Errorf("%s: %w: terminal QR text: %w", name, ErrUnreadable, err)
		}
		return p, nil
	}
	switch {
	case strings.HasPrefix(lower, "otpauth://"), strings.HasPrefix(lower, "otpauth-migration://"):
		return parseText(name, text), nil
	case looksBase64(text):
		img, err := decodeBase64Image(text, opts.Decode.withDefaults().MaxBytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %w", name, ErrUnreadable, err)
		}
		return &parsed{form: FormBase64, sources: []source{{name: name, image: img}}}, nil
	case !strings.ContainsAny(text, "\n") && hasScheme(text):
		return parseText(name, text), nil
	}
	return nil, fmt.Errorf("%s: %w: not an image, base64 image, data: URL, SVG, HTML page, JSON response, terminal QR text or otpauth text", name, ErrUnreadable)
}

// validPrefix cuts a possibly split UTF-8 sequence off the end of head.
func validPrefix(head []byte) int {
	n := len(head)
	for i := 0; i < 3 && n > 0 && !utf8.Valid(head[:n]); i++ {
		n--
	}
	return n
}

// parseText makes one source per non-empty line.
func parseText(name string, text string) *parsed {
	p := &parsed{form: FormText}
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		n := name
		if len(lines) > 1 {
			n = fmt.Sprintf("%s line %d", name, i+1)
		}
		p.sources = append(p.sources, source{name: n, text: line})
	}
	return p
}

// hasScheme reports whether s starts like a URI: letters then ':'.
func hasScheme(s string) bool {
	i := strings.IndexByte(s, ':')
	if i <= 0 || i > 32 {
		return false
	}
	for j := 0; j < i; j++ {
		c := s[j]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}
