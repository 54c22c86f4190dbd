//go:build unix

package emulator

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// stateWriteHook, when set by a test, wraps the writer of the temporary
// file, to inject a failing or stalling write.
var stateWriteHook func(io.Writer) io.Writer

const untouched = "the file was left untouched; restore it from a backup, or move it away to start with an empty device"

// Load reads the state file at path under a shared lock. A file (or
// directory) that does not exist yet is an empty State. Everything the
// package doc lists as refused is refused with a *StateError.
func Load(path string) (*State, error) {
	dir := filepath.Dir(path)
	exists, err := checkDir(dir)
	if err != nil {
		return nil, err
	}
	if !exists {
		return &State{}, nil
	}
	unlock, err := lockState(path, syscall.LOCK_SH)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return readState(path)
}

// Update reads the state file at path, calls fn with it and, if fn
// returns nil, writes the result back atomically. An exclusive lock is
// held from the read to the rename, so concurrent Updates (other
// processes enrolling) serialise and lose nothing. The directory is
// created 0700 and the file 0600 when missing. If fn returns an error,
// nothing is written and that error is returned.
func Update(path string, fn func(*State) error) error {
	dir := filepath.Dir(path)
	exists, err := checkDir(dir)
	if err != nil {
		return err
	}
	if !exists {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return &StateError{Path: dir, Problem: "cannot create the directory", Err: unwrapPath(err)}
		}
		if _, err := checkDir(dir); err != nil {
			return err
		}
	}
	unlock, err := lockState(path, syscall.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	removeStaleTemps(path)
	s, err := readState(path)
	if err != nil {
		return err
	}
	if err := fn(s); err != nil {
		return err
	}
	data, err := encodeState(s)
	if err != nil {
		return &StateError{Path: path, Problem: "cannot encode the state", Err: err}
	}
	if len(data) > MaxStateBytes {
		return &StateError{Path: path, Problem: fmt.Sprintf("the new state is %d bytes, more than the %d kept", len(data), MaxStateBytes)}
	}
	return writeAtomic(path, data)
}

// readState opens path without following a symlink, checks what it is,
// and decodes it. A missing file is an empty State.
func readState(path string) (*State, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return &State{}, nil
		}
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, symlinkError(path)
		}
		return nil, &StateError{Path: path, Problem: "cannot open", Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &StateError{Path: path, Problem: "cannot stat", Err: unwrapPath(err)}
	}
	if err := checkFile(path, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxStateBytes+1))
	if err != nil {
		return nil, &StateError{Path: path, Problem: "cannot read", Err: unwrapPath(err)}
	}
	if len(data) > MaxStateBytes {
		return nil, &StateError{Path: path, Problem: fmt.Sprintf("larger than %d bytes: not a totpemu state file", MaxStateBytes), Hint: untouched}
	}
	s, err := decodeState(data)
	if errors.Is(err, ErrNewerState) {
		return nil, &StateError{Path: path, Problem: strings.TrimSuffix(err.Error(), ": "+ErrNewerState.Error()), Err: ErrNewerState,
			Hint: "the file was left untouched; read it with the newer totpemu that wrote it (or upgrade this one), or give another path with --state"}
	}
	if err != nil {
		return nil, &StateError{Path: path, Problem: err.Error(), Hint: untouched}
	}
	return s, nil
}

// checkDir checks the directory that holds the state file: a real
// directory (not a symlink), owned by this user, with no group or other
// permission bits. It reports false, nil when it does not exist.
func checkDir(dir string) (bool, error) {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, &StateError{Path: dir, Problem: "cannot stat the directory", Err: unwrapPath(err)}
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return false, &StateError{Path: dir, Problem: "the directory is a symlink, which is refused (it could point anywhere)",
			Hint: "give the real directory's path with --state"}
	case !fi.IsDir():
		return false, &StateError{Path: dir, Problem: "is not a directory", Hint: "choose another path with --state"}
	case fi.Mode().Perm()&0o077 != 0:
		hint := "chmod 700 " + dir
		if shared(fi) {
			// Never advise opening or closing a directory others use
			// (/tmp): the state file belongs in a private one.
			private := filepath.Join(dir, fmt.Sprintf("totpemu-%d", os.Geteuid()))
			hint = fmt.Sprintf("%s is shared with others: keep the state file in a private directory: leave out --state for the default, or mkdir -m 700 %s and give --state %s",
				dir, private, filepath.Join(private, "device.json"))
		}
		return false, &StateError{Path: dir, Problem: fmt.Sprintf("directory mode %04o lets group or others in; it holds secrets", fi.Mode().Perm()),
			Hint: hint}
	}
	if err := checkOwner(dir, fi); err != nil {
		return false, err
	}
	return true, nil
}

// checkFile checks an open state or lock file: a regular file owned by
// this user with no group or other permission bits (as ssh and
// pam_google_authenticator demand of their secrets).
func checkFile(path string, fi fs.FileInfo) error {
	switch {
	case fi.IsDir():
		return &StateError{Path: path, Problem: "is a directory where the state file should be",
			Hint: "remove or rename the directory, or choose another path with --state"}
	case !fi.Mode().IsRegular():
		return &StateError{Path: path, Problem: fmt.Sprintf("is not a regular file (%v)", fi.Mode().Type()),
			Hint: "choose another path with --state"}
	case fi.Mode().Perm()&0o077 != 0:
		return &StateError{Path: path, Problem: fmt.Sprintf("mode %04o lets group or others access it; it holds secrets", fi.Mode().Perm()),
			Hint: "chmod 600 " + path}
	}
	return checkOwner(path, fi)
}

// shared reports whether a directory is one others share: sticky (as
// /tmp) or not owned by this user.
func shared(fi fs.FileInfo) bool {
	if fi.Mode()&fs.ModeSticky != 0 {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || int(st.Uid) != os.Geteuid()
}

func checkOwner(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return &StateError{Path: path, Problem: "cannot tell its owner"}
	}
	if euid := os.Geteuid(); int(st.Uid) != euid {
		return &StateError{Path: path, Problem: fmt.Sprintf("owned by uid %d, not by you (uid %d)", st.Uid, euid),
			Hint: "use your own state file (--state), or have its owner fix it"}
	}
	return nil
}

func symlinkError(path string) error {
	return &StateError{Path: path, Problem: "is a symlink, which is refused (it could point anywhere)",
		Hint: "replace it with the file itself, or give the real path with --state"}
}

// lockState takes a flock (LOCK_SH or LOCK_EX) on PATH.lock, creating it
// 0600, and returns the function that releases it.
func lockState(path string, how int) (func(), error) {
	lp := path + ".lock"
	fd, err := syscall.Open(lp, syscall.O_RDWR|syscall.O_CREAT|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		if fi, lerr := os.Lstat(lp); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, symlinkError(lp)
		}
		return nil, &StateError{Path: lp, Problem: "cannot open the lock file", Err: err}
	}
	f := os.NewFile(uintptr(fd), lp)
	fi, err := f.Stat()
	if err == nil {
		err = checkFile(lp, fi)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, &StateError{Path: lp, Problem: "cannot lock", Err: err}
	}
	return func() { f.Close() }, nil
}

// tempPrefix is the name prefix of the temporary files beside path.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// writeAtomic replaces path with data: a temporary file in the same
// directory, written, fsynced, renamed over path, then the directory
// fsynced. On any failure the temporary file is removed and path is as it
// was.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return &StateError{Path: dir, Problem: "cannot create a temporary file", Err: unwrapPath(err)}
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(name)
		}
	}()
	var w io.Writer = tmp
	if stateWriteHook != nil {
		w = stateWriteHook(tmp)
	}
	failed := func(what string, e error) error {
		return &StateError{Path: path, Problem: what + " failed; the previous file is intact", Err: unwrapPath(e)}
	}
	if _, err := w.Write(data); err != nil {
		return failed("writing the new state", err)
	}
	if err := tmp.Sync(); err != nil {
		return failed("fsync of the new state", err)
	}
	if err := tmp.Close(); err != nil {
		return failed("closing the new state", err)
	}
	if err := os.Rename(name, path); err != nil {
		return failed("renaming the new state into place", err)
	}
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return &StateError{Path: dir, Problem: "fsync of the directory failed; the new state may not survive a crash", Err: unwrapPath(err)}
		}
	}
	return nil
}

// removeStaleTemps removes temporary files left by writers that died
// mid-write (they hold secrets). Called under the exclusive lock, when no
// writer can be active.
func removeStaleTemps(path string) {
	dir := filepath.Dir(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := tempPrefix(path)
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// unwrapPath drops the *fs.PathError wrapper, whose path the StateError
// already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
