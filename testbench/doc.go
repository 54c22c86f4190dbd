// Package testbench measures what a TOTP server really accepts: enrollment,
// lockout, a code's acceptance interval (the window), replay protection,
// the server's own clock, the 30 s boundary under typing latency and a
// drifting token, against any target.
//
// # The model
//
// One picture fits every verifier (MEASURING.md): the code of true step n
// is accepted while the true time t is in [nP + from, nP + until). The
// bench measures the two edges, from and until; model.go derives the rest
// from them: the device clock errors always accepted [P - until, -from]
// and sometimes accepted (-until, P - from), the steps of true time
// accepted at every phase, the refusal chance for a typing latency L, the
// first day a drifting token is refused. With the server's clock offset
// theta (its Date header), a step window's edges are a whole number of
// steps from the server's step edges: back = (until+theta)/P - 1, forward
// = -(from+theta)/P; where those are not whole numbers the window is in
// seconds, as Ruby's ROTP takes it (scenario_window.go: classify).
//
// # Targets
//
// A Target (target.go) is the server under test: Enroll returns the key
// material it showed, Bind completes enrollment with one or two codes,
// Verify judges a code; each answer is a Verdict (Accepted, Rejected,
// Locked, Throttled: "slow down", not a judgement; Error). Targets are used
// concurrently, on different enrollments. A Dater also tells the server's
// Date header; a LabClock lets the bench set the target's clock (virtual
// time). The targets themselves live in testbench/target; this package
// imports neither net/http, yaml, os/exec nor the reference console.
//
// # The timeline
//
// Run (bench.go) starts every scenario of the table (scenarios.go) at once
// on one timeline (timeline.go; its futures and groups in future.go): each
// probe waits for its own true instant
// with until, so the waits overlap instead of adding up. Real time sleeps;
// in virtual time nothing sleeps: when every participant is parked, the
// timeline advances the Time (time.go) and the target's lab clock to the
// earliest instant asked for. Futures carry what one scenario needs of
// another (the lockout count, the edges, the Date clock), and waiting on
// one parks too. One code path serves both kinds of time.
//
// # The books
//
// The bench keeps the books of every enrollment (pool.go): the codes and
// steps each consumed, its refusals against the lockout count, its lock,
// whether its window is still where its bind left it (pristine). A
// refusal counts as evidence only when nothing consumed can explain it;
// scenarios lease an enrollment for a probe (the one that serves soonest,
// or a fresh one bound now, within Config.MaxEnrollments) and submit
// through send (submit.go; binds in bind.go), which waits out locks that
// cover every enrollment, backs off on "slow down", retries errors a
// bounded number of times, counts the codes per scenario and keeps the
// books. Binds aim at
// the middle of the server's own step; enrollments for upper edges are
// bound with the oldest codes accepted so that later steps are clean
// sooner, unless the target re-centres a window on drift (RFC 6238
// section 6; a one-code check in edges_coarse.go).
//
// # Measuring
//
//   - edges.go brackets the two edges (edges_coarse.go: to a step at
//     once, and the check for drift tracking; edges_rounds.go: the
//     crossings at planned instants): the accepted binds give a first
//     point; the lower edge is bracketed to a step at once with future
//     codes (clean on any enrollment), the upper edge with old codes where
//     the target remembers none; then both are crossed at planned instants,
//     first the hypothesis that they sit on the server's step edges (its
//     Date clock, or a synced clock without one), then, refuted, points
//     spread across the bracket (one, a bisection, in virtual time).
//     Answers bracket an edge by when they were sent and received, so the
//     round trip is in the uncertainty.
//   - dateclock.go brackets the instant the Date header's second flips
//     (htpdate's method): theta to a few milliseconds, no code spent.
//   - right.go finds codes surely accepted (between the edges' inner
//     bounds) for the scenarios that need a right code, and wrong ones.
//
// Bursts (burst.go): a Burster target releases several submissions at
// once (testbench/target: the HTTP/2 single-packet attack over https,
// HTTP/1.1 last-byte sync on one connection each, or processes held on one
// pipe); others get one goroutine each behind
// one gate. sendBurst takes every slot of the parallel budget, keeps the
// books without inferring policy from a race, and the caller retires the
// enrollment after.
//
// Test users (pool.go: claimAccount): with Capabilities.Accounts (a
// staging server's few users) every enrollment is of one of them, and at
// most one per user is alive: a new one replaces the idle one worth
// least, or waits; with fewer than 4 (fewAccounts) scenarios lease only
// after the shared measurements instead of holding an enrollment while
// they wait for them.
//
// Throttles (throttle.go): setup looks for a silent throttle (django-otp's
// doubling delay after failures, refusals that look like wrong codes)
// with one wrong code and a right one on an enrollment of its own; once
// found, send waits out every enrollment's throttle (its refusals in a
// row, lastFail), nextAccepted plans after it, enrollments take at most
// throttleRefusals refusals, and the throttle scenario measures the
// delays.
//
// Scenarios (scenario_*.go): enroll as a person would (timed); lockout
// (publishes the count at once, then right codes once the edges are
// known); window and server-clock (the edges and the Date clock, read
// together); replay (codes surely in the window, so only a replay rule
// can refuse them); boundary (closed form); drift (a token on one
// enrollment at the worst moment of each day sampled, planned from the
// edges' first guess and checked against the measured ones; synced
// phones); race (replay bursts on fresh enrollments, a lockout burst of 3L
// wrong codes and the right one last, whether refused replays lock);
// reuse (the bind's code at login; a second session when a target has
// one); bruteforce (the odds of random guesses from the window, digits and
// lockout, in closed form: nothing is sent).
//
// Run returns a Report (report.go): results per scenario, named checks
// (pass, warn, fail, skip, incomplete), codes submitted per scenario,
// timing. When its context ends (Ctrl-C, SIGTERM), the requests in flight
// finish (DrainTimeout at most; requests use bench.reqCtx, see
// drainContext) and the report of what was measured is returned,
// Interrupted set, each unfinished scenario with a <name>.incomplete check.
// WriteText and WriteJSON (report_text.go, report_timed.go), WriteJUnit
// (report_junit.go) and WriteHTML (report_html.go: inline SVG charts, no
// fetch) render it. CheckExpectations (expect.go) adds a check per
// --expect condition (ParseExpectation: NAME[@ARG] OP VALUE).
//
// Tests use testbench/internal/fake, an in-memory server whose policies
// are fields, in virtual time and, for the real-time path, inside
// testing/synctest bubbles; testbench/target runs the bench against the
// reference console in process and over loopback in real time.
package testbench
