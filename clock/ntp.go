package clock

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoSource is wrapped in the error of a Sync after which no NTP source
// survived: none answered validly, or no majority agreed. The error text
// names each server and why it was dropped.
var ErrNoSource = errors.New("no ntp source survived")

// Defaults of NTPOptions.
const (
	DefaultNTPTimeout         = 2 * time.Second
	DefaultNTPMaxRootDistance = time.Second
	DefaultNTPTolerance       = 100 * time.Millisecond
	DefaultNTPResyncInterval  = 15 * time.Minute
)

// DefaultNTPServers returns the servers used when NTPOptions.Servers is
// empty: the four NTP pool zones.
func DefaultNTPServers() []string {
	return []string{"0.pool.ntp.org", "1.pool.ntp.org", "2.pool.ntp.org", "3.pool.ntp.org"}
}

// NTPOptions configures an NTP clock. The zero value works: every field
// documents its default.
type NTPOptions struct {
	// Servers are queried concurrently, each as "host" (port 123) or
	// "host:port" ("[v6addr]:port" for IPv6). Duplicates are queried once.
	// Empty means DefaultNTPServers.
	Servers []string

	// Timeout bounds each query. Zero or negative means
	// DefaultNTPTimeout (2 s).
	Timeout time.Duration

	// MaxRootDistance drops sources whose root distance (half of RTT plus
	// root delay, plus root dispersion) is above it. Zero or negative
	// means DefaultNTPMaxRootDistance (1 s).
	MaxRootDistance time.Duration

	// Tolerance is how close to the median offset a source must lie to
	// count toward the majority; sources further away are falsetickers.
	// Zero or negative means DefaultNTPTolerance (100 ms): servers of the
	// pool agree within a few milliseconds, and a TOTP step is 30 s.
	Tolerance time.Duration

	// MinSources is the fewest valid answers a sync needs; a silent or
	// invalid server does not count against the majority, so with fewer
	// answering a sync still succeeds on those that did, unless they are
	// fewer than this. Zero or negative means 1.
	MinSources int

	// ResyncInterval is how often Run syncs again; it is also the unit of
	// the back-off after a RATE kiss. Zero means DefaultNTPResyncInterval
	// (15 min); negative disables Run (it returns at once) and RATE backs
	// off in units of the default.
	ResyncInterval time.Duration

	// AllowFallback makes a Sync after which no source survives succeed
	// with a zero offset (the Base clock as is) and Evidence.Fallback set,
	// instead of failing. The default is to fail.
	AllowFallback bool

	// Base is the local clock the offset corrects; its time stamps the
	// queries, so the offset is that of Base against the servers (a Base
	// that is 40 s fast gets an offset of -40 s). If Base is also a
	// Waiter, Run waits on it. Nil means System.
	Base Clock
}

// Evidence records one sync: the offset it produced and every source
// asked, used or dropped.
type Evidence struct {
	// Offset is added to Base's time: the median offset of the agreeing
	// sources, or zero for a fallback.
	Offset time.Duration `json:"offset_ns"`
	// SyncedAt is Base's time when the sync finished.
	SyncedAt time.Time `json:"synced_at"`
	// Fallback is true when no source survived and AllowFallback let
	// Base's time stand uncorrected.
	Fallback bool `json:"fallback"`
	// Error says why the sync failed (a failed or fallback sync), else "".
	Error string `json:"error,omitempty"`
	// Sources lists every configured server in order.
	Sources []Source `json:"sources"`
	// Asked is how many servers were queried in this sync (those not
	// barred by an earlier Kiss-o'-Death); Valid how many of them answered
	// validly (the majority is of these). Valid < Asked deserves a warning.
	Asked int `json:"asked"`
	Valid int `json:"valid"`
}

// Source is what one server answered in a sync.
type Source struct {
	Server       string        `json:"server"`
	Offset       time.Duration `json:"offset_ns"` // the server's time minus Base's (ClockOffset)
	RTT          time.Duration `json:"rtt_ns"`
	Stratum      uint8         `json:"stratum"`
	RootDistance time.Duration `json:"root_distance_ns"`
	Leap         uint8         `json:"leap"`
	RefID        string        `json:"refid,omitempty"`   // the kiss code for a Kiss-o'-Death
	Answered     bool          `json:"answered"`          // a reply was received and parsed
	Used         bool          `json:"used"`              // counted in the offset
	Dropped      string        `json:"dropped,omitempty"` // why not used; "" when used
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// MarshalJSON adds offset_ms to the nanosecond fields.
func (e Evidence) MarshalJSON() ([]byte, error) {
	type plain Evidence
	return json.Marshal(struct {
		plain
		OffsetMS float64 `json:"offset_ms"`
	}{plain(e), ms(e.Offset)})
}

// MarshalJSON adds millisecond twins of the duration fields.
func (s Source) MarshalJSON() ([]byte, error) {
	type plain Source
	return json.Marshal(struct {
		plain
		OffsetMS       float64 `json:"offset_ms"`
		RTTMS          float64 `json:"rtt_ms"`
		RootDistanceMS float64 `json:"root_distance_ms"`
	}{plain(s), ms(s.Offset), ms(s.RTT), ms(s.RootDistance)})
}

// NTP is a Clock corrected over NTP: Now is Base's time plus the offset of
// the last successful Sync (zero before one). It never uses a server's
// transmit time (Response.Time) directly. It is safe for concurrent use.
type NTP struct {
	opts     NTPOptions // normalised
	interval time.Duration
	offset   atomic.Int64

	syncMu sync.Mutex // one Sync at a time

	mu      sync.Mutex
	applied Evidence
	lastErr error
	denied  map[string]string    // server -> DENY or RSTR: never asked again
	rate    map[string]rateState // server -> RATE back-off
}

type rateState struct {
	kisses int       // consecutive RATE replies
	until  time.Time // Base time before which the server is not asked
}

// NewNTP returns an NTP clock with the options' defaults filled in. It
// does not query anything until Sync.
func NewNTP(opts NTPOptions) *NTP {
	if opts.Base == nil {
		opts.Base = System{}
	}
	servers := opts.Servers
	if len(servers) == 0 {
		servers = DefaultNTPServers()
	}
	seen := make(map[string]bool)
	opts.Servers = nil
	for _, s := range servers {
		if !seen[s] {
			seen[s] = true
			opts.Servers = append(opts.Servers, s)
		}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultNTPTimeout
	}
	if opts.MaxRootDistance <= 0 {
		opts.MaxRootDistance = DefaultNTPMaxRootDistance
	}
	if opts.Tolerance <= 0 {
		opts.Tolerance = DefaultNTPTolerance
	}
	if opts.MinSources <= 0 {
		opts.MinSources = 1
	}
	interval := opts.ResyncInterval
	if interval == 0 {
		opts.ResyncInterval = DefaultNTPResyncInterval
		interval = DefaultNTPResyncInterval
	}
	if interval < 0 {
		interval = DefaultNTPResyncInterval
	}
	return &NTP{
		opts:     opts,
		interval: interval,
		denied:   make(map[string]string),
		rate:     make(map[string]rateState),
	}
}

// Now returns Base's time plus the current offset.
func (n *NTP) Now() time.Time {
	return n.opts.Base.Now().Add(time.Duration(n.offset.Load()))
}

// Evidence returns the evidence behind the offset in use: the last
// successful (or fallback) Sync, or the zero Evidence before one.
func (n *NTP) Evidence() Evidence {
	n.mu.Lock()
	defer n.mu.Unlock()
	e := n.applied
	e.Sources = append([]Source(nil), e.Sources...)
	return e
}

// Err returns the error of the most recent Sync, or nil if it succeeded
// (or fell back). After a failed Sync the previous offset stays in use.
func (n *NTP) Err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lastErr
}

// Run syncs again every ResyncInterval, waiting on Base if it is a Waiter
// (else on System), until ctx is done. It does not sync before its first
// wait: call Sync first to learn whether the clock is usable. Failures are
// kept for Err; the last good offset stays in use. With a negative
// ResyncInterval Run returns at once.
func (n *NTP) Run(ctx context.Context) {
	if n.opts.ResyncInterval < 0 {
		return
	}
	w, ok := n.opts.Base.(Waiter)
	if !ok {
		w = System{}
	}
	for {
		if err := w.Wait(ctx, n.opts.ResyncInterval); err != nil {
			return
		}
		if _, err := n.Sync(ctx); err != nil && ctx.Err() != nil {
			return
		}
	}
}
