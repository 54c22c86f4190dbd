package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// String describes the account without its secret:
// "Issuer:Name (SHA1, 6 digits, 30 s)".
func (a Account) String() string {
	return fmt.Sprintf("%s (%s, %d digits, %d s)", a.Label(), a.Algorithm, a.Digits, a.Period)
}

// GoString is like %#v of the struct, with the secret redacted.
func (a Account) GoString() string {
	return fmt.Sprintf("emulator.Account{Issuer:%q, Name:%q, Algorithm:%s, Digits:%d, Period:%d, secret:%s}",
		a.Issuer, a.Name, a.Algorithm, a.Digits, a.Period, Redacted)
}

// Format prints the account for every verb without its secret: %#v is
// GoString, %+v names the fields, %q quotes String, the rest print String.
func (a Account) Format(f fmt.State, verb rune) {
	var s string
	switch {
	case verb == 'v' && f.Flag('#'):
		s = a.GoString()
	case verb == 'v' && f.Flag('+'):
		s = fmt.Sprintf("{Issuer:%s Name:%s Algorithm:%s Digits:%d Period:%d secret:%s}",
			a.Issuer, a.Name, a.Algorithm, a.Digits, a.Period, Redacted)
	case verb == 'q':
		s = strconv.Quote(a.String())
	default:
		s = a.String()
	}
	_, _ = io.WriteString(f, s)
}

// LogValue makes log/slog print the account's fields with the secret
// redacted.
func (a Account) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("issuer", a.Issuer),
		slog.String("name", a.Name),
		slog.String("algorithm", a.Algorithm.String()),
		slog.Int("digits", a.Digits),
		slog.Int("period", a.Period),
		slog.String("secret", Redacted),
	)
}

// accountView is the JSON form of an account for logs and reports.
type accountView struct {
	Issuer    string `json:"issuer,omitempty"`
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	Digits    int    `json:"digits"`
	Period    int    `json:"period"`
	Secret    Secret `json:"secret"`
}

// MarshalJSON encodes the account for logs and reports, with the secret as
// "REDACTED". (The state file uses its own encoding, which keeps it.)
func (a Account) MarshalJSON() ([]byte, error) {
	return json.Marshal(accountView{a.Issuer, a.Name, a.Algorithm.String(), a.Digits, a.Period, a.secret})
}
