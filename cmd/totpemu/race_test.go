//go:build race

package main

// raceEnabled: under the race detector, script lines marked [!race] (the
// camera margin sweeps, pure computation of some hundred decodes) are left
// to the plain run; CI runs both.
const raceEnabled = true
