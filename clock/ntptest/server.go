// Package ntptest runs a fake NTP v4 server on 127.0.0.1 for tests, so the
// clock package's NTP client can be tested offline (TestOffline...), the way
// net/http/httptest serves HTTP tests.
//
// A Server answers each client request according to its Behavior, which a
// test may change at any time: the server's clock offset, stratum, leap
// indicator, a Kiss-o'-Death code, root delay and dispersion, a reply delay,
// silence, a wrong origin timestamp or a short packet. It counts the
// requests it receives, so a test can see that a client stopped asking or
// backed off.
//
// The packet codec (Packet, ParsePacket, Marshal and the timestamp helpers)
// is written here from RFC 5905 and does not share code with the client
// under test.
//
// The server reads the real time (time.Now): it stands for a remote machine
// whose clock is the real time plus Behavior.Offset.
package ntptest

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Behavior is how a Server answers. The zero value is not a usable server
// (stratum 0 without a kiss code); start from Good.
type Behavior struct {
	// Offset is the server's clock error: it reports real time + Offset.
	Offset time.Duration

	// Stratum is sent as is (0 and 16 or more are invalid for time
	// transfer); ignored when KissCode is set.
	Stratum uint8

	// Leap is the leap indicator (0..3; 3 means unsynchronised).
	Leap uint8

	// KissCode, when not empty, makes every reply a Kiss-o'-Death: stratum
	// 0 and the code's first four characters (e.g. "DENY", "RSTR", "RATE")
	// as the reference ID.
	KissCode string

	// RefID is the reference ID of a normal reply (an IPv4 address for
	// stratum 2 and up).
	RefID uint32

	// RootDelay and RootDispersion are reported as the server's distance
	// to its reference clock.
	RootDelay, RootDispersion time.Duration

	// ReplyDelay holds each reply back this long after the request arrives
	// (a slow path; with a client timeout below it, a timeout).
	ReplyDelay time.Duration

	// Silent drops requests without reply.
	Silent bool

	// WrongOrigin replies with an origin timestamp that is not the one the
	// client sent (a spoofed or stale reply).
	WrongOrigin bool

	// Short replies with a truncated packet of ShortLength bytes.
	Short bool

	// ShortLength is the length of a Short reply; 0 means 20 bytes.
	ShortLength int
}

// Good returns the behaviour of a healthy stratum 2 server with an exact
// clock.
func Good() Behavior {
	return Behavior{
		Stratum:        2,
		RefID:          0x7f000001, // 127.0.0.1
		RootDelay:      2 * time.Millisecond,
		RootDispersion: time.Millisecond,
	}
}

// Server is a fake NTP server listening on 127.0.0.1 (UDP). It is safe for
// concurrent use.
type Server struct {
	conn     net.PacketConn
	mu       sync.Mutex
	behavior Behavior
	requests atomic.Int64
	done     chan struct{}
	wg       sync.WaitGroup
	closed   sync.Once
}

// Start starts a server on 127.0.0.1 at a free port, behaving as Good.
func Start() (*Server, error) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start fake ntp server: %w", err)
	}
	s := &Server{conn: conn, behavior: Good(), done: make(chan struct{})}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// NewServer starts a server for the test and closes it when the test ends.
// It fails the test if the server cannot start.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Addr returns the server's address as "127.0.0.1:port".
func (s *Server) Addr() string { return s.conn.LocalAddr().String() }

// Close stops the server and waits for pending replies to be dropped.
func (s *Server) Close() error {
	var err error
	s.closed.Do(func() {
		close(s.done)
		err = s.conn.Close()
		s.wg.Wait()
	})
	return err
}

// Set replaces the server's behaviour.
func (s *Server) Set(b Behavior) {
	s.mu.Lock()
	s.behavior = b
	s.mu.Unlock()
}

// Update changes the server's behaviour in place.
func (s *Server) Update(f func(*Behavior)) {
	s.mu.Lock()
	f(&s.behavior)
	s.mu.Unlock()
}

// Behavior returns the server's current behaviour.
func (s *Server) Behavior() Behavior {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.behavior
}

// Requests returns how many datagrams the server has received, answered or
// not.
func (s *Server) Requests() int { return int(s.requests.Load()) }

func (s *Server) serve() {
	defer s.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		received := time.Now()
		s.requests.Add(1)
		req, err := ParsePacket(buf[:n])
		if err != nil || req.Mode != ModeClient {
			continue
		}
		b := s.Behavior()
		if b.Silent {
			continue
		}
		s.wg.Add(1)
		go s.reply(req, from, received, b)
	}
}

func (s *Server) reply(req Packet, to net.Addr, received time.Time, b Behavior) {
	defer s.wg.Done()
	if b.ReplyDelay > 0 {
		t := time.NewTimer(b.ReplyDelay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.done:
			return
		}
	}
	out := Response(req, b, received.Add(b.Offset), time.Now().Add(b.Offset))
	if b.Short {
		n := b.ShortLength
		if n <= 0 {
			n = 20
		}
		out = out[:min(n, len(out))]
	}
	s.conn.WriteTo(out, to) // a lost reply is what UDP does; the client times out
}

// Response builds the reply to req under behaviour b, with the server's
// clock reading recv when the request arrived and xmit when the reply
// leaves. It ignores b's transport settings (ReplyDelay, Silent, Short).
func Response(req Packet, b Behavior, recv, xmit time.Time) []byte {
	version := req.Version
	if version < 1 || version > 4 {
		version = 4
	}
	p := Packet{
		Leap:           b.Leap & 3,
		Version:        version,
		Mode:           ModeServer,
		Stratum:        b.Stratum,
		Poll:           req.Poll,
		Precision:      -20, // about 1 µs
		RootDelay:      Short(b.RootDelay),
		RootDispersion: Short(b.RootDispersion),
		RefID:          b.RefID,
		RefTime:        Timestamp(recv.Add(-16 * time.Second)),
		OriginTime:     req.TransmitTime,
		ReceiveTime:    Timestamp(recv),
		TransmitTime:   Timestamp(xmit),
	}
	if b.KissCode != "" {
		var code [4]byte
		copy(code[:], b.KissCode)
		p.Stratum = 0
		p.RefID = uint32(code[0])<<24 | uint32(code[1])<<16 | uint32(code[2])<<8 | uint32(code[3])
		p.RefTime = 0
	}
	if b.WrongOrigin {
		p.OriginTime = ^req.TransmitTime
	}
	return p.Marshal()
}
