//go:build race

package scanner

// raceEnabled: under the race detector, tests that are pure computation
// over large images (4K and 1440p screenshots, margin sweeps of some
// hundred decodes, peak memory, which the detector's shadow memory would
// distort anyway) are left to the plain run; CI runs both.
const raceEnabled = true
