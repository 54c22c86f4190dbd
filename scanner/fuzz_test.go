package scanner

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdataLines returns the non-comment lines of the files matching glob.
func testdataLines(t testing.TB, glob string) []string {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s", glob)
	}
	var lines []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
		fh.Close()
	}
	return lines
}

// TestURITestdata: testdata/uri/valid.txt parse without error findings,
// testdata/uri/invalid.txt each have one.
func TestURITestdata(t *testing.T) {
	for _, l := range testdataLines(t, "testdata/uri/valid.txt") {
		if k, fs := ParseURI(l); k == nil || HasError(fs) {
			t.Errorf("ParseURI(%q) = %v, %v; want a key and no error", l, k, fs)
		}
	}
	for _, l := range testdataLines(t, "testdata/uri/invalid.txt") {
		if _, fs := ParseURI(l); !HasError(fs) {
			t.Errorf("ParseURI(%q) findings %v; want an error", l, fs)
		}
	}
}

// checkKeyInvariants holds for any key ParseURI or ParseMigration returns.
func checkKeyInvariants(t *testing.T, in string, k *Key, fs []Finding) {
	for _, f := range fs {
		if _, ok := ruleSeverity[f.Rule]; !ok || f.Severity != ruleSeverity[f.Rule] || f.Message == "" {
			t.Fatalf("%q: finding %+v not from the rule table", in, f)
		}
	}
	if k == nil {
		return
	}
	if (k.Type != "totp" && k.Type != "hotp") || k.Digits < 6 || k.Digits > 8 || len(k.Secret) == 0 ||
		(k.Algorithm != "SHA1" && k.Algorithm != "SHA256" && k.Algorithm != "SHA512") ||
		(k.Type == "totp" && (k.Period < 1 || k.Period > 300)) {
		t.Fatalf("%q: key out of range: %#v", in, k)
	}
	if len(k.Secret) >= 10 {
		s := EncodeSecret(k.Secret)
		for _, f := range fs {
			if strings.Contains(f.Message+f.Hint, s[:16]) {
				t.Fatalf("%q: finding %v shows the secret", in, f)
			}
		}
	}
}

func FuzzParseURI(f *testing.F) {
	for _, l := range testdataLines(f, "testdata/uri/*.txt") {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		k, fs := ParseURI(uri)
		checkKeyInvariants(t, uri, k, fs)
		if k == nil && !HasError(fs) {
			t.Fatalf("%q: no key and no error finding: %v", uri, fs)
		}
	})
}

func FuzzMigration(f *testing.F) {
	for _, l := range testdataLines(f, "testdata/migration/*.txt") {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		m, fs := ParseMigration(uri)
		checkKeyInvariants(t, uri, nil, fs)
		if m == nil {
			if !HasError(fs) {
				t.Fatalf("%q: refused without an error finding: %v", uri, fs)
			}
			return
		}
		for _, e := range m.Accounts {
			checkKeyInvariants(t, uri, e.Key, e.Findings)
			if e.Key == nil && !HasError(e.Findings) {
				t.Fatalf("%q: account without key and without error: %v", uri, e.Findings)
			}
		}
	})
}

// FuzzDetectInput fuzzes the input forms (data URL, base64, HTML, JSON,
// text); raster bytes are the image decoder's fuzz target.
func FuzzDetectInput(f *testing.F) {
	files, _ := filepath.Glob("testdata/inputs/*")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	for _, l := range testdataLines(f, "testdata/uri/*.txt") {
		f.Add([]byte(l))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := detect("fuzz", data, Options{})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error %q does not name the input", err)
			}
			return
		}
		if len(p.sources) == 0 && p.noCode == "" {
			t.Fatalf("form %s with no sources and no finding saying why", p.form)
		}
		for _, s := range p.sources {
			if s.image != nil && rasterFormat(s.image) == "" {
				t.Fatalf("source %s is not raster", s.name)
			}
		}
	})
}
