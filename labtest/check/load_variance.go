package check

import (
	"context"
	"fmt"
	"math"

	"github.com/mlready/mlready/labtest/observe"
	"github.com/mlready/mlready/labtest/report"
)

// LoadVariance checks that under parallel clients the ML API's latency
// spreads far more than the traditional API's.
type LoadVariance struct{}

const (
	loadClients   = 8
	loadPerClient = 40
	// spreadFloor is the smallest traditional spread counted, in ms: below
	// it, scheduler noise dominates and a ratio means nothing. The
	// traditional API's own spread under these 8 clients measured 0.6 to
	// 2.3 ms on the busy 2-core machine (README, Reliability), so a service
	// must spread at least 5 x 3 = 15 ms to pass: a model queueing on the
	// CPU spreads 100 ms and more; a fixed-cost service, or one that sleeps
	// a random few ms without queueing, does not.
	spreadFloor = 3
)

// Info implements Check: ML spread (p95 - p50) over traditional spread.
func (LoadVariance) Info() Info {
	return Info{
		ID:        "load-variance",
		Title:     "ML latency spreads under parallel load",
		Lesson:    "Parallel requests queue for the same CPU-bound model: watch p95 and p99, not the average, and scale or batch before the tail grows.",
		Threshold: report.Threshold{Name: "min_spread_ratio", Value: 5, Unit: "x", Direction: report.AtLeast, Min: 1, Max: 1000},
	}
}

// Run implements Check.
func (LoadVariance) Run(ctx context.Context, env *Env, threshold float64) Outcome {
	var stats [2]observe.Stats
	for i, s := range []*Service{env.Traditional, env.ML} {
		t := observe.Target{Name: s.Name, URL: s.URL}
		if _, err := observe.Parallel(ctx, env.Client, t, env.Texts, loadClients, 2); err != nil {
			return failed("Warm-up under load failed: " + err.Error())
		}
		lat, err := observe.Parallel(ctx, env.Client, t, env.Texts, loadClients, loadPerClient)
		if err != nil {
			return failed("Load failed: " + err.Error())
		}
		stats[i] = observe.Summarise(lat)
	}
	trad, ml := stats[0], stats[1]
	tradSpread, mlSpread := trad.P95-trad.P50, ml.P95-ml.P50
	ratio := mlSpread / math.Max(tradSpread, spreadFloor)
	var measured []report.Measure
	for _, x := range []struct {
		who string
		s   observe.Stats
	}{{"traditional", trad}, {"ml", ml}} {
		measured = append(measured, ms(x.who+"_p50", x.s.P50), ms(x.who+"_p95", x.s.P95), ms(x.who+"_p99", x.s.P99),
			ms(x.who+"_max", x.s.Max), ms(x.who+"_stddev", x.s.StdDev))
	}
	measured = append(measured, times("spread_ratio", ratio), count("clients", loadClients), count("requests_each", trad.N))
	out := Outcome{Measured: measured, Passed: ratio >= threshold, File: env.ML.File}
	summary := fmt.Sprintf("With %d parallel clients, p50/p95/p99: ML %.1f/%.1f/%.1f ms, traditional %.2f/%.2f/%.2f ms; spread (p95-p50) ML %.1f ms vs traditional %.2f ms = %.1fx",
		loadClients, ml.P50, ml.P95, ml.P99, trad.P50, trad.P95, trad.P99, mlSpread, tradSpread, ratio)
	if out.Passed {
		out.Message = fmt.Sprintf("%s (at least %.0fx expected).", summary, threshold)
	} else {
		out.Message = fmt.Sprintf("%s; expected at least %.0fx. The ML API's latency should spread under parallel load as requests queue for the model.", summary, threshold)
	}
	return out
}
