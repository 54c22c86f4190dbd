package testbench

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// An Expectation is a condition on a measured result, for CI:
//
//	NAME[@ARG] OP VALUE
//
// OP is one of = != < <= > >=; VALUE a number, or a word for the names
// that take words (rejected/accepted, yes/no, none, pass/warn/fail/skip).
// Spaces around OP are allowed. Names (ExpectNames):
//
//	window-back, window-forward         the window in the server's own steps
//	true-window-back, true-window-forward   steps of true time accepted at every phase
//	window-kind                         steps or seconds
//	window-back-seconds, window-forward-seconds   a window in seconds (ROTP's drift_behind, drift_ahead)
//	accepted-from, accepted-until       the edges of a code's acceptance, seconds from its step's start
//	edge-uncertainty                    seconds
//	skew-always-lo, skew-always-hi      device clock errors accepted at every phase, seconds
//	skew-sometimes-lo, skew-sometimes-hi   the same, at some phases
//	replay, replay-older, replay-reformatted   rejected or accepted
//	lockout                             failures before the lock, or none
//	boundary-refusal@Ns                 refusal probability (0..1) when typing takes N s (0..30)
//	boundary-latest-read@Ns             latest safe phase to read a code, seconds, or none
//	drift-first-refused-day             a day number, or none
//	drift-tracks                        yes or no
//	server-clock-offset, server-clock-uncertainty   seconds
//	server-window-back, server-window-forward       steps in the server's own steps
//	race-replay                         most acceptances of one code in a replay burst
//	race-lockout                        wrong codes judged as wrong in the lockout burst
//	race-replay-lockout                 yes or no: refused replays count as failures
//	reuse-bind                          rejected or accepted: the bind's code at login
//	bruteforce-50pct                    hours to a 50 % chance of guessing in (+Inf: never);
//	                                    with it, bruteforce.odds warns instead of failing
//	check@ID                            pass, warn, fail or skip: a check's status
//
// Numbers compare as numbers; words allow only = and !=.
type Expectation struct {
	Text  string // as written
	Name  string
	Arg   string // after @, "" when none
	Op    string
	Value string
}

// ExpectNames lists the names an expectation may use, with @ where an
// argument follows.
var ExpectNames = []string{"window-back", "window-forward", "true-window-back", "true-window-forward", "window-kind",
	"window-back-seconds", "window-forward-seconds", "accepted-from", "accepted-until", "edge-uncertainty",
	"skew-always-lo", "skew-always-hi", "skew-sometimes-lo", "skew-sometimes-hi", "replay", "replay-older", "replay-reformatted", "lockout",
	"boundary-refusal@", "boundary-latest-read@", "drift-first-refused-day", "drift-tracks",
	"server-clock-offset", "server-clock-uncertainty", "server-window-back", "server-window-forward",
	"race-replay", "race-lockout", "race-replay-lockout", "reuse-bind", "bruteforce-50pct", "check@"}

var expectOps = []string{"<=", ">=", "!=", "=", "<", ">"}

// ParseExpectation parses one NAME[@ARG] OP VALUE.
func ParseExpectation(s string) (Expectation, error) {
	e := Expectation{Text: strings.TrimSpace(s)}
	if len(e.Text) > 200 {
		return e, fmt.Errorf("expectation %.40q...: over 200 bytes", s)
	}
	i, op := -1, ""
	for j := 0; j < len(e.Text) && i < 0; j++ {
		for _, o := range expectOps {
			if strings.HasPrefix(e.Text[j:], o) {
				i, op = j, o
				break
			}
		}
	}
	if i < 0 {
		return e, fmt.Errorf("expectation %q: no operator (want NAME[@ARG] OP VALUE, OP one of = != < <= > >=)", s)
	}
	lhs, val := strings.TrimSpace(e.Text[:i]), strings.TrimSpace(e.Text[i+len(op):])
	e.Op, e.Value = op, val
	e.Name, e.Arg, _ = strings.Cut(lhs, "@")
	if val == "" || strings.ContainsAny(val, "<>=! ") {
		return e, fmt.Errorf("expectation %q: bad value %q", s, val)
	}
	key := e.Name
	if strings.Contains(lhs, "@") {
		key += "@"
	}
	if !slices.Contains(ExpectNames, key) {
		return e, fmt.Errorf("expectation %q: unknown name %q: want one of %s", s, lhs, strings.Join(ExpectNames, ", "))
	}
	switch e.Name {
	case "boundary-refusal", "boundary-latest-read":
		n, err := strconv.Atoi(strings.TrimSuffix(e.Arg, "s"))
		if err != nil || n < 0 || n > gridMaxLatS {
			return e, fmt.Errorf("expectation %q: latency %q: want 0s to %ds", s, e.Arg, gridMaxLatS)
		}
		e.Arg = strconv.Itoa(n)
	case "check":
		if e.Arg == "" {
			return e, fmt.Errorf("expectation %q: check@ needs a check id", s)
		}
	}
	words := e.words()
	if _, err := strconv.ParseFloat(val, 64); err != nil || math.IsNaN(mustFloat(val)) {
		if !slices.Contains(words, strings.ToLower(val)) {
			return e, fmt.Errorf("expectation %q: value %q: want a number%s", s, val, wordList(words))
		}
		if op != "=" && op != "!=" {
			return e, fmt.Errorf("expectation %q: %q compares only with = or !=", s, val)
		}
		e.Value = strings.ToLower(val)
	} else if e.Name == "check" || e.Name == "drift-tracks" || e.Name == "window-kind" || strings.HasPrefix(e.Name, "replay") ||
		e.Name == "race-replay-lockout" || e.Name == "reuse-bind" {
		return e, fmt.Errorf("expectation %q: value %q: want%s", s, val, wordList(words))
	}
	return e, nil
}

func mustFloat(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }

func wordList(ws []string) string {
	if len(ws) == 0 {
		return ""
	}
	return " or " + strings.Join(ws, ", ")
}

// words are the values a name takes besides numbers.
func (e Expectation) words() []string {
	switch e.Name {
	case "replay", "replay-older", "replay-reformatted", "reuse-bind":
		return []string{"rejected", "accepted"}
	case "drift-tracks", "race-replay-lockout":
		return []string{"yes", "no"}
	case "lockout", "drift-first-refused-day", "boundary-latest-read":
		return []string{"none"}
	case "check":
		return []string{string(Pass), string(Warn), string(Fail), string(Skip), string(Incomplete)}
	case "window-kind":
		return []string{KindSteps, KindSeconds}
	}
	return nil
}

// measured returns the report's value for e ("" when not measured).
func (e Expectation) measured(r *Report) string {
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	rej := func(b *bool) string {
		if b == nil {
			return ""
		}
		return yes(*b, "rejected", "accepted")
	}
	res := r.Results
	switch e.Name {
	case "window-back", "window-forward", "true-window-back", "true-window-forward", "window-kind",
		"window-back-seconds", "window-forward-seconds", "accepted-from", "accepted-until", "edge-uncertainty",
		"skew-always-lo", "skew-always-hi", "skew-sometimes-lo", "skew-sometimes-hi":
		w := res.Window
		if w == nil {
			return ""
		}
		intp := func(p *int) string {
			if p == nil {
				return ""
			}
			return strconv.Itoa(*p)
		}
		fp := func(p *float64) string {
			if p == nil {
				return ""
			}
			return num(*p)
		}
		switch e.Name {
		case "window-back":
			return intp(w.BackSteps)
		case "window-forward":
			return intp(w.ForwardSteps)
		case "true-window-back":
			return strconv.Itoa(w.TrueBackSteps)
		case "true-window-forward":
			return strconv.Itoa(w.TrueForwardSteps)
		case "window-kind":
			return w.Kind
		case "window-back-seconds":
			return fp(w.BackSeconds)
		case "window-forward-seconds":
			return fp(w.ForwardSeconds)
		case "accepted-from":
			return num(w.AcceptedFromS)
		case "accepted-until":
			return num(w.AcceptedUntilS)
		case "edge-uncertainty":
			return num(w.EdgeUncertaintyS)
		case "skew-always-lo":
			return num(w.AlwaysAcceptedSkewS[0])
		case "skew-always-hi":
			return num(w.AlwaysAcceptedSkewS[1])
		case "skew-sometimes-lo":
			return num(w.SometimesAcceptedSkewS[0])
		}
		return num(w.SometimesAcceptedSkewS[1])
	case "replay", "replay-older", "replay-reformatted":
		if res.Replay == nil {
			return ""
		}
		return rej(map[string]*bool{"replay": res.Replay.SameCodeRejected, "replay-older": res.Replay.OlderCodeRejected,
			"replay-reformatted": res.Replay.ReformattedCodeRejected}[e.Name])
	case "lockout":
		if res.Lockout == nil {
			return ""
		}
		if res.Lockout.FailuresBeforeLock == nil {
			return "none"
		}
		return strconv.Itoa(*res.Lockout.FailuresBeforeLock)
	case "boundary-refusal", "boundary-latest-read":
		b := res.Boundary
		n, _ := strconv.Atoi(e.Arg)
		if b == nil || n >= len(b.RefusalCurve) {
			return ""
		}
		if e.Name == "boundary-refusal" {
			return num(b.RefusalCurve[n])
		}
		_, latest := boundaryFigures(interval{from: secs(b.AcceptedFromS), until: secs(b.AcceptedUntilS), period: secs(float64(b.PeriodS))})
		if latest[n] == nil {
			return "none"
		}
		return num(*latest[n])
	case "drift-first-refused-day", "drift-tracks":
		d := res.Drift
		if d == nil {
			return ""
		}
		if e.Name == "drift-tracks" {
			if d.ServerTracksDrift == nil {
				return ""
			}
			return yes(*d.ServerTracksDrift, "yes", "no")
		}
		if d.FirstRefusedDay == nil {
			return "none"
		}
		return strconv.Itoa(*d.FirstRefusedDay)
	case "server-clock-offset", "server-clock-uncertainty", "server-window-back", "server-window-forward":
		s := res.ServerClock
		if s == nil {
			return ""
		}
		switch e.Name {
		case "server-clock-offset":
			if s.OffsetS == nil {
				return ""
			}
			return num(*s.OffsetS)
		case "server-clock-uncertainty":
			return num(s.UncertaintyS)
		}
		v := s.BackSteps
		if e.Name == "server-window-forward" {
			v = s.ForwardSteps
		}
		if v == nil {
			return ""
		}
		return strconv.Itoa(*v)
	case "race-replay", "race-lockout", "race-replay-lockout":
		rc := res.Race
		switch {
		case rc == nil:
			return ""
		case e.Name == "race-replay":
			return strconv.Itoa(rc.ReplayMaxAccepted)
		case e.Name == "race-lockout":
			if rc.WrongEvaluatedBeforeLock == nil {
				return ""
			}
			return strconv.Itoa(*rc.WrongEvaluatedBeforeLock)
		case rc.ReplaysCountAsFailures == nil:
			return ""
		}
		return yes(*rc.ReplaysCountAsFailures, "yes", "no")
	case "reuse-bind":
		if res.Reuse == nil {
			return ""
		}
		return rej(negate(res.Reuse.BindCodeAcceptedAtLogin))
	case "bruteforce-50pct":
		bf := res.BruteForce
		if bf == nil {
			return ""
		}
		if bf.HoursTo50Pct == nil {
			return "+Inf"
		}
		return num(*bf.HoursTo50Pct)
	case "check":
		for _, c := range r.Checks {
			if c.ID == e.Arg {
				return string(c.Status)
			}
		}
	}
	return ""
}

// holds compares a measured value with the expectation.
func (e Expectation) holds(got string) bool {
	g, gerr := strconv.ParseFloat(got, 64)
	w, werr := strconv.ParseFloat(e.Value, 64)
	if gerr != nil || werr != nil {
		eq := got == e.Value
		return (e.Op == "=" && eq) || (e.Op == "!=" && !eq)
	}
	const eps = 1e-9
	switch e.Op {
	case "=":
		return math.Abs(g-w) <= eps
	case "!=":
		return math.Abs(g-w) > eps
	case "<":
		return g < w-eps
	case "<=":
		return g <= w+eps
	case ">":
		return g > w+eps
	}
	return g >= w-eps
}

// CheckExpectations appends a check per expectation to the report: pass
// when it holds, fail with the measured value beside the expected one
// when it does not or was not measured.
func CheckExpectations(r *Report, es []Expectation) {
	for _, e := range es {
		if e.Name == "bruteforce-50pct" {
			// The expectation is the bar: the built-in 30 days only warns.
			for i, c := range r.Checks {
				if c.ID == "bruteforce.odds" && c.Status == Fail {
					r.Checks[i].Status = Warn
					r.Checks[i].Detail += " (the bar is --expect " + e.Text + ")"
				}
			}
		}
		got := e.measured(r)
		shown := got
		if f, err := strconv.ParseFloat(got, 64); err == nil {
			shown = strconv.FormatFloat(math.Round(f*1e4)/1e4, 'f', -1, 64)
		}
		c := Check{ID: "expect." + strings.ReplaceAll(e.Text, " ", "")}
		switch {
		case got == "":
			c.Status, c.Detail = Fail, fmt.Sprintf("not measured (expected %s %s): is its scenario in the run?", e.Op, e.Value)
		case e.holds(got):
			c.Status, c.Detail = Pass, fmt.Sprintf("measured %s, expected %s %s", shown, e.Op, e.Value)
		default:
			c.Status, c.Detail = Fail, fmt.Sprintf("measured %s, expected %s %s", shown, e.Op, e.Value)
		}
		r.Checks = append(r.Checks, c)
	}
}

func secs(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
