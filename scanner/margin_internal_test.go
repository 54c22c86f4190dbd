package scanner

import (
	"errors"
	"testing"
)

// TestFirstFailure: the strided search finds the same first failure as
// trying every value, for every position of the failure, and counts fewer
// decodes on long sweeps.
func TestFirstFailure(t *testing.T) {
	for n := 0; n <= 13; n++ {
		values := make([]float64, n)
		for i := range values {
			values[i] = float64(i)
		}
		for fail := 0; fail <= n; fail++ {
			calls := 0
			got, err := firstFailure(values, func(v float64) (bool, error) {
				calls++
				return int(v) < fail, nil
			})
			if err != nil || got != fail {
				t.Errorf("n=%d fail=%d: firstFailure = %d, %v; want %d", n, fail, got, err, fail)
			}
			if calls > n/sweepStride+sweepStride+1 {
				t.Errorf("n=%d fail=%d: %d decodes, want at most %d", n, fail, calls, n/sweepStride+sweepStride+1)
			}
		}
	}
	boom := errors.New("boom")
	if _, err := firstFailure([]float64{0, 1, 2}, func(float64) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Errorf("error from decodes: got %v", err)
	}
}
