//go:build !race

package scanner

// raceEnabled is false: every test runs whole (see race_test.go).
const raceEnabled = false
