//go:build !unix

package emulator

import "errors"

var errNoStateFile = errors.New("the state file needs a Unix system (file modes, owners and flock guard its secrets)")

// Load is not available on this system: the state file's protections need
// Unix file modes, owners and flock.
func Load(path string) (*State, error) {
	return nil, &StateError{Path: path, Problem: "cannot be used here", Err: errNoStateFile}
}

// Update is not available on this system; see Load.
func Update(path string, fn func(*State) error) error {
	return &StateError{Path: path, Problem: "cannot be used here", Err: errNoStateFile}
}
