package observe

import (
	"math"
	"slices"
	"time"
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
// none.
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
		P50:    quantile(ms, 0.50),
		P95:    quantile(ms, 0.95),
		P99:    quantile(ms, 0.99),
		Max:    ms[len(ms)-1],
		Mean:   mean,
		StdDev: math.Sqrt(sq / float64(len(ms))),
	}
}

// quantile of sorted values, interpolating linearly between neighbours.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	frac := pos - float64(lo)
	return sorted[lo]*(1-frac) + sorted[hi]*frac
}
