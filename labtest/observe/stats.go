package observe

import (
	"math"
	"slices"
	"time"

	"github.com/mlready/mlready/internal/quantile"
)

// Stats summarises a set of latencies, in milliseconds.
type Stats struct {
	N      int
	P50    float64
	P95    float64
	P99    float64
	Max    float64
	Mean   float64
	StdDev float64
}

// Summarise computes Stats over latencies; it returns the zero Stats for
// none. Its percentiles are quantile.Linear's, the benchmark's too.
func Summarise(latencies []time.Duration) Stats {
	if len(latencies) == 0 {
		return Stats{}
	}
	ms := make([]float64, len(latencies))
	var sum float64
	for i, d := range latencies {
		ms[i] = float64(d.Nanoseconds()) / 1e6
		sum += ms[i]
	}
	slices.Sort(ms)
	mean := sum / float64(len(ms))
	var sq float64
	for _, v := range ms {
		sq += (v - mean) * (v - mean)
	}
	return Stats{
		N:      len(ms),
		P50:    quantile.Linear(ms, 0.50),
		P95:    quantile.Linear(ms, 0.95),
		P99:    quantile.Linear(ms, 0.99),
		Max:    ms[len(ms)-1],
		Mean:   mean,
		StdDev: math.Sqrt(sq / float64(len(ms))),
	}
}
