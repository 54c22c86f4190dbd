package refserver

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/totpemu/totpemu/clock"
)

// maxBodyBytes caps every request body (http.MaxBytesReader); a larger
// body is answered 413.
const maxBodyBytes = 64 << 10

// Server is the reference console: the JSON API, the web console and, in
// lab mode, the lab clock. It is an http.Handler safe for concurrent use.
type Server struct {
	opts    Options
	clk     clock.Clock // the true clock (the lab clock in lab mode)
	lab     *LabClock   // nil unless Options.Lab
	vopts   totp.ValidateOpts
	store   *store
	mux     *http.ServeMux
	console *console
}

// New returns a server with opts, its zero fields filled with their
// defaults (see Options). It fails on an option out of range.
func New(opts Options) (*Server, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("refserver options: %w", err)
	}
	s := &Server{opts: o, clk: o.Clock, vopts: validateOpts(o), store: newStore(), mux: http.NewServeMux()}
	if o.Lab {
		s.lab = newLabClock(o.Clock)
		s.clk = s.lab
		s.opts.Clock = s.lab
	}
	if s.console, err = newConsole(s); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Options returns the options in force, defaults filled in. In lab mode
// its Clock is the lab clock.
func (s *Server) Options() Options { return s.opts }

// Now is the server's time: its true clock plus Options.ClockOffset. Codes
// are checked at this time.
func (s *Server) Now() time.Time { return s.clk.Now().Add(s.opts.ClockOffset) }

// LabClock returns the lab clock, or nil when lab mode is off.
func (s *Server) LabClock() *LabClock { return s.lab }

// ServeHTTP caps the request body and routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	w.Header()["X-Content-Type-Options"] = nosniff
	// The Date header tells the server's own time (its clock plus
	// ClockOffset), as a real server whose clock is off tells it.
	w.Header().Set("Date", s.Now().UTC().Format(http.TimeFormat))
	s.mux.ServeHTTP(w, r)
}

// allowed lists the methods an API path has routes for (none: no such
// endpoint), for a 405's Allow header.
func (s *Server) allowed(r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/api/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 && slices.Contains(allow, http.MethodGet) {
		allow = append(allow, http.MethodHead)
	}
	return allow
}

func (s *Server) routes() {
	s.mux.HandleFunc("POST /api/v1/devices", s.createDevice)
	s.mux.HandleFunc("POST /api/v1/devices/{serial}/bind", s.bindDevice)
	s.mux.HandleFunc("POST /api/v1/devices/{serial}/verify", s.verifyDevice)
	s.mux.HandleFunc("DELETE /api/v1/devices/{serial}", s.deleteDevice)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	if s.lab != nil {
		s.mux.HandleFunc("GET /api/v1/lab/clock", s.labClock)
		s.mux.HandleFunc("POST /api/v1/lab/clock", s.labClock)
	}
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if allow := s.allowed(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, ErrMethod, r.Method+" "+r.URL.Path+": use "+strings.Join(allow, " or "))
			return
		}
		writeError(w, http.StatusNotFound, ErrNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	s.console.routes(s.mux)
}
