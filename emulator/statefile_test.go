//go:build unix

package emulator

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// newStatePath returns a state path in a fresh 0700 directory.
func newStatePath(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "totpemu")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "device.json")
}

func enroll(t *testing.T, path string, names ...string) {
	t.Helper()
	err := Update(path, func(s *State) error {
		for _, n := range names {
			a, err := NewAccount("Example", n, rfcSeed, SHA1, 6, 30)
			if err != nil {
				return err
			}
			if err := s.Add(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update(%s, enroll %v): %v", path, names, err)
	}
}

func perm(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestStateRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "xdg", "totpemu") // neither exists yet
	path := filepath.Join(dir, "device.json")
	if s, err := Load(path); err != nil || len(s.Accounts) != 0 {
		t.Fatalf("Load of a missing file = %v, %v; want an empty state", s, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load created %s", dir)
	}
	enroll(t, path, "alice")
	a256, err := NewAccount("", "bob", []byte("12345678901234567890123456789012"), SHA256, 8, 60)
	if err != nil {
		t.Fatal(err)
	}
	if err := Update(path, func(s *State) error { return s.Add(a256) }); err != nil {
		t.Fatal(err)
	}
	if got := perm(t, dir); got != 0o700 {
		t.Errorf("directory %s mode %04o, want 0700", dir, got)
	}
	if got := perm(t, filepath.Dir(dir)); got != 0o700 {
		t.Errorf("parent directory %s mode %04o, want 0700", filepath.Dir(dir), got)
	}
	for _, p := range []string{path, path + ".lock"} {
		if got := perm(t, p); got != 0o600 {
			t.Errorf("%s mode %04o, want 0600", p, got)
		}
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(labelsOf(s), ","); got != "Example:alice,bob" {
		t.Fatalf("Load = %s; want Example:alice,bob", got)
	}
	b := s.Accounts[1]
	if b.Algorithm != SHA256 || b.Digits != 8 || b.Period != 60 || b.CodeAtStep(7) != a256.CodeAtStep(7) {
		t.Errorf("reloaded %v code %q; want %v code %q", b, b.CodeAtStep(7), a256, a256.CodeAtStep(7))
	}
	raw, _ := os.ReadFile(path)
	var f struct {
		Version  int
		Accounts []map[string]any
	}
	if err := json.Unmarshal(raw, &f); err != nil || f.Version != 1 || len(f.Accounts) != 2 || f.Accounts[0]["secret"] != rfcSeedB32 {
		t.Errorf("file %s = %s; want version 1, two accounts, base32 secrets", path, raw)
	}
	// Remove through Update; fn's error writes nothing.
	if err := Update(path, func(s *State) error { _, err := s.Remove("bob"); return err }); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	wantErr := errors.New("changed my mind")
	if err := Update(path, func(s *State) error { s.Accounts = nil; return wantErr }); err != wantErr {
		t.Errorf("Update with failing fn = %v, want %v", err, wantErr)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("Update whose fn failed changed the file")
	}
}

func TestDefaultStatePath(t *testing.T) {
	t.Setenv("HOME", "/home/alice")
	t.Setenv(StateEnv, "")
	t.Setenv("XDG_CONFIG_HOME", "")
	check := func(flag, want string) {
		t.Helper()
		if got, err := DefaultStatePath(flag); err != nil || got != want {
			t.Errorf("DefaultStatePath(%q) with %s=%q XDG_CONFIG_HOME=%q = %q, %v; want %q",
				flag, StateEnv, os.Getenv(StateEnv), os.Getenv("XDG_CONFIG_HOME"), got, err, want)
		}
	}
	check("", "/home/alice/.config/totpemu/device.json")
	t.Setenv("XDG_CONFIG_HOME", "relative/dir") // ignored: not absolute
	check("", "/home/alice/.config/totpemu/device.json")
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	check("", "/xdg/totpemu/device.json")
	t.Setenv(StateEnv, "/env/state.json")
	check("", "/env/state.json")
	check("/flag/state.json", "/flag/state.json")
	t.Setenv(StateEnv, "")
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("HOME", "")
	if got, err := DefaultStatePath(""); err == nil {
		t.Errorf("DefaultStatePath with no HOME = %q; want error", got)
	}
}

// TestStateRefused covers every refusal: each leaves the file's bytes
// unchanged and names the path in the error, without the secret.
func TestStateRefused(t *testing.T) {
	valid := func(t *testing.T, path string) { enroll(t, path, "alice") }
	writeRaw := func(content string) func(*testing.T, string) {
		return func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	validJSON := func(t *testing.T) string {
		p := newStatePath(t)
		enroll(t, p, "alice")
		b, _ := os.ReadFile(p)
		return string(b)
	}
	root := os.Geteuid() == 0
	tests := []struct {
		name     string
		setup    func(t *testing.T, path string)
		problem  string // in the error
		needRoot bool
	}{
		{"file mode 0644", func(t *testing.T, p string) { valid(t, p); os.Chmod(p, 0o644) }, "mode 0644", false},
		{"file mode 0640", func(t *testing.T, p string) { valid(t, p); os.Chmod(p, 0o640) }, "mode 0640", false},
		{"file mode 0604", func(t *testing.T, p string) { valid(t, p); os.Chmod(p, 0o604) }, "mode 0604", false},
		{"dir mode 0750", func(t *testing.T, p string) { valid(t, p); os.Chmod(filepath.Dir(p), 0o750) }, "directory mode 0750", false},
		{"dir mode 0640", func(t *testing.T, p string) { valid(t, p); os.Chmod(filepath.Dir(p), 0o640) }, "directory mode 0640", true},
		{"dir mode 0701", func(t *testing.T, p string) { valid(t, p); os.Chmod(filepath.Dir(p), 0o701) }, "directory mode 0701", false},
		{"file is a symlink", func(t *testing.T, p string) {
			target := filepath.Join(filepath.Dir(p), "real.json")
			valid(t, target)
			os.Symlink(target, p)
		}, "symlink", false},
		{"dir is a symlink", func(t *testing.T, p string) {
			real := filepath.Join(filepath.Dir(filepath.Dir(p)), "real")
			os.Mkdir(real, 0o700)
			valid(t, filepath.Join(real, "device.json"))
			os.Remove(filepath.Dir(p))
			os.Symlink(real, filepath.Dir(p))
		}, "symlink", false},
		{"lock file is a symlink", func(t *testing.T, p string) {
			valid(t, p)
			os.Remove(p + ".lock")
			os.Symlink(filepath.Join(filepath.Dir(p), "elsewhere"), p+".lock")
		}, "symlink", false},
		{"directory at the path", func(t *testing.T, p string) { os.Mkdir(p, 0o700) }, "is a directory", false},
		{"fifo at the path", func(t *testing.T, p string) { syscall.Mkfifo(p, 0o600) }, "not a regular file", false},
		{"file owned by uid 65534", func(t *testing.T, p string) { valid(t, p); os.Chown(p, 65534, 65534) }, "owned by uid 65534", true},
		{"dir owned by uid 65534", func(t *testing.T, p string) { valid(t, p); os.Chown(filepath.Dir(p), 65534, 65534) }, "owned by uid 65534", true},
		{"newer version", writeRaw(`{"version":2,"accounts":[],"devices":{}}`), "version 2 is newer", false},
		{"version 0", writeRaw(`{"version":0,"accounts":[]}`), "version 0", false},
		{"no version", writeRaw(`{"accounts":[]}`), "no version", false},
		{"corrupt", writeRaw(`{"version":1,"accounts":[}`), "corrupt", false},
		{"not JSON", writeRaw("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), "corrupt", false},
		{"empty", writeRaw(""), "truncated", false},
		{"truncated", func(t *testing.T, p string) { j := validJSON(t); writeRaw(j[:len(j)/2])(t, p) }, "truncated", false},
		{"trailing data", func(t *testing.T, p string) { writeRaw(validJSON(t)+"{}")(t, p) }, "corrupt", false},
		{"unknown field", writeRaw(`{"version":1,"accounts":[],"extra":1}`), "unknown field", false},
		{"bad secret", writeRaw(`{"version":1,"accounts":[{"name":"a","algorithm":"SHA1","digits":6,"period":30,"secret":"GEZDGNBVGY3TQOJ1GEZDGNBV"}]}`), "base32", false},
		{"short secret", writeRaw(`{"version":1,"accounts":[{"name":"a","algorithm":"SHA1","digits":6,"period":30,"secret":"GEZDGNBV"}]}`), "bits", false},
		{"digits 9", writeRaw(`{"version":1,"accounts":[{"name":"a","algorithm":"SHA1","digits":9,"period":30,"secret":"` + rfcSeedB32 + `"}]}`), "digits 9", false},
		{"algorithm MD5", writeRaw(`{"version":1,"accounts":[{"name":"a","algorithm":"MD5","digits":6,"period":30,"secret":"` + rfcSeedB32 + `"}]}`), "MD5", false},
		{"duplicate label", writeRaw(`{"version":1,"accounts":[{"name":"a","algorithm":"SHA1","digits":6,"period":30,"secret":"` + rfcSeedB32 + `"},{"name":"a","algorithm":"SHA1","digits":6,"period":30,"secret":"` + rfcSeedB32 + `"}]}`), "already exists", false},
		{"secret as number", writeRaw(`{"version":1,"accounts":[{"name":"a","algorithm":"SHA1","digits":6,"period":30,"secret":12}]}`), "secret", false},
		{"too large", writeRaw(`{"version":1,"accounts":[]}` + strings.Repeat(" ", MaxStateBytes)), "larger than", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needRoot && !root {
				t.Skip("needs root (to chown to another user, or to enter a 0640 directory)")
			}
			path := newStatePath(t)
			tt.setup(t, path)
			before := snapshot(t, filepath.Dir(path))
			for _, op := range []struct {
				name string
				run  func() error
			}{
				{"Load", func() error { _, err := Load(path); return err }},
				{"Update", func() error {
					return Update(path, func(s *State) error {
						a, _ := NewAccount("X", "new", rfcSeed, SHA1, 6, 30)
						return s.Add(a)
					})
				}},
			} {
				err := op.run()
				var se *StateError
				if !errors.As(err, &se) {
					t.Fatalf("%s(%s) error = %v; want a *StateError", op.name, tt.name, err)
				}
				msg := err.Error()
				if !strings.Contains(msg, tt.problem) || !strings.Contains(msg, filepath.Dir(path)) {
					t.Errorf("%s(%s) error %q; want it to name the path and say %q", op.name, tt.name, msg, tt.problem)
				}
				if strings.Contains(msg, rfcSeedB32[:16]) || strings.Contains(se.Hint, rfcSeedB32[:16]) {
					t.Errorf("%s(%s) error %q contains the secret", op.name, tt.name, msg)
				}
				if se.Hint == "" {
					t.Errorf("%s(%s) error %q has no hint", op.name, tt.name, msg)
				}
				if after := snapshot(t, filepath.Dir(path)); after != before {
					t.Errorf("%s(%s) changed the directory:\nbefore %s\nafter  %s", op.name, tt.name, before, after)
				}
			}
		})
	}
}

// snapshot describes a directory, its parent and their entries: names,
// modes, owners, sizes, a hash of the content, symlink targets. Empty lock
// files are left out.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	var walk func(d string, depth int)
	walk = func(d string, depth int) {
		fi, err := os.Lstat(d)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", d, err)
			return
		}
		if strings.HasSuffix(d, ".lock") && fi.Mode().IsRegular() && fi.Size() == 0 {
			return // the (empty) lock file may be created by a refused Load or Update
		}
		st := fi.Sys().(*syscall.Stat_t)
		fmt.Fprintf(&b, "%s %v uid=%d ", filepath.Base(d), fi.Mode(), st.Uid)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(d)
			fmt.Fprintf(&b, "-> %s\n", target)
		case fi.Mode().IsRegular():
			data, _ := os.ReadFile(d)
			fmt.Fprintf(&b, "%d bytes %x\n", len(data), hashBytes(data))
		case fi.IsDir() && depth < 2:
			b.WriteString("\n")
			ents, _ := os.ReadDir(d)
			for _, e := range ents {
				walk(filepath.Join(d, e.Name()), depth+1)
			}
		default:
			b.WriteString("\n")
		}
	}
	walk(filepath.Dir(dir), 0) // the parent too: symlinked directories point beside it
	return b.String()
}

func hashBytes(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

// failAfter fails every write once n bytes have gone through, as a full
// disk does.
type failAfter struct {
	w io.Writer
	n int
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) <= f.n {
		f.n -= len(p)
		return f.w.Write(p)
	}
	k, _ := f.w.Write(p[:f.n])
	f.n = 0
	return k, syscall.ENOSPC
}

func TestStateWriteFailsPartWay(t *testing.T) {
	path := newStatePath(t)
	enroll(t, path, "alice", "bob")
	before, _ := os.ReadFile(path)
	for _, n := range []int{0, 1, 100, len(before)} {
		stateWriteHook = func(w io.Writer) io.Writer { return &failAfter{w: w, n: n} }
		err := Update(path, func(s *State) error {
			a, _ := NewAccount("Example", "carol", rfcSeed, SHA1, 6, 30)
			return s.Add(a)
		})
		stateWriteHook = nil
		if !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("Update with the disk full after %d bytes = %v; want ENOSPC", n, err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
			t.Errorf("disk full after %d bytes: the file changed", n)
		}
		if s, err := Load(path); err != nil || strings.Join(labelsOf(s), ",") != "Example:alice,Example:bob" {
			t.Errorf("disk full after %d bytes: Load = %v, %v; want the previous two accounts", n, s, err)
		}
		ents, _ := os.ReadDir(filepath.Dir(path))
		for _, e := range ents {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Errorf("disk full after %d bytes: temporary file %s left behind", n, e.Name())
			}
		}
	}
}

func childCommand(ctx context.Context, t *testing.T, action, path string, index int) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+action, childStateEnv+"="+path, childIndexEnv+"="+strconv.Itoa(index))
	return cmd
}

// TestStateConcurrentEnrollment runs 20 processes that each enroll one
// account at the same time: the lock across read-modify-write loses none.
func TestStateConcurrentEnrollment(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 20 processes")
	}
	path := newStatePath(t)
	enroll(t, path, "first")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // a safety net, not a wait
	defer cancel()
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	outs := make([][]byte, n)
	for i := range n {
		wg.Go(func() {
			outs[i], errs[i] = childCommand(ctx, t, "enroll", path, i).CombinedOutput()
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("child %d: %v: %s", i, errs[i], outs[i])
		}
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, l := range labelsOf(s) {
		have[l] = true
	}
	if len(s.Accounts) != n+1 || !have["Example:first"] {
		t.Errorf("after %d concurrent enrollments: %d accounts %v; want %d", n, len(s.Accounts), labelsOf(s), n+1)
	}
	for i := range n {
		if l := fmt.Sprintf("Child:acct-%02d", i); !have[l] {
			t.Errorf("account %s lost", l)
		}
	}
}

// TestStateKilledMidWrite kills a process while it writes a big state
// (after part of the temporary file is on disk): the previous file stays
// intact and readable, and the next Update removes the leftover.
func TestStateKilledMidWrite(t *testing.T) {
	path := newStatePath(t)
	enroll(t, path, "alice")
	before, _ := os.ReadFile(path)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // a safety net, not a wait
	defer cancel()
	cmd := childCommand(ctx, t, "stall-write", path, 0)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != stallMarker {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q, %v; want %q (stderr: %s)", line, err, stallMarker, stderr.String())
	}
	var temps []string
	ents, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tempPrefix(path)) {
			temps = append(temps, e.Name())
		}
	}
	if len(temps) != 1 {
		t.Errorf("while the child writes: temporary files %v; want one", temps)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	werr := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want killed by SIGKILL (stderr: %s)", werr, stderr.String())
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Errorf("after the kill the file changed")
	}
	s, err := Load(path) // the dead child's lock is gone with it
	if err != nil || strings.Join(labelsOf(s), ",") != "Example:alice" {
		t.Fatalf("after the kill Load = %v, %v; want the previous account", s, err)
	}
	enroll(t, path, "bob")
	ents, _ = os.ReadDir(filepath.Dir(path))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tempPrefix(path)) {
			t.Errorf("after the next Update the leftover %s is still there", e.Name())
		}
	}
}

// TestStateHintSharedDir is the regression test for "hint: chmod 700
// /tmp" given for --state /tmp/x.json: a directory others share (sticky,
// or not this user's) is never to be chmod-ed; the hint names a private
// directory instead. The user's own open directory still gets chmod 700.
func TestStateHintSharedDir(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mode     os.FileMode
		wantHint string
		refuse   string
	}{
		{"sticky 1777", 0o777 | os.ModeSticky, "private directory", "chmod"},
		{"own 0777", 0o777, "chmod 700 ", "private"},
		{"own 0750", 0o750, "chmod 700 ", "private"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "shared")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tc.mode); err != nil {
				t.Fatal(err)
			}
			_, err := Load(filepath.Join(dir, "x.json"))
			var se *StateError
			if !errors.As(err, &se) {
				t.Fatalf("Load in a %v directory: %v; want a *StateError", tc.mode, err)
			}
			if !strings.Contains(se.Hint, tc.wantHint) || strings.Contains(se.Hint, tc.refuse) {
				t.Errorf("Load in a %v directory: hint %q; want %q and no %q", tc.mode, se.Hint, tc.wantHint, tc.refuse)
			}
		})
	}
}

// TestStateHintNewerVersion is the regression test for a newer totpemu's
// state file getting the hint "restore it from a backup": the file is
// fine, this totpemu is old.
func TestStateHintNewerVersion(t *testing.T) {
	path := newStatePath(t)
	if err := os.WriteFile(path, []byte(`{"version":99,"accounts":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	var se *StateError
	if !errors.As(err, &se) || !errors.Is(err, ErrNewerState) {
		t.Fatalf("Load(version 99) = %v; want a *StateError wrapping ErrNewerState", err)
	}
	if !strings.Contains(se.Hint, "newer totpemu") || strings.Contains(se.Hint, "backup") {
		t.Errorf("Load(version 99): hint %q; want it to name the newer totpemu, not a backup", se.Hint)
	}
}
