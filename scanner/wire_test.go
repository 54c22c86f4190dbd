package scanner

import (
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

type wireField struct {
	num fieldNum
	typ wireType
	v   string
	n   uint64
}

// protowireFields decodes b with protowire, the library's reference
// decoder, as eachField reports fields; ok is false where it refuses b.
func protowireFields(b []byte) (fs []wireField, ok bool) {
	for len(b) > 0 {
		num, typ, tn := protowire.ConsumeTag(b)
		if tn < 0 {
			return nil, false
		}
		b = b[tn:]
		f := wireField{num: fieldNum(num), typ: wireType(typ)}
		var m int
		switch typ {
		case protowire.VarintType:
			f.n, m = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			var v []byte
			v, m = protowire.ConsumeBytes(b)
			f.v = string(v)
		case protowire.Fixed32Type:
			var x uint32
			x, m = protowire.ConsumeFixed32(b)
			f.n = uint64(x)
		case protowire.Fixed64Type:
			f.n, m = protowire.ConsumeFixed64(b)
		default:
			return nil, false
		}
		if m < 0 {
			return nil, false
		}
		b = b[m:]
		fs = append(fs, f)
	}
	return fs, true
}

func ourFields(b []byte) ([]wireField, bool) {
	var fs []wireField
	err := eachField(b, func(num fieldNum, typ wireType, v []byte, n uint64) error {
		fs = append(fs, wireField{num, typ, string(v), n})
		return nil
	})
	return fs, err == nil
}

// FuzzEachFieldMatchesProtowire: the hand-written wire decoder reads what
// protowire reads, and refuses what it refuses. Seeded from the migration
// exports in testdata and from edge cases of varints.
func FuzzEachFieldMatchesProtowire(f *testing.F) {
	files, _ := filepath.Glob("testdata/migration/*")
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(raw), "\n") {
			if u, err := url.Parse(strings.TrimSpace(line)); err == nil && u.Scheme == "otpauth-migration" {
				if b, err := base64.StdEncoding.DecodeString(u.Query().Get("data")); err == nil {
					f.Add(b)
				}
			}
		}
	}
	for _, s := range [][]byte{{}, {0x08}, {0x08, 0x80}, {0x0a, 0x05, 'a'}, {0x0b, 0x0c}, {0x0d, 1, 2, 3, 4}, {0x09, 1, 2, 3, 4, 5, 6, 7, 8},
		{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
		{0x00, 0x01}, {0xf8, 0xff, 0xff, 0xff, 0x0f, 0x00}, {0xf8, 0xff, 0xff, 0xff, 0x1f, 0x00}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, wok := protowireFields(b)
		got, gok := ourFields(b)
		if wok != gok {
			t.Fatalf("% x: protowire ok %t, eachField ok %t (fields %v)", b, wok, gok, got)
		}
		if !wok {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("% x: %d fields, protowire %d", b, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("% x: field %d %+v, protowire %+v", b, i, got[i], want[i])
			}
		}
	})
}
