// Package scanner reads the QR code a console shows for MFA enrollment, from
// any form a person or an API hands over, and validates its payload for CI.
//
// The map of the package:
//
//   - ScanInput and ScanPath (scan.go) are the entry point for the CLI and
//     the emulator: one input in; out, an InputResult with a Status (ok,
//     no-code, multiple-codes, not-otpauth) and every Code found, each with
//     its Kind, parsed Key (or Migration), QR facts and findings, plus the
//     expectations of Options (issuer, account, secret) and the seed of a
//     JSON response checked.
//   - Inputs (input*.go): the form is detected from the content, never the
//     name: PNG/JPEG/GIF/WebP bytes, a base64 PNG as the cloud APIs return
//     QRCodePNG, a data:image/...;base64, URL, an HTML page whose <img>
//     embeds one or links to a file of a saved page (input_html.go: read
//     from Options.BaseDir and never outside it; remote images are named,
//     never fetched), a JSON response with QRCodePNG and Base32StringSeed
//     (Alibaba Cloud, AWS) or qr_png and secret (the reference console),
//     also after the HTTP headers curl -i saves with it, a
//     code drawn as terminal text (input_terminal.go: blocks, half blocks,
//     ## and ANSI colours, found inside a CI log too, rendered to a bitmap
//     as drawn and as its negative), or otpauth text. Sizes are capped
//     before anything is decoded; every
//     refusal wraps ErrUnreadable or ErrTooLarge and names the input.
//   - Payloads: ParseURI (otpauth.go) parses an otpauth:// URI per Google's
//     Key Uri Format and lints it, trusting nothing (unlike pquerna/otp's
//     NewKeyFromURL); DecodeSecret (secret.go) is a tolerant base32 decoder
//     that never echoes the secret; ParseMigration (migration.go) decodes
//     Google Authenticator's otpauth-migration:// export (wire.go: the protobuf
//     wire format, decoded by hand).
//   - Lint: every problem is a Finding with a stable rule ID; Rules
//     (rules.go) lists them all with severity and meaning; LintQR
//     (lint_qr.go) checks the image facts (quiet zone, module size).
//   - Key (otpauth_key.go) redacts its secret in every fmt verb, in log/slog
//     and in JSON: printing a Key never shows the secret. Code keeps its
//     payload text unexported (Code.Text) and shows TextRedacted.
//   - Images (image.go, decode*.go, luminance.go): DecodeImageBytes and
//     DecodeImage find every QR code in an image with gozxing and report
//     the facts a phone cares about (version, EC level, pixels per module,
//     quiet zone). Bytes are capped, then the pixel count and the decoded
//     size (pixels x bytes a pixel: 16-bit PNGs take 8) are checked with
//     image.DecodeConfig before Decode, the decoded image is kept as gray
//     only, and a decoder panic becomes an error: any accepted input scans
//     in under 200 MB (TestScanPeakMemory).
//     Luminance is read straight from the pixel buffer (a JPEG's Y plane
//     is shared); the ladder (decode_ladder.go) goes plain, inverted (dark
//     mode), try-harder, contrast-stretched, then a Lanczos 2x upscale of
//     the region around finder candidates, checking the deadline between
//     rungs.
//   - Camera (camera.go) degrades an image as a phone camera would (module
//     size at a distance, blur, noise, rotation, tilt, glare) with named,
//     seeded profiles; Margin (margin.go) sweeps each degradation alone to
//     where decoding fails, and scan_margin.go turns that into findings.
//   - The corpus in testdata/corpus is made by `go generate`
//     (internal/corpusgen); expected.json gives every file's result.
//
// Package scanner imports nothing else of this module.
package scanner
