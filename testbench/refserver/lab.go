package refserver

import (
	"net/http"
	"time"
)

// maxLabAdvance bounds one lab clock move, so a typo cannot throw the
// clock out of any representable range.
const maxLabAdvance = 100 * 365 * 24 * time.Hour

// labRequest is the body of POST /api/v1/lab/clock: exactly one field.
// set, advance and unix_ms stop the clock at the time they name; run
// (true) makes it follow the real clock again.
type labRequest struct {
	Set     *string `json:"set"`     // RFC 3339 time, nanoseconds allowed
	Advance *string `json:"advance"` // Go duration such as "30s" or "-1m"
	UnixMS  *int64  `json:"unix_ms"` // milliseconds since the Unix epoch
	Run     *bool   `json:"run"`     // true: follow the real clock again
}

// LabClockResponse answers GET and POST /api/v1/lab/clock: the server's
// true clock, before Options.ClockOffset is applied, and whether it runs
// with the real clock (a bench's set stops it).
type LabClockResponse struct {
	Now     string `json:"now"` // RFC 3339 with nanoseconds, UTC
	UnixMS  int64  `json:"unix_ms"`
	Running bool   `json:"running"`
}

func (s *Server) labClock(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		var req labRequest
		if !decode(w, r, &req) {
			return
		}
		n := 0
		for _, set := range []bool{req.Set != nil, req.Advance != nil, req.UnixMS != nil, req.Run != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			writeError(w, http.StatusBadRequest, ErrMalformed, "lab clock: send exactly one of set, advance, unix_ms, run")
			return
		}
		switch {
		case req.Set != nil:
			t, err := time.Parse(time.RFC3339Nano, *req.Set)
			if err != nil {
				writeError(w, http.StatusBadRequest, ErrMalformed, "lab clock: set: "+err.Error())
				return
			}
			s.lab.Set(t)
		case req.Advance != nil:
			d, err := time.ParseDuration(*req.Advance)
			if err != nil {
				writeError(w, http.StatusBadRequest, ErrMalformed, "lab clock: advance: "+err.Error())
				return
			}
			if d > maxLabAdvance || d < -maxLabAdvance {
				writeError(w, http.StatusBadRequest, ErrMalformed, "lab clock: advance "+d.String()+" is over 100 years")
				return
			}
			s.lab.Advance(d)
		case req.UnixMS != nil:
			s.lab.Set(time.UnixMilli(*req.UnixMS).UTC())
		default:
			if !*req.Run {
				writeError(w, http.StatusBadRequest, ErrMalformed, "lab clock: run: send true (set, advance or unix_ms stop the clock)")
				return
			}
			s.lab.Run()
		}
	}
	now := s.lab.Now()
	writeJSON(w, http.StatusOK, LabClockResponse{Now: now.UTC().Format(time.RFC3339Nano), UnixMS: now.UnixMilli(), Running: s.lab.Running()})
}
