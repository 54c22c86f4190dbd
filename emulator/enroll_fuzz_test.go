package emulator

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

type enrollCase struct {
	line              int
	kind, verdict, in string
}

func enrollCases(t testing.TB) []enrollCase {
	t.Helper()
	f, err := os.Open("testdata/enroll.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cs []enrollCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.SplitN(line, "\t", 3)
		if len(fs) != 3 {
			t.Fatalf("testdata/enroll.txt:%d: want kind<TAB>verdict<TAB>input", n)
		}
		cs = append(cs, enrollCase{n, fs[0], fs[1], fs[2]})
	}
	return cs
}

func TestEnrollTestdata(t *testing.T) {
	for _, c := range enrollCases(t) {
		var err error
		switch c.kind {
		case "manual":
			_, err = ManualEntry("alice", c.in, "Example")
		case "uri":
			_, err = AccountFromURI(c.in)
		default:
			t.Fatalf("testdata/enroll.txt:%d: unknown kind %q", c.line, c.kind)
		}
		if got := map[bool]string{true: "ok", false: "refuse"}[err == nil]; got != c.verdict {
			t.Errorf("testdata/enroll.txt:%d: %s %q: %s (%v), want %s", c.line, c.kind, c.in, got, err, c.verdict)
		}
	}
}

// secretRuns returns the base32-looking runs of at least 10 characters in
// s: what an error must not repeat.
func secretRuns(s string) []string {
	var runs []string
	start := -1
	for i := 0; i <= len(s); i++ {
		b32 := i < len(s) && (s[i] >= 'A' && s[i] <= 'Z' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= '2' && s[i] <= '7')
		switch {
		case b32 && start < 0:
			start = i
		case !b32 && start >= 0:
			if i-start >= 10 {
				runs = append(runs, s[start:i])
			}
			start = -1
		}
	}
	return runs
}

func FuzzManualEntry(f *testing.F) {
	for _, c := range enrollCases(f) {
		if c.kind == "manual" {
			f.Add(c.in)
		}
	}
	f.Fuzz(func(t *testing.T, key string) {
		a, err := ManualEntry("alice", key, "Example")
		if err != nil {
			for _, r := range secretRuns(key) {
				if strings.Contains(err.Error(), r) {
					t.Fatalf("ManualEntry error %q repeats part of the key %q", err, r)
				}
			}
			return
		}
		if a.Secret().Len() < MinSecretBytes || a.Digits != 6 || a.Period != 30 || len(a.CodeAtStep(1)) != 6 {
			t.Fatalf("ManualEntry(%q) = %v with a %d-byte secret", key, a, a.Secret().Len())
		}
	})
}

func FuzzAccountFromURI(f *testing.F) {
	for _, c := range enrollCases(f) {
		if c.kind == "uri" {
			f.Add(c.in)
		}
	}
	f.Fuzz(func(t *testing.T, uri string) {
		a, err := AccountFromURI(uri)
		if err != nil {
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("AccountFromURI(%q) gave an invalid account: %v", uri, err)
		}
		b, err := AccountFromURI(a.RevealURI())
		if err != nil || b.Label() != a.Label() || b.SecretBase32() != a.SecretBase32() || b.Digits != a.Digits || b.Period != a.Period || b.Algorithm != a.Algorithm {
			t.Fatalf("AccountFromURI(%q) = %v; its URI %q gives %v, %v", uri, a, a.RevealURI(), b, err)
		}
	})
}
