// Package quantile is the one definition of a percentile that the lab
// (labtest/observe) and the serving benchmark (apis/ml/bench) share, so
// that a p95 in the lab's report and one in the benchmark's table mean the
// same thing. It lives outside apis/ and labtest/ because neither may import
// the other.
//
// The definition is linear interpolation between the two nearest ranks:
// Hyndman and Fan's definition 7, the default of NumPy (method "linear"),
// of R's quantile() and of spreadsheets' PERCENTILE.INC. The lab's
// thresholds were set and measured with it. The maintained Go libraries do
// not offer it: gonum's stat.Quantile has the empirical CDF (nearest rank)
// and LinInterp (Hyndman and Fan 4, which puts 1..5's p95 at 4.75, not
// 4.8), and HdrHistogram answers from buckets, to a number of significant
// digits. Switching the lab to either would move its measured p95s, and
// with them grades near a threshold.
package quantile

import (
	"math"
	"slices"
	"time"
)

// Linear returns the q-quantile of sorted, which must be in ascending
// order: the value at rank q*(n-1), interpolated linearly between its two
// neighbours. q is clamped to [0, 1]; for no values it is NaN.
func Linear(sorted []float64, q float64) float64 {
	if len(sorted) == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	q = min(max(q, 0), 1)
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	frac := pos - float64(lo)
	return sorted[lo]*(1-frac) + sorted[hi]*frac
}

// Durations returns the q-quantile of ds, in any order, by Linear, to the
// nanosecond; 0 for none. ds is not changed.
func Durations(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := make([]float64, len(ds))
	for i, d := range ds {
		s[i] = float64(d)
	}
	slices.Sort(s)
	return time.Duration(math.Round(Linear(s, q)))
}
