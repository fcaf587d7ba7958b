package check

import (
	"context"
	"fmt"
	"slices"

	"github.com/mlready/mlready/labtest/observe"
	"github.com/mlready/mlready/labtest/report"
)

// MemoryRatio checks how much more memory the ML API's container needs than
// the traditional one's, after both served the same traffic.
type MemoryRatio struct{}

const (
	memoryTraffic  = 50
	memoryReadings = 3
)

// ID implements Check.
func (MemoryRatio) ID() string { return "memory-ratio" }

// Title implements Check.
func (MemoryRatio) Title() string { return "An ML service needs far more memory" }

// Lesson implements Check.
func (MemoryRatio) Lesson() string {
	return "A loaded model lives in memory: set container memory requests and limits from measurements, or the ML pod is OOM-killed."
}

// Threshold implements Check.
func (MemoryRatio) Threshold() report.Measure {
	return report.Measure{Name: "min_memory_ratio", Value: 10, Unit: "x"}
}

// Run implements Check.
func (MemoryRatio) Run(ctx context.Context, env *Env, threshold float64) Outcome {
	targets := []observe.Target{{Name: "traditional API", URL: env.Traditional.URL}, {Name: "ML API", URL: env.ML.URL}}
	if _, err := observe.Interleaved(ctx, env.Client, targets, env.Texts, memoryTraffic); err != nil {
		return failed("Sending traffic failed: " + err.Error())
	}
	trad, err := medianMemory(ctx, env.Traditional)
	if err != nil {
		return failed("Reading the traditional API's memory failed: " + err.Error())
	}
	ml, err := medianMemory(ctx, env.ML)
	if err != nil {
		return failed("Reading the ML API's memory failed: " + err.Error())
	}
	tradMiB, mlMiB := float64(trad)/(1<<20), float64(ml)/(1<<20)
	ratio := mlMiB / tradMiB
	out := Outcome{
		Measured: []report.Measure{mib("traditional_memory", tradMiB), mib("ml_memory", mlMiB), times("memory_ratio", ratio)},
		Passed:   ratio >= threshold,
		File:     env.ML.File,
	}
	if out.Passed {
		out.Message = fmt.Sprintf("Container memory: ML %.1f MiB, traditional %.1f MiB, %.1fx (at least %.0fx expected).", mlMiB, tradMiB, ratio, threshold)
	} else {
		out.Message = fmt.Sprintf("The ML API's container uses %.1f MiB, only %.1fx the traditional API's %.1f MiB; expected at least %.0fx. Is the model really loaded in the service?", mlMiB, ratio, tradMiB, threshold)
	}
	return out
}

func medianMemory(ctx context.Context, s *Service) (int64, error) {
	var vals []int64
	for range memoryReadings {
		v, err := s.Memory(ctx)
		if err != nil {
			return 0, err
		}
		vals = append(vals, v)
	}
	slices.Sort(vals)
	return vals[len(vals)/2], nil
}
