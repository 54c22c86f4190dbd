// Package target holds the servers the bench tests, each a
// testbench.Target:
//
//   - HTTPTarget (http.go) follows a TargetConfig (config.go, YAML or
//     JSON, ${ENV} expanded): any JSON API. Answers are matched to
//     verdicts in http_answer.go (jsonpath.go reads JSON paths); the lab
//     clock over HTTP is in http_lab.go.
//   - RefConsole (refconsole.go) builds that target for a
//     reference-console-compatible URL (--target URL) from
//     RefConsoleConfig and finds its lab clock; StartEmbedded runs the
//     reference console on 127.0.0.1:0 in lab mode: the default target.
//   - CommandTarget (command.go): a command run once per code, the code
//     as its last argument and in $TOTPEMU_CODE; exit 0 accepts. Commands
//     are split by SplitCommand (split.go), never by a shell.
//   - Bursts (testbench.Burster, for the race scenario): HTTPTarget's
//     VerifyBurst (http_burst.go) is the HTTP/2 single-packet attack over
//     https where the server speaks HTTP/2 (http_burst_h2.go, frames
//     written by hand with x/net/http2's Framer), else HTTP/1.1 last-byte
//     sync on a connection per request; the release spread is timed on
//     the real clock. CommandTarget's (command_burst.go) holds one process
//     per code behind a /bin/sh reading one pipe, and closes it.
//
// The tests here run the bench end to end against the reference console
// (matrix_test.go in virtual time, realtime_test.go over loopback in real
// time), the console's deliberate flaws (race_loopback_test.go) and a
// RAM-shaped API and command verifiers.
package target
