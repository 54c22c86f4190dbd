package clock

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/beevik/ntp"
)

// Sync queries every server concurrently and, if a majority agrees,
// applies the median offset. It returns the evidence of this sync whether
// or not it succeeded.
//
// Each reply is checked with Response.Validate and dropped, with the
// reason kept in its Source, for: a Kiss-o'-Death (DENY and RSTR: the
// server is never asked again; RATE: it is not asked for ResyncInterval
// times 2, 4, 8 ... up to 64 after consecutive RATE kisses), stratum 0 or
// 16 and above, leap indicator 3, a root distance above MaxRootDistance,
// and any query error (timeout, an origin timestamp that is not ours, a
// short or malformed packet).
//
// The survivors' median offset is taken, and the sources within Tolerance
// of it must be a strict majority of the survivors (the servers that
// answered validly: a silent server is not a disagreeing one), and the
// survivors at least MinSources. The offset applied is the median of that
// majority; the others are dropped as falsetickers. So one falseticker
// among three cannot move the clock, when two of three disagree there is
// no majority, and one answering server of two is used (Evidence.Valid
// says so).
//
// When no source survives, Sync fails with an error wrapping ErrNoSource
// and naming each server's reason, and the previous offset stays in use;
// with AllowFallback it instead applies a zero offset and returns evidence
// with Fallback set and a nil error. When ctx ends first, Sync returns an
// error wrapping ctx.Err() and changes nothing.
func (n *NTP) Sync(ctx context.Context) (Evidence, error) {
	n.syncMu.Lock()
	defer n.syncMu.Unlock()

	start := n.opts.Base.Now()
	sources := make([]Source, len(n.opts.Servers))
	var ask []int
	n.mu.Lock()
	for i, srv := range n.opts.Servers {
		sources[i].Server = srv
		if code, ok := n.denied[srv]; ok {
			sources[i].Dropped = fmt.Sprintf("kiss-o'-death %s received earlier: not asked again", code)
			continue
		}
		if r := n.rate[srv]; start.Before(r.until) {
			sources[i].Dropped = fmt.Sprintf("kiss-o'-death RATE received earlier: backing off until %s", r.until.Format(time.RFC3339))
			continue
		}
		ask = append(ask, i)
	}
	n.mu.Unlock()

	replies := make([]reply, len(sources))
	var wg sync.WaitGroup
	for _, i := range ask {
		wg.Go(func() { replies[i] = n.query(ctx, n.opts.Servers[i]) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		e := Evidence{SyncedAt: n.opts.Base.Now(), Sources: sources, Error: "sync cancelled"}
		err = fmt.Errorf("ntp sync: %w", err)
		n.mu.Lock()
		n.lastErr = err
		n.mu.Unlock()
		return e, err
	}

	now := n.opts.Base.Now()
	eligible := 0
	var candidates []int
	n.mu.Lock()
	for _, i := range ask {
		kod := n.judge(&sources[i], replies[i], now)
		if !kod {
			eligible++
			if sources[i].Dropped == "" {
				candidates = append(candidates, i)
			}
		}
	}
	n.mu.Unlock()

	offset, failure := n.selectOffset(sources, candidates)
	if failure == "" && len(candidates) < n.opts.MinSources {
		failure = fmt.Sprintf("only %d of %d servers answered validly; %d wanted", len(candidates), eligible, n.opts.MinSources)
		if others := describeDrops(sources); others != "" {
			failure += ": " + others
		}
		for _, i := range candidates {
			sources[i].Used = false
			if sources[i].Dropped == "" {
				sources[i].Dropped = fmt.Sprintf("fewer than %d sources answered validly", n.opts.MinSources)
			}
		}
	}
	e := Evidence{Offset: offset, SyncedAt: now, Sources: sources, Asked: eligible, Valid: len(candidates)}
	if failure != "" {
		e.Offset = 0
	}
	var err error
	if failure != "" {
		err = fmt.Errorf("ntp sync: %w: %s", ErrNoSource, failure)
		e.Error = err.Error()
		if n.opts.AllowFallback {
			e.Fallback = true
			e.Offset = 0
			err = nil
		}
	}
	n.mu.Lock()
	n.lastErr = err
	if err == nil {
		n.applied = e
		n.offset.Store(int64(e.Offset))
		e.Sources = slices.Clone(e.Sources)
	}
	n.mu.Unlock()
	return e, err
}

// reply is the raw outcome of one query.
type reply struct {
	resp *ntp.Response
	err  error
}

// query asks one server, abandoning the query when ctx ends.
func (n *NTP) query(ctx context.Context, server string) reply {
	var stop func() bool
	opts := ntp.QueryOptions{
		Timeout: n.opts.Timeout,
		Dialer: func(_, remote string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "udp", remote)
			if err != nil {
				return nil, err
			}
			stop = context.AfterFunc(ctx, func() { c.Close() })
			return c, nil
		},
	}
	if _, sys := n.opts.Base.(System); !sys {
		// Stamp the query with Base's time so the offset is Base's.
		opts.GetSystemTime = n.opts.Base.Now
	}
	if server == "" {
		return reply{err: errors.New("empty server address")}
	}
	resp, err := ntp.QueryWithOptions(server, opts)
	if stop != nil {
		stop()
	}
	return reply{resp, err}
}

// judge fills src from r and decides whether it may be used, recording
// Kiss-o'-Death effects. It reports whether r was a Kiss-o'-Death. n.mu is
// held.
func (n *NTP) judge(src *Source, r reply, now time.Time) (kod bool) {
	if r.err != nil {
		src.Dropped = n.queryErrReason(r.err)
		return false
	}
	resp := r.resp
	src.Answered = true
	src.Offset = resp.ClockOffset
	src.RTT = resp.RTT
	src.Stratum = resp.Stratum
	src.RootDistance = resp.RootDistance
	src.Leap = uint8(resp.Leap)
	src.RefID = resp.ReferenceString()

	if resp.IsKissOfDeath() {
		code := resp.KissCode
		switch code {
		case "DENY", "RSTR":
			n.denied[src.Server] = code
			src.Dropped = fmt.Sprintf("kiss-o'-death %s: the server refuses us; it will not be asked again", code)
		case "RATE":
			st := n.rate[src.Server]
			st.kisses++
			st.until = now.Add(n.interval << min(st.kisses, 6))
			n.rate[src.Server] = st
			src.Dropped = fmt.Sprintf("kiss-o'-death RATE: asked too often; backing off until %s", st.until.Format(time.RFC3339))
		case "":
			src.Dropped = "stratum 0 (kiss-o'-death without a readable code)"
		default:
			src.Dropped = fmt.Sprintf("kiss-o'-death %s", code)
		}
		return true
	}
	delete(n.rate, src.Server) // a proper answer ends a RATE back-off

	switch {
	case resp.Stratum >= 16:
		src.Dropped = fmt.Sprintf("stratum %d: the server is unsynchronised", resp.Stratum)
	case resp.Leap == ntp.LeapNotInSync:
		src.Dropped = "leap indicator 3: the server's clock is unsynchronised"
	default:
		if err := resp.Validate(); err != nil {
			src.Dropped = validateReason(err, resp)
		} else if resp.RootDistance > n.opts.MaxRootDistance {
			src.Dropped = fmt.Sprintf("root distance %v over the %v bound", resp.RootDistance, n.opts.MaxRootDistance)
		}
	}
	return false
}

func (n *NTP) queryErrReason(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ntp.ErrServerResponseMismatch):
		return "the reply's origin timestamp is not our request's (spoofed or stale reply)"
	case errors.Is(err, ntp.ErrInvalidTime):
		return "malformed reply: shorter than an ntp header (48 bytes)"
	case errors.Is(err, ntp.ErrInvalidMode):
		return "malformed reply: not in server mode"
	case errors.Is(err, ntp.ErrInvalidTransmitTime):
		return "malformed reply: zero transmit time"
	case errors.Is(err, ntp.ErrServerTickedBackwards):
		return "malformed reply: the server's transmit time is before its receive time"
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no reply within %v", n.opts.Timeout)
	case errors.Is(err, net.ErrClosed):
		return "sync cancelled"
	}
	return "query failed: " + err.Error()
}

func validateReason(err error, resp *ntp.Response) string {
	switch {
	case errors.Is(err, ntp.ErrInvalidDispersion):
		return fmt.Sprintf("root delay %v and dispersion %v: over the 16s limit for time transfer", resp.RootDelay, resp.RootDispersion)
	case errors.Is(err, ntp.ErrServerClockFreshness):
		return "the server's reference time is over 36 hours old"
	case errors.Is(err, ntp.ErrInvalidTime):
		return "the server's transmit time is before its reference time"
	}
	return "invalid reply: " + err.Error()
}

// selectOffset takes the median of the candidates and checks that those
// within Tolerance of it are a strict majority of them. It marks each
// candidate used or dropped and returns the offset, or a failure saying
// why none survived.
func (n *NTP) selectOffset(sources []Source, candidates []int) (time.Duration, string) {
	eligible := len(candidates)
	if len(candidates) == 0 {
		if len(sources) == 0 {
			return 0, "no servers"
		}
		return 0, describeDrops(sources)
	}
	offsets := make([]time.Duration, len(candidates))
	for k, i := range candidates {
		offsets[k] = sources[i].Offset
	}
	med := median(offsets)
	var agree []time.Duration
	for _, i := range candidates {
		if d := sources[i].Offset - med; d <= n.opts.Tolerance && d >= -n.opts.Tolerance {
			agree = append(agree, sources[i].Offset)
		}
	}
	if 2*len(agree) <= eligible {
		why := fmt.Sprintf("no majority: %d of %d sources agree within %v of the median offset %v",
			len(agree), eligible, n.opts.Tolerance, med)
		others := describeDrops(sources)
		var offs []string
		for _, i := range candidates {
			offs = append(offs, fmt.Sprintf("%s %v", sources[i].Server, sources[i].Offset))
			sources[i].Dropped = why
		}
		why += " (" + strings.Join(offs, ", ") + ")"
		if others != "" {
			why += "; " + others
		}
		return 0, why
	}
	for _, i := range candidates {
		if d := sources[i].Offset - med; d <= n.opts.Tolerance && d >= -n.opts.Tolerance {
			sources[i].Used = true
		} else {
			sources[i].Dropped = fmt.Sprintf("falseticker: offset %v is %v from the median %v (tolerance %v)",
				sources[i].Offset, d, med, n.opts.Tolerance)
		}
	}
	return median(agree), ""
}

// median returns the middle value (the mean of the middle two for an even
// count) of a non-empty slice, which it sorts.
func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	m := len(d) / 2
	if len(d)%2 == 1 {
		return d[m]
	}
	a, b := d[m-1], d[m]
	return a + (b-a)/2
}

func describeDrops(sources []Source) string {
	var parts []string
	for _, s := range sources {
		if s.Dropped != "" {
			parts = append(parts, s.Server+": "+s.Dropped)
		}
	}
	return strings.Join(parts, "; ")
}
