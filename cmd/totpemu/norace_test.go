//go:build !race

package main

// raceEnabled is false: every script line runs (see race_test.go).
const raceEnabled = false
