package scanner

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The protobuf wire format, as much of it as the otpauth-migration payload
// needs: a field is a varint tag (number << 3 | type) and a value. Written
// here instead of imported: google.golang.org/protobuf reads the running
// binary at start-up (internal/detrand), which every totpemu command would
// pay for; its protowire stays in the tests, to encode what this decodes.

// wireType is a field's wire type.
type wireType int8

const (
	wireVarint  wireType = 0
	wireFixed64 wireType = 1
	wireBytes   wireType = 2
	wireFixed32 wireType = 5
)

// fieldNum is a field's number.
type fieldNum int32

var (
	errWireEOF      = errors.New("unexpected end of the message")
	errWireOverflow = errors.New("variable length integer overflow")
	errWireField    = errors.New("invalid field number")
)

// consumeVarint reads a base-128 varint: its value and length, or an
// error for one truncated or longer than 10 bytes.
func consumeVarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b); i++ {
		if i == 9 && b[i] > 1 {
			return 0, 0, errWireOverflow
		}
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1, nil
		}
	}
	if len(b) >= 10 {
		return 0, 0, errWireOverflow
	}
	return 0, 0, errWireEOF
}

// eachField calls fn for every field of a protobuf message: v is the
// payload of a bytes field, n the value of a varint (or fixed) field.
// Unknown fields are passed on for fn to skip; groups are refused.
func eachField(b []byte, fn func(num fieldNum, typ wireType, v []byte, n uint64) error) error {
	for len(b) > 0 {
		tag, tn, err := consumeVarint(b)
		if err != nil {
			return err
		}
		b = b[tn:]
		num, typ := tag>>3, wireType(tag&7)
		if num == 0 || num > 1<<31-1 {
			return errWireField
		}
		var (
			v []byte
			n uint64
			m int
		)
		switch typ {
		case wireVarint:
			if n, m, err = consumeVarint(b); err != nil {
				return err
			}
		case wireBytes:
			l, ln, err := consumeVarint(b)
			if err != nil {
				return err
			}
			if l > uint64(len(b)-ln) {
				return errWireEOF
			}
			v, m = b[ln:ln+int(l)], ln+int(l)
		case wireFixed32:
			if len(b) < 4 {
				return errWireEOF
			}
			n, m = uint64(binary.LittleEndian.Uint32(b)), 4
		case wireFixed64:
			if len(b) < 8 {
				return errWireEOF
			}
			n, m = binary.LittleEndian.Uint64(b), 8
		default:
			return fmt.Errorf("field %d has unsupported wire type %d", num, typ)
		}
		b = b[m:]
		if err := fn(fieldNum(num), typ, v, n); err != nil {
			return err
		}
	}
	return nil
}
