package check

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/mlready/mlready/labtest/report"
)

// ReadinessDelay checks the two-phase start of an ML service: its container
// runs long before the service can answer, while a traditional service is
// ready at once.
type ReadinessDelay struct{}

// traditionalWithin is how soon the traditional API must be ready.
const traditionalWithin = 3 * time.Second

// ID implements Check.
func (ReadinessDelay) ID() string { return "readiness-delay" }

// Title implements Check.
func (ReadinessDelay) Title() string { return "Container running is not service ready" }

// Lesson implements Check.
func (ReadinessDelay) Lesson() string {
	return "An ML container runs long before its model is loaded: route traffic on /ready, not on the container's state."
}

// Threshold implements Check: how much later than the traditional API the
// ML API must become ready.
func (ReadinessDelay) Threshold() report.Measure {
	return report.Measure{Name: "min_ready_gap", Value: 1, Unit: "s"}
}

// Run implements Check.
func (ReadinessDelay) Run(_ context.Context, env *Env, threshold float64) Outcome {
	trad, ml := env.Traditional.Startup, env.ML.Startup
	if !trad.Ready() {
		return failed(fmt.Sprintf("The traditional API never reported ready on /ready: %s.", trad.Stopped))
	}
	tradAt := trad.ReadyAt.Seconds()
	if !ml.Ready() {
		return Outcome{Message: fmt.Sprintf("The ML API never reported ready on /ready: %s.", ml.Stopped), File: env.ML.File,
			Measured: []report.Measure{sec("traditional_ready", tradAt)}}
	}
	mlAt := ml.ReadyAt.Seconds()
	// liveOK and liveBad count /live answers while loading; a /live that
	// got no answer is counted by cold-start as a hang, not here.
	notReady, liveOK, liveBad, firstAnswer := 0, 0, 0, 0
	for _, s := range ml.Samples {
		if s.Ready == 0 {
			continue
		}
		if firstAnswer == 0 {
			firstAnswer = s.Ready
		}
		if s.At < ml.ReadyAt && s.Ready == http.StatusServiceUnavailable {
			notReady++
			switch s.Live {
			case 0:
			case http.StatusOK:
				liveOK++
			default:
				liveBad++
			}
		}
	}
	gap := mlAt - tradAt
	measured := []report.Measure{sec("traditional_ready", tradAt), sec("ml_ready", mlAt), sec("ready_gap", gap), count("ml_not_ready_answers", notReady)}
	out := Outcome{Measured: measured, File: env.ML.File}
	switch {
	case trad.ReadyAt > traditionalWithin:
		out.Message = fmt.Sprintf("The traditional API took %.2f s to report ready; it has nothing to load and should be ready within %s.", tradAt, traditionalWithin)
		out.File = env.Traditional.File
	case firstAnswer == http.StatusOK:
		out.Message = fmt.Sprintf("The ML API said ready on its very first answer (%.2f s after its container started), before its model could have loaded. /ready must answer 503 until the model is loaded and warmed up.", mlAt)
	case notReady == 0:
		out.Message = fmt.Sprintf("The ML API was never seen answering /ready with 503 while loading (first answer: %d). It must say 503 until it can serve.", firstAnswer)
	case liveOK == 0 || liveBad > 0:
		out.Message = "While the ML API was loading, /live did not answer 200: liveness must stay 200 while the process is healthy but not ready, or the orchestrator restarts it in a loop."
	case gap < threshold:
		out.Message = fmt.Sprintf("The ML API was ready %.2f s after the traditional one; expected at least %.2f s, as loading a model takes time.", gap, threshold)
	default:
		out.Passed = true
		out.Message = fmt.Sprintf("Traditional API ready after %.2f s; ML API answered 503 %d times and was ready after %.2f s (%.2f s later), with /live 200 throughout.", tradAt, notReady, mlAt, gap)
	}
	return out
}
