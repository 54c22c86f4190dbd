// Package testenv holds helpers shared by tests: finding the outside
// programs some tests need (chronyd, Chromium) and deciding whether their
// absence is a skip or, in CI, a failure.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// RequireExternalEnv names the variable that turns a missing outside program
// from a skip into a failure. .ci/run sets it to 1.
const RequireExternalEnv = "TOTPEMU_REQUIRE_EXTERNAL"

// Required reports whether missing outside programs must fail tests.
func Required() bool { return os.Getenv(RequireExternalEnv) == "1" }

// LookPath returns the path of the first of names found on PATH (or given as
// an absolute path that exists). When none is found the test is skipped with
// the reason, or failed when RequireExternalEnv is 1.
func LookPath(t testing.TB, why string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	Missing(t, why+": none of "+joinNames(names)+" is installed")
	return ""
}

// Missing skips the test with reason, or fails it when outside programs are
// required.
func Missing(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s (%s=1, so this is a failure, not a skip)", reason, RequireExternalEnv)
	}
	t.Skip(reason)
}

func joinNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}
