package emulator

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/totpemu/totpemu/clock"
)

// Device is a virtual authenticator: accounts, the clock it reads and the
// Profile that built that clock. It answers what a person reads off a
// phone: the code now, how long it stays, the next codes, and two
// consecutive codes for binding. It is safe for concurrent use.
type Device struct {
	profile Profile
	clock   clock.Clock

	mu       sync.RWMutex
	accounts []*Account
}

// NewDevice returns a device following profile p, its clock built by
// p.Clock(local, truth), holding the given accounts (whose labels must be
// distinct).
func NewDevice(p Profile, local, truth clock.Clock, accounts ...*Account) (*Device, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	d := &Device{profile: p, clock: p.Clock(local, truth)}
	for _, a := range accounts {
		if err := d.Add(a); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Profile returns the profile the device follows.
func (d *Device) Profile() Profile { return d.profile }

// Clock returns the device's clock.
func (d *Device) Clock() clock.Clock { return d.clock }

// Now returns the time on the device's clock.
func (d *Device) Now() time.Time { return d.clock.Now() }

// Add enrolls an account; a label already on the device is refused.
func (d *Device) Add(a *Account) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := checkNewAccount(d.accounts, a); err != nil {
		return err
	}
	d.accounts = append(d.accounts, a)
	return nil
}

// Remove removes the account Find(query) would find and returns it.
func (d *Device) Remove(query string) (*Account, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	i, err := findAccount(d.accounts, query)
	if err != nil {
		return nil, err
	}
	a := d.accounts[i]
	d.accounts = slices.Delete(d.accounts, i, i+1)
	return a, nil
}

// Accounts returns the device's accounts in enrollment order.
func (d *Device) Accounts() []*Account {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return slices.Clone(d.accounts)
}

// Find returns the account whose label ("Issuer:Name", or "Name") is
// query, else the only account named query. An empty query finds the only
// account of a device that has exactly one.
func (d *Device) Find(query string) (*Account, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	i, err := findAccount(d.accounts, query)
	if err != nil {
		return nil, err
	}
	return d.accounts[i], nil
}

// Code returns a's code now on the device's clock, with the interval it is
// current in.
func (d *Device) Code(a *Account) (Code, error) {
	c, err := a.Current(d.clock.Now())
	if err != nil {
		return Code{}, fmt.Errorf("code of %q: %w", a.Label(), err)
	}
	return c, nil
}

// ValidFor returns how long a's current code stays valid on the device's
// clock.
func (d *Device) ValidFor(a *Account) time.Duration { return a.ValidFor(d.clock.Now()) }

// Next returns n codes of a starting with the current one.
func (d *Device) Next(a *Account, n int) ([]Code, error) {
	cs, err := a.Next(d.clock.Now(), n)
	if err != nil {
		return nil, fmt.Errorf("codes of %q: %w", a.Label(), err)
	}
	return cs, nil
}

// BindCodes returns a's current code and the next one, for APIs that bind
// a device with two consecutive codes (AuthenticationCode1 and
// AuthenticationCode2).
func (d *Device) BindCodes(a *Account) (code1, code2 string, err error) {
	c1, c2, err := a.BindCodes(d.clock.Now())
	if err != nil {
		return "", "", fmt.Errorf("bind codes of %q: %w", a.Label(), err)
	}
	return c1, c2, nil
}
