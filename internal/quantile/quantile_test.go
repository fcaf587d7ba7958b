package quantile_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/mlready/mlready/internal/quantile"
)

func TestLinear(t *testing.T) {
	oneToHundred := make([]float64, 100)
	for i := range oneToHundred {
		oneToHundred[i] = float64(i + 1)
	}
	tests := []struct {
		name   string
		sorted []float64
		q      float64
		want   float64
	}{
		{"one value", []float64{7}, 0.95, 7},
		{"median of an odd count is the middle", []float64{1, 2, 3, 4, 5}, 0.5, 3},
		{"median of an even count is the mean of the middle two", []float64{1, 2, 3, 4}, 0.5, 2.5},
		// NumPy: np.percentile([1,2,3,4,5], 95) == 4.8; nearest rank would say 5.
		{"p95 of 1..5 interpolates", []float64{1, 2, 3, 4, 5}, 0.95, 4.8},
		{"p95 of 1..100 as NumPy", oneToHundred, 0.95, 95.05},
		{"p99 of 1..100 as NumPy", oneToHundred, 0.99, 99.01},
		{"q 0 is the minimum", []float64{3, 9}, 0, 3},
		{"q 1 is the maximum", []float64{3, 9}, 1, 9},
		{"q above 1 is clamped", []float64{3, 9}, 1.5, 9},
		{"q below 0 is clamped", []float64{3, 9}, -1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDelta(t, tt.want, quantile.Linear(tt.sorted, tt.q), 1e-9)
		})
	}
	assert.True(t, math.IsNaN(quantile.Linear(nil, 0.5)), "no values: NaN, not a panic")
	assert.True(t, math.IsNaN(quantile.Linear([]float64{1}, math.NaN())))
}

func TestDurations(t *testing.T) {
	ds := []time.Duration{5 * time.Millisecond, time.Millisecond, 3 * time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond}
	assert.Equal(t, 4800*time.Microsecond, quantile.Durations(ds, 0.95), "in any order, interpolated")
	assert.Equal(t, 5*time.Millisecond, ds[0], "the input is not sorted in place")
	assert.Zero(t, quantile.Durations(nil, 0.95))
}
