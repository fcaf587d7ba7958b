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

// Info implements Check.
func (MemoryRatio) Info() Info {
	return Info{
		ID:        "memory-ratio",
		Title:     "An ML service needs far more memory",
		Lesson:    "A loaded model lives in memory: set container memory requests and limits from measurements, or the ML pod is OOM-killed.",
		Threshold: report.Threshold{Name: "min_memory_ratio", Value: 10, Unit: "x", Direction: report.AtLeast, Min: 1, Max: 1000},
	}
}

// Run implements Check. It judges private memory, the anonymous memory
// the service's processes allocated (heap, stacks): that is where a loaded
// model lives. The `docker stats` figure is reported beside it, but it also
// counts page cache (the model file read from a volume, the binary), which
// moves with how the file was stored and read, not with what the service
// needs.
func (MemoryRatio) Run(ctx context.Context, env *Env, threshold float64) Outcome {
	targets := []observe.Target{{Name: "traditional API", URL: env.Traditional.URL}, {Name: "ML API", URL: env.ML.URL}}
	if _, err := observe.Interleaved(ctx, env.Client, targets, env.Texts, memoryTraffic); err != nil {
		return failed("Sending traffic failed: " + err.Error())
	}
	var mem [2][2]float64 // [traditional, ml][private, docker stats], MiB
	for i, s := range []*API{env.Traditional, env.ML} {
		// The judged figure is the median of three readings; the reported
		// one is read once (each reading takes the engine about a second).
		for j, read := range []func(context.Context) (int64, error){s.PrivateMemory, s.Memory} {
			v, err := medianMemory(ctx, read, []int{memoryReadings, 1}[j])
			if err != nil {
				return failed(fmt.Sprintf("Reading the %s's memory failed: %v", []string{"traditional API", "ML API"}[i], err))
			}
			mem[i][j] = float64(v) / (1 << 20)
		}
	}
	trad, ml := mem[0][0], mem[1][0]
	ratio := ml / trad
	statsRatio := mem[1][1] / mem[0][1]
	out := Outcome{
		Measured: []report.Measure{
			mib("private_memory", trad).Of(report.Traditional), mib("private_memory", ml).Of(report.ML), times("memory_ratio", ratio),
			mib("memory", mem[0][1]).Of(report.Traditional), mib("memory", mem[1][1]).Of(report.ML), times("docker_stats_ratio", statsRatio),
		},
		Passed: ratio >= threshold,
		File:   env.ML.File,
	}
	if out.Passed {
		out.Message = fmt.Sprintf("Private memory: ML %.1f MiB, traditional %.1f MiB, %.1fx (at least %.0fx expected); docker stats shows %.1f and %.1f MiB.", ml, trad, ratio, threshold, mem[1][1], mem[0][1])
	} else {
		out.Message = fmt.Sprintf("The ML API's processes use %.1f MiB of private memory, only %.1fx the traditional API's %.1f MiB; expected at least %.0fx. Is the model really loaded in the service?", ml, ratio, trad, threshold)
	}
	return out
}

func medianMemory(ctx context.Context, read func(context.Context) (int64, error), n int) (int64, error) {
	var vals []int64
	for range n {
		v, err := read(ctx)
		if err != nil {
			return 0, err
		}
		vals = append(vals, v)
	}
	slices.Sort(vals)
	return vals[len(vals)/2], nil
}
