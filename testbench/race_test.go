//go:build race

package testbench

// raceEnabled: under the race detector the matrix runs its stratified
// subset, as with -short (the full 864 take minutes there).
const raceEnabled = true
