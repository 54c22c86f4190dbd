package testbench

import "time"

// Status is a check's verdict.
type Status string

// Check statuses.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip" // the check could not be made (the detail says why)
	// Incomplete marks a scenario the run was interrupted in (Ctrl-C, a CI
	// job's SIGTERM): what it would have measured is not known. It fails
	// the run.
	Incomplete Status = "incomplete"
)

// Check is one named verdict of the bench on the target.
type Check struct {
	ID     string `json:"id"`     // stable, e.g. "replay.same-code"
	Status Status `json:"status"` // pass, warn, fail or skip
	Detail string `json:"detail"` // what was measured and why it matters
}

// Report is the outcome of a run.
type Report struct {
	Target      string         `json:"target"`
	TimeSource  TimeSource     `json:"time_source"`
	Started     time.Time      `json:"started"` // true time at the start
	Scenarios   []string       `json:"scenarios"`
	Results     Results        `json:"results"`
	Checks      []Check        `json:"checks"`
	Submissions map[string]int `json:"submissions"` // codes submitted per scenario ("setup": the real-time replay sniff)
	Enrollments int            `json:"enrollments"` // devices enrolled on the target
	Timing      Timing         `json:"timing"`
	Notes       []string       `json:"notes,omitempty"`
	// Interrupted is set when the run was stopped before it finished; the
	// scenarios it had not finished have an <name>.incomplete check.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Timing is how long the run took: wall time (the stopwatch), and the
// true time it spent with no request in flight, waiting for instants
// (in virtual time, the virtual time that passed for free).
type Timing struct {
	WallS    float64 `json:"wall_s"`
	WaitingS float64 `json:"waiting_s"`
}

// TimeSource says where the run's truth came from.
type TimeSource struct {
	Kind     TimeKind `json:"kind"`      // virtual, ntp or system
	OffsetMS *float64 `json:"offset_ms"` // local clock's measured offset from truth (truth - local); null when not measured
	Servers  []string `json:"servers,omitempty"`
	Note     string   `json:"note,omitempty"`
}

// Results holds each scenario's measurements; a scenario not run is nil.
type Results struct {
	Enroll  *EnrollResult  `json:"enroll,omitempty"`
	Window  *WindowResult  `json:"window,omitempty"`
	Replay  *ReplayResult  `json:"replay,omitempty"`
	Lockout *LockoutResult `json:"lockout,omitempty"`
	// Throttle is how the target slows guessing down.
	Throttle *ThrottleResult `json:"throttle,omitempty"`

	Race       *RaceResult       `json:"race,omitempty"`
	Reuse      *ReuseResult      `json:"reuse,omitempty"`
	BruteForce *BruteForceResult `json:"bruteforce,omitempty"`

	ServerClock *ServerClockResult `json:"server_clock,omitempty"`
	Boundary    *BoundaryResult    `json:"boundary,omitempty"`
	Drift       *DriftResult       `json:"drift,omitempty"`
}

// Failed reports whether any check failed or is incomplete.
func (r *Report) Failed() bool {
	for _, c := range r.Checks {
		if c.Status == Fail || c.Status == Incomplete {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }
