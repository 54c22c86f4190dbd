// Package webapp is a small session web app with MFA, a fake target for the
// bench's flow tests: it looks like a real site (cookie sessions, CSRF tokens
// of two styles, password then code, HTML forms, a JSON API for MFA setup)
// and verifies TOTP codes with github.com/pquerna/otp/totp (period 30 s, 6
// digits, SHA1), never with the emulator. Its time is Options.Clock alone:
// every response's Date header, every code check, locks and throttling.
//
// # Routes
//
// Any other path answers 404; a known path with another method answers 405
// with Allow (GET routes take HEAD too). Request bodies are capped at 64 KiB
// (413 beyond). Every response carries a Date header from Options.Clock
// (http.TimeFormat, UTC).
//
//	GET  /              200 text/plain "ok" (a cheap page for the Date header)
//	GET  /lab/clock     200 {"now": RFC3339Nano}; 404 unless Options.Clock is a *clock.Manual
//	POST /lab/clock     {"set": RFC3339Nano} sets the clock; 200 {"now": ...}; 400 bad body; 404 as GET
//
//	GET  /signup        HTML form: user, password, csrf_token (hidden)
//	POST /signup        form user, password, csrf_token: 303 Location /account, signed in;
//	                    409 user exists; 400 bad name or empty password
//	GET  /login         HTML form: user, password, csrf_token (hidden)
//	POST /login         form user, password, csrf_token: 401 HTML "wrong password";
//	                    with MFA on, 200 HTML step-two form holding
//	                    <input type="hidden" name="challenge" value="..."> and csrf_token
//	                    (the session now awaits the code); without MFA, 303 /account
//	POST /login/otp     form challenge, code, csrf_token: right code 303 /account, signed in;
//	                    wrong, replayed or throttled 200 HTML "Invalid code" (the form again,
//	                    the challenge still valid); locked 429 HTML "Too many attempts" with
//	                    Retry-After (seconds); a challenge that is not the session's 400
//	                    "no login in progress"
//	GET  /account       200 HTML "Signed in as USER"; 303 /login unless signed in
//	POST /logout        the session is deleted and its cookies expired; 303 /login
//
//	POST /api/mfa/setup    200 {"otpauth_uri": "otpauth://totp/WebApp:USER?secret=...&issuer=WebApp",
//	                       "secret": BASE32, "qr_png": base64 PNG of the URI}; a second setup
//	                       replaces the pending secret; 409 {"error":"mfa already enabled"}
//	POST /api/mfa/enable   {"code": "123456"} (BindCodes 1) or {"code1": ..., "code2": ...}
//	                       (BindCodes 2: consecutive, the second at a step of the window):
//	                       200 {"ok":true}; 403 {"error":"invalid code"}; 429 {"error":"locked"}
//	                       with Retry-After; 409 {"error":"mfa already enabled"} or
//	                       {"error":"no mfa setup in progress"}; 400 {"error":"bad request: ..."}
//	POST /api/mfa/disable  200 {"ok":true}: MFA off; secret, used-code record, failures,
//	                       throttle and lock cleared (to re-enroll the same user)
//	POST /api/mfa/verify   {"code": ...}, a step-up check: 200 {"ok":true}; 403 {"error":"invalid code"};
//	                       429 {"error":"locked"} with Retry-After; 409 {"error":"mfa not enabled"}
//
// # Sessions and CSRF
//
// The session cookie is sid (HttpOnly, SameSite=Lax, Path=/, 128 random
// bits), made on the first request to an HTML page (/signup, /login,
// /login/otp, /account) that brings none; / and /lab/clock make none. A
// session is anonymous, awaiting a code (password accepted, a challenge
// pending) or signed in as a user. Signing in (sign-up, password without
// MFA, right code) issues a new sid for the same session, as real apps do
// against session fixation; a cookie jar follows it.
//
// Two CSRF styles, with two different per-session tokens:
//
//   - form field: every HTML form holds <input type="hidden" name="csrf_token"
//     value="...">; POST /signup, /login and /login/otp must send it back,
//     else 403 HTML "csrf". POST /logout does not check it.
//   - cookie echo (Django style): every response for a session sets the
//     cookie csrftoken (not HttpOnly); a POST under /api/ must send the
//     header X-CSRF-Token equal to it (and the cookie itself), else 403
//     {"error":"csrf"}. Before that, every /api/ route needs a signed-in
//     session, else 401 {"error":"not signed in"}.
//
// Forms are read as application/x-www-form-urlencoded or multipart/form-data;
// another content type reads as an empty form (so 403 csrf).
//
// # Codes
//
// The window is Options.Back steps back and Options.Forward forward of the
// clock's step. Replay is refused by step (RFC 6238 5.2): a code at a step not
// after the last accepted one is refused, the bind's codes included; the
// record is the user's, or the session's with Options.PerSessionReplay (a
// flaw). A refused replay is not a failure. Each wrong code (a malformed one
// included) is a failure of the user's: Options.Lockout consecutive ones
// lock the user for Options.LockFor (codes answer 429 then; when it ends the
// count starts again); with Options.Throttle the n-th consecutive failure
// also refuses every code, right ones too, as a plain invalid code for
// 2^(n-1) seconds, a refusal that is no failure (django-otp's throttling).
// A success resets both counts.
package webapp
