//go:build !race

package testbench_test

const raceEnabled = false
