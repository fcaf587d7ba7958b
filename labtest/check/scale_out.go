package check

import (
	"context"
	"fmt"
	"time"

	"github.com/mlready/mlready/labtest/report"
)

// ScaleOut is Black Friday: under steady load on one ML replica, an
// autoscaler starts a second one. Routed on readiness, no request fails;
// routed to every running container, the new replica's loading time is
// paid by users. With a warm pool, a replica started ahead of the spike
// takes traffic at once.
type ScaleOut struct{}

// Info implements Check. Threshold: failed requests allowed under readiness
// gating.
func (ScaleOut) Info() Info {
	return Info{
		ID:     "scale-out",
		Title:  "A replica added under load takes traffic only once ready",
		Lesson: "An autoscaled ML replica is cold for as long as its model loads: a Service that routes on readiness hides that from users, one that routes to every running container does not, and a warm pool skips the wait.",
		Threshold: report.Threshold{Name: "max_gated_failures", Value: 0, Unit: "count", Direction: report.AtMost,
			Min: 0, Max: 1000},
	}
}

// steadyWindow is how long throughput is measured before and after a
// change: long enough for a few hundred requests.
const steadyWindow = 2 * time.Second

// Run implements Check.
func (ScaleOut) Run(ctx context.Context, env *Env, threshold float64) Outcome {
	if env.Replicas == nil {
		return failed("This lab cannot start replicas of the ML service.")
	}
	p := period(env)
	var warm Replica
	defer func() { _ = stopAll(warm) }()
	if env.Routing.WarmPool > 0 {
		// The warm pool is filled before the spike, and only a replica that
		// really answers counts as warm.
		var err error
		if warm, err = env.Replicas.StartReplica(ctx, ""); err != nil {
			return failed(fmt.Sprintf("Starting the warm-pool replica failed: %v", err))
		}
		if err := awaitServing(ctx, env, warm); err != nil {
			return Outcome{File: env.ML.File, Message: fmt.Sprintf("The warm-pool replica never served: %v", err)}
		}
	}

	gated, naive := newRouter(true, p), newRouter(false, p)
	rctx, stopRouting := context.WithCancel(ctx)
	defer stopRouting()
	gated.add(rctx, env.ML.URL)
	naive.add(rctx, env.ML.URL)
	load := startTraffic(rctx, env, gated, naive)
	t0 := time.Now()
	if !wait(ctx, steadyWindow) {
		load.stop()
		return failed("Cancelled while measuring throughput before the scale-out.")
	}

	// The spike: a cold replica, with a model cache of its own, as on a
	// new node.
	scaled := time.Now()
	cold, err := env.Replicas.StartReplica(ctx, "")
	if err != nil {
		load.stop()
		return failed(fmt.Sprintf("Starting a second ML replica failed: %v", err))
	}
	defer func() { _ = stopAll(cold) }()
	naive.add(rctx, cold.URL())
	gated.add(rctx, cold.URL())
	taken, why := load.awaitTraffic(ctx, cold.URL(), scaled, env.StartupTimeout, cold)
	if why != "" {
		reqs := load.stop()
		g := tallyOf(reqs, true, t0, time.Now())
		return Outcome{File: env.ML.File, Measured: []report.Measure{count("gated_failures", g.failed)},
			Message: "The second ML replica never took traffic: " + why + "."}
	}
	coldTaken := taken.Sub(cold.Started())
	if !wait(ctx, steadyWindow) {
		load.stop()
		return failed("Cancelled while measuring throughput after the scale-out.")
	}
	after := time.Now()

	var warmTaken time.Duration
	if warm != nil {
		added := time.Now()
		naive.add(rctx, warm.URL())
		gated.add(rctx, warm.URL())
		taken, why := load.awaitTraffic(ctx, warm.URL(), added, 5*p, warm)
		if why != "" {
			load.stop()
			return Outcome{File: env.ML.File, Message: "The warm-pool replica never took traffic: " + why + "."}
		}
		warmTaken = taken.Sub(added)
	}
	end := time.Now()
	reqs := load.stop()
	stopRouting()

	g, n := tallyOf(reqs, true, t0, end), tallyOf(reqs, false, t0, end)
	measured := []report.Measure{
		count("gated_failures", g.failed), count("gated_requests", g.total),
		count("naive_failures", n.failed), count("naive_requests", n.total),
		sec("cold_replica_takes_traffic_after", coldTaken.Seconds()),
		reqsPerSec("throughput_before", throughput(reqs, t0, scaled)),
		reqsPerSec("throughput_during", throughput(reqs, scaled, taken)),
		reqsPerSec("throughput_after", throughput(reqs, taken, after)),
		sec("router_period", p.Seconds()),
	}
	if warm != nil {
		measured = append(measured, sec("warm_replica_takes_traffic_after", warmTaken.Seconds()))
	}
	out := Outcome{Measured: measured, File: env.ML.File}
	naiveSays := naiveSaid(n)
	warmSays := ""
	if warm != nil {
		warmSays = fmt.Sprintf(" A warm-pool replica, started before the spike, took traffic %.2f s after it was added, against %.1f s for the cold one.", warmTaken.Seconds(), coldTaken.Seconds())
	}
	switch {
	case float64(g.failed) > threshold:
		out.Message = gatedFailed(p, g, "while a second ML replica started", naiveSays)
	case warm != nil && warmTaken > 2*p:
		out.Message = fmt.Sprintf("The warm-pool replica took %.1f s to take traffic after it was added, more than two router periods (%s): a warm replica must be ready before it is needed.", warmTaken.Seconds(), 2*p)
	default:
		out.Passed = true
		out.Message = fmt.Sprintf("Routed on readiness (/ready polled every %s), none of %d requests failed while a second ML replica started; it took traffic %.1f s after its container started. %s Throughput before, during and after: %.0f, %.0f and %.0f answers/s.%s",
			p, g.total, coldTaken.Seconds(), naiveSays, throughput(reqs, t0, scaled), throughput(reqs, scaled, taken), throughput(reqs, taken, after), warmSays)
	}
	return out
}

// wait waits d unless ctx ends first, and tells whether it waited all of
// d. It paces a measurement window; it never stands in for an event.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
