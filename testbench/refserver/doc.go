// Package refserver is the reference console: a small, honest MFA server to
// enroll virtual devices and test codes against, and the test bench's
// embedded default target.
//
// New returns a Server (an http.Handler) with an injected clock and an
// in-memory store safe for concurrent use. Codes are checked with
// pquerna/otp's totp.GenerateCodeCustom at the server's time for every step
// of the window and compared in constant time; totp.Validate, which reads
// the wall clock, is never used. This package never imports the emulator,
// so a bug in one cannot hide in the other. A device keeps the codes of its
// last few steps (a code of a step never changes), so a flood of guesses
// costs no HMAC work; every step of the window is still compared.
//
// The JSON API (errors are {"error": CODE, "message": TEXT}):
//
//	POST   /api/v1/devices                 {"account": NAME} -> 201 {serial, account, issuer, qr_png, secret}
//	POST   /api/v1/devices/{serial}/bind   {"code1", "code2"} (two consecutive codes), or {"code"} when BindCodes is 1
//	POST   /api/v1/devices/{serial}/verify {"code"}
//	DELETE /api/v1/devices/{serial}
//	GET    /healthz                        {"status": "ok", "lab": BOOL, "flaws": [NAME...]}
//	GET    /api/v1/lab/clock               lab mode only: {"now": RFC3339Nano, "unix_ms": N, "running": BOOL}
//	POST   /api/v1/lab/clock               lab mode only: {"set": RFC3339Nano} | {"advance": "30s"} | {"unix_ms": N} | {"run": true}
//
// Status codes: 200 accepted, 201 created, 400 malformed (a code is exactly
// Options.Digits ASCII digits), 403 rejected, 404 unknown device or no such
// endpoint, 405 a route's wrong method (with Allow), 409 already bound or
// not yet bound, 413 body over 64 KiB, 415 a body not sent as
// application/json, 429 locked (with Retry-After in seconds).
//
// The web console (server-rendered from embed.FS, no JavaScript needed)
// follows a cloud console's Account Protection flow: GET / redirects to
// /console/; sign in as DemoUser "demo" with DemoPassword "demo-password"
// (shown on the page: this is a test server); "Enable MFA" shows the QR
// code and, under "Scan failed?", the account and the key in groups of 4;
// one or two code fields (BindCodes) and Next; then sign out and sign in
// with password and code. Forms go through the same check as the API.
// Sessions are HttpOnly, SameSite=Strict cookies; forms carry a CSRF token.
// Element ids the browser test relies on: username, password, signin,
// enable-mfa, qr, scan-failed, manual-account, manual-key, code1, code2,
// next, notice, error, signout, code (MFA sign-in), submit, lab-banner,
// flaws-banner.
//
// Policies are Options fields (see DefaultOptions): the window, replay by
// step (compare-and-set per device), by code or none, lockout after N
// consecutive refusals, whether a refused replay counts as one
// (ReplayCountsAsFailure, default off: a code that matches a step but is
// refused by the replay policy is not a failure, so a burst of replayed
// codes cannot lock the real user out), silent exponential throttling
// (ThrottleFactor, below), the server's own clock offset, resync (RFC 6238
// section 6: after a success the window is centred on the device's
// offset, with the knobs below), digits, algorithm, period, secret size and how many codes
// binding takes.
//
// Throttling (Options.ThrottleFactor, "totpemu serve --throttle
// exponential[:FACTOR]") is django-otp's ThrottlingMixin, the factor its
// OTP_TOTP_THROTTLE_FACTOR (default 1 s): after a device's n-th refusal
// in a row (a wrong code, or a replay: django-otp counts any failed
// verification), every bind or verify of it, right codes too, is refused
// until factor * 2^(n-1) after that refusal (1, 2, 4, 8 s ...). The
// refusal is silent: 403 "rejected", the answer to a wrong code, with no
// 429 or Retry-After. A refusal while throttled is not judged and not a
// failure, for the throttle or the lockout (django-otp's
// verify_is_allowed comes first and skips throttle_increment); a success
// resets the count. The lockout keeps its own count beside it. The state
// is the device's, under its mutex, on the server's clock (Now).
//
// Resync (Options.Resync, "totpemu serve --resync") is RFC 6238 section 6
// drift tracking as django-otp's OTP_TOTP_SYNC does it: after every
// success (a bind too) the device's drift becomes the matched step minus
// the current step, unbounded, and its window is centred there. Three
// knobs, each an error without Resync (naming --resync), make it differ
// as other servers do, so the bench's drift measurement can be tested
// against them: ResyncMax ("--resync-max N", 0 to 100, 0 no bound) bounds
// the drift either way, a success further out setting it to the bound;
// ResyncAfter ("--resync-after N", 0 to 10, 0 or 1 every success) moves
// the drift to an offset only after that many successes in a row at it
// (a success at another offset restarts the count, a refusal leaves it);
// ResyncForwardOnly ("--resync-forward-only") only ever lets the drift
// grow: a success at an offset below it leaves it, a window that never
// moves back for a device that was fixed. Policy names the knobs set:
// "resync true (at most 3 steps, after 2 successes, forward only)". The
// drift and the count are the device's, under its mutex, in accept.
//
// Verifying (verify.go): check is admit (deleted, locked, bound,
// throttled), judge (match the window; matched, replayed or wrong) and
// accept or refuse, all under the device's mutex.
//
// Flaws (flaws.go, Options.Flaws, "totpemu serve --lab --flaw NAME") are
// deliberate bugs, each found in real servers, so the bench's security
// probes can be tested against a console known to have them: refused
// without Lab, named in Policy, in /healthz and in a banner on every page.
// TOCTOUReplay judges the codes against the replay state, releases the
// device's mutex for Flaws.Pause (default 1 ms, at most 1 s) and records
// the use after: concurrent submissions of one code are all accepted.
// LockoutRace checks the lock, releases the mutex for the pause (the slow
// verify), then judges and counts the failure: a burst of wrong codes is
// evaluated beyond the lockout count and a right code in it accepted.
// BindReuse does not record the bind's codes as used, so they sign in.
// The race flaws are real races (checkRacy), not simulated answers; the
// pause is real time (clock.System's Wait) even on a lab clock. They race
// over the JSON API; the web console's forms are serialised by its
// session lock. Without flaws the check is the atomic one above, with no
// pause. AddFlaw parses the CLI's names (FlawNames), "replay-counts"
// setting ReplayCountsAsFailure.
//
// Time: Options.Clock is the server's true clock; codes are checked at
// Now(), which adds Options.ClockOffset. In lab mode the true clock is a
// LabClock that a client reads and moves over HTTP, so a test bench can
// run in virtual time: it runs with Options.Clock until set, stays where
// set, and runs again on {"run": true} (a bench restores it so when it
// ends); over a *clock.Manual it is that clock. ClockOffset still applies
// on top of it.
//
// Serving: NewHTTPServer wraps a handler in an http.Server with the
// timeouts and header limit of HTTPOptions (1 MB of headers is answered
// 431); Serve and ListenAndServe run it until a context is done, then shut
// down gracefully, letting requests in flight finish; Start (or
// StartHandler, for a Server already made) runs a Server on an address such
// as 127.0.0.1:0 and returns a Running with its URL and Close (the test
// bench's embedded console).
//
// Tests: handler table tests on a manual clock for each policy; each flaw
// against the correct console in concurrent bursts (flaws_test.go); the
// console's flow with a cookie-keeping client; slow headers and graceful
// shutdown in a synctest bubble; a browser test in real Chromium
// (browser_test.go, package refserver_test, the only place the emulator
// and scanner are imported); and an opt-in load test with wrk
// (TOTPEMU_LOAD=1, testdata/load/post.lua) against a bare net/http
// handler.
package refserver
