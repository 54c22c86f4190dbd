package scanner

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// migrationDescriptor is Google Authenticator's MigrationPayload schema,
// built as a descriptor so that test payloads are written by the protobuf
// library itself, independently of the decoder under test.
func migrationDescriptor(t testing.TB) protoreflect.MessageDescriptor {
	t.Helper()
	s := proto.String
	field := func(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, label descriptorpb.FieldDescriptorProto_Label, typeName string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: s(name), Number: proto.Int32(num), Type: typ.Enum(), Label: label.Enum()}
		if typeName != "" {
			f.TypeName = s(typeName)
		}
		return f
	}
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED
	fd := &descriptorpb.FileDescriptorProto{
		Name: s("migration.proto"), Package: s("googleauth"), Syntax: s("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: s("MigrationPayload"),
			Field: []*descriptorpb.FieldDescriptorProto{
				field("otp_parameters", 1, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, rep, ".googleauth.MigrationPayload.OtpParameters"),
				field("version", 2, descriptorpb.FieldDescriptorProto_TYPE_INT32, opt, ""),
				field("batch_size", 3, descriptorpb.FieldDescriptorProto_TYPE_INT32, opt, ""),
				field("batch_index", 4, descriptorpb.FieldDescriptorProto_TYPE_INT32, opt, ""),
				field("batch_id", 5, descriptorpb.FieldDescriptorProto_TYPE_INT32, opt, ""),
			},
			NestedType: []*descriptorpb.DescriptorProto{{
				Name: s("OtpParameters"),
				Field: []*descriptorpb.FieldDescriptorProto{
					field("secret", 1, descriptorpb.FieldDescriptorProto_TYPE_BYTES, opt, ""),
					field("name", 2, descriptorpb.FieldDescriptorProto_TYPE_STRING, opt, ""),
					field("issuer", 3, descriptorpb.FieldDescriptorProto_TYPE_STRING, opt, ""),
					field("algorithm", 4, descriptorpb.FieldDescriptorProto_TYPE_INT32, opt, ""),
					field("digits", 5, descriptorpb.FieldDescriptorProto_TYPE_INT32, opt, ""),
					field("type", 6, descriptorpb.FieldDescriptorProto_TYPE_INT32, opt, ""),
					field("counter", 7, descriptorpb.FieldDescriptorProto_TYPE_INT64, opt, ""),
				},
			}},
		}},
	}
	f, err := protodesc.NewFile(fd, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f.Messages().Get(0)
}

// TestMigrationFromProtobufLibrary decodes an export marshalled by
// google.golang.org/protobuf from the schema.
func TestMigrationFromProtobufLibrary(t *testing.T) {
	md := migrationDescriptor(t)
	pd := md.Fields().ByName("otp_parameters").Message()
	msg := dynamicpb.NewMessage(md)
	list := msg.Mutable(md.Fields().ByName("otp_parameters")).List()
	add := func(secret []byte, name, issuer string, algo, digits, typ int32, counter int64) {
		p := dynamicpb.NewMessage(pd)
		f := pd.Fields()
		p.Set(f.ByName("secret"), protoreflect.ValueOfBytes(secret))
		p.Set(f.ByName("name"), protoreflect.ValueOfString(name))
		p.Set(f.ByName("issuer"), protoreflect.ValueOfString(issuer))
		p.Set(f.ByName("algorithm"), protoreflect.ValueOfInt32(algo))
		p.Set(f.ByName("digits"), protoreflect.ValueOfInt32(digits))
		p.Set(f.ByName("type"), protoreflect.ValueOfInt32(typ))
		p.Set(f.ByName("counter"), protoreflect.ValueOfInt64(counter))
		list.Append(protoreflect.ValueOfMessage(p))
	}
	secret := []byte("12345678901234567890")
	add(secret, "Example:alice@example.com", "Example", 1, 1, 2, 0)
	add(secret[:16], "bob", "Other", 3, 2, 1, 42)
	add(secret, "carol", "MD5 Inc", 4, 1, 2, 0)
	msg.Set(md.Fields().ByName("version"), protoreflect.ValueOfInt32(1))
	msg.Set(md.Fields().ByName("batch_size"), protoreflect.ValueOfInt32(3))
	msg.Set(md.Fields().ByName("batch_index"), protoreflect.ValueOfInt32(1))
	msg.Set(md.Fields().ByName("batch_id"), protoreflect.ValueOfInt32(-123456))
	b, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	uri := "otpauth-migration://offline?data=" + url.QueryEscape(base64.StdEncoding.EncodeToString(b))
	m, fs := ParseMigration(uri)
	if m == nil {
		t.Fatalf("ParseMigration: nil, findings %v", fs)
	}
	if m.Version != 1 || m.BatchSize != 3 || m.BatchIndex != 1 || m.BatchID != -123456 || len(m.Accounts) != 3 {
		t.Fatalf("ParseMigration = %+v", m)
	}
	if !hasRule(fs, RuleMigrationBatch) {
		t.Errorf("findings %v; want %s", fs, RuleMigrationBatch)
	}
	a := m.Accounts[0].Key
	if a == nil || a.Type != "totp" || a.Issuer != "Example" || a.Account != "alice@example.com" || a.Algorithm != "SHA1" ||
		a.Digits != 6 || a.Period != 30 || !bytes.Equal(a.Secret, secret) || len(m.Accounts[0].Findings) != 0 {
		t.Errorf("account 1 = %#v, findings %v", a, m.Accounts[0].Findings)
	}
	b2 := m.Accounts[1].Key
	if b2 == nil || b2.Type != "hotp" || b2.Counter != 42 || !b2.HasCounter || b2.Algorithm != "SHA512" || b2.Digits != 8 || b2.SecretBits() != 128 {
		t.Errorf("account 2 = %#v", b2)
	}
	for _, id := range []string{RuleAlgorithmNonstd, RuleDigitsNonstd, RuleIssuerLabelMissing} {
		if !hasRule(m.Accounts[1].Findings, id) {
			t.Errorf("account 2 findings %v; want %s", m.Accounts[1].Findings, id)
		}
	}
	if m.Accounts[2].Key != nil || !hasRule(m.Accounts[2].Findings, RuleAlgorithmInvalid) {
		t.Errorf("account 3 (MD5) = %v, %v; want no key, %s", m.Accounts[2].Key, m.Accounts[2].Findings, RuleAlgorithmInvalid)
	}
	// The same payload through our own test encoder reads back, with the
	// protobuf library, as the same message: the table tests built with
	// encodePayload speak the real format.
	ours := encodePayload(payload{version: 1, batchSize: 3, batchIndex: 1, batchID: uint64(0xFFFFFFFFFFFE1DC0), accounts: []migAccount{
		{secret: secret, name: "Example:alice@example.com", issuer: "Example", algo: 1, digits: 1, typ: 2},
		{secret: secret[:16], name: "bob", issuer: "Other", algo: 3, digits: 2, typ: 1, counter: 42},
		{secret: secret, name: "carol", issuer: "MD5 Inc", algo: 4, digits: 1, typ: 2},
	}})
	back := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(ours, back); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(back, msg) {
		t.Errorf("encodePayload's message differs from the library's:\n%v\n%v", back, msg)
	}
}

func TestMigrationRefused(t *testing.T) {
	one := encodePayload(payload{accounts: []migAccount{{secret: []byte("12345678901234567890"), name: "a", issuer: "E", typ: 2}}})
	tests := []struct{ name, uri, want string }{
		{"https", "https://example.com/?data=" + b64(one), "not an otpauth-migration"},
		{"other host", "otpauth-migration://online?data=" + b64(one), "not offline"},
		{"no data", "otpauth-migration://offline?x=1", "no data="},
		{"empty data", "otpauth-migration://offline?data=", "no data="},
		{"two data", "otpauth-migration://offline?data=" + b64(one) + "&data=" + b64(one), "more than one data="},
		{"bad escape", "otpauth-migration://offline?data=%zz", "bad percent escape"},
		{"not base64", "otpauth-migration://offline?data=!!!!", "not standard base64"},
		{"truncated protobuf", "otpauth-migration://offline?data=" + b64(one[:len(one)-3]), "not a MigrationPayload"},
		{"wrong wire type", "otpauth-migration://offline?data=" + b64([]byte{0x08, 0x01}), "wire type"},
		{"group", "otpauth-migration://offline?data=" + b64([]byte{0x0b, 0x0c}), "wire type"},
		{"secret as varint", "otpauth-migration://offline?data=" + b64([]byte{0x0a, 0x02, 0x08, 0x01}), "field 1 has wire type 0"},
		{"huge", "otpauth-migration://offline?data=" + strings.Repeat("A", maxMigrationBytes), "more than"},
	}
	for _, tt := range tests {
		m, fs := ParseMigration(tt.uri)
		if m != nil || !HasError(fs) {
			t.Errorf("%s: ParseMigration = %+v, %v; want nil and an error finding", tt.name, m, fs)
			continue
		}
		var msgs []string
		for _, f := range fs {
			msgs = append(msgs, f.Message)
		}
		if !strings.Contains(strings.Join(msgs, "; "), tt.want) {
			t.Errorf("%s: findings %v; want one containing %q", tt.name, fs, tt.want)
		}
	}
}

// TestMigrationTolerant: a '+' left unescaped (or turned into a space) and
// missing base64 padding still decode; unknown fields are skipped.
func TestMigrationTolerant(t *testing.T) {
	pb := encodePayload(payload{version: 1, accounts: []migAccount{{secret: []byte{0xfb, 0xff, 0xfe, 0xfb, 0xef, 0xbe, 0xfb, 0xff, 0xfe, 0xfb, 0xef, 0xbe, 0xfb, 0xff, 0xfe, 0xfb, 0xef, 0xbe, 0xfb, 0xff}, name: "a", issuer: "E", typ: 2}}})
	pb = append(pb, 0x50, 0x07, 0x5d, 1, 2, 3, 4) // unknown fields 10 (varint) and 11 (fixed32)
	std := base64.StdEncoding.EncodeToString(pb)
	if !strings.ContainsAny(std, "+/") {
		t.Fatalf("test payload has no + or / in base64: %s", std)
	}
	for _, data := range []string{url.QueryEscape(std), std, strings.ReplaceAll(std, "+", " "), strings.TrimRight(std, "=")} {
		m, fs := ParseMigration("otpauth-migration://offline?data=" + data)
		if m == nil || len(m.Accounts) != 1 || m.Accounts[0].Key == nil {
			t.Errorf("data=%s: %+v %v", data, m, fs)
		}
	}
}

// TestMigrationTestdata: the exports under testdata/migration decode to
// the number of accounts their name says (NAME-N.txt), or are refused
// (bad-*.txt).
func TestMigrationTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/migration/*.txt")
	if len(files) == 0 {
		t.Fatal("no testdata/migration/*.txt")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, fs := ParseMigration(string(b))
		base := filepath.Base(f)
		if strings.HasPrefix(base, "bad-") {
			if m != nil {
				t.Errorf("%s: decoded %+v; want refused", f, m)
			}
			continue
		}
		if m == nil {
			t.Errorf("%s: refused: %v", f, fs)
			continue
		}
		want := strings.TrimSuffix(base[strings.LastIndexByte(base, '-')+1:], ".txt")
		if got := len(m.Accounts); want != strconv.Itoa(got) {
			t.Errorf("%s: %d accounts, want %s", f, got, want)
		}
	}
}
