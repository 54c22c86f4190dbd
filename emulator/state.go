package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// StateVersion is the version of the state file this package writes and
// the newest it reads.
const StateVersion = 1

// ErrNewerState is wrapped by the error for a state file written by a newer
// totpemu (a higher version than StateVersion).
var ErrNewerState = errors.New("written by a newer totpemu")

// Limits on the state file.
const (
	MaxStateBytes    = 4 << 20 // larger files are refused before decoding
	MaxStateAccounts = 10000
)

// State is what the device remembers between runs: its accounts, secrets
// included. Load reads it; Update changes it under a lock.
type State struct {
	Accounts []*Account
}

// Add appends an account; a label already present is refused.
func (s *State) Add(a *Account) error {
	if err := checkNewAccount(s.Accounts, a); err != nil {
		return err
	}
	if len(s.Accounts) >= MaxStateAccounts {
		return fmt.Errorf("the device already holds %d accounts, the most it keeps", len(s.Accounts))
	}
	s.Accounts = append(s.Accounts, a)
	return nil
}

// Find returns the account whose label is query, else the only account
// named query; an empty query finds the only account of a one-account
// state. See Device.Find.
func (s *State) Find(query string) (*Account, error) {
	i, err := findAccount(s.Accounts, query)
	if err != nil {
		return nil, err
	}
	return s.Accounts[i], nil
}

// Remove removes the account Find(query) finds and returns it.
func (s *State) Remove(query string) (*Account, error) {
	i, err := findAccount(s.Accounts, query)
	if err != nil {
		return nil, err
	}
	a := s.Accounts[i]
	s.Accounts = slices.Delete(s.Accounts, i, i+1)
	return a, nil
}

// stateFile is the JSON form of the state file.
type stateFile struct {
	Version  int             `json:"version"`
	Accounts []accountRecord `json:"accounts"`
}

// accountRecord is an account as the state file stores it: with its
// secret, in unpadded base32.
type accountRecord struct {
	Issuer    string `json:"issuer,omitempty"`
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	Digits    int    `json:"digits"`
	Period    int    `json:"period"`
	Secret    string `json:"secret"`
}

// encodeState returns the state file's bytes.
func encodeState(s *State) ([]byte, error) {
	f := stateFile{Version: StateVersion, Accounts: make([]accountRecord, 0, len(s.Accounts))}
	for _, a := range s.Accounts {
		if err := a.Validate(); err != nil {
			return nil, err
		}
		f.Accounts = append(f.Accounts, accountRecord{
			Issuer: a.Issuer, Name: a.Name, Algorithm: a.Algorithm.String(),
			Digits: a.Digits, Period: a.Period, Secret: a.SecretBase32(),
		})
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// decodeState parses the state file's bytes. Its errors describe the
// problem without quoting the file (which holds secrets).
func decodeState(data []byte) (*State, error) {
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, describeJSONError(err, len(data))
	}
	switch {
	case head.Version == nil:
		return nil, errors.New("no version: not a totpemu state file")
	case *head.Version > StateVersion:
		return nil, fmt.Errorf("version %d is newer than this totpemu understands (%d): %w", *head.Version, StateVersion, ErrNewerState)
	case *head.Version < 1:
		return nil, fmt.Errorf("version %d is not a valid version", *head.Version)
	}
	var f stateFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, describeJSONError(err, len(data))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("corrupt: data after the JSON object")
	}
	if len(f.Accounts) > MaxStateAccounts {
		return nil, fmt.Errorf("%d accounts, more than the %d kept", len(f.Accounts), MaxStateAccounts)
	}
	s := &State{Accounts: make([]*Account, 0, len(f.Accounts))}
	for i, r := range f.Accounts {
		a, err := r.account()
		if err != nil {
			return nil, fmt.Errorf("account %d: %w", i+1, err)
		}
		if err := s.Add(a); err != nil {
			return nil, fmt.Errorf("account %d: %w", i+1, err)
		}
	}
	return s, nil
}

func (r accountRecord) account() (*Account, error) {
	alg, err := ParseAlgorithm(r.Algorithm)
	if err != nil {
		// Not quoted: a hand-edited file may hold anything there.
		return nil, errors.New("unknown algorithm: want SHA1, SHA256 or SHA512")
	}
	if len(r.Secret) > 2*MaxSecretBytes {
		return nil, fmt.Errorf("secret is %d characters, too long", len(r.Secret))
	}
	secret, err := b32.DecodeString(r.Secret)
	if err != nil {
		// base32.CorruptInputError names only an offset.
		return nil, fmt.Errorf("secret is not unpadded upper-case base32: %w", err)
	}
	if r.Digits == 0 || r.Period == 0 {
		return nil, errors.New("digits and period must be given")
	}
	a, err := NewAccount(r.Issuer, r.Name, secret, alg, r.Digits, r.Period)
	clear(secret)
	return a, err
}

// describeJSONError turns a decoding error into a message that names a
// byte offset or a field, never the file's content.
func describeJSONError(err error, size int) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("truncated: the JSON ends early (%d bytes)", size)
	case errors.As(err, &se):
		if se.Offset >= int64(size) {
			return fmt.Errorf("truncated: the JSON ends early (%d bytes)", size)
		}
		return fmt.Errorf("corrupt: invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Errorf("corrupt: field %q holds a JSON %s, want %s", te.Field, te.Value, te.Type)
	}
	// Other messages (an unknown field, say) quote the file; say what
	// happened without them.
	if strings.Contains(err.Error(), "unknown field") {
		return errors.New("corrupt: an unknown field (version 1 has version, accounts, and per account issuer, name, algorithm, digits, period, secret)")
	}
	return errors.New("corrupt: not a valid state file")
}
