// Package emulator is the virtual device: a phone authenticator (or a
// hardware token) that holds TOTP accounts and shows their codes.
//
// # Accounts and codes
//
// An Account is one row of an authenticator app: issuer, account name,
// algorithm (SHA1, SHA256, SHA512), digits (6..8), period (1..300 s) and a
// secret. Make one with NewAccount, with ManualEntry (the "enter a setup
// key" screen: name plus the base32 key as a console prints it) or with
// AccountFromURI / AccountFromKey (a scanned otpauth://totp/ payload,
// parsed and linted by package scanner).
//
// The math is pure, as in rsc.io/2fa: Account.Code(t) takes the time,
// Account.CodeAtStep and AppendCode take the RFC 6238 step. Codes follow
// RFC 4226 (HOTP) and RFC 6238 (TOTP) exactly, leading zeros kept; times
// before the Unix epoch are an error (ErrBeforeEpoch). The HMAC key is
// precomputed once per account (the hash states after the inner and outer
// pad blocks), so a code costs two hash compressions and no allocation
// (AppendCode) or one (the string of Code). Next gives the next N codes,
// BindCodes the two consecutive codes that APIs such as Alibaba Cloud's
// BindMFADevice and AWS's EnableMFADevice take, ValidFor how long a code
// stays current.
//
// The secret is a Secret, which prints as REDACTED with every fmt verb, in
// JSON and in log/slog; an Account prints its label and parameters only.
// Secret.Base32, Account.SecretBase32 and Account.RevealURI reveal the key,
// for the state file and for an explicit --reveal.
//
// # Devices and profiles
//
// A Device (NewDevice) holds accounts, the clock it reads and the Profile
// that built that clock; Find picks an account by "Issuer:Name" or by a
// unique name, Code/Next/BindCodes/ValidFor answer on the device's clock. A
// Profile models how a real device keeps time:
//
//   - phone: synced over NTP; the device clock is the true clock.
//   - gauth-android: Google Authenticator on Android, whose "time
//     correction" reads the offset from an HTTP Date header (1 s
//     resolution) and rounds it to whole minutes: up to 30 s of error stay.
//   - phone-manual: a clock set by hand, a fixed offset from the truth.
//   - token: a hardware token, never synced, drifting 20 ppm from the
//     instant it was programmed, with a 1 s real-time clock.
//
// Profiles() lists them, ProfileByName finds one; their fields (Offset,
// DriftPPM, Resolution, Since) can be overridden before Profile.Clock builds
// the device clock from a local clock and a truth clock (both clock.Clock,
// so virtual time simulates months of drift in microseconds).
//
// # The state file
//
// State is what the device remembers between runs: its accounts, secrets
// included. On disk it is versioned JSON, {"version":1,"accounts":[...]},
// secrets in base32, at DefaultStatePath: --state, else $TOTPEMU_STATE,
// else $XDG_CONFIG_HOME/totpemu/device.json, else
// ~/.config/totpemu/device.json.
//
// The file is created 0600 in a 0700 directory. Like ssh and
// pam_google_authenticator, Load and Update refuse a file or directory that
// group or others may access, a symlink, a file owned by another user and a
// directory where the file should be; they also refuse a corrupt,
// truncated or newer-version file, and leave it untouched. Update holds an
// exclusive lock (flock on device.json.lock beside the file) across
// read-modify-write and writes atomically (temporary file in the same
// directory, fsync, rename, fsync of the directory), so concurrent
// enrollments lose nothing and a crash or a full disk leaves the previous
// file intact. Load takes a shared lock. Errors name the path and never
// contain a secret.
package emulator
