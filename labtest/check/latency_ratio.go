package check

import (
	"context"
	"fmt"

	"github.com/mlready/mlready/labtest/observe"
	"github.com/mlready/mlready/labtest/report"
)

// LatencyRatio checks how much slower the ML API answers than the
// traditional one, one request at a time, after warm-up.
type LatencyRatio struct{}

// Sample sizes: warm-up rounds are sent and not counted.
const (
	latencyWarmup = 20
	latencyRounds = 200
)

// Info implements Check.
func (LatencyRatio) Info() Info {
	return Info{
		ID:        "latency-ratio",
		Title:     "ML inference is much slower than a rule",
		Lesson:    "Every ML request runs a model: budget latency and capacity for it, and do not size ML services like ordinary web services.",
		Threshold: report.Threshold{Name: "min_median_ratio", Value: 10, Unit: "x", Direction: report.AtLeast, Min: 1, Max: 1000},
	}
}

// Run implements Check.
func (LatencyRatio) Run(ctx context.Context, env *Env, threshold float64) Outcome {
	targets := []observe.Target{{Name: "traditional API", URL: env.Traditional.URL}, {Name: "ML API", URL: env.ML.URL}}
	if _, err := observe.Interleaved(ctx, env.Client, targets, env.Texts, latencyWarmup); err != nil {
		return failed("Warm-up failed: " + err.Error())
	}
	lat, err := observe.Interleaved(ctx, env.Client, targets, env.Texts, latencyRounds)
	if err != nil {
		return failed("Measuring latency failed: " + err.Error())
	}
	trad, ml := observe.Summarise(lat[0]), observe.Summarise(lat[1])
	ratio := ml.P50 / trad.P50
	measured := []report.Measure{ms("p50", trad.P50).Of(report.Traditional), ms("p50", ml.P50).Of(report.ML), times("median_ratio", ratio), count("samples_each", trad.N)}
	out := Outcome{Measured: measured, Passed: ratio >= threshold, File: env.ML.File}
	if out.Passed {
		out.Message = fmt.Sprintf("Median latency: ML %.2f ms, traditional %.2f ms, %.1fx (at least %.0fx expected).", ml.P50, trad.P50, ratio, threshold)
	} else {
		out.Message = fmt.Sprintf("The ML API's median latency (%.2f ms) is only %.1fx the traditional API's (%.2f ms); expected at least %.0fx. Is it really running a model?", ml.P50, ratio, trad.P50, threshold)
	}
	return out
}
