package check

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/mlready/mlready/labtest/report"
)

// ColdStart checks what a client sees when it calls the ML API, at every
// moment of its start-up: before its model serves, a quick 503 with
// Retry-After (or an answer from a fallback that says it is degraded), never
// a 500 or a hang; from its first model answer on, 200 every time.
//
// Its phases are told by /analyze itself, not by /ready: whether /ready told
// the truth about them is readiness-delay's lesson, not this one.
type ColdStart struct{}

// Info implements Check. The threshold is how many answers from the
// not-serving phase must be seen, so that the phase was really observed.
func (ColdStart) Info() Info {
	return Info{
		ID:     "cold-start",
		Title:  "Requests during a cold start get 503 with Retry-After",
		Lesson: "A new replica scaled up under load is cold: it must turn requests away quickly and honestly (503, Retry-After) until its model is loaded, then serve every request.",
		Threshold: report.Threshold{Name: "min_not_ready_answers", Value: 3, Unit: "count", Direction: report.AtLeast,
			Min: 1, Max: 1000},
	}
}

// Run implements Check.
func (ColdStart) Run(_ context.Context, env *Env, threshold float64) Outcome {
	ml := env.ML.Startup
	var (
		unavailable, withRetry, fallback, serverErrors, hung, other int
		servedAfter, failedAfter                                    int
		firstBad                                                    int
		servingAt                                                   = time.Duration(-1)
		firstFailAfter                                              string
		firstFailAfterAt                                            time.Duration
	)
	for _, s := range ml.Samples {
		serving := servingAt >= 0
		if !serving && s.Analyze == http.StatusOK && !s.Degraded {
			servingAt, serving = s.At, true
		}
		if serving {
			// Once the model has answered, every request must be answered:
			// a 503 or a hang now is an outage, not a cold start.
			answered := s.Analyze != 0 || s.Hung
			switch {
			case s.Analyze == http.StatusOK && !s.Degraded:
				servedAfter++
			case answered:
				if failedAfter == 0 {
					firstFailAfter, firstFailAfterAt = describeAnswer(s), s.At
				}
				failedAfter++
			}
			continue
		}
		// A hang once /ready said 200 is not a loading-phase hang: the
		// service said it was ready and then never served (told below).
		if s.Hung && (!ml.Ready() || s.At < ml.ReadyAt) {
			hung++
		}
		switch {
		case s.Analyze == 0:
		case s.Analyze == http.StatusOK:
			fallback++
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
		default:
			other++
			if firstBad == 0 {
				firstBad = s.Analyze
			}
		}
	}
	measured := []report.Measure{
		count("not_ready_503", unavailable), count("with_retry_after", withRetry), count("degraded_answers", fallback),
		count("server_errors", serverErrors), count("hung_requests", hung),
		count("served_after_ready", servedAfter), count("failed_after_serving", failedAfter),
	}
	if servingAt >= 0 {
		measured = append(measured, sec("first_model_answer", servingAt.Seconds()))
	}
	out := Outcome{Measured: measured, File: env.ML.File}
	switch {
	case hung > 0:
		out.Message = fmt.Sprintf("%d requests to the ML API hung while it was loading: answer 503 at once instead of holding the connection.", hung)
	case serverErrors > 0:
		out.Message = fmt.Sprintf("The ML API answered %d while loading (%d times): not being ready yet is not a server error. Answer 503 with Retry-After.", firstBad, serverErrors)
	case other > 0:
		out.Message = fmt.Sprintf("The ML API answered %d to /analyze while loading (%d times); expected 503 with Retry-After.", firstBad, other)
	case float64(unavailable+fallback) < threshold:
		out.Message = fmt.Sprintf("Only %d answers of 503 were seen while the ML API was loading; expected at least %.0f. Did it serve before its model was loaded?", unavailable+fallback, threshold)
	case withRetry < unavailable:
		out.Message = fmt.Sprintf("%d of %d answers of 503 lacked a Retry-After header: tell clients when to try again.", unavailable-withRetry, unavailable)
	case servingAt < 0:
		out.Message = "The ML API never answered /analyze with 200 from its model after start-up: " + orStopped(ml.Stopped, "it did not become ready") + "."
	case failedAfter > 0:
		out.Message = fmt.Sprintf("The ML API first served at %.2f s, but then /analyze answered %s at %.2f s (%d times): once a replica serves, every request must be answered.",
			servingAt.Seconds(), firstFailAfter, firstFailAfterAt.Seconds(), failedAfter)
	default:
		out.Passed = true
		out.Message = fmt.Sprintf("While loading, the ML API answered 503 with Retry-After %d times, with no 5xx and no hang; from its first model answer at %.2f s on, every answer was 200.", unavailable, servingAt.Seconds())
		if fallback > 0 {
			out.Message = fmt.Sprintf("While loading, the ML API answered 503 with Retry-After %d times and from its degraded fallback %d times, with no 5xx and no hang; from its first model answer at %.2f s on, every answer was 200.", unavailable, fallback, servingAt.Seconds())
		}
	}
	return out
}

func orStopped(stopped, fallback string) string {
	if stopped != "" {
		return stopped
	}
	return fallback
}
