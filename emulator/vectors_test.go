package emulator

import (
	"bufio"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"
)

// vector is one line of testdata/rfc6238.txt or testdata/rfc4226.txt.
type vector struct {
	line    int
	alg     Algorithm
	secret  []byte
	unix    int64  // RFC 6238 time (seconds); -1 for HOTP vectors
	counter uint64 // RFC 4226 counter
	period  int
	digits  int
	code    string
}

// readVectors parses a vector file. totp selects the RFC 6238 layout
// (algorithm seed time period digits code) over the RFC 4226 one
// (algorithm secret counter digits code).
func readVectors(t testing.TB, path string, totp bool) []vector {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		want := 5
		if totp {
			want = 6
		}
		if len(fs) != want {
			t.Fatalf("%s:%d: %d fields, want %d", path, n, len(fs), want)
		}
		v := vector{line: n, unix: -1, period: DefaultPeriod}
		if v.alg, err = ParseAlgorithm(fs[0]); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		if v.secret, err = hex.DecodeString(fs[1]); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		rest := fs[2:]
		if totp {
			if v.unix, err = strconv.ParseInt(rest[0], 10, 64); err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			if v.period, err = strconv.Atoi(rest[1]); err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			rest = rest[2:]
		} else {
			if v.counter, err = strconv.ParseUint(rest[0], 10, 64); err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			rest = rest[1:]
		}
		if v.digits, err = strconv.Atoi(rest[0]); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		v.code = rest[1]
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatalf("%s: no vectors", path)
	}
	return vs
}

func rfc6238Vectors(t testing.TB) []vector { return readVectors(t, "testdata/rfc6238.txt", true) }
func rfc4226Vectors(t testing.TB) []vector { return readVectors(t, "testdata/rfc4226.txt", false) }
