package main

import (
	"context"
	"errors"
	"fmt"
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

// syncNTP syncs an NTP clock with opts. On failure it returns a "no time source" error (exit 1).
func syncNTP(ctx context.Context, opts clock.NTPOptions) (*clock.NTP, clock.Evidence, error) {
	n := clock.NewNTP(opts)
	ev, err := n.Sync(ctx)
	if err != nil {
		hint := "check the servers are reachable over UDP port 123, or name others with --ntp"
		if errors.Is(err, context.Canceled) {
			hint = ""
		}
		return nil, ev, failedErr(err, hint)
	}
	return n, ev, nil
}

// parseAt reads --at: Unix seconds (with an optional fraction, e.g. "59" or
// "1111111109.5") or an RFC 3339 time.
func parseAt(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	sec, frac, hasFrac := strings.Cut(v, ".")
	var s int64
	if _, err := fmt.Sscanf(sec, "%d", &s); err != nil || strings.TrimLeft(sec, "-0123456789") != "" || sec == "" || sec == "-" {
		return time.Time{}, usageErr(`give Unix seconds such as 59, or RFC 3339 such as 2026-01-02T15:04:05Z`, "--at: %q is neither Unix seconds nor an RFC 3339 time", v)
	}
	var ns int64
	if hasFrac {
		if frac == "" || len(frac) > 9 || strings.Trim(frac, "0123456789") != "" {
			return time.Time{}, usageErr(`give Unix seconds such as 59 or 59.5`, "--at: %q has a bad fraction of a second", v)
		}
		fmt.Sscanf((frac + "000000000")[:9], "%d", &ns)
		if strings.HasPrefix(sec, "-") {
			ns = -ns
		}
	}
	return time.Unix(s, ns).UTC(), nil
}
