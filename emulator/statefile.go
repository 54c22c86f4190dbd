package emulator

// StateError is a refusal of the state file, its directory or its lock
// file: which path, what is wrong with it, and what to do about it. The
// CLI prints Error() and then Hint on its own line.
type StateError struct {
	Path    string // the file or directory at fault
	Problem string // what is wrong, e.g. "mode 0644 lets group or others read it"
	Hint    string // what to do, e.g. "chmod 600 /home/a/.config/totpemu/device.json"
	Err     error  // the underlying error, if any (never holds a secret)
}

// Error returns "state file PATH: PROBLEM".
func (e *StateError) Error() string {
	s := "state file " + e.Path + ": " + e.Problem
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *StateError) Unwrap() error { return e.Err }
