package refserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Error codes of the JSON API ({"error": CODE, "message": TEXT}).
const (
	ErrMalformed    = "malformed"              // 400: bad JSON, unknown field, bad code or account
	ErrRejected     = "rejected"               // 403: the code (or codes) refused
	ErrUnknown      = "unknown_device"         // 404
	ErrNotFound     = "not_found"              // 404: no such endpoint
	ErrMethod       = "method_not_allowed"     // 405, with Allow
	ErrMediaType    = "unsupported_media_type" // 415: a body not declared application/json
	ErrAlreadyBound = "already_bound"          // 409
	ErrNotBound     = "not_bound"              // 409
	ErrTooLarge     = "too_large"              // 413
	ErrLocked       = "locked"                 // 429, with Retry-After
	ErrInternal     = "internal"               // 500
	ErrStoreFull    = "store_full"             // 503
)

const maxAccountBytes = 128

type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Cache-Control"] = noStore
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, apiError{Error: code, Message: msg})
}

// rejectedBody is the answer to a refused code, encoded once: under a
// flood of guesses it is most of what the server writes.
var rejectedBody = func() []byte {
	b, _ := json.Marshal(apiError{Error: ErrRejected, Message: "code rejected"})
	return append(b, '\n')
}()

// Header values shared by every answer (never modified).
var (
	jsonType = []string{"application/json"}
	noStore  = []string{"no-store"}
	nosniff  = []string{"nosniff"}
)

func writeRejected(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Cache-Control"] = noStore
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write(rejectedBody)
}

// bodyPool holds the buffers request bodies are read into.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// decode reads one JSON object into v: unknown fields, trailing data and
// bodies over maxBodyBytes are refused. It writes the error answer itself
// and reports whether v was filled.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if !isJSON(r.Header.Get("Content-Type")) {
		writeError(w, http.StatusUnsupportedMediaType, ErrMediaType,
			fmt.Sprintf("Content-Type %q: send the body as application/json", r.Header.Get("Content-Type")))
		return false
	}
	buf := bodyPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxBodyBytes {
			bodyPool.Put(buf)
		}
	}()
	_, err := buf.ReadFrom(r.Body)
	if err == nil {
		if cr, ok := v.(*codesRequest); ok {
			if c, ok := fastCode(buf.Bytes()); ok {
				*cr = codesRequest{Code: &c}
				return true
			}
		}
		dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
		dec.DisallowUnknownFields()
		err = dec.Decode(v)
		if err == nil {
			if _, terr := dec.Token(); terr != io.EOF {
				err = errors.New("trailing data after the JSON object")
				if terr != nil && !errors.Is(terr, io.EOF) {
					err = terr
				}
			}
		}
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, ErrTooLarge, fmt.Sprintf("request body over %d bytes", tooBig.Limit))
		return false
	}
	if errors.Is(err, io.EOF) {
		err = errors.New("empty body")
	}
	writeError(w, http.StatusBadRequest, ErrMalformed, "request body: "+err.Error())
	return false
}

// isJSON reports whether a Content-Type declares JSON: application/json or
// a +json type, any parameters (charset) allowed.
func isJSON(ctype string) bool {
	mt, _, err := mime.ParseMediaType(ctype)
	return err == nil && (mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")))
}

// fastCode reads the common body {"code": "VALUE"} (JSON whitespace
// allowed around tokens) whose value is printable ASCII without escapes,
// without encoding/json: for these bodies the result is the one
// encoding/json gives. Anything else reports false and takes the general
// path.
func fastCode(b []byte) (string, bool) {
	i := 0
	ws := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	lit := func(s string) bool {
		ws()
		if len(b)-i < len(s) || string(b[i:i+len(s)]) != s {
			return false
		}
		i += len(s)
		return true
	}
	if !lit("{") || !lit(`"code"`) || !lit(":") || !lit(`"`) {
		return "", false
	}
	start := i
	for i < len(b) && b[i] != '"' {
		if b[i] < 0x20 || b[i] > 0x7e || b[i] == '\\' {
			return "", false
		}
		i++
	}
	if i == len(b) {
		return "", false
	}
	code := string(b[start:i])
	i++
	if !lit("}") {
		return "", false
	}
	ws()
	if i != len(b) {
		return "", false
	}
	return code, true
}

// validLabelPart reports whether s may stand in an otpauth label: valid
// UTF-8, printable, no ':' (the issuer separator).
func validLabelPart(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == ':' || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func checkAccount(a string) error {
	switch {
	case a == "":
		return errors.New("account is empty")
	case len(a) > maxAccountBytes:
		return fmt.Errorf("account is %d bytes, over %d", len(a), maxAccountBytes)
	case !validLabelPart(a):
		return fmt.Errorf("account %q: want printable UTF-8 without ':'", a)
	}
	return nil
}

type createRequest struct {
	Account string `json:"account"`
}

// CreateResponse is the answer to POST /api/v1/devices.
type CreateResponse struct {
	Serial  string `json:"serial"`
	Account string `json:"account"`
	Issuer  string `json:"issuer"`
	QRPNG   string `json:"qr_png"` // base64 PNG of the otpauth URI
	Secret  string `json:"secret"` // base32, no padding: the manual-entry key
}

func (s *Server) createDevice(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if !decode(w, r, &req) {
		return
	}
	if err := checkAccount(req.Account); err != nil {
		writeError(w, http.StatusBadRequest, ErrMalformed, err.Error())
		return
	}
	e, err := s.enroll(req.Account)
	if err != nil {
		status, code := http.StatusInternalServerError, ErrInternal
		if errors.Is(err, errStoreFull) {
			status, code = http.StatusServiceUnavailable, ErrStoreFull
		}
		writeError(w, status, code, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, CreateResponse{
		Serial: e.dev.serial, Account: e.dev.account, Issuer: s.opts.Issuer,
		QRPNG: e.qrBase64, Secret: string(e.dev.secret),
	})
}

// verifyResponse is the answer to an accepted verify.
type verifyResponse struct {
	Serial string `json:"serial"`
	Result string `json:"result"` // "accepted"
}

type codesRequest struct {
	Code  *string `json:"code"`
	Code1 *string `json:"code1"`
	Code2 *string `json:"code2"`
}

func (s *Server) device(w http.ResponseWriter, r *http.Request) (*device, bool) {
	d, ok := s.store.get(r.PathValue("serial"))
	if !ok {
		writeError(w, http.StatusNotFound, ErrUnknown, "no device with serial "+strconv.Quote(r.PathValue("serial")))
	}
	return d, ok
}

func (s *Server) badCode(w http.ResponseWriter, name string, c *string) bool {
	if c == nil {
		writeError(w, http.StatusBadRequest, ErrMalformed, name+" is missing")
		return true
	}
	if !wellFormed(*c, s.opts.Digits) {
		writeError(w, http.StatusBadRequest, ErrMalformed, fmt.Sprintf("%s must be exactly %d ASCII digits", name, s.opts.Digits))
		return true
	}
	return false
}

func (s *Server) bindDevice(w http.ResponseWriter, r *http.Request) {
	var req codesRequest
	if !decode(w, r, &req) {
		return
	}
	var codes []string
	if s.opts.BindCodes == 1 {
		if req.Code1 != nil || req.Code2 != nil {
			writeError(w, http.StatusBadRequest, ErrMalformed, "this server binds with one code: send code, not code1 and code2")
			return
		}
		if s.badCode(w, "code", req.Code) {
			return
		}
		codes = []string{*req.Code}
	} else {
		if req.Code != nil {
			writeError(w, http.StatusBadRequest, ErrMalformed, "this server binds with two consecutive codes: send code1 and code2")
			return
		}
		if s.badCode(w, "code1", req.Code1) || s.badCode(w, "code2", req.Code2) {
			return
		}
		codes = []string{*req.Code1, *req.Code2}
	}
	d, ok := s.device(w, r)
	if !ok {
		return
	}
	if s.answer(w, d, s.check(r.Context(), d, true, codes...)) {
		writeJSON(w, http.StatusOK, map[string]any{"serial": d.serial, "bound": true})
	}
}

func (s *Server) verifyDevice(w http.ResponseWriter, r *http.Request) {
	var req codesRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Code1 != nil || req.Code2 != nil {
		writeError(w, http.StatusBadRequest, ErrMalformed, "verify takes code alone")
		return
	}
	if s.badCode(w, "code", req.Code) {
		return
	}
	d, ok := s.device(w, r)
	if !ok {
		return
	}
	if s.answer(w, d, s.check(r.Context(), d, false, *req.Code)) {
		writeJSON(w, http.StatusOK, verifyResponse{Serial: d.serial, Result: "accepted"})
	}
}

// answer writes the error answer for a verdict other than accepted and
// reports whether it was accepted.
func (s *Server) answer(w http.ResponseWriter, d *device, v verdict) bool {
	switch v.outcome {
	case accepted:
		return true
	case rejected:
		writeRejected(w)
	case locked:
		secs := int64(math.Ceil(v.retryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		writeError(w, http.StatusTooManyRequests, ErrLocked, fmt.Sprintf("device locked after too many refused codes; retry after %d s", secs))
	case notBound:
		writeError(w, http.StatusConflict, ErrNotBound, "device "+d.serial+" is not bound yet")
	case alreadyBound:
		writeError(w, http.StatusConflict, ErrAlreadyBound, "device "+d.serial+" is already bound")
	case gone:
		writeError(w, http.StatusNotFound, ErrUnknown, "device "+d.serial+" was deleted")
	}
	return false
}

func (s *Server) deleteDevice(w http.ResponseWriter, r *http.Request) {
	serial := r.PathValue("serial")
	if !s.store.remove(serial) {
		writeError(w, http.StatusNotFound, ErrUnknown, "no device with serial "+strconv.Quote(serial))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"serial": serial, "deleted": true})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "lab": s.lab != nil, "flaws": s.opts.Flaws.Names()})
}
