package testbench

import "time"

// Check statuses.
const (
	Pass = "pass"
	Warn = "warn"
	Fail = "fail"
	Skip = "skip" // the check could not be made (the detail says why)
)

// Check is one named verdict of the bench on the target.
type Check struct {
	ID     string `json:"id"`     // stable, e.g. "replay.same-code"
	Status string `json:"status"` // pass, warn, fail or skip
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
	Notes       []string       `json:"notes,omitempty"`
}

// TimeSource says where the run's truth came from.
type TimeSource struct {
	Kind     string   `json:"kind"`      // virtual, ntp or system
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

	ServerClock *ServerClockResult `json:"server_clock,omitempty"`
	Boundary    *BoundaryResult    `json:"boundary,omitempty"`
	Drift       *DriftResult       `json:"drift,omitempty"`
}

// EnrollResult is what the enroll scenario saw and how long each step took.
type EnrollResult struct {
	KeyForms     []string           `json:"key_forms"` // qr, uri, manual key
	URIFindings  []string           `json:"uri_findings"`
	ManualKeyOK  *bool              `json:"manual_key_matches"` // null when the target showed one form only
	BindCodes    int                `json:"bind_codes"`
	BindAccepted bool               `json:"bind_accepted"`
	CodeAccepted bool               `json:"code_accepted"`
	TimingsMS    map[string]float64 `json:"timings_ms"`
}

// WindowResult is the accepted window, relative to the true step at the
// moment of each probe (so a server whose own clock is off by whole steps
// shows its window shifted by them).
type WindowResult struct {
	BackSteps    int `json:"back_steps"`    // codes this many steps old are accepted
	ForwardSteps int `json:"forward_steps"` // codes this many steps ahead are accepted
	PeriodS      int `json:"period_s"`
	MaxSteps     int `json:"max_steps"`
	// AlwaysAcceptedSkewS is the range of device clock errors (seconds,
	// inclusive) whose codes are accepted at every phase of the step.
	AlwaysAcceptedSkewS [2]float64 `json:"always_accepted_skew_s"`
	// SometimesAcceptedSkewS is the open range of device clock errors
	// (seconds) whose codes are accepted at some phases.
	SometimesAcceptedSkewS [2]float64 `json:"sometimes_accepted_skew_s"`
	BackAtLimit            bool       `json:"back_at_limit"`    // accepted up to --max-steps: the window may be wider
	ForwardAtLimit         bool       `json:"forward_at_limit"` // likewise forward
}

// ReplayResult says whether each kind of replay was refused; null when the
// window made the test impossible (no older step in it).
type ReplayResult struct {
	SameCodeRejected        *bool    `json:"same_code_rejected"`
	OlderCodeRejected       *bool    `json:"older_code_rejected"`
	ReformattedCodeRejected *bool    `json:"reformatted_code_rejected"`
	Reformats               []string `json:"reformats"` // how the code was reformatted, digits shown as d: "ddd ddd"
}

// LockoutResult is when and how the target locks.
type LockoutResult struct {
	// FailuresBeforeLock is how many wrong codes were refused before the
	// first "locked" answer; null when none came within MaxAttempts.
	FailuresBeforeLock         *int     `json:"failures_before_lock"`
	RightCodeRefusedWhenLocked *bool    `json:"right_code_refused_when_locked"`
	SuccessResets              *bool    `json:"success_resets"`
	LockScope                  string   `json:"lock_scope,omitempty"` // "device", or "beyond the device" when a fresh enrollment is locked too
	MaxAttempts                int      `json:"max_attempts"`
	RetryAfterS                *float64 `json:"retry_after_s"` // what the locked answer asked, when it said
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }
