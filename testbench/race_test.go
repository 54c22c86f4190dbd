//go:build race

package testbench_test

// raceEnabled: under the race detector, tests that only cost time run as
// with -short: the matrix its stratified subset, the random policies 60,
// the time-driven scenarios a sample of windows; the real-time server
// clock test is skipped (the detector's slowdown would read as network
// delay). CI's plain run has them whole.
const raceEnabled = true
