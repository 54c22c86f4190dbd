package target

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/totpemu/totpemu/testbench"
)

// decodeImageText decodes a base64 image or a data: URL of one.
func decodeImageText(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "data:"); ok {
		meta, data, found := strings.Cut(rest, ",")
		if !found || !strings.HasSuffix(meta, ";base64") || !strings.HasPrefix(meta, "image/") {
			return nil, errors.New("a data: URL of a base64 image is expected")
		}
		s = data
	}
	if base64.StdEncoding.DecodedLen(len(s)) > testbench.MaxQRImageBytes {
		return nil, fmt.Errorf("image of %d base64 characters is over %d bytes", len(s), testbench.MaxQRImageBytes)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	return b, nil
}

func matches(ms []Match, a *answer) bool {
	for _, m := range ms {
		if len(m.Status) > 0 && !slices.Contains(m.Status, a.status) {
			continue
		}
		ok := true
		for path, want := range m.JSON {
			if got, found := lookup(a.json, path); !found || got != want {
				ok = false
				break
			}
		}
		for name, want := range m.Header {
			ok = ok && strings.Contains(a.header.Get(name), want)
		}
		if ok && m.Body != "" {
			ok = compiled(m.Body).Match(a.body)
		}
		if ok {
			return true
		}
	}
	return false
}

// retryAfter reads Retry-After: seconds, or an HTTP date measured from the
// answer's own Date header (the bench's clock is not the server's).
func retryAfter(h http.Header) time.Duration {
	s := strings.TrimSpace(h.Get("Retry-After"))
	if s == "" {
		return 0
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > 1e7 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	at, err := http.ParseTime(s)
	if err != nil {
		return 0
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return 0
	}
	return max(at.Sub(date), 0)
}

// brief is a one-line summary of an answer for a verdict's reason.
func brief(a *answer) string {
	s := strconv.Itoa(a.status)
	if code, ok := lookup(a.json, "error"); ok {
		s += " " + code
		if msg, ok := lookup(a.json, "message"); ok {
			s += ": " + msg
		}
	} else if len(a.body) > 0 && a.json == nil {
		b := bytes.TrimSpace(a.body)
		if len(b) > 80 {
			b = append(b[:80:80], "..."...)
		}
		s += " " + strconv.Quote(string(b))
	}
	return s
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// formBody is fields form-urlencoded, each value filled in.
func formBody(fields map[string]string, vars map[string]string) (string, error) {
	v := url.Values{}
	for k, tmpl := range fields {
		s, err := fill(tmpl, vars, func(s string) string { return s })
		if err != nil {
			return "", err
		}
		v.Set(k, s)
	}
	return v.Encode(), nil
}

// multipartBody is fields as multipart/form-data, each value filled in,
// and its content type (with the boundary).
func multipartBody(fields map[string]string, vars map[string]string) (string, string, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		s, err := fill(fields[k], vars, func(s string) string { return s })
		if err != nil {
			return "", "", err
		}
		if err := w.WriteField(k, s); err != nil {
			return "", "", err
		}
	}
	if err := w.Close(); err != nil {
		return "", "", err
	}
	return b.String(), w.FormDataContentType(), nil
}
