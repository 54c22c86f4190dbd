package scanner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInputTestdata scans every file of testdata/inputs and checks the
// result written for it in testdata/inputs/expect.txt.
func TestInputTestdata(t *testing.T) {
	listed := map[string]bool{}
	for _, line := range testdataLines(t, "testdata/inputs/expect.txt") {
		f := strings.Fields(line)
		if len(f) < 3 {
			t.Fatalf("expect.txt: bad line %q", line)
		}
		name, form := f[0], f[1]
		listed[name] = true
		data, err := os.ReadFile(filepath.Join("testdata/inputs", name))
		if err != nil {
			t.Fatal(err)
		}
		res, err := ScanInput(context.Background(), name, data, Options{BaseDir: "testdata/inputs"})
		if form == "error" {
			want := strings.Join(f[2:], " ")
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: result %+v, error %v; want an error containing %q", name, res, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if string(res.Form) != form || string(res.Status) != f[2] {
			t.Errorf("%s: form %s status %s; want %s %s", name, res.Form, res.Status, form, f[2])
		}
		all := res.AllFindings()
		for _, r := range f[3:] {
			if want := !strings.HasPrefix(r, "!"); hasRule(all, strings.TrimPrefix(r, "!")) != want {
				t.Errorf("%s: rule %s fired=%v, want %v; findings %v", name, strings.TrimPrefix(r, "!"), !want, want, all)
			}
		}
	}
	files, _ := filepath.Glob("testdata/inputs/*")
	for _, p := range files {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			continue // a saved page's folder
		}
		if b := filepath.Base(p); b != "expect.txt" && !listed[b] {
			t.Errorf("testdata/inputs/%s has no line in expect.txt", b)
		}
	}
}

// TestReadPath: files are size-checked before reading, "-" is stdin, and
// what is not a regular file is refused.
func TestReadPath(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 2000), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPath(big, nil, 1000); err == nil || !strings.Contains(err.Error(), "2000 bytes") {
		t.Errorf("ReadPath(2000-byte file, cap 1000) error = %v", err)
	}
	if _, err := ReadPath(dir, nil, 1000); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("ReadPath(directory) error = %v", err)
	}
	if _, err := ReadPath(filepath.Join(dir, "missing"), nil, 1000); err == nil {
		t.Error("ReadPath(missing) succeeded")
	}
	// 100 MB (sparse): refused from its size, before reading.
	huge := filepath.Join(dir, "huge.b64")
	if err := os.WriteFile(huge, []byte("iVBORw0KGgo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 100<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPath(huge, nil, 0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadPath(100 MB file) error = %v; want ErrTooLarge", err)
	}
	if b, err := ReadPath("-", strings.NewReader("abc"), 1000); err != nil || string(b) != "abc" {
		t.Errorf("ReadPath(-) = %q, %v", b, err)
	}
	if _, err := ReadPath("-", strings.NewReader(strings.Repeat("x", 1001)), 1000); err == nil || !strings.Contains(err.Error(), "stdin") {
		t.Errorf("ReadPath(-, 1001 bytes, cap 1000) error = %v", err)
	}
}
