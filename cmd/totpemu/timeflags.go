package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/totpemu/totpemu/clock"
)

// splitServers turns "a,b c" into its server names, refusing empty ones.
func splitServers(flag, v string) ([]string, error) {
	out := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	if len(out) == 0 {
		return nil, usageErr("give SERVER[,SERVER], e.g. --ntp 0.pool.ntp.org,1.pool.ntp.org", "%s: no server named in %q", flag, v)
	}
	return out, nil
}

// syncNTP syncs an NTP clock with opts. On failure it returns a "no time
// source" error (exit 1); when some servers did not answer validly it
// warns on stderr.
func syncNTP(ctx context.Context, e *env, opts clock.NTPOptions) (*clock.NTP, clock.Evidence, error) {
	n := clock.NewNTP(opts)
	ev, err := n.Sync(ctx)
	if err != nil {
		hint := "check the servers are reachable over " + udpPorts(ev.Sources) + ", or name others with --ntp"
		if errors.Is(err, context.Canceled) {
			hint = ""
		}
		return nil, ev, failedErr(err, hint)
	}
	if ev.Valid < ev.Asked {
		var used []string
		for _, s := range ev.Sources {
			if s.Used {
				used = append(used, s.Server)
			}
		}
		fmt.Fprintf(e.stderr, "totpemu: warning: only %d of %d NTP servers answered validly; the time rests on %s\n",
			ev.Valid, ev.Asked, strings.Join(used, ", "))
	}
	return n, ev, nil
}

// udpPorts names the UDP ports of the servers that were not used, as the
// hint for an unreachable time source says them: "UDP port 123", or each
// server's port when they differ.
func udpPorts(sources []clock.Source) string {
	ports := map[string]bool{}
	var list []string
	for _, s := range sources {
		if s.Used {
			continue
		}
		port := "123"
		if _, p, err := net.SplitHostPort(s.Server); err == nil {
			port = p
		}
		if !ports[port] {
			ports[port] = true
			list = append(list, port)
		}
	}
	switch len(list) {
	case 0:
		return "UDP"
	case 1:
		return "UDP port " + list[0]
	}
	return "UDP ports " + strings.Join(list, ", ")
}

// timeHint lists the forms parseTime accepts.
const timeHint = `give Unix seconds (59, 1111111109.5), RFC 3339 (2026-01-02T15:04:05Z), a date (2026-01-02, midnight UTC), now, or now+30s / now-90s`

// Times a flag may name: years 1 to 9999, the range RFC 3339 and JSON can
// write.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// parseTime reads the value of a time flag (--at, --since), exactly: Unix
// seconds with an optional fraction ("59", "1111111109.5", "-1.25"), an
// RFC 3339 time, a date YYYY-MM-DD (midnight UTC), "now", or "now+D" /
// "now-D" with D a Go duration ("now+30s", "now - 1m30s"); now is read from
// clk. Anything else, and any time outside years 1 to 9999, is a usage
// error naming flag and v.
func parseTime(flag, v string, clk clock.Clock) (time.Time, error) {
	t, err := parseTimeValue(v, clk)
	if err == nil && (t.Before(minTime) || t.After(maxTime)) {
		err = errOutOfRange
	}
	if errors.Is(err, errOutOfRange) {
		return time.Time{}, usageErr("give a time between years 1 and 9999", "%s: %q %v", flag, v, err)
	}
	if err != nil {
		return time.Time{}, usageErr(timeHint, "%s: %q %v", flag, v, err)
	}
	return t, nil
}

var errOutOfRange = errors.New("is outside years 1 to 9999")

func parseTimeValue(v string, clk clock.Clock) (time.Time, error) {
	s := strings.TrimSpace(v)
	if s == "" {
		return time.Time{}, errors.New("is empty")
	}
	if rest, ok := strings.CutPrefix(s, "now"); ok {
		now := clk.Now().UTC()
		rest = strings.TrimSpace(rest)
		if rest == "" {
			return now, nil
		}
		sign := rest[0]
		if sign != '+' && sign != '-' {
			return time.Time{}, errors.New("is not now, now+DURATION or now-DURATION")
		}
		d, err := time.ParseDuration(strings.TrimSpace(rest[1:]))
		if err != nil || strings.HasPrefix(strings.TrimSpace(rest[1:]), "-") || strings.HasPrefix(strings.TrimSpace(rest[1:]), "+") {
			return time.Time{}, errors.New("has no duration such as 30s or 1m30s after its sign")
		}
		if sign == '-' {
			d = -d
		}
		return now.Add(d), nil
	}
	if len(s) >= len("2006-01-02") && s[4] == '-' && s[7] == '-' {
		if len(s) == len("2006-01-02") {
			t, err := time.Parse(time.DateOnly, s)
			if err != nil {
				return time.Time{}, errors.New("is not a valid date YYYY-MM-DD")
			}
			return t, nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, errors.New("is not a valid RFC 3339 time such as 2026-01-02T15:04:05Z")
		}
		return t, nil
	}
	return parseUnix(s)
}

// parseUnix reads Unix seconds: an optional sign, digits, and an optional
// fraction of up to 9 digits.
func parseUnix(s string) (time.Time, error) {
	bad := errors.New("is not Unix seconds, RFC 3339, a date, or now[+-DURATION]")
	sec, frac, hasFrac := strings.Cut(s, ".")
	neg := strings.HasPrefix(sec, "-")
	digits := strings.TrimPrefix(strings.TrimPrefix(sec, "-"), "+")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return time.Time{}, bad
	}
	if len(digits) > 12 { // beyond year 9999 whatever follows
		return time.Time{}, errOutOfRange
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return time.Time{}, bad
	}
	var ns int64
	if hasFrac {
		if frac == "" || len(frac) > 9 || strings.Trim(frac, "0123456789") != "" {
			return time.Time{}, errors.New("has a bad fraction of a second (give up to 9 digits, e.g. 59.5)")
		}
		ns, _ = strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	}
	if neg {
		n, ns = -n, -ns
	}
	return time.Unix(n, ns).UTC(), nil
}
