package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrinted(t *testing.T) {
	a := mustAccount(t, rfcSeed, SHA1, 6, 30)
	_ = a.CodeAtStep(1) // the precomputed HMAC state is key material too
	leaks := []string{rfcSeedB32, string(rfcSeed), fmt.Sprint(rfcSeed), fmt.Sprintf("%x", rfcSeed), "49 50 51", "0x31"}
	type holder struct {
		acct  Account
		accts []Account
		ptr   *Account
		sec   Secret
	}
	h := holder{acct: *a, accts: []Account{*a}, ptr: a, sec: a.Secret()}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		for _, v := range []any{a, *a, a.Secret(), h, &h, []*Account{a}, map[string]Account{"k": *a}} {
			outs = append(outs, verb+" "+fmt.Sprintf(verb, v))
		}
	}
	outs = append(outs, fmt.Sprint(a), fmt.Sprintln(*a), a.String(), a.GoString(), a.Secret().String())
	for _, v := range []any{a, *a, a.Secret(), []*Account{a}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%T): %v", v, err)
		}
		outs = append(outs, "json "+string(b))
	}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("enrolled", "account", a, "value", *a, "secret", a.Secret())
	}
	outs = append(outs, "slog "+buf.String())
	for _, o := range outs {
		for _, leak := range leaks {
			if strings.Contains(o, leak) {
				t.Errorf("output %q contains the secret (as %q)", o, leak)
			}
		}
	}
	if s := fmt.Sprintf("%v", *a); !strings.Contains(s, "alice@example.com") {
		t.Errorf("%%v of an Account = %q; want its label", s)
	}
	if s := fmt.Sprintf("%+v", a.Secret()); s != Redacted {
		t.Errorf("%%+v of a Secret = %q, want %q", s, Redacted)
	}
	if got := a.SecretBase32(); got != rfcSeedB32 {
		t.Errorf("SecretBase32() = %q, want %q (the explicit reveal)", got, rfcSeedB32)
	}
	if got := a.Secret().Bytes(); !bytes.Equal(got, rfcSeed) {
		t.Errorf("Secret().Bytes() = %q, want the seed", got)
	}
}
