package main

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/totpemu/totpemu/clock"
)

var parseNow = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func TestParseTime(t *testing.T) {
	clk := clock.NewManual(parseNow)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"59", time.Unix(59, 0)},
		{"+59", time.Unix(59, 0)},
		{"1111111109.5", time.Unix(1111111109, 5e8)},
		{"29.999", time.Unix(29, 999e6)},
		{"-1.25", time.Unix(-1, -25e7)},
		{"0", time.Unix(0, 0)},
		{"2026-01-02", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"2026-01-02T15:04:05Z", time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)},
		{"2026-01-02T15:04:05.5+02:00", time.Date(2026, 1, 2, 13, 4, 5, 5e8, time.UTC)},
		{"9999-12-31T23:59:59Z", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"now", parseNow},
		{"now+30s", parseNow.Add(30 * time.Second)},
		{"now-90s", parseNow.Add(-90 * time.Second)},
		{"now - 1m30s", parseNow.Add(-90 * time.Second)},
		{" now+2h ", parseNow.Add(2 * time.Hour)},
	} {
		got, err := parseTime("--at", tc.in, clk)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseTimeRefused(t *testing.T) {
	clk := clock.NewManual(parseNow)
	for _, tc := range []struct{ in, msg string }{
		{"", "is empty"},
		{"yesterday", "is not Unix seconds"},
		{"59-12", "is not Unix seconds"},
		{"2026-01-02x", "not a valid RFC 3339"},
		{"2026-02-30", "not a valid date"},
		{"2026-1-2", "is not Unix seconds"},
		{"2026-01-02 15:04:05", "not a valid RFC 3339"},
		{"9223372036854775807", "outside years 1 to 9999"},
		{"253402300800", "outside years 1 to 9999"},
		{"10000-01-01T00:00:00Z", "is not Unix seconds"},
		{"0000-01-01T00:00:00Z", "outside years 1 to 9999"},
		{"now+", "no duration"},
		{"now+x", "no duration"},
		{"now+-5s", "no duration"},
		{"nowx", "is not now"},
		{"1.", "bad fraction"},
		{".5", "is not Unix seconds"},
		{"1.1234567890", "bad fraction"},
		{"1e9", "is not Unix seconds"},
		{"0x10", "is not Unix seconds"},
	} {
		_, err := parseTime("--since", tc.in, clk)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitUsage {
			t.Errorf("parseTime(%q): %v; want a usage error", tc.in, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), `--since: "`) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("parseTime(%q): %q; want it to name --since and say %q", tc.in, err, tc.msg)
		}
	}
}

// TestParseTimeDateNotUnixSeconds is the regression test for --at
// 2026-01-02 read as 2026 Unix seconds (the digits before the "-").
func TestParseTimeDateNotUnixSeconds(t *testing.T) {
	got, err := parseTime("--at", "2026-01-02", clock.NewManual(parseNow))
	if err != nil || got.Year() != 2026 {
		t.Fatalf("parseTime(2026-01-02) = %v, %v; want 2026-01-02T00:00:00Z", got, err)
	}
}

// FuzzParseTime: never panics; a time returned is within years 1..9999
// and marshals to JSON.
func FuzzParseTime(f *testing.F) {
	fh, err := os.Open("testdata/times.txt")
	if err != nil {
		f.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if line := sc.Text(); !strings.HasPrefix(line, "#") {
			f.Add(line)
		}
	}
	clk := clock.NewManual(parseNow)
	f.Fuzz(func(t *testing.T, v string) {
		got, err := parseTime("--at", v, clk)
		if err != nil {
			return
		}
		if got.Before(minTime) || got.After(maxTime) {
			t.Fatalf("parseTime(%q) = %v, outside years 1..9999", v, got)
		}
		if _, err := got.MarshalJSON(); err != nil {
			t.Fatalf("parseTime(%q) = %v: %v", v, got, err)
		}
	})
}
