package observe

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Sample is one round of start-up probes, taken At a time after the
// container started. A status of 0 means no answer (not listening yet, or
// the request timed out: see Hung).
type Sample struct {
	At         time.Duration
	Ready      int
	Live       int
	Health     int
	Analyze    int
	RetryAfter string
	// Degraded is true when /analyze answered 200 from a fallback, marked
	// "degraded": true, not from its model.
	Degraded bool
	// Hung is true when a probe was accepted but not answered in time.
	Hung bool
}

// Timeline is what a service did from the moment its container started
// until it had answered /analyze a few times while ready.
type Timeline struct {
	Samples []Sample
	// ReadyAt is when /ready first answered 200; negative if it never did.
	ReadyAt time.Duration
	// Stopped says why watching ended early: the container exited, or
	// start-up ran out of time. Empty when the service became ready and
	// served /analyze.
	Stopped string
}

// Ready reports whether the service became ready.
func (t *Timeline) Ready() bool { return t.ReadyAt >= 0 }

// StartupWatch says how to watch a service start.
type StartupWatch struct {
	// URL is the service's base URL.
	URL string
	// Started is when its container started.
	Started time.Time
	// Every is the time between rounds of probes.
	Every time.Duration
	// Timeout bounds the whole start-up.
	Timeout time.Duration
	// Text is sent to /analyze in every round.
	Text string
	// Exited returns a description of why the container is gone, or "" while
	// it runs. It is asked when a probe gets no answer.
	Exited func(context.Context) string
}

// afterReady is how many /analyze 200s to collect once ready.
const afterReady = 3

// WatchStartup probes /analyze, /ready, /live and /health in rounds until
// the service is ready and has answered /analyze afterReady times, its
// container exits, or w.Timeout passes.
//
// /analyze goes first in each round: readiness only ever turns on, so when
// /ready still says 503 after it, the service was loading when /analyze was
// sent, and what /analyze did (a 500, a hang) belongs to the loading phase.
// Probed the other way round, the round in which the model finished loading
// would blame the loading phase for how the ready service answered.
func WatchStartup(ctx context.Context, c *http.Client, w StartupWatch) *Timeline {
	tl := &Timeline{ReadyAt: -1}
	deadline := w.Started.Add(w.Timeout)
	tick := time.NewTicker(w.Every)
	defer tick.Stop()
	served, hungAfter := 0, 0
	for {
		s := Sample{At: time.Since(w.Started)}
		an := Analyze(ctx, c, w.URL, w.Text)
		ready := Get(ctx, c, w.URL+"/ready")
		s.Ready, s.Hung = ready.Status, ready.TimedOut
		if ready.Status == 0 && !ready.TimedOut && w.Exited != nil {
			if why := w.Exited(ctx); why != "" {
				tl.Stopped = why
				return tl
			}
		}
		if ready.Status != 0 {
			live := Get(ctx, c, w.URL+"/live")
			health := Get(ctx, c, w.URL+"/health")
			s.Live, s.Health, s.Analyze, s.RetryAfter = live.Status, health.Status, an.Status, an.RetryAfter
			s.Degraded = an.Status == http.StatusOK && degraded(an.Body)
			s.Hung = s.Hung || live.TimedOut || health.TimedOut || an.TimedOut
			if why := failedHealth(health); why != "" {
				tl.Samples = append(tl.Samples, s)
				tl.Stopped = why
				return tl
			}
		}
		tl.Samples = append(tl.Samples, s)
		if s.Ready == http.StatusOK && tl.ReadyAt < 0 {
			tl.ReadyAt = s.At
		}
		if tl.ReadyAt >= 0 && s.Analyze == http.StatusOK && !s.Degraded {
			served++
			if served >= afterReady {
				return tl
			}
		}
		// A ready service whose /analyze hangs again and again will not
		// serve by waiting longer.
		switch {
		case tl.ReadyAt < 0 || ready.Status == 0:
		case an.TimedOut:
			if hungAfter++; hungAfter >= afterReady {
				tl.Stopped = fmt.Sprintf("ready after %s, but then /analyze got no answer in time %d times in a row",
					tl.ReadyAt.Round(time.Millisecond), hungAfter)
				return tl
			}
		default:
			hungAfter = 0
		}
		if time.Now().After(deadline) {
			tl.Stopped = "not ready within " + w.Timeout.String() + " of the container starting"
			if tl.ReadyAt >= 0 {
				// Ready, yet not serving: say so, or the learner hunts for a
				// readiness bug that is not there.
				tl.Stopped = fmt.Sprintf("ready after %s, but /analyze answered 200 only %d of %d times within %s of the container starting",
					tl.ReadyAt.Round(time.Millisecond), served, afterReady, w.Timeout)
			}
			return tl
		}
		select {
		case <-ctx.Done():
			tl.Stopped = "watching stopped: " + ctx.Err().Error()
			return tl
		case <-tick.C:
		}
	}
}

// failedHealth reads a /health answer whose status is "failed" and returns
// the cause it gives, or "" for any other answer.
func failedHealth(a Answer) string {
	var h struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	// Any status counts: /health should answer 200, but one that answers 503
	// with a failed status is just as clearly not going to become ready.
	if a.Status == 0 || json.Unmarshal(a.Body, &h) != nil || h.Status != "failed" {
		return ""
	}
	if h.Reason == "" {
		h.Reason = "no cause given"
	}
	return "/health reports status failed: " + h.Reason
}

// degraded reads an /analyze answer's "degraded" flag.
func degraded(body []byte) bool {
	var a struct {
		Degraded bool `json:"degraded"`
	}
	return json.Unmarshal(body, &a) == nil && a.Degraded
}
