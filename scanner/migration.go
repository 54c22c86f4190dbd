package scanner

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
)

// maxMigrationBytes caps an otpauth-migration:// text before it is decoded.
// One QR code holds at most 2953 bytes; a text export of many accounts is
// still far under this.
const maxMigrationBytes = 1 << 20

// maxMigrationAccounts caps the accounts decoded from one export.
const maxMigrationAccounts = 1000

// Migration is a decoded Google Authenticator export
// (otpauth-migration://offline?data=...): one QR code of a batch.
type Migration struct {
	Version    int     `json:"version"`
	BatchSize  int     `json:"batch_size"`
	BatchIndex int     `json:"batch_index"`
	BatchID    int64   `json:"batch_id"`
	Accounts   []Entry `json:"accounts"`
}

// Entry is one account of an export, parsed and linted like a URI. Key is
// nil when the account cannot be used (see ParseURI).
type Entry struct {
	Key      *Key      `json:"key,omitempty"`
	Findings []Finding `json:"findings"`
}

// Field numbers of the MigrationPayload message.
const (
	fieldOtpParameters = 1
	fieldVersion       = 2
	fieldBatchSize     = 3
	fieldBatchIndex    = 4
	fieldBatchID       = 5
)

// Field numbers of the OtpParameters message.
const (
	fieldSecret    = 1
	fieldName      = 2
	fieldIssuer    = 3
	fieldAlgorithm = 4
	fieldDigits    = 5
	fieldType      = 6
	fieldCounter   = 7
)

// ParseMigration decodes an otpauth-migration://offline?data=... export: the
// base64 data is a protobuf MigrationPayload, read field by field with
// the wire decoder of wire.go. Each account becomes a Key linted with the same rules as a URI
// (period is always 30 s: the format has no field for it). The findings
// returned are about the export itself (migration-invalid, migration-batch);
// each Entry carries its own. The Migration is nil when the export does not
// decode.
func ParseMigration(uri string) (*Migration, []Finding) {
	var fs []Finding
	if len(uri) > maxMigrationBytes {
		return nil, append(fs, finding(RuleMigrationInvalid, "", "the export is %d bytes, more than the %d accepted", len(uri), maxMigrationBytes))
	}
	if t := strings.TrimSpace(uri); t != uri {
		fs = append(fs, finding(RuleURIWhitespace, "remove the white space around the URI", "the payload has leading or trailing white space"))
		uri = t
	}
	rest, ok := cutPrefixFold(uri, "otpauth-migration://")
	if !ok {
		return nil, append(fs, finding(RuleURIScheme, "an export starts with otpauth-migration://offline?data=", "the payload is not an otpauth-migration:// export"))
	}
	host, query, _ := strings.Cut(rest, "?")
	if !strings.EqualFold(host, "offline") {
		return nil, append(fs, finding(RuleMigrationInvalid, "", "the export's host is %q, not offline", truncate(host, 32)))
	}
	var data string
	found := false
	for _, part := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(part, "=")
		if k != "data" {
			continue
		}
		if found {
			return nil, append(fs, finding(RuleMigrationInvalid, "", "the export has more than one data= parameter"))
		}
		found = true
		// PathUnescape keeps a literal '+' (base64) where QueryUnescape
		// would make it a space.
		d, err := url.PathUnescape(v)
		if err != nil {
			return nil, append(fs, finding(RuleMigrationInvalid, "", "data= has a bad percent escape"))
		}
		data = strings.ReplaceAll(d, " ", "+")
	}
	if !found || data == "" {
		return nil, append(fs, finding(RuleMigrationInvalid, "", "the export has no data= parameter"))
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(data, "="))
	}
	if err != nil {
		return nil, append(fs, finding(RuleMigrationInvalid, "", "data= is not standard base64"))
	}
	m, err := decodePayload(raw)
	if err != nil {
		return nil, append(fs, finding(RuleMigrationInvalid, "", "data= is not a MigrationPayload: %v", err))
	}
	if len(m.Accounts) == 0 {
		fs = append(fs, finding(RuleMigrationInvalid, "", "the export holds no accounts"))
	}
	if m.BatchSize > 1 {
		fs = append(fs, finding(RuleMigrationBatch, "scan every code of the export", "this code is part %d of %d of an export", m.BatchIndex+1, m.BatchSize))
	}
	return m, fs
}

// decodePayload reads a MigrationPayload message.
func decodePayload(b []byte) (*Migration, error) {
	m := &Migration{}
	err := eachField(b, func(num fieldNum, typ wireType, v []byte, n uint64) error {
		switch num {
		case fieldOtpParameters:
			if typ != wireBytes {
				return fmt.Errorf("otp_parameters has wire type %d", typ)
			}
			if len(m.Accounts) >= maxMigrationAccounts {
				return fmt.Errorf("more than %d accounts", maxMigrationAccounts)
			}
			e, err := decodeParameters(v)
			if err != nil {
				return fmt.Errorf("account %d: %w", len(m.Accounts)+1, err)
			}
			m.Accounts = append(m.Accounts, e)
		case fieldVersion, fieldBatchSize, fieldBatchIndex, fieldBatchID:
			if typ != wireVarint {
				return fmt.Errorf("field %d has wire type %d, not varint", num, typ)
			}
			switch num {
			case fieldVersion:
				m.Version = int(int32(n))
			case fieldBatchSize:
				m.BatchSize = int(int32(n))
			case fieldBatchIndex:
				m.BatchIndex = int(int32(n))
			case fieldBatchID:
				m.BatchID = int64(int32(n))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// decodeParameters reads one OtpParameters message into a linted Entry.
func decodeParameters(b []byte) (Entry, error) {
	var (
		secret                []byte
		name, issuer          string
		algo, digits, otpType uint64
		counter               uint64
	)
	err := eachField(b, func(num fieldNum, typ wireType, v []byte, n uint64) error {
		want := wireVarint
		if num == fieldSecret || num == fieldName || num == fieldIssuer {
			want = wireBytes
		}
		if num >= fieldSecret && num <= fieldCounter && typ != want {
			return fmt.Errorf("field %d has wire type %d, want %d", num, typ, want)
		}
		switch num {
		case fieldSecret:
			secret = append([]byte(nil), v...)
		case fieldName:
			name = string(v)
		case fieldIssuer:
			issuer = string(v)
		case fieldAlgorithm:
			algo = n
		case fieldDigits:
			digits = n
		case fieldType:
			otpType = n
		case fieldCounter:
			counter = n
		}
		return nil
	})
	if err != nil {
		return Entry{}, err
	}
	return entryOf(secret, name, issuer, algo, digits, otpType, counter), nil
}

// entryOf turns the fields of an OtpParameters into a Key and its findings.
func entryOf(secret []byte, name, issuer string, algo, digits, otpType, counter uint64) Entry {
	var fs []Finding
	k := &Key{Digits: DefaultDigits, Algorithm: DefaultAlgorithm}
	usable := true
	switch otpType {
	case 1:
		k.Type, k.Counter, k.HasCounter = "hotp", counter, true
	case 2:
		k.Type, k.Period = "totp", DefaultPeriod
	default:
		fs = append(fs, finding(RuleTypeInvalid, "", "the account's type is %d, not 1 (HOTP) or 2 (TOTP)", otpType))
		usable = false
	}
	switch algo {
	case 0, 1:
	case 2:
		k.Algorithm = "SHA256"
	case 3:
		k.Algorithm = "SHA512"
	case 4:
		fs = append(fs, finding(RuleAlgorithmInvalid, "use SHA1", "the account's algorithm is MD5"))
		usable = false
	default:
		fs = append(fs, finding(RuleAlgorithmInvalid, "use SHA1", "the account's algorithm is %d, not 1 (SHA1), 2 (SHA256) or 3 (SHA512)", algo))
		usable = false
	}
	switch digits {
	case 0, 1:
	case 2:
		k.Digits = 8
	default:
		fs = append(fs, finding(RuleDigitsInvalid, "use 1 (six digits)", "the account's digits is %d, not 1 (six) or 2 (eight)", digits))
		usable = false
	}
	labelIssuer, account, hasPrefix := strings.Cut(name, ":")
	if !hasPrefix {
		labelIssuer, account = "", name
	}
	account = strings.TrimLeft(account, " ")
	fs = append(fs, checkLabel(labelIssuer, hasPrefix, issuer, issuer != "", account)...)
	k.Account, k.Issuer = account, labelIssuer
	if issuer != "" {
		k.Issuer = issuer
	}
	if len(secret) == 0 {
		fs = append(fs, finding(RuleSecretMissing, "", "the account has no secret"))
		usable = false
	}
	k.Secret = secret
	if usable {
		fs = append(fs, checkKey(k)...)
	}
	scrub(fs, EncodeSecret(secret))
	if !usable {
		return Entry{Findings: fs}
	}
	return Entry{Key: k, Findings: fs}
}

// cutPrefixFold is strings.CutPrefix ignoring ASCII case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
