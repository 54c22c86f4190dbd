package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/totpemu/totpemu/scanner"
)

func init() {
	register(&command{
		name:    "scan",
		summary: "decode and lint the QR codes of MFA enrollment (for CI)",
		usage: fmt.Sprintf(`Usage: totpemu scan [flags] INPUT...
       totpemu scan --rules

Finds every QR code in each INPUT, parses its otpauth:// payload (or
otpauth-migration:// export) and checks it against the rules listed by
--rules: the secret, the issuer and account, the parameters authenticator
apps ignore, the quiet zone and the module size. Prints, per input and per
code, the parsed key (the secret as its length and first 4 characters), the
QR facts and the findings.

An INPUT is read from its content, whatever its name: a PNG, JPEG, GIF or
WebP image; an SVG (qrencode -t SVG, npm qrcode, rqrcode, python qrcode,
segno: rendered at whole pixels per module, its QR facts in the SVG's CSS
pixels, or its user units when it declares no size); - for stdin; the
base64 PNG an API returns (QRCodePNG); a data:image/...;base64, URL or
data:image/svg+xml (base64 or percent-encoded); an HTML page whose <img>
embeds one, or inline <svg> elements (each one a source), or a saved page
whose <img> links to a file in its folder (page_files/qr.png or qr.svg;
remote images are never fetched); a JSON response of CreateVirtualMFADevice
(Alibaba Cloud, AWS: QRCodePNG and Base32StringSeed, whose secrets must
then agree), also saved with its HTTP headers (curl -i); a code drawn as text
(google-authenticator, qrencode -t UTF8|ASCII|ANSI, npm qrcode's terminal
output: blocks, half blocks, ## or ANSI colours), alone or in a CI log;
or otpauth text.

Flags:
  --format FORMAT        text (default), json or junit (JUnit XML: a test
                         suite per input, a test case per code, a failure per
                         error finding)
  --strict               warnings fail too (exit 1)
  --out FILE             write the report to FILE (atomically) instead of stdout
  --reveal               show secrets and payloads in full
  --rules                list every rule: its ID, severity and meaning
  --expect-issuer NAME   every key must have this issuer
  --expect-account NAME  every key must have this account name
  --expect-secret KEY    every key must have this secret (base32)
  --min-module-px N      module size in pixels under which qr-small warns
                         (default 2)
  --camera PROFILE       decode each image as a phone camera would see it:
                         resampled to the profile's px/module, blurred,
                         noisy, rotated, tilted, washed out; profiles:
                         %s
  --seed N               seed of the camera noise, for repeatable runs
                         (default: the profile's)
  --margin               measure how far each degradation alone can go
                         before the code stops decoding ("decodes down to
                         1.7 px/module, blur sigma 1.4, tilt 35 degrees,
                         contrast 30%%"); slow: some hundred decodes per image
  --min-margin LIMITS    fail (margin-low) unless the code survives LIMITS,
                         e.g. px=2.5,blur=1,noise=20,rotate=10,tilt=30,contrast=50%%;
                         implies --margin
%s
Exit status: 0 no error finding; 1 an error finding (or, with --strict, a
warning), or a readable input without a QR code (an image without one, an
HTML page embedding no image, a JSON response without a QR field); 2 usage
error or unreadable input (missing file, corrupt image or base64,
unsupported format).

Examples:
  totpemu scan scanner/testdata/corpus/console-1920x1080-dark-half.png
  totpemu scan --format junit --out scan.xml scanner/testdata/corpus/*.png
  aliyun ram CreateVirtualMFADevice --VirtualMFADeviceName alice | totpemu scan -
  qrencode -t UTF8 'otpauth://totp/Ex:alice?secret=JBSWY3DPEHPK3PXP' | totpemu scan -
  totpemu scan scanner/testdata/terminal/ci-log-two-codes.txt
  totpemu scan scanner/testdata/inputs/saved-page.html
  totpemu scan scanner/testdata/svg/npm-qrcode.svg scanner/testdata/svg/inline-two-codes.html
  curl -si -X POST https://console.example/api/mfa | totpemu scan -
  totpemu scan --expect-issuer Example --expect-account alice@example.com scanner/testdata/inputs/console.html
  totpemu scan --strict --format json scanner/testdata/inputs/alibaba-create-virtual-mfa-device.json
  totpemu scan --camera budget-phone --min-margin px=2,tilt=30 scanner/testdata/inputs/qrencode.png
  totpemu scan --browser --cookie session=... --wait-for '#qr' https://console.example/mfa/enable
  totpemu scan --rules
`, cameraNames(), browserHelp),
		run: runScan,
	})
}

// cameraNames lists the camera profiles for the usage text.
func cameraNames() string {
	var names []string
	for _, c := range scanner.Cameras() {
		names = append(names, c.Name)
	}
	return strings.Join(names, ", ")
}

type scanFlags struct {
	format      string
	strict      bool
	out         string
	reveal      bool
	rules       bool
	minModulePx float64
}

// scanned is one input's outcome: a result, or the error that made it
// unreadable.
type scanned struct {
	name string
	res  *scanner.InputResult
	err  error
}

func runScan(ctx context.Context, e *env, args []string) error {
	c := commands["scan"]
	fs := newFlags(c)
	var f scanFlags
	var opts scanner.Options
	var expectSecret string
	fs.StringVar(&f.format, "format", "text", "")
	fs.BoolVar(&f.strict, "strict", false, "")
	fs.StringVar(&f.out, "out", "", "")
	fs.BoolVar(&f.reveal, "reveal", false, "")
	fs.BoolVar(&f.rules, "rules", false, "")
	fs.StringVar(&opts.ExpectIssuer, "expect-issuer", "", "")
	fs.StringVar(&opts.ExpectAccount, "expect-account", "", "")
	fs.StringVar(&expectSecret, "expect-secret", "", "")
	fs.Float64Var(&f.minModulePx, "min-module-px", scanner.DefaultMinModulePx, "")
	camera := fs.String("camera", "", "")
	seed := fs.Int64("seed", 0, "")
	fs.BoolVar(&opts.Margin, "margin", false, "")
	minMargin := fs.String("min-margin", "", "")
	var bf browserFlags
	bf.register(fs)
	if err := parse(e, c, fs, args); err != nil {
		return err
	}
	switch f.format {
	case "text", "json", "junit":
	default:
		return usageErr("use --format text, json or junit", "scan: unknown format %q", f.format)
	}
	if f.minModulePx <= 0 {
		return usageErr("give a size in pixels, e.g. --min-module-px 2", "scan: --min-module-px must be positive")
	}
	opts.MinModulePx = f.minModulePx
	if fs.Changed("camera") {
		cam, err := scanner.CameraByName(*camera)
		if err != nil {
			return usageErr("e.g. --camera budget-phone", "scan: --camera: %v", err)
		}
		if fs.Changed("seed") {
			cam.Seed = *seed
		}
		opts.Decode.Camera = &cam
	}
	opts.MarginSeed = *seed
	if fs.Changed("min-margin") {
		l, err := scanner.ParseMarginLimits(*minMargin)
		if err != nil {
			return usageErr("write e.g. --min-margin px=2.5,blur=1,tilt=30,contrast=50%", "scan: --min-margin: %v", err)
		}
		opts.MinMargin = &l
	}
	if fs.Changed("expect-secret") {
		s, err := scanner.DecodeSecret(expectSecret)
		if err != nil {
			return usageErr("give the key in base32, as a console shows it", "scan: --expect-secret: %v", err)
		}
		opts.ExpectSecret = s
	}
	if err := bf.check(fs, "scan"); err != nil {
		return err
	}
	if fs.Changed("out") {
		if err := checkOutFile("scan", "--out", f.out); err != nil {
			return err
		}
	}
	if f.rules {
		if fs.NArg() > 0 {
			return usageErr(`run "totpemu scan --rules" alone`, "scan: --rules takes no inputs")
		}
		return writeReport(e, f.out, func(w io.Writer) error { return writeRules(w, f.format) })
	}
	if fs.NArg() == 0 {
		return usageErr(`run "totpemu scan --help" for usage`, "scan: no input given")
	}
	stdinUsed := false
	var results []scanned
	for _, in := range fs.Args() {
		if in == "-" {
			if stdinUsed {
				return usageErr("give - once", "scan: stdin (-) given more than once")
			}
			stdinUsed = true
		}
		name := in
		if in == "-" {
			name = "stdin"
		}
		if bf.on {
			page, err := bf.scanPage(ctx, e, "scan", in, opts)
			if err != nil {
				return err
			}
			results = append(results, page...)
			continue
		}
		res, err := scanner.ScanPath(ctx, in, e.stdin, opts)
		if err != nil && ctx.Err() != nil {
			return inputErr(fmt.Errorf("scan: %s: %w", name, ctx.Err()), "")
		}
		results = append(results, scanned{name: name, res: res, err: err})
	}
	var unreadable []error
	for _, r := range results {
		if r.err != nil {
			unreadable = append(unreadable, r.err)
		}
	}
	if len(unreadable) == len(results) {
		// Nothing was read: no report, just the errors.
		for _, err := range unreadable[:len(unreadable)-1] {
			fmt.Fprintf(e.stderr, "totpemu: error: scan: %v\n", err)
		}
		return inputErr(fmt.Errorf("scan: %w", unreadable[len(unreadable)-1]), unreadableHint(unreadable[len(unreadable)-1]))
	}
	err := writeReport(e, f.out, func(w io.Writer) error {
		switch f.format {
		case "json":
			return writeScanJSON(w, results, f)
		case "junit":
			return writeScanJUnit(w, results, f)
		}
		return writeScanText(w, results, f)
	})
	if err != nil {
		return err
	}
	if len(unreadable) > 0 {
		for _, err := range unreadable[:len(unreadable)-1] {
			fmt.Fprintf(e.stderr, "totpemu: error: scan: %v\n", err)
		}
		return inputErr(fmt.Errorf("scan: %w", unreadable[len(unreadable)-1]), unreadableHint(unreadable[len(unreadable)-1]))
	}
	for _, r := range results {
		if failed(r.res.AllFindings(), f.strict) {
			return errSilentFailure
		}
	}
	return nil
}

func unreadableHint(err error) string {
	if errors.Is(err, scanner.ErrTooLarge) {
		if strings.Contains(err.Error(), "SVG") {
			return "the SVG is over a limit (bytes, elements, nesting, pixels or drawing work); give the QR code alone, or render it to PNG"
		}
		return "the input is over the size limit; crop or shrink the image"
	}
	return "give a PNG, JPEG, GIF, WebP or SVG image, a base64 PNG, a data: URL, an HTML page, a JSON API response, a code drawn as terminal text, or otpauth text"
}

// failed reports whether findings make the check fail.
func failed(fs []scanner.Finding, strict bool) bool {
	if strict {
		return scanner.HasWarning(fs)
	}
	return scanner.HasError(fs)
}

// writeRules lists the rule table.
func writeRules(w io.Writer, format string) error {
	rules := scanner.Rules()
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"rules": rules})
	case "junit":
		return fmt.Errorf("scan: --rules prints text or json, not junit")
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSEVERITY\tMEANING")
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, r.Summary)
	}
	return tw.Flush()
}

// secretText is what output shows of a secret.
func secretText(secret []byte, reveal bool) string {
	s := scanner.EncodeSecret(secret)
	if reveal {
		return fmt.Sprintf("%d bits, %s", len(secret)*8, s)
	}
	if len(s) > 4 {
		s = s[:4] + "..."
	}
	return fmt.Sprintf("%d bits, %s", len(secret)*8, s)
}

func payloadText(c *scanner.Code, reveal bool) string {
	if reveal {
		return c.Text()
	}
	return c.TextRedacted
}

// counts tallies findings by severity.
type counts struct{ errors, warnings, infos int }

// String is "1 error, 2 warnings, 0 info".
func (n counts) String() string {
	return fmt.Sprintf("%s, %s, %d info", plural(n.errors, "error"), plural(n.warnings, "warning"), n.infos)
}

// plural is "1 error" or "2 errors".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func (n *counts) add(fs []scanner.Finding) {
	for _, f := range fs {
		switch f.Severity {
		case scanner.SeverityError:
			n.errors++
		case scanner.SeverityWarning:
			n.warnings++
		default:
			n.infos++
		}
	}
}
