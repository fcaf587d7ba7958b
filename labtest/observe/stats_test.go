package observe_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/mlready/mlready/labtest/observe"
)

func millis(vs ...float64) []time.Duration {
	out := make([]time.Duration, len(vs))
	for i, v := range vs {
		out[i] = time.Duration(v * float64(time.Millisecond))
	}
	return out
}

func TestSummarise(t *testing.T) {
	oneToHundred := make([]float64, 100)
	for i := range oneToHundred {
		oneToHundred[i] = float64(i + 1)
	}
	tests := []struct {
		name string
		in   []time.Duration
		want observe.Stats
	}{
		{"no latencies", nil, observe.Stats{}},
		{"empty slice", []time.Duration{}, observe.Stats{}},
		{"one latency", millis(7), observe.Stats{N: 1, P50: 7, P95: 7, P99: 7, Max: 7, Mean: 7, StdDev: 0}},
		{
			"five, interpolated between neighbours", millis(1, 2, 3, 4, 5),
			observe.Stats{N: 5, P50: 3, P95: 4.8, P99: 4.96, Max: 5, Mean: 3, StdDev: math.Sqrt2},
		},
		{
			"unsorted input is sorted first", millis(10, 1, 4),
			observe.Stats{N: 3, P50: 4, P95: 9.4, P99: 9.88, Max: 10, Mean: 5, StdDev: math.Sqrt(14)},
		},
		{
			"1..100 ms", millis(oneToHundred...),
			observe.Stats{N: 100, P50: 50.5, P95: 95.05, P99: 99.01, Max: 100, Mean: 50.5, StdDev: math.Sqrt((100*100 - 1) / 12.0)},
		},
		{
			"sub-millisecond latencies keep their precision", millis(0.25, 0.75),
			observe.Stats{N: 2, P50: 0.5, P95: 0.725, P99: 0.745, Max: 0.75, Mean: 0.5, StdDev: 0.25},
		},
		{
			"one outlier moves the tail, not the median", millis(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 101),
			observe.Stats{N: 20, P50: 1, P95: 6, P99: 82, Max: 101, Mean: 6, StdDev: math.Sqrt(475)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := observe.Summarise(tt.in)
			assert.Equal(t, tt.want.N, got.N, "N")
			for _, f := range []struct {
				name      string
				want, got float64
			}{
				{"P50", tt.want.P50, got.P50}, {"P95", tt.want.P95, got.P95}, {"P99", tt.want.P99, got.P99},
				{"Max", tt.want.Max, got.Max}, {"Mean", tt.want.Mean, got.Mean}, {"StdDev", tt.want.StdDev, got.StdDev},
			} {
				assert.InDelta(t, f.want, f.got, 1e-9, f.name)
			}
		})
	}
}
