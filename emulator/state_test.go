package emulator

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestStateTestdata(t *testing.T) {
	for file, want := range map[string]string{
		"v1.json":           "Example:alice@example.com,bob",
		"v1-empty.json":     "",
		"v2-newer.json":     "error: version 2 is newer",
		"v1-truncated.json": "error: truncated",
		"v1-duplicate.json": "error: account 2: account \"a\" already exists",
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "state", file))
		if err != nil {
			t.Fatal(err)
		}
		s, err := decodeState(data)
		got := ""
		if err != nil {
			got = "error: " + err.Error()
			if strings.Contains(got, "GEZDGNBV") {
				t.Errorf("decodeState(%s) error %q contains a secret", file, got)
			}
		} else {
			got = strings.Join(labelsOf(s), ",")
		}
		if !strings.HasPrefix(got, want) {
			t.Errorf("decodeState(%s) = %q, want %q", file, got, want)
		}
	}
}

var (
	secretField = regexp.MustCompile(`(?i)"secret"\s*:\s*"([^"]{8,})"`)
	labelField  = regexp.MustCompile(`(?i)"(?:name|issuer)"\s*:\s*"([^"]*)"`)
)

// leakedSecret returns a secret of the state file data that msg quotes,
// or "". Strings that are also names or issuers in the file (which errors
// quote on purpose) do not count.
func leakedSecret(data []byte, msg string) string {
	shown := map[string]bool{}
	for _, m := range labelField.FindAllSubmatch(data, -1) {
		shown[string(m[1])] = true
	}
	for _, m := range secretField.FindAllSubmatch(data, -1) {
		s := string(m[1])
		if !shown[s] && strings.Contains(msg, s) {
			return s
		}
	}
	return ""
}

// TestStateErrorDoesNotQuoteAlgorithm: a regression found by
// FuzzDecodeState: an error quoted the algorithm field, which a
// hand-edited file may fill with the secret.
func TestStateErrorDoesNotQuoteAlgorithm(t *testing.T) {
	_, err := decodeState([]byte(`{"version":1,"accounts":[{"name":"a","algorithm":"GEZDGNBVGY3TQOJQ","digits":6,"period":30,"secret":"GEZDGNBVGY3TQOJQ"}]}`))
	if err == nil || strings.Contains(err.Error(), "GEZDGNBV") {
		t.Errorf("decodeState with the secret in the algorithm field: error %v; want an error without it", err)
	}
}

func labelsOf(s *State) []string {
	var ls []string
	for _, a := range s.Accounts {
		ls = append(ls, a.Label())
	}
	return ls
}

// FuzzDecodeState: any bytes either decode to valid accounts that survive
// a round trip, or are refused with an error that quotes no secret; never
// a panic.
func FuzzDecodeState(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "state", "*.json"))
	if len(files) == 0 {
		f.Fatal("no seeds in testdata/state")
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeState(data)
		if err != nil {
			if leak := leakedSecret(data, err.Error()); leak != "" {
				t.Fatalf("decodeState error %q contains the secret %q", err, leak)
			}
			return
		}
		enc, err := encodeState(s)
		if err != nil {
			t.Fatalf("encodeState of a decoded state: %v", err)
		}
		s2, err := decodeState(enc)
		if err != nil {
			t.Fatalf("decodeState of a re-encoded state: %v", err)
		}
		if len(s2.Accounts) != len(s.Accounts) {
			t.Fatalf("round trip: %d accounts, then %d", len(s.Accounts), len(s2.Accounts))
		}
		for i, a := range s.Accounts {
			b := s2.Accounts[i]
			if a.Label() != b.Label() || a.SecretBase32() != b.SecretBase32() || a.CodeAtStep(1) != b.CodeAtStep(1) {
				t.Fatalf("round trip changed account %d: %v -> %v", i, a, b)
			}
		}
	})
}
