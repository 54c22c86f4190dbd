// Package testbench measures what a TOTP server really accepts: enrollment,
// the skew window, replay protection and lockout, and, driven by time, the
// server's own clock, the 30 s boundary under typing latency and a
// drifting token, against any target.
//
// A Target (target.go) is the server under test: Enroll returns the key
// material it showed (a QR image, an otpauth URI, a manual key), Bind
// completes enrollment with one or two codes, Verify judges a code. Each
// answer is a Verdict: Accepted, Rejected, Locked, Throttled ("slow down",
// not a judgement) or Error. The targets themselves live in package
// testbench/target (HTTP APIs from a config, the reference console,
// commands, the embedded console); this package imports neither net/http,
// yaml, os/exec nor the reference console.
//
// Time (time.go): scenarios take the truth from a Time and ask it to wait.
// VirtualTime drives a target's LabClock: Wait advances the bench's clock
// and the target's together and costs nothing. RealTime sleeps, with the
// truth from NTP (the local clock's measured offset goes in the report) or
// from the system clock.
//
// Scenarios (scenario_*.go) run in the order enroll, lockout, window,
// replay: the lockout count spreads the window's probes over enrollments,
// and replay needs two steps known to be in the window. They probe through
// a prober (prober.go: enrollments and binds; judge.go: submitting and
// judging; pacing.go: steps and waiting; sniff.go: what the target shows
// of itself, and the codes), which applies MEASURING.md:
//
//   - codes are chosen by step offset k from the true step, each probe in
//     the middle of a step (virtual time) or away from its edges (real time);
//   - an accept always counts; a refusal counts only when it is clean: the
//     code never accepted on that enrollment and its step after every step
//     accepted there (bind included), unless the target has shown that it
//     ignores such codes (facts). Otherwise the prober waits until the
//     probe is clean and asks again;
//   - a bind is searched for at offsets 0, 1, -1, ... when the current
//     codes are refused (a server whose clock is off);
//   - enrollments are replaced before the lockout count is reached;
//     a lock is waited out when a fresh enrollment comes locked too;
//   - Throttled answers are backed off as Retry-After says, errors retried
//     a bounded number of times, every code submitted counted per scenario;
//   - in real time, a first check (sniff) re-submits a code to learn if the
//     target remembers codes at all: if not, nothing ever needs to wait;
//     otherwise the scenarios' enrollments are bound together (prebind) so
//     their waits overlap.
//
// The window is measured relative to the true step at the probe. A server
// whose own clock is off by whole steps shows its window shifted by them
// (codes alone cannot tell the two apart); the skew ranges are then what a
// device with a given clock error really gets.
//
// The time-driven scenarios run after replay, each measuring the window
// first when it was not asked for. frame.go holds what they share: frame,
// the bench's model of the target (a code of step c judged at true
// instant s is accepted when c - floor((s + r)/P) is in the window [lo,
// hi] measured at mid-step, r the server clock's offset modulo P), and
// submitAt, a code submitted at a chosen true instant with its round trip
// timed. scenario_serverclock.go finds r from where acceptance of the
// oldest accepted code flips (rounds of staggered enrollments in real
// time, bisection in virtual time) and the whole steps from the HTTP Date
// header (Verdict.Date); scenario_boundary.go computes the phase x latency
// grid from the frame and submits the two sides of each flip;
// scenario_drift.go uses a drifting token (clock.Drift) once a day at the
// worst moment of the server's step, and synced phones.
//
// Run (runner.go) returns a Report (report.go): results per scenario,
// named checks (pass, warn, fail, skip), codes submitted per scenario.
// WriteText and WriteJSON (report_text.go, report_timed.go), WriteJUnit
// (report_junit.go) and WriteHTML (report_html.go: inline SVG charts, no
// fetch) render it. CheckExpectations (expect.go) adds a check per
// --expect condition (ParseExpectation: NAME[@ARG] OP VALUE). New
// scenarios add a name to Scenarios, a case in Run and a field in Results.
package testbench
