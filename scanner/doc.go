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
//     name: PNG/JPEG/GIF/WebP bytes, an SVG document (its root element
//     <svg>, after any prolog, doctype or comments, prefixed or not), a
//     base64 PNG as the cloud APIs return QRCodePNG, a data:image/...;base64,
//     URL or a data:image/svg+xml one (base64 or percent-encoded), an HTML
//     page whose <img> embeds one or links to a file of a saved page
//     (input_html.go: read from Options.BaseDir and never outside it;
//     remote images are named, never fetched) or that holds inline <svg>
//     elements (each one a source), a JSON response with QRCodePNG and Base32StringSeed
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
//   - SVG (input_svg.go, svg_raster.go): caps first (MaxBytes, 20,000
//     elements counted from the tags, nesting 64 deep, what <use> repeats,
//     the raster's pixels, the drawing's work), then a normalizing pass
//     with encoding/xml writes the subset oksvg reads well, and
//     github.com/srwiley/oksvg parses it into paths: pure Go, no cgo, and
//     it handles the rect, path and stroke forms QR encoders write
//     (tdewolff/canvas, much heavier, was not needed; a renderer calling
//     librsvg or a browser would need cgo or a process). The pass works
//     around what oksvg gets wrong for those forms: stroked rows of
//     modules (npm qrcode, segno, qrencode --svg-path) become filled
//     rectangles, as oksvg strokes in device pixels; scale(s) is written
//     as a matrix (oksvg reads it as scale(s, 0)); units, percentages and
//     colours oksvg refuses are resolved. The module size is measured from
//     the drawing's axis-aligned edges (1 unit for qrencode and npm
//     qrcode, 11 px for rqrcode, a millimetre for python qrcode), and the
//     SVG is rendered on white at a whole number of pixels per module (8,
//     fewer for big codes) on the pixel grid, with its own rasterx
//     scanner (rasterx's composites the whole image for every path), and
//     decoded like any image; a drawing without such a grid is fitted to
//     1024 pixels. The QR facts describe the SVG as drawn: CSS pixels at
//     the size it declares, else its user units (and qr-small is not
//     judged: the page sizes it); the quiet zone it draws itself. A panic
//     in oksvg becomes an error.
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
//     the region around finder candidates, last the regrid
//     (decode_regrid.go: a code at a fraction of a pixel per module, as
//     npm qrcode's width option or a browser's device scale draws it, is
//     measured against its timing pattern and drawn again at 4 whole pixels
//     a module), and the photo rungs (decode_photo.go: a phone photo of a
//     screen, its lighting flattened, moiré blurred away, defocus
//     sharpened; the whole picture when its noise says it is a photo,
//     else around the finder patterns seen; at its own scale and at long
//     sides of 1000, 640 and 420 pixels, those first for a photo over
//     1300 pixels; a photo over 4 megapixels is read by the plain rungs at
//     full size (up to 16 megapixels) and then box-shrunk by a whole
//     factor to at most 4 megapixels for the rest), each
//     plane read by gozxing and then by the rectifier
//     (decode_rectify.go: finder candidates of both binarizers paired
//     under perspective; each finder's four corners traced from its ring,
//     finder_quad.go; the size read from the timing rows,
//     rectify_timing.go; a homography fitted through the corners,
//     homography.go, refined by the alignment patterns and by quirc's
//     jiggle of the corners against the function patterns,
//     rectify_jiggle.go; the grid sampled as pixels, then as module means
//     against their neighbours, sharpened at the module pitch,
//     rectify_sample.go). A photo's facts (bounds, module size, quiet
//     zone, measured on luminance) come from the rectified grid when the
//     rectifier reads the same code. The
//     deadline is checked between rungs.
//   - Camera (camera.go) degrades an image as a phone camera would (module
//     size at a distance, blur, noise, rotation, tilt and pitch, glare; for a photo
//     of a monitor also moiré, a dim far corner and the phone's JPEG) with named,
//     seeded profiles; Margin (margin.go) sweeps each degradation alone to
//     where decoding fails, and scan_margin.go turns that into findings.
//   - The corpus in testdata/corpus is made by `go generate`
//     (internal/corpusgen); expected.json gives every file's result. The
//     SVGs of testdata/svg are made by the encoders themselves (its
//     README says how), with expected.txt.
//
// Package scanner imports nothing else of this module.
//
// A live page is loaded by the subpackage scanner/browser (headless
// Chromium: screenshots and the DOM's images, SVGs and canvases), whose
// captures the caller scans like any input.
package scanner
