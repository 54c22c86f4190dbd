package target

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{"./verify --user alice", []string{"./verify", "--user", "alice"}, ""},
		{`sh -c 'echo "$X" | tr a b'`, []string{"sh", "-c", `echo "$X" | tr a b`}, ""},
		{`a\ b "c \"d\" \$e" 'f g'`, []string{"a b", `c "d" $e`, "f g"}, ""},
		{`"" ''`, []string{"", ""}, ""},
		{`x"y z"w`, []string{"xy zw"}, ""},
		{"  \t ", nil, "empty"},
		{`unterminated "quote`, nil, "unterminated"},
		{`it's`, nil, "unterminated"},
		{`trailing\`, nil, "trailing backslash"},
	}
	for _, tt := range tests {
		got, err := SplitCommand(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("SplitCommand(%q) = %q, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzSplitCommand(f *testing.F) {
	file, err := os.Open("testdata/commands.txt")
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		f.Add(sc.Text())
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := SplitCommand(s)
		if err != nil {
			return
		}
		if len(args) == 0 {
			t.Fatalf("%q: no error and no argument", s)
		}
		// Words without quotes or escapes split at blanks (space, tab,
		// newline: a shell's IFS), as strings.FieldsFunc does.
		blank := func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' }
		if want := strings.FieldsFunc(s, blank); !strings.ContainsAny(s, `'"\`) && !slices.Equal(args, want) {
			t.Fatalf("%q: %q, want %q", s, args, want)
		}
		// JoinCommand reads back into the same words.
		if back, err := SplitCommand(JoinCommand(args)); err != nil || !slices.Equal(back, args) {
			t.Fatalf("%q: JoinCommand(%q) = %q splits into %q, %v", s, args, JoinCommand(args), back, err)
		}
	})
}

// TestJoinCommand is the regression test for the report's target line
// dropping --target-cmd's quoting ("command sh -c exit 1 x"): the line
// reads back into the same words.
func TestJoinCommand(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"./verify", "--user", "alice@example.com"}, "./verify --user alice@example.com"},
		{[]string{"sh", "-c", "exit 1", "x"}, "sh -c 'exit 1' x"},
		{[]string{"sh", "-c", `echo "$X" it's`}, `sh -c 'echo "$X" it'\''s'`},
		{[]string{""}, "''"},
	} {
		got := JoinCommand(tc.argv)
		back, err := SplitCommand(got)
		if got != tc.want || err != nil || !slices.Equal(back, tc.argv) {
			t.Errorf("JoinCommand(%q) = %q (splits into %q, %v); want %q", tc.argv, got, back, err, tc.want)
		}
	}
}

func TestLookup(t *testing.T) {
	doc := decodeJSON([]byte(`{"VirtualMFADevice": {"Base32StringSeed": "ABC", "SerialNumber": "acs:ram::1:mfa/x"},
		"items": [{"uri": "otpauth://x"}, {"n": 12345678901234567890}], "ok": true, "nil": null}`))
	for _, tc := range []struct {
		path, want string
		found      bool
	}{
		{"VirtualMFADevice.Base32StringSeed", "ABC", true},
		{"VirtualMFADevice.SerialNumber", "acs:ram::1:mfa/x", true},
		{"items[0].uri", "otpauth://x", true},
		{"items[1].n", "12345678901234567890", true},
		{"ok", "true", true},
		{"nil", "null", true},
		{"items[2].uri", "", false},
		{"items[-1]", "", false},
		{"items", "", false}, // not a scalar
		{"VirtualMFADevice.Missing", "", false},
		{"ok.deeper", "", false},
		{"items[0", "", false},
	} {
		got, found := lookup(doc, tc.path)
		if got != tc.want || found != tc.found {
			t.Errorf("lookup(%q) = %q, %v; want %q, %v", tc.path, got, found, tc.want, tc.found)
		}
	}
	if _, found := lookup(nil, "a"); found {
		t.Error("lookup in a non-JSON answer found something")
	}
}

func TestRetryAfter(t *testing.T) {
	date := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		value string
		want  time.Duration
	}{
		{"120", 120 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"", 0},
		{date.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{date.Add(-90 * time.Second).Format(http.TimeFormat), 0},
	} {
		h := http.Header{}
		h.Set("Date", date.Format(http.TimeFormat))
		if tc.value != "" {
			h.Set("Retry-After", tc.value)
		}
		if got := retryAfter(h); got != tc.want {
			t.Errorf("Retry-After %q: %v, want %v", tc.value, got, tc.want)
		}
	}
}

func TestFillEscapes(t *testing.T) {
	vars := map[string]string{"code": " 123\n456\"", "serial": "a/b c"}
	got, err := fill(`{"code": "{{code}}"}`, vars, jsonEscape)
	if err != nil || got != `{"code": " 123\n456\""}` {
		t.Errorf("json body: %q %v", got, err)
	}
	got, err = fill("/devices/{{serial}}/verify", vars, escapePath)
	if err != nil || got != "/devices/a%2Fb%20c/verify" {
		t.Errorf("path: %q %v", got, err)
	}
	if _, err := fill("{{missing}}", vars, jsonEscape); err == nil || !strings.Contains(err.Error(), "{{missing}}") {
		t.Errorf("missing variable: %v", err)
	}
}

func FuzzLoadTargetConfig(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/config/*.yaml")
	seeds = append(seeds, "../examples/refserver.yaml")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	env := func(k string) string {
		if k == "REFSERVER_URL" {
			return "http://127.0.0.1:8080"
		}
		return ""
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := LoadTargetConfig("fuzz", strings.NewReader(s), env)
		if err != nil {
			return
		}
		if _, err := NewHTTPTarget(c, nil); err != nil && !strings.Contains(err.Error(), "timeout") {
			t.Fatalf("a config that loads makes no target: %v", err)
		}
	})
}

func TestConfigSeedsLoad(t *testing.T) {
	seeds, _ := filepath.Glob("testdata/config/*.yaml")
	for _, s := range seeds {
		if _, err := LoadTargetConfigFile(s, func(string) string { return "" }); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}
