package scanner

import (
	"encoding/base64"
	"net/url"

	"google.golang.org/protobuf/encoding/protowire"
)

// migAccount is an OtpParameters message for tests.
type migAccount struct {
	secret                     []byte
	name, issuer               string
	algo, digits, typ, counter uint64
}

type payload struct {
	accounts                                []migAccount
	version, batchSize, batchIndex, batchID uint64
}

// encodePayload writes a MigrationPayload (fields equal to zero are left
// out, as proto3 does).
func encodePayload(p payload) []byte {
	var b []byte
	for _, a := range p.accounts {
		var m []byte
		if len(a.secret) > 0 {
			m = protowire.AppendTag(m, fieldSecret, protowire.BytesType)
			m = protowire.AppendBytes(m, a.secret)
		}
		if a.name != "" {
			m = protowire.AppendTag(m, fieldName, protowire.BytesType)
			m = protowire.AppendString(m, a.name)
		}
		if a.issuer != "" {
			m = protowire.AppendTag(m, fieldIssuer, protowire.BytesType)
			m = protowire.AppendString(m, a.issuer)
		}
		for _, f := range []struct {
			num protowire.Number
			v   uint64
		}{{fieldAlgorithm, a.algo}, {fieldDigits, a.digits}, {fieldType, a.typ}, {fieldCounter, a.counter}} {
			if f.v != 0 {
				m = protowire.AppendTag(m, f.num, protowire.VarintType)
				m = protowire.AppendVarint(m, f.v)
			}
		}
		b = protowire.AppendTag(b, fieldOtpParameters, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	}
	for _, f := range []struct {
		num protowire.Number
		v   uint64
	}{{fieldVersion, p.version}, {fieldBatchSize, p.batchSize}, {fieldBatchIndex, p.batchIndex}, {fieldBatchID, p.batchID}} {
		if f.v != 0 {
			b = protowire.AppendTag(b, f.num, protowire.VarintType)
			b = protowire.AppendVarint(b, f.v)
		}
	}
	return b
}

func migrationURI(pb []byte) string {
	return "otpauth-migration://offline?data=" + url.QueryEscape(base64.StdEncoding.EncodeToString(pb))
}
