package check

import (
	"context"
	"fmt"
	"time"

	"github.com/mlready/mlready/labtest/report"
)

// RollingUpdate replaces two ML replicas under load one after the other, as
// a Deployment's rolling update does: take the old one out of the Service,
// stop it, start a new one, wait until it takes traffic, then the next.
type RollingUpdate struct{}

// Info implements Check. Threshold: failed requests allowed under readiness
// gating.
func (RollingUpdate) Info() Info {
	return Info{
		ID:     "rolling-update",
		Title:  "A rolling update under load drops no request",
		Lesson: "Replacing replicas one by one loses capacity for as long as each new one loads; routing on readiness keeps every request answered, routing on \"container running\" drops them.",
		Threshold: report.Threshold{Name: "max_gated_failures", Value: 0, Unit: "count", Direction: report.AtMost,
			Min: 0, Max: 1000},
	}
}

// Run implements Check.
func (RollingUpdate) Run(ctx context.Context, env *Env, threshold float64) Outcome {
	if env.Replicas == nil {
		return failed("This lab cannot start replicas of the ML service.")
	}
	p := period(env)
	// Each replica has a model cache of its own, empty at its start, as a
	// pod with an emptyDir: a new replica downloads, so its start-up is
	// long enough to be seen, whatever the router's period.
	var reps []Replica
	defer func() { _ = stopAll(reps...) }()
	for i := range 2 {
		r, err := env.Replicas.StartReplica(ctx, "")
		if err != nil {
			return failed(fmt.Sprintf("Starting ML replica %d of 2 failed: %v", i+1, err))
		}
		reps = append(reps, r)
	}
	for i, r := range reps {
		if err := awaitServing(ctx, env, r); err != nil {
			return Outcome{File: env.ML.File, Message: fmt.Sprintf("ML replica %d of 2 never served before the update: %v", i+1, err)}
		}
	}

	gated, naive := newRouter(true, p), newRouter(false, p)
	rctx, stopRouting := context.WithCancel(ctx)
	defer stopRouting()
	for _, r := range reps {
		gated.add(rctx, r.URL())
		naive.add(rctx, r.URL())
	}
	load := startTraffic(rctx, env, gated, naive)
	t0 := time.Now()
	if !wait(ctx, steadyWindow) {
		load.stop()
		return failed("Cancelled while measuring throughput before the update.")
	}
	updating := time.Now()
	var replaced []time.Duration
	for i := range 2 {
		old := reps[i]
		// Kubernetes takes a terminating pod out of the endpoints first;
		// the naive router sends to it for as long as it runs.
		gated.remove(old.URL())
		if err := old.Stop(ctx); err != nil {
			load.stop()
			return failed(fmt.Sprintf("Stopping old replica %d failed: %v", i+1, err))
		}
		naive.remove(old.URL())
		nr, err := env.Replicas.StartReplica(ctx, "")
		if err != nil {
			load.stop()
			return failed(fmt.Sprintf("Starting new replica %d failed: %v", i+1, err))
		}
		reps[i] = nr
		naive.add(rctx, nr.URL())
		gated.add(rctx, nr.URL())
		taken, why := load.awaitTraffic(ctx, nr.URL(), nr.Started(), env.StartupTimeout, nr)
		if why != "" {
			reqs := load.stop()
			g := tallyOf(reqs, true, t0, time.Now())
			return Outcome{File: env.ML.File, Measured: []report.Measure{count("gated_failures", g.failed)},
				Message: fmt.Sprintf("New replica %d never took traffic: %s.", i+1, why)}
		}
		replaced = append(replaced, taken.Sub(nr.Started()))
	}
	updated := time.Now()
	if !wait(ctx, steadyWindow) {
		load.stop()
		return failed("Cancelled while measuring throughput after the update.")
	}
	end := time.Now()
	reqs := load.stop()
	stopRouting()

	g, n := tallyOf(reqs, true, t0, end), tallyOf(reqs, false, t0, end)
	before, during, after := throughput(reqs, t0, updating), throughput(reqs, updating, updated), throughput(reqs, updated, end)
	dip := 0.0
	if before > 0 {
		dip = during / before
	}
	measured := []report.Measure{
		count("gated_failures", g.failed), count("gated_requests", g.total),
		count("naive_failures", n.failed), count("naive_requests", n.total),
		reqsPerSec("throughput_before", before), reqsPerSec("throughput_during", during), reqsPerSec("throughput_after", after),
		times("capacity_during_update", dip),
		sec("update_duration", updated.Sub(updating).Seconds()),
		sec("new_replica_1_takes_traffic_after", replaced[0].Seconds()),
		sec("new_replica_2_takes_traffic_after", replaced[1].Seconds()),
		sec("router_period", p.Seconds()),
	}
	out := Outcome{Measured: measured, File: env.ML.File}
	naiveSays := naiveSaid(n)
	if float64(g.failed) > threshold {
		out.Message = gatedFailed(p, g, "during the rolling update", naiveSays)
		return out
	}
	out.Passed = true
	out.Message = fmt.Sprintf("Routed on readiness (/ready polled every %s), none of %d requests failed while two replicas were replaced one by one in %.1f s; capacity during the update was %.2fx of before (%.0f against %.0f answers/s). %s",
		p, g.total, updated.Sub(updating).Seconds(), dip, during, before, naiveSays)
	return out
}
