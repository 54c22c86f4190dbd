package ntptest

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/beevik/ntp"
)

func query(t *testing.T, s *Server, timeout time.Duration) (*ntp.Response, error) {
	t.Helper()
	return ntp.QueryWithOptions(s.Addr(), ntp.QueryOptions{Timeout: timeout})
}

func TestServerGoodWithOffset(t *testing.T) {
	s := NewServer(t)
	s.Update(func(b *Behavior) { b.Offset = 2 * time.Second })
	r, err := query(t, s, time.Second)
	if err != nil {
		t.Fatalf("query good server with offset 2s: %v", err)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("good server's reply does not validate: %v", err)
	}
	if d := r.ClockOffset - 2*time.Second; d < -50*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("ClockOffset = %v, want 2s ± 50ms", r.ClockOffset)
	}
	if r.Stratum != 2 || r.ReferenceString() != "127.0.0.1" {
		t.Errorf("stratum %d refid %s, want 2 and 127.0.0.1", r.Stratum, r.ReferenceString())
	}
	if got := s.Requests(); got != 1 {
		t.Errorf("Requests() = %d, want 1", got)
	}
}

func TestServerFaults(t *testing.T) {
	for _, tc := range []struct {
		name        string
		b           func(*Behavior)
		queryErr    error // from the query itself
		validateErr error // from Response.Validate
		timeout     bool
	}{
		{"kiss_DENY", func(b *Behavior) { b.KissCode = "DENY" }, nil, ntp.ErrKissOfDeath, false},
		{"kiss_RATE", func(b *Behavior) { b.KissCode = "RATE" }, nil, ntp.ErrKissOfDeath, false},
		{"stratum_16", func(b *Behavior) { b.Stratum = 16 }, nil, ntp.ErrInvalidStratum, false},
		{"stratum_0_no_code", func(b *Behavior) { b.Stratum = 0 }, nil, ntp.ErrKissOfDeath, false},
		{"leap_3", func(b *Behavior) { b.Leap = 3 }, nil, ntp.ErrInvalidLeapSecond, false},
		{"dispersion_20s", func(b *Behavior) { b.RootDispersion = 20 * time.Second }, nil, ntp.ErrInvalidDispersion, false},
		{"wrong_origin", func(b *Behavior) { b.WrongOrigin = true }, ntp.ErrServerResponseMismatch, nil, false},
		{"short_20", func(b *Behavior) { b.Short = true }, ntp.ErrInvalidTime, nil, false},
		{"silent", func(b *Behavior) { b.Silent = true }, nil, nil, true},
		{"delay_500ms_timeout_100ms", func(b *Behavior) { b.ReplyDelay = 500 * time.Millisecond }, nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(t)
			s.Update(tc.b)
			r, err := query(t, s, 100*time.Millisecond)
			switch {
			case tc.timeout:
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					t.Fatalf("%s: query error %v, want a timeout", tc.name, err)
				}
			case tc.queryErr != nil:
				if !errors.Is(err, tc.queryErr) {
					t.Fatalf("%s: query error %v, want %v", tc.name, err, tc.queryErr)
				}
			default:
				if err != nil {
					t.Fatalf("%s: query: %v", tc.name, err)
				}
				if err := r.Validate(); !errors.Is(err, tc.validateErr) {
					t.Fatalf("%s: Validate() = %v, want %v", tc.name, err, tc.validateErr)
				}
			}
			if s.Requests() != 1 {
				t.Errorf("%s: Requests() = %d, want 1", tc.name, s.Requests())
			}
		})
	}
}

func TestServerKissCodeReadable(t *testing.T) {
	s := NewServer(t)
	s.Update(func(b *Behavior) { b.KissCode = "RSTR" })
	r, err := query(t, s, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !r.IsKissOfDeath() || r.KissCode != "RSTR" {
		t.Errorf("kiss of death %v code %q, want RSTR", r.IsKissOfDeath(), r.KissCode)
	}
}

func TestServerIgnoresNonClientPackets(t *testing.T) {
	s := NewServer(t)
	c, err := net.Dial("udp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, b := range [][]byte{{1, 2, 3}, Packet{Version: 4, Mode: ModeServer}.Marshal()} {
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	// A proper request after the junk is answered, so the junk was read
	// and dropped rather than crashing the server.
	req := Packet{Version: 4, Mode: ModeClient, TransmitTime: 12345}
	if _, err := c.Write(req.Marshal()); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 100)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no reply to a client request after junk: %v", err)
	}
	p, err := ParsePacket(buf[:n])
	if err != nil || p.OriginTime != 12345 {
		t.Fatalf("reply %+v, %v; want origin 12345", p, err)
	}
	if got := s.Requests(); got != 3 {
		t.Errorf("Requests() = %d, want 3 (junk counted)", got)
	}
}

func TestServerCloseWithPendingDelayedReply(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	s.Update(func(b *Behavior) { b.ReplyDelay = time.Hour })
	c, err := net.Dial("udp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(Packet{Version: 4, Mode: ModeClient, TransmitTime: 1}.Marshal())
	// The request is in flight on loopback; wait (bounded) for the server
	// to see it so Close has a pending reply to cancel.
	for deadline := time.Now().Add(5 * time.Second); s.Requests() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("server never received the request")
		}
		time.Sleep(time.Millisecond)
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with a reply pending for an hour")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestServerUpdateWhileServing(t *testing.T) {
	s := NewServer(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			s.Update(func(b *Behavior) { b.Offset = time.Duration(i) * time.Millisecond })
			_ = s.Behavior()
		}
	}()
	for range 20 {
		if _, err := query(t, s, time.Second); err != nil {
			t.Fatalf("query while behaviour changes: %v", err)
		}
	}
	<-done
	if got := s.Requests(); got != 20 {
		t.Errorf("Requests() = %d, want 20", got)
	}
}
