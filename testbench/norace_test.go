//go:build !race

package testbench

const raceEnabled = false
