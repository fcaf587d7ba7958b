package check

import (
	"context"
	"fmt"
	"net/http"

	"github.com/mlready/mlready/labtest/report"
)

// ColdStart checks what a client sees when it calls the ML API before its
// model is ready: a quick 503 with Retry-After, never a 500 or a hang, and a
// 200 once ready.
type ColdStart struct{}

// ID implements Check.
func (ColdStart) ID() string { return "cold-start" }

// Title implements Check.
func (ColdStart) Title() string { return "Requests during a cold start get 503 with Retry-After" }

// Lesson implements Check.
func (ColdStart) Lesson() string {
	return "A new replica scaled up under load is cold: it must turn requests away quickly and honestly (503, Retry-After) until its model is loaded."
}

// Threshold implements Check: how many not-ready answers must be seen, so
// that the not-ready window was really observed.
func (ColdStart) Threshold() report.Measure {
	return report.Measure{Name: "min_not_ready_answers", Value: 3, Unit: "count"}
}

// Run implements Check.
func (ColdStart) Run(_ context.Context, env *Env, threshold float64) Outcome {
	ml := env.ML.Startup
	var unavailable, withRetry, serverErrors, hung, other, servedAfter int
	firstBad := 0
	for _, s := range ml.Samples {
		if s.Hung && (ml.ReadyAt < 0 || s.At < ml.ReadyAt) {
			hung++
		}
		if s.Analyze == 0 {
			continue
		}
		if ml.Ready() && s.At >= ml.ReadyAt {
			if s.Analyze == http.StatusOK {
				servedAfter++
			}
			continue
		}
		switch {
		case s.Analyze == http.StatusServiceUnavailable:
			unavailable++
			if s.RetryAfter != "" {
				withRetry++
			}
		case s.Analyze >= 500:
			serverErrors++
			if firstBad == 0 {
				firstBad = s.Analyze
			}
		case s.Analyze != http.StatusOK:
			other++
			if firstBad == 0 {
				firstBad = s.Analyze
			}
		}
	}
	measured := []report.Measure{
		count("not_ready_503", unavailable), count("with_retry_after", withRetry),
		count("server_errors", serverErrors), count("hung_requests", hung), count("served_after_ready", servedAfter),
	}
	out := Outcome{Measured: measured, File: env.ML.File}
	switch {
	case hung > 0:
		out.Message = fmt.Sprintf("%d requests to the ML API hung while it was loading: answer 503 at once instead of holding the connection.", hung)
	case serverErrors > 0:
		out.Message = fmt.Sprintf("The ML API answered %d while loading (%d times): not being ready yet is not a server error. Answer 503 with Retry-After.", firstBad, serverErrors)
	case other > 0:
		out.Message = fmt.Sprintf("The ML API answered %d to /analyze while loading (%d times); expected 503 with Retry-After.", firstBad, other)
	case float64(unavailable) < threshold:
		out.Message = fmt.Sprintf("Only %d answers of 503 were seen while the ML API was loading; expected at least %.0f. Was it ready before its model was loaded?", unavailable, threshold)
	case withRetry < unavailable:
		out.Message = fmt.Sprintf("%d of %d answers of 503 lacked a Retry-After header: tell clients when to try again.", unavailable-withRetry, unavailable)
	case !ml.Ready() || servedAfter == 0:
		out.Message = "The ML API never answered /analyze with 200 after start-up: " + orStopped(ml.Stopped, "it did not become ready") + "."
	default:
		out.Passed = true
		out.Message = fmt.Sprintf("While loading, the ML API answered 503 with Retry-After %d times, with no 5xx and no hang; once ready it answered 200.", unavailable)
	}
	return out
}

func orStopped(stopped, fallback string) string {
	if stopped != "" {
		return stopped
	}
	return fallback
}
