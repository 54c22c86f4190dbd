// Package scanner reads the QR code a console shows for MFA enrollment, from
// any form a person or an API hands over, and validates its payload for CI.
//
// The map of the package:
//
//   - Payloads (no images): ParseURI parses an otpauth:// URI (Google's Key
//     Uri Format) into a Key and lints it; DecodeSecret is a tolerant base32
//     decoder; ParseMigration decodes Google Authenticator's
//     otpauth-migration:// export into its accounts, each linted. Every
//     problem is a Finding with a stable rule ID; Rules lists them all
//     (otpauth.go, secret.go, migration.go, rules.go, lint*.go).
//   - Key (otpauth_key.go) redacts its secret in every fmt verb, in log/slog
//     and in JSON: printing a Key never shows the secret.
//   - Inputs (input*.go): the form is detected from the content, not the
//     name: raster image bytes, a base64 PNG as the cloud APIs return it, a
//     data: URL, an HTML page embedding one, a JSON API response carrying
//     QRCodePNG and Base32StringSeed, or a plain otpauth text. Sizes are
//     capped before anything is decoded.
//   - Images (image.go, decode*.go, luminance.go): DecodeImageBytes and
//     DecodeImage find every QR code in an image with gozxing and report
//     the facts a phone cares about (version, EC level, pixels per module,
//     quiet zone).
//   - ScanInput (scan.go) is the entry point for the CLI and the emulator:
//     input in, every code found out, each with its Key, QR facts and
//     findings, plus the expectations a pipeline asserts.
//
// Package scanner imports nothing else of this module.
package scanner
