package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/totpemu/totpemu/scanner"
)

// The three report formats of "totpemu scan": text for people, JSON for
// scripts, JUnit XML for CI systems.

func writeScanText(w io.Writer, results []scanned, f scanFlags) error {
	var total counts
	codes := 0
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(w, "%s: unreadable: %v\n\n", r.name, r.err)
			continue
		}
		res := r.res
		// The summary line carries the verdict; the decode status only
		// when it is not ok.
		var n counts
		n.add(res.AllFindings())
		total.add(res.AllFindings())
		what := string(res.Form)
		if res.Status != scanner.StatusOK {
			what += ", " + string(res.Status)
		}
		fmt.Fprintf(w, "%s: %s (%s): %s, %d code(s)\n", res.Name, verdict(res.AllFindings(), f.strict), n, what, len(res.Codes))
		writeFindingsText(w, "  ", res.Findings)
		for i := range res.Codes {
			c := &res.Codes[i]
			codes++
			fmt.Fprintf(w, "  code %d (%s): %s %s\n", i+1, c.Source, c.Kind, payloadText(c, f.reveal))
			if c.QR != nil {
				q := c.QR
				fmt.Fprintf(w, "    qr: version %d, EC %s, %.2f px/module, quiet zone %.1f modules, at %v, found by %s\n",
					q.Version, q.ECLevel, q.ModulePx, q.QuietZoneModules, q.Bounds, q.Strategy)
			}
			if c.Key != nil {
				fmt.Fprintf(w, "    key: %s\n", keyText(c.Key, f.reveal))
			}
			writeFindingsText(w, "    ", c.Findings)
			if m := c.Migration; m != nil {
				fmt.Fprintf(w, "    export: version %d, batch %d of %d, %d account(s)\n", m.Version, m.BatchIndex+1, max(m.BatchSize, 1), len(m.Accounts))
				for j, a := range m.Accounts {
					if a.Key != nil {
						fmt.Fprintf(w, "    account %d: %s\n", j+1, keyText(a.Key, f.reveal))
					} else {
						fmt.Fprintf(w, "    account %d: unusable\n", j+1)
					}
					writeFindingsText(w, "      ", a.Findings)
				}
			}
		}
		for _, m := range res.Margins {
			fmt.Fprintf(w, "  margin (%s, %.2f px/module, seed %d): %s\n", m.Source, m.ModulePx, m.Seed, m.Summary)
		}
		fmt.Fprintln(w)
	}
	all := "ok"
	for _, r := range results {
		if r.err != nil || failed(r.res.AllFindings(), f.strict) {
			all = "FAIL"
		}
	}
	_, err := fmt.Fprintf(w, "%d input(s), %d code(s): %s (%s)\n", len(results), codes, all, total)
	return err
}

// verdict is "ok" or "FAIL" for an input's findings.
func verdict(fs []scanner.Finding, strict bool) string {
	if failed(fs, strict) {
		return "FAIL"
	}
	return "ok"
}

func keyText(k *scanner.Key, reveal bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s issuer %q account %q, %s, %d digits", k.Type, k.Issuer, k.Account, k.Algorithm, k.Digits)
	if k.Type == "totp" {
		fmt.Fprintf(&b, ", %d s", k.Period)
	} else if k.HasCounter {
		fmt.Fprintf(&b, ", counter %d", k.Counter)
	}
	fmt.Fprintf(&b, ", secret %s", secretText(k.Secret, reveal))
	return b.String()
}

func writeFindingsText(w io.Writer, indent string, fs []scanner.Finding) {
	for _, f := range fs {
		fmt.Fprintf(w, "%s%s %s: %s\n", indent, f.Severity, f.Rule, f.Message)
		if f.Hint != "" {
			fmt.Fprintf(w, "%s  hint: %s\n", indent, f.Hint)
		}
	}
}

// JSON report.

type jsonReport struct {
	Inputs  []jsonInput `json:"inputs"`
	Summary jsonSummary `json:"summary"`
}

type jsonSummary struct {
	Inputs   int  `json:"inputs"`
	Codes    int  `json:"codes"`
	Errors   int  `json:"errors"`
	Warnings int  `json:"warnings"`
	Infos    int  `json:"infos"`
	Strict   bool `json:"strict"`
	Failed   bool `json:"failed"`
}

type jsonInput struct {
	Name     string                `json:"name"`
	Error    string                `json:"error,omitempty"`
	Form     scanner.Form          `json:"form,omitempty"`
	Status   scanner.Status        `json:"status,omitempty"`
	HasSeed  bool                  `json:"has_seed,omitempty"`
	Findings []scanner.Finding     `json:"findings"`
	Codes    []jsonCode            `json:"codes"`
	Margins  []scanner.ImageMargin `json:"margins,omitempty"`
}

type jsonCode struct {
	Source       string           `json:"source"`
	Kind         scanner.Kind     `json:"kind"`
	TextRedacted string           `json:"text_redacted"`
	Text         string           `json:"text,omitempty"` // --reveal only
	Key          *jsonKey         `json:"key,omitempty"`
	QR           *scanner.QRFacts `json:"qr,omitempty"`
	Export       *jsonExport      `json:"export,omitempty"`
	// Findings is everything about the code, an export's accounts included
	// (export.accounts[].findings has them per account).
	Findings []scanner.Finding `json:"findings"`
}

type jsonKey struct {
	Type       string `json:"type"`
	Issuer     string `json:"issuer"`
	Account    string `json:"account"`
	Algorithm  string `json:"algorithm"`
	Digits     int    `json:"digits"`
	Period     int    `json:"period,omitempty"`
	Counter    uint64 `json:"counter,omitempty"`
	SecretBits int    `json:"secret_bits"`
	Secret     string `json:"secret,omitempty"` // --reveal only
}

type jsonExport struct {
	Version    int           `json:"version"`
	BatchSize  int           `json:"batch_size"`
	BatchIndex int           `json:"batch_index"`
	Accounts   []jsonAccount `json:"accounts"`
}

type jsonAccount struct {
	Key      *jsonKey          `json:"key,omitempty"`
	Findings []scanner.Finding `json:"findings"`
}

func keyJSON(k *scanner.Key, reveal bool) *jsonKey {
	if k == nil {
		return nil
	}
	j := &jsonKey{Type: k.Type, Issuer: k.Issuer, Account: k.Account, Algorithm: k.Algorithm, Digits: k.Digits,
		Period: k.Period, Counter: k.Counter, SecretBits: k.SecretBits()}
	if reveal {
		j.Secret = scanner.EncodeSecret(k.Secret)
	}
	return j
}

func nonNil(fs []scanner.Finding) []scanner.Finding {
	if fs == nil {
		return []scanner.Finding{}
	}
	return fs
}

func writeScanJSON(w io.Writer, results []scanned, f scanFlags) error {
	rep := jsonReport{Inputs: []jsonInput{}, Summary: jsonSummary{Inputs: len(results), Strict: f.strict}}
	var total counts
	for _, r := range results {
		in := jsonInput{Name: r.name, Findings: []scanner.Finding{}, Codes: []jsonCode{}}
		if r.err != nil {
			in.Error = r.err.Error()
			rep.Inputs = append(rep.Inputs, in)
			rep.Summary.Failed = true
			continue
		}
		res := r.res
		in.Form, in.Status, in.HasSeed, in.Findings, in.Margins = res.Form, res.Status, res.HasSeed, nonNil(res.Findings), res.Margins
		for i := range res.Codes {
			c := &res.Codes[i]
			jc := jsonCode{Source: c.Source, Kind: c.Kind, TextRedacted: c.TextRedacted, Key: keyJSON(c.Key, f.reveal),
				QR: c.QR, Findings: nonNil(c.AllFindings())}
			if f.reveal {
				jc.Text = c.Text()
			}
			if m := c.Migration; m != nil {
				ex := &jsonExport{Version: m.Version, BatchSize: m.BatchSize, BatchIndex: m.BatchIndex, Accounts: []jsonAccount{}}
				for _, a := range m.Accounts {
					ex.Accounts = append(ex.Accounts, jsonAccount{Key: keyJSON(a.Key, f.reveal), Findings: nonNil(a.Findings)})
				}
				jc.Export = ex
			}
			in.Codes = append(in.Codes, jc)
		}
		rep.Summary.Codes += len(res.Codes)
		total.add(res.AllFindings())
		if failed(res.AllFindings(), f.strict) {
			rep.Summary.Failed = true
		}
		rep.Inputs = append(rep.Inputs, in)
	}
	rep.Summary.Errors, rep.Summary.Warnings, rep.Summary.Infos = total.errors, total.warnings, total.infos
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// JUnit XML report: a test suite per input, a test case per code (or one
// for the input itself when it holds no code or cannot be read), a failure
// per error finding (and per warning with --strict).

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string         `xml:"name,attr"`
	ClassName string         `xml:"classname,attr"`
	Failures  []junitFailure `xml:"failure"`
	Error     *junitFailure  `xml:"error"`
	SystemOut string         `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func junitCaseOf(name, class string, fs []scanner.Finding, strict bool) junitCase {
	jc := junitCase{Name: name, ClassName: class}
	var out strings.Builder
	for _, f := range fs {
		line := fmt.Sprintf("%s %s: %s", f.Severity, f.Rule, f.Message)
		if f.Hint != "" {
			line += "\nhint: " + f.Hint
		}
		if f.Severity == scanner.SeverityError || strict && f.Severity == scanner.SeverityWarning {
			jc.Failures = append(jc.Failures, junitFailure{Message: f.Rule + ": " + f.Message, Type: f.Rule, Text: line})
		} else {
			out.WriteString(line + "\n")
		}
	}
	jc.SystemOut = out.String()
	return jc
}

func writeScanJUnit(w io.Writer, results []scanned, f scanFlags) error {
	all := junitSuites{Name: "totpemu scan"}
	for _, r := range results {
		s := junitSuite{Name: r.name}
		class := "totpemu.scan." + r.name
		if r.err != nil {
			s.Cases = append(s.Cases, junitCase{Name: "read input", ClassName: class,
				Error: &junitFailure{Message: r.err.Error(), Type: "unreadable", Text: r.err.Error()}})
		} else {
			res := r.res
			if len(res.Codes) == 0 || len(res.Findings) > 0 {
				s.Cases = append(s.Cases, junitCaseOf(fmt.Sprintf("input (%s, %s)", res.Form, res.Status), class, res.Findings, f.strict))
			}
			for i := range res.Codes {
				c := &res.Codes[i]
				name := fmt.Sprintf("code %d: %s", i+1, c.TextRedacted)
				s.Cases = append(s.Cases, junitCaseOf(name, class, c.AllFindings(), f.strict))
			}
		}
		for _, c := range s.Cases {
			s.Tests++
			if len(c.Failures) > 0 {
				s.Failures++
			}
			if c.Error != nil {
				s.Errors++
			}
		}
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Errors += s.Errors
		all.Suites = append(all.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
