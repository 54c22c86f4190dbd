package emulator

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/totpemu/totpemu/clock"
)

func TestDeviceAnswersOnItsClock(t *testing.T) {
	truth := clock.NewManual(time.Unix(1111111111, 0))
	a := mustAccount(t, rfcSeed, SHA1, 8, 30)
	manual, _ := ProfileByName("phone-manual")
	manual.Offset = 40 * time.Second
	d, err := NewDevice(manual, nil, truth, a)
	if err != nil {
		t.Fatal(err)
	}
	devNow := time.Unix(1111111151, 0)
	c, err := d.Code(a)
	if err != nil {
		t.Fatal(err)
	}
	if want := pquernaCode(t, rfcSeed, devNow.Unix(), SHA1, 8, 30); c.Value != want {
		t.Errorf("device 40 s fast at 1111111111: code %q, want %q (pquerna at 1111111151)", c.Value, want)
	}
	if got := d.ValidFor(a); got != 19*time.Second {
		t.Errorf("ValidFor at device time 1111111151 = %v, want 19s", got)
	}
	if got := c.ValidFor(d.Now()); got != 19*time.Second {
		t.Errorf("Code.ValidFor(device now) = %v, want 19s", got)
	}
	cs, err := d.Next(a, 3)
	if err != nil || len(cs) != 3 || cs[0] != c || cs[1].Step != c.Step+1 || cs[2].Step != c.Step+2 {
		t.Errorf("Next(3) = %+v, %v; want 3 codes from step %d", cs, err, c.Step)
	}
	c1, c2, err := d.BindCodes(a)
	if err != nil || c1 != cs[0].Value || c2 != cs[1].Value {
		t.Errorf("BindCodes = %q, %q, %v; want %q, %q", c1, c2, err, cs[0].Value, cs[1].Value)
	}
	truth.Advance(19 * time.Second) // the code changes when the device's step ends
	if c2now, _ := d.Code(a); c2now.Value != c2 {
		t.Errorf("19 s later the code is %q, want the second bind code %q", c2now.Value, c2)
	}
}

func TestDeviceBeforeEpoch(t *testing.T) {
	a := mustAccount(t, rfcSeed, SHA1, 6, 30)
	p, _ := ProfileByName("phone-manual")
	p.Offset = -time.Hour
	d, err := NewDevice(p, nil, clock.NewManual(time.Unix(60, 0)), a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Code(a); !errors.Is(err, ErrBeforeEpoch) {
		t.Errorf("device clock before 1970: Code error %v, want ErrBeforeEpoch", err)
	}
}

func TestDeviceAccounts(t *testing.T) {
	mk := func(issuer, name string) *Account {
		a, err := NewAccount(issuer, name, rfcSeed, SHA1, 6, 30)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	phone, _ := ProfileByName("phone")
	d, err := NewDevice(phone, nil, clock.NewManual(t0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Find(""); err == nil {
		t.Error("Find on an empty device: no error")
	}
	solo := mk("Example", "alice")
	if err := d.Add(solo); err != nil {
		t.Fatal(err)
	}
	if a, err := d.Find(""); err != nil || a != solo {
		t.Errorf("Find(\"\") with one account = %v, %v", a, err)
	}
	if err := d.Add(mk("Example", "alice")); err == nil {
		t.Error("Add of a duplicate label: no error")
	}
	if err := d.Add(&Account{Name: "x"}); err == nil {
		t.Error("Add of an account without a secret: no error")
	}
	other := mk("Other", "alice")
	bob := mk("", "bob")
	for _, a := range []*Account{other, bob} {
		if err := d.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	for q, want := range map[string]*Account{"Example:alice": solo, "Other:alice": other, "bob": bob} {
		if a, err := d.Find(q); err != nil || a != want {
			t.Errorf("Find(%q) = %v, %v; want %v", q, a, err, want)
		}
	}
	for _, q := range []string{"", "alice", "carol", "example:alice"} {
		if a, err := d.Find(q); err == nil {
			t.Errorf("Find(%q) = %v; want error", q, a)
		} else if q == "alice" && !strings.Contains(err.Error(), "ambiguous") {
			t.Errorf("Find(%q) error %q; want it to say ambiguous", q, err)
		}
	}
	if a, err := d.Remove("Other:alice"); err != nil || a != other {
		t.Errorf("Remove(Other:alice) = %v, %v", a, err)
	}
	if a, err := d.Find("alice"); err != nil || a != solo {
		t.Errorf("after removal Find(alice) = %v, %v; want %v", a, err, solo)
	}
	if got := d.Accounts(); len(got) != 2 || got[0] != solo || got[1] != bob {
		t.Errorf("Accounts() = %v", got)
	}
}
