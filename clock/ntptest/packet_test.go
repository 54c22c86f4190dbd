package ntptest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func readSeeds(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "packets", "*.bin"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed packets in testdata/packets: %v", err)
	}
	seeds := make(map[string][]byte)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds[filepath.Base(f)] = b
	}
	return seeds
}

func TestParsePacketSeeds(t *testing.T) {
	seeds := readSeeds(t)
	for _, tc := range []struct {
		file    string
		wantErr bool
		check   func(Packet) bool
	}{
		{"client-request.bin", false, func(p Packet) bool {
			return p.Mode == ModeClient && p.Version == 4 && p.TransmitTime == 0x1122334455667788
		}},
		{"server-reply.bin", false, func(p Packet) bool {
			return p.Mode == ModeServer && p.Stratum == 2 && p.Precision == -20 && p.RefID == 0x7f000001 && p.OriginTime == 0x1122334455667788
		}},
		{"kod-rate.bin", false, func(p Packet) bool { return p.Stratum == 0 && p.RefID == 0x52415445 }},
		{"unsynchronised-stratum16.bin", false, func(p Packet) bool { return p.Leap == 3 && p.Stratum == 16 }},
		{"with-mac.bin", false, func(p Packet) bool { return p.Mode == ModeServer }},
		{"short-20.bin", true, nil},
		{"empty.bin", true, nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, ok := seeds[tc.file]
			if !ok {
				t.Fatalf("testdata/packets/%s missing", tc.file)
			}
			p, err := ParsePacket(b)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParsePacket(%s, %d bytes) = %+v, want error", tc.file, len(b), p)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePacket(%s): %v", tc.file, err)
			}
			if !tc.check(p) {
				t.Errorf("ParsePacket(%s) = %+v: fields wrong", tc.file, p)
			}
			if got := p.Marshal(); !bytes.Equal(got, b[:PacketSize]) {
				t.Errorf("Marshal(ParsePacket(%s)) = %x, want %x", tc.file, got, b[:PacketSize])
			}
		})
	}
}

func TestTimestampRoundTrip(t *testing.T) {
	for _, tc := range []time.Time{
		time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 27, 12, 0, 0, 999_999_999, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2036, 2, 7, 6, 28, 15, 0, time.UTC), // last second of era 0
		time.Date(2036, 2, 7, 6, 28, 16, 0, time.UTC), // era 1 begins
		time.Date(2100, 1, 1, 0, 0, 0, 500, time.UTC),
	} {
		got := TimeOf(Timestamp(tc))
		if d := got.Sub(tc); d < -time.Nanosecond || d > time.Nanosecond {
			t.Errorf("TimeOf(Timestamp(%v)) = %v, off by %v", tc, got, d)
		}
	}
	if got := Timestamp(time.Date(1900, 1, 1, 0, 0, 1, 0, time.UTC)); got != 1<<32 {
		t.Errorf("Timestamp(1900-01-01 00:00:01) = %#x, want 1<<32", got)
	}
}

func TestShortFormat(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want uint32
	}{
		{0, 0},
		{-time.Second, 0},
		{time.Second, 1 << 16},
		{500 * time.Millisecond, 1 << 15},
		{20 * time.Second, 20 << 16},
		{100 * time.Hour, 0xffffffff},
	} {
		if got := Short(tc.in); got != tc.want {
			t.Errorf("Short(%v) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
	for _, d := range []time.Duration{time.Millisecond, 20 * time.Second, 1500 * time.Millisecond} {
		if got := ShortDuration(Short(d)); got-d > 16*time.Microsecond || d-got > 16*time.Microsecond {
			t.Errorf("ShortDuration(Short(%v)) = %v", d, got)
		}
	}
}

func FuzzParsePacket(f *testing.F) {
	for _, b := range readSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePacket(b)
		if len(b) < PacketSize {
			if err == nil {
				t.Fatalf("ParsePacket(%d bytes) accepted a short packet", len(b))
			}
			return
		}
		if err != nil {
			t.Fatalf("ParsePacket(%x): %v", b, err)
		}
		out := p.Marshal()
		if !bytes.Equal(out, b[:PacketSize]) {
			t.Fatalf("round trip of %x gave %x", b[:PacketSize], out)
		}
		// A reply built for any request parses back with the request's
		// transmit time as its origin.
		if p.Mode == ModeClient {
			r, err := ParsePacket(Response(p, Good(), time.Unix(1e9, 0), time.Unix(1e9, 1)))
			if err != nil || r.OriginTime != p.TransmitTime || r.Mode != ModeServer {
				t.Fatalf("Response to %+v = %+v, %v", p, r, err)
			}
		}
	})
}
