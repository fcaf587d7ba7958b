package check

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/mlready/mlready/labtest/observe"
	"github.com/mlready/mlready/labtest/report"
)

// ReadinessDelay checks the two-phase start of an ML service and that its
// readiness is honest: its container runs, and answers /live, before the
// service can answer; /ready says so; and once /ready says 200, /analyze is
// answered. A traditional service is ready at once.
type ReadinessDelay struct{}

const (
	// traditionalWithin is how soon the traditional API must be ready.
	traditionalWithin = 3 * time.Second
	// minNotReady is how many /ready 503s make the loading phase seen: more
	// than one, so that one unlucky round is not taken for a phase.
	minNotReady = 3
)

// Info implements Check. The threshold is how much later than the
// traditional API the ML API must become ready; 0, the default, asks for no
// minimum: a model baked into the image may load in a fraction of a second,
// and that is sound practice, as long as the two phases are seen.
func (ReadinessDelay) Info() Info {
	return Info{
		ID:     "readiness-delay",
		Title:  "Container running is not service ready",
		Lesson: "An ML container runs long before its model is loaded: route traffic on /ready, not on the container's state, and say ready only when /analyze can answer.",
		Threshold: report.Threshold{Name: "min_ready_gap", Value: 0, Unit: "s", Direction: report.AtLeast,
			Min: 0, Max: 60},
	}
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
			Measured: []report.Measure{sec("ready", tradAt).Of(report.Traditional)}}
	}
	mlAt := ml.ReadyAt.Seconds()
	r := readReadiness(ml)
	gap := mlAt - tradAt
	measured := []report.Measure{sec("ready", tradAt).Of(report.Traditional), sec("ready", mlAt).Of(report.ML), sec("ready_gap", gap),
		count("not_ready_answers", r.notReady).Of(report.ML), count("analyze_failed_after_ready", r.lies)}
	out := Outcome{Measured: measured, File: env.ML.File}
	switch {
	case trad.ReadyAt > traditionalWithin:
		out.Message = fmt.Sprintf("The traditional API took %.2f s to report ready; it has nothing to load and should be ready within %s.", tradAt, traditionalWithin)
		out.File = env.Traditional.File
	case r.firstAnswer == http.StatusOK:
		out.Message = fmt.Sprintf("The ML API said ready on its very first answer (%.2f s after its container started), before its model could have loaded. /ready must answer 503 until the model is loaded and warmed up.", mlAt)
	case r.lies > 0:
		out.Message = fmt.Sprintf("/ready said 200 at %.2f s, yet /analyze then answered %s at %.2f s (%d answers after ready were not 200). /ready must not say 200 while /analyze cannot answer: a load balancer routes real users on it.",
			mlAt, r.firstLie, r.firstLieAt.Seconds(), r.lies)
	case r.notReady < minNotReady:
		out.Message = fmt.Sprintf("The ML API was seen answering /ready with 503 only %d times before it was ready (first answer: %d); at least %d were expected. It must say 503 while it loads its model.", r.notReady, r.firstAnswer, minNotReady)
	case r.liveOK == 0 || r.liveBad > 0:
		out.Message = fmt.Sprintf("/live answered %d while the ML API was up (%d times): liveness must stay 200 while the process is healthy, loading or not, or the orchestrator restarts it in a loop.", r.firstLiveBad, r.liveBad)
		if r.liveOK == 0 && r.liveBad == 0 {
			out.Message = "/live was never seen answering 200 while the ML API was loading: liveness must say 200 while the process is healthy but not ready, or the orchestrator restarts it in a loop."
		}
	case threshold > 0 && gap < threshold:
		out.Message = fmt.Sprintf("The ML API was ready %.2f s after the traditional one; this lab asks for at least %.2f s, as loading a model takes time.", gap, threshold)
	default:
		out.Passed = true
		out.Message = fmt.Sprintf("Traditional API ready after %.2f s; ML API answered /ready 503 %d times and was ready after %.2f s (%.2f s later), with /live 200 throughout and every /analyze after ready answered 200.", tradAt, r.notReady, mlAt, gap)
	}
	return out
}

// readiness is what the ML API's start-up says about its /ready and /live.
type readiness struct {
	// firstAnswer is the status of the first /ready that was answered.
	firstAnswer int
	// notReady counts /ready 503s before the first 200.
	notReady int
	// liveOK and liveBad count /live answers; a /live that got no answer
	// is counted by cold-start as a hang, not here.
	liveOK, liveBad, firstLiveBad int
	// lies counts rounds after /ready first said 200 whose /analyze was
	// not answered 200.
	lies       int
	firstLie   string
	firstLieAt time.Duration
}

func readReadiness(ml *observe.Timeline) readiness {
	var r readiness
	readySeen := false
	for _, s := range ml.Samples {
		if s.Ready == 0 {
			continue
		}
		if r.firstAnswer == 0 {
			r.firstAnswer = s.Ready
		}
		switch s.Live {
		case 0:
		case http.StatusOK:
			r.liveOK++
		default:
			if r.liveBad == 0 {
				r.firstLiveBad = s.Live
			}
			r.liveBad++
		}
		// /analyze goes first in a round, so the /analyze of the round in
		// which /ready first said 200 was sent before it: only later rounds
		// hold /ready to its word.
		if readySeen && (s.Analyze != http.StatusOK || s.Degraded) {
			if r.lies == 0 {
				r.firstLie, r.firstLieAt = describeAnswer(s), s.At
			}
			r.lies++
		}
		if s.Ready == http.StatusOK {
			readySeen = true
		} else if !readySeen && s.Ready == http.StatusServiceUnavailable {
			r.notReady++
		}
	}
	return r
}

// describeAnswer says what /analyze answered in a sample, for messages.
func describeAnswer(s observe.Sample) string {
	switch {
	case s.Analyze == 0 && s.Hung:
		return "nothing (it hung)"
	case s.Analyze == 0:
		return "nothing (no connection)"
	case s.Degraded:
		return "200 from its degraded fallback"
	default:
		return fmt.Sprintf("%d", s.Analyze)
	}
}
