package ntptest

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// PacketSize is the size of an NTP v4 header without extensions or MAC
// (RFC 5905 section 7.3).
const PacketSize = 48

// NTP modes used here (RFC 5905 figure 10).
const (
	ModeClient = 3
	ModeServer = 4
)

// Packet is the fixed 48-byte NTP header, field for field. Timestamps are in
// the NTP 64-bit format (seconds since 1900 in the high 32 bits, fraction in
// the low 32); RootDelay and RootDispersion are in the 32-bit short format
// (16.16 seconds).
type Packet struct {
	Leap           uint8 // leap indicator, 2 bits; 3 means unsynchronised
	Version        uint8 // 3 bits
	Mode           uint8 // 3 bits; 3 client, 4 server
	Stratum        uint8 // 0 is a Kiss-o'-Death, 16 unsynchronised
	Poll           int8  // log2 seconds
	Precision      int8  // log2 seconds
	RootDelay      uint32
	RootDispersion uint32
	RefID          uint32 // the kiss code's ASCII when Stratum is 0
	RefTime        uint64
	OriginTime     uint64
	ReceiveTime    uint64
	TransmitTime   uint64
}

// ParsePacket decodes the header at the start of b. Bytes after the first
// PacketSize (extension fields, a MAC) are ignored. It fails only when b is
// shorter than a header; any field values are accepted.
func ParsePacket(b []byte) (Packet, error) {
	if len(b) < PacketSize {
		return Packet{}, fmt.Errorf("parse ntp packet: %d bytes, want at least %d", len(b), PacketSize)
	}
	return Packet{
		Leap:           b[0] >> 6,
		Version:        (b[0] >> 3) & 7,
		Mode:           b[0] & 7,
		Stratum:        b[1],
		Poll:           int8(b[2]),
		Precision:      int8(b[3]),
		RootDelay:      binary.BigEndian.Uint32(b[4:]),
		RootDispersion: binary.BigEndian.Uint32(b[8:]),
		RefID:          binary.BigEndian.Uint32(b[12:]),
		RefTime:        binary.BigEndian.Uint64(b[16:]),
		OriginTime:     binary.BigEndian.Uint64(b[24:]),
		ReceiveTime:    binary.BigEndian.Uint64(b[32:]),
		TransmitTime:   binary.BigEndian.Uint64(b[40:]),
	}, nil
}

// Marshal encodes the header in PacketSize bytes. Leap, Version and Mode are
// masked to their widths.
func (p Packet) Marshal() []byte {
	b := make([]byte, PacketSize)
	b[0] = (p.Leap&3)<<6 | (p.Version&7)<<3 | p.Mode&7
	b[1] = p.Stratum
	b[2] = byte(p.Poll)
	b[3] = byte(p.Precision)
	binary.BigEndian.PutUint32(b[4:], p.RootDelay)
	binary.BigEndian.PutUint32(b[8:], p.RootDispersion)
	binary.BigEndian.PutUint32(b[12:], p.RefID)
	binary.BigEndian.PutUint64(b[16:], p.RefTime)
	binary.BigEndian.PutUint64(b[24:], p.OriginTime)
	binary.BigEndian.PutUint64(b[32:], p.ReceiveTime)
	binary.BigEndian.PutUint64(b[40:], p.TransmitTime)
	return b
}

// ntpEpoch is the start of NTP era 0.
var ntpEpoch = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// Timestamp converts t to the NTP 64-bit timestamp format. Times in later
// eras wrap, as the format does (era 1 begins in 2036).
func Timestamp(t time.Time) uint64 {
	d := t.Sub(ntpEpoch) // saturates far outside 1900..2192; fine for tests
	sec := uint64(d / time.Second)
	frac := (uint64(d%time.Second) << 32) / uint64(time.Second)
	return sec<<32 | frac
}

// TimeOf converts an NTP timestamp to a time in era 0 (1900-2036) or, for
// second counts below 2^31, era 1 (2036-2172), as clients infer.
func TimeOf(ts uint64) time.Time {
	sec := ts >> 32
	frac := ts & math.MaxUint32
	ns := (frac*uint64(time.Second) + 1<<31) >> 32
	base := ntpEpoch
	if sec < 1<<31 {
		base = ntpEpoch.Add(time.Duration(1<<32) * time.Second)
	}
	return base.Add(time.Duration(sec)*time.Second + time.Duration(ns))
}

// Short converts a non-negative duration to the NTP 32-bit short format,
// saturating at its maximum (about 18 hours).
func Short(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	sec := d / time.Second
	if sec >= 1<<16 {
		return math.MaxUint32
	}
	frac := (uint64(d%time.Second) << 16) / uint64(time.Second)
	return uint32(sec)<<16 | uint32(frac)
}

// ShortDuration converts the NTP 32-bit short format to a duration.
func ShortDuration(s uint32) time.Duration {
	return time.Duration(s>>16)*time.Second + time.Duration((uint64(s&0xffff)*uint64(time.Second)+1<<15)>>16)
}
