// Package testbench measures what a TOTP server really accepts: enrollment,
// the skew window, replay protection and lockout, against any target.
//
// A Target is the server under test (target.go): it enrolls a device
// (Enroll returns the otpauth key material: a QR image, a URI or a manual
// key), binds it with one or two codes and judges codes, each answer a
// Verdict (Accepted, Rejected, Locked, Throttled or Error). Targets:
//
//   - HTTPTarget (target_http.go), driven by a Config file (config.go): any
//     JSON API, the reference console among them (RefConsoleConfig and
//     examples/refserver.yaml). When the target offers a lab clock (the
//     reference console's --lab), it implements LabClock and the bench runs
//     in virtual time.
//   - CommandTarget (target_cmd.go): a command run once per verdict with
//     the code as its last argument and in $TOTPEMU_CODE; exit 0 accepts.
//   - StartEmbedded (embedded.go): the reference console started on
//     127.0.0.1:0 and driven over HTTP, the default target.
//
// Time (time.go): scenarios ask a clock.Waiter for the truth and to wait.
// In virtual time (VirtualTime) Wait advances the bench's clock and the
// target's lab clock together and costs nothing; in real time (RealTime)
// it sleeps, and the truth is the NTP-corrected clock or the system clock.
//
// Scenarios (scenario_*.go), run in this order so that one never confounds
// the next: enroll, lockout, window, replay. Each probes the target through
// a prober (prober.go), which follows MEASURING.md: codes are chosen by
// step offset k from the true step, a refusal counts only when it is
// clean (the code never accepted on that enrollment and its step after
// every step accepted there, so neither replay policy nor a bind's
// consumed steps can explain it), lockout budgets are spread over fresh
// enrollments, 429 answers are backed off as told, transient errors retried
// a bounded number of times, and every code submitted is counted.
//
// Run (runner.go) runs the scenarios and returns a Report (report.go) with
// named checks (pass, warn, fail); WriteText and WriteJSON render it.
package testbench
