package check

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/mlready/mlready/labtest/observe"
	"github.com/mlready/mlready/labtest/report"
)

// HealthLayers watches a fresh ML replica from its start through a few
// seconds of traffic and checks its three health layers apart: alive
// (/live, 200 from the start), loaded (/ready, 200 once the model is), and
// responding (/v2/models/{name}/ready, 200 only while a tiny inference
// completes). From what it measured it recommends probe settings.
type HealthLayers struct{}

// Info implements Check. Threshold: how many rounds the responding probe may
// disagree with /analyze (200 while /analyze failed, or not 200 while it
// answered).
func (HealthLayers) Info() Info {
	return Info{
		ID:     "health-layers",
		Title:  "Alive, loaded and responding are three probes",
		Lesson: "Container alive, model loaded and model responding are different things: liveness must not wait for the model, readiness must, and only a probe that runs an inference sees a model that stopped answering.",
		Threshold: report.Threshold{Name: "max_probe_disagreements", Value: 0, Unit: "count", Direction: report.AtMost,
			Min: 0, Max: 100},
	}
}

const (
	// layersEvery paces the watch: probes and one /analyze per round.
	layersEvery = 100 * time.Millisecond
	// layersServing is how long traffic is watched once the model answers.
	layersServing = 5 * time.Second
	// layersTimeout bounds each probe and /analyze of the watch: a model
	// that does not answer within it is taken for one that stopped.
	layersTimeout = 2 * time.Second
)

// layers is one round of the watch.
type layers struct {
	at                   time.Duration
	live, ready, probe   int
	analyze              observe.Answer
	probeLatency         time.Duration
	probeReason, readyAs string
}

// Run implements Check.
func (HealthLayers) Run(ctx context.Context, env *Env, threshold float64) Outcome {
	if env.Replicas == nil {
		return failed("This lab cannot start replicas of the ML service.")
	}
	rep, err := env.Replicas.StartReplica(ctx, "")
	if err != nil {
		return failed(fmt.Sprintf("Starting an ML replica failed: %v", err))
	}
	defer func() { _ = stopAll(rep) }()
	c := observe.NewClient(layersTimeout)
	model, err := modelName(ctx, c, rep, env.StartupTimeout)
	if err != nil {
		return Outcome{File: env.ML.File, Message: err.Error()}
	}
	probePath := "/v2/models/" + model + "/ready"

	var rounds []layers
	servingSince := time.Duration(-1)
	deadline := rep.Started().Add(env.StartupTimeout)
	tick := time.NewTicker(layersEvery)
	defer tick.Stop()
	for {
		l := layers{at: time.Since(rep.Started())}
		l.live = observe.Get(ctx, c, rep.URL()+"/live").Status
		r := observe.Get(ctx, c, rep.URL()+"/ready")
		l.ready = r.Status
		if l.ready == http.StatusOK {
			l.analyze = observe.Analyze(ctx, c, rep.URL(), env.Texts[len(rounds)%len(env.Texts)])
			if l.analyze.Status == http.StatusOK && servingSince < 0 {
				servingSince = l.at
			}
		}
		p := observe.Get(ctx, c, rep.URL()+probePath)
		l.probe, l.probeLatency = p.Status, p.Latency
		if p.Status != http.StatusOK {
			l.probeReason = describe(p)
		}
		rounds = append(rounds, l)
		if why := rep.Exited(ctx); why != "" {
			return Outcome{File: env.ML.File, Message: "The replica stopped while its health layers were watched: " + why + "."}
		}
		if servingSince >= 0 && l.at-servingSince >= layersServing {
			break
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return failed("Cancelled while watching the health layers.")
		case <-tick.C:
		}
	}
	return judgeLayers(rounds, probePath, servingSince, period(env), threshold, env.ML.File)
}

// modelName reads the model's name from /health, which the ML API answers
// from its start.
func modelName(ctx context.Context, c *http.Client, rep Replica, timeout time.Duration) (string, error) {
	deadline := rep.Started().Add(timeout)
	tick := time.NewTicker(layersEvery)
	defer tick.Stop()
	for {
		a := observe.Get(ctx, c, rep.URL()+"/health")
		if a.Status == http.StatusOK {
			var h struct {
				Model string `json:"model"`
			}
			if json.Unmarshal(a.Body, &h) != nil || h.Model == "" {
				return "", fmt.Errorf("/health has no \"model\" field: the lab needs the model's name for the responding probe /v2/models/{name}/ready")
			}
			return h.Model, nil
		}
		if why := rep.Exited(ctx); why != "" {
			return "", fmt.Errorf("the replica stopped before /health answered: %s", why)
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("/health did not answer 200 within %s of the container's start", timeout)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-tick.C:
		}
	}
}

// judgeLayers turns the watch into a verdict and the probe settings.
func judgeLayers(rounds []layers, probePath string, servingSince time.Duration, routerPeriod time.Duration, threshold float64, file string) Outcome {
	var (
		firstAnswer                = time.Duration(-1)
		readyAt                    = time.Duration(-1)
		liveBad, probeMissing      int
		probeEarly, readyEarly     int
		lied, falseAlarm, unanswer int
		caught                     int
		stoppedAt                  = time.Duration(-1)
		maxProbe                   time.Duration
		firstLie, firstAlarm       string
	)
	for _, l := range rounds {
		if firstAnswer < 0 && l.live != 0 {
			firstAnswer = l.at
		}
		if firstAnswer >= 0 && l.live != http.StatusOK {
			liveBad++
		}
		if l.probe == http.StatusNotFound || l.probe == http.StatusMethodNotAllowed {
			probeMissing++
		}
		if readyAt < 0 && l.ready == http.StatusOK {
			readyAt = l.at
		}
		if l.ready != http.StatusOK && l.probe == http.StatusOK {
			probeEarly++
		}
		if l.ready != http.StatusOK {
			continue
		}
		if servingSince < 0 || l.at < servingSince {
			// Ready, yet /analyze not answered yet: ready before loaded.
			if l.analyze.Status != http.StatusOK {
				readyEarly++
			}
			continue
		}
		if l.probe == http.StatusOK {
			maxProbe = max(maxProbe, l.probeLatency)
		}
		answered := l.analyze.Status == http.StatusOK
		switch {
		case !answered && l.probe == http.StatusOK:
			lied++
			if firstLie == "" {
				firstLie = describe(l.analyze)
			}
		case !answered:
			caught++
		case l.probe != http.StatusOK:
			falseAlarm++
			if firstAlarm == "" {
				firstAlarm = l.probeReason
			}
		}
		if !answered {
			unanswer++
			if stoppedAt < 0 {
				stoppedAt = l.at
			}
		}
	}

	measured := []report.Measure{
		sec("live_first_answer_after", firstAnswer.Seconds()),
		sec("ready_after", readyAt.Seconds()),
		count("live_not_200", liveBad),
		count("ready_before_loaded", readyEarly),
		count("probe_200_before_ready", probeEarly),
		count("analyze_unanswered", unanswer),
		count("probe_200_while_unanswered", lied),
		count("probe_failed_while_answered", falseAlarm),
		ms("probe_max_latency", float64(maxProbe.Microseconds())/1000),
	}
	out := Outcome{Measured: measured, File: file}
	// The start-up that probes must wait out ends when /analyze answers,
	// whatever /ready said before.
	started := readyAt
	if servingSince >= 0 {
		started = servingSince
	}
	rec, recMeasures := recommend(started, probePath, routerPeriod)
	out.Measured = append(out.Measured, recMeasures...)
	switch {
	case firstAnswer < 0 || readyAt < 0:
		out.Message = "The replica never answered /ready with 200 while it was watched."
		return out
	case liveBad > 0:
		out.Message = fmt.Sprintf("/live answered other than 200 %d times after the process first answered: liveness must say only that the process can serve HTTP, from its start. Tied to the model, a livenessProbe restarts a replica that is only loading.", liveBad)
	case probeMissing > 0:
		out.Message = fmt.Sprintf("%s answered 404: the ML API has no model-responding probe. Serve it, and answer 200 only when a tiny inference completes within a deadline.", probePath)
	case readyEarly > 0:
		out.Message = fmt.Sprintf("/ready answered 200 %d times while /analyze could not answer yet: readiness must wait until the model is loaded.", readyEarly)
	case probeEarly > 0:
		out.Message = fmt.Sprintf("%s answered 200 %d times while /ready did not: a model that is not loaded cannot respond.", probePath, probeEarly)
	case float64(lied) > threshold:
		out.Message = fmt.Sprintf("%s answered 200 in %d rounds in which /analyze was not answered (first: %s): a responding probe that does not run the model cannot see that it stopped.", probePath, lied, firstLie)
	case float64(falseAlarm) > threshold:
		out.Message = fmt.Sprintf("%s failed in %d rounds in which /analyze was answered (first: %s): as a livenessProbe it would restart a healthy replica.", probePath, falseAlarm, firstAlarm)
	case unanswer > 0:
		out.Message = fmt.Sprintf("The model stopped answering %.1f s after the replica started: /analyze went unanswered %d times while /live stayed 200 and /ready stayed 200 (the model is loaded), and %s failed each time, as it should. A livenessProbe on %s restarts such a replica; without one it serves errors until someone notices.",
			stoppedAt.Seconds(), unanswer, probePath, probePath)
	default:
		out.Passed = true
		out.Message = fmt.Sprintf("/live answered 200 from %.2f s after the container started, /ready from %.1f s (once the model was loaded), and %s answered 200 in every round of %s of traffic in which /analyze was answered (slowest %.0f ms).",
			firstAnswer.Seconds(), readyAt.Seconds(), probePath, layersServing, float64(maxProbe.Microseconds())/1000)
	}
	out.Message += " " + rec
	return out
}

// recommend turns the measured start-up (container start to the first
// answer of /analyze) into probe settings, with the arithmetic, for
// Kubernetes and for compose.
func recommend(readyAt time.Duration, probePath string, routerPeriod time.Duration) (string, []report.Measure) {
	if readyAt < 0 {
		return "", nil
	}
	// Twice the start-up seen here: a slower node or a busier hub must not
	// turn a normal start into a restart loop.
	const startupPeriod = 1
	budget := 2 * readyAt.Seconds()
	startupFailures := int(math.Ceil(budget / startupPeriod))
	readinessPeriod := int(math.Max(1, math.Round(routerPeriod.Seconds())))
	const livenessPeriod, livenessFailures = 10, 3
	startPeriod := int(math.Ceil(budget))
	var b strings.Builder
	fmt.Fprintf(&b, "Probe settings from this start-up (serving after %.1f s): ", readyAt.Seconds())
	fmt.Fprintf(&b, "startupProbe httpGet /ready, periodSeconds %d, failureThreshold %d = ceil(2 × %.1f s / %d s); ", startupPeriod, startupFailures, readyAt.Seconds(), startupPeriod)
	fmt.Fprintf(&b, "readinessProbe httpGet /ready, periodSeconds %d, failureThreshold 1 (out of the Service within %d s); ", readinessPeriod, readinessPeriod)
	fmt.Fprintf(&b, "livenessProbe httpGet %s, periodSeconds %d, timeoutSeconds 2, failureThreshold %d (a model that stopped answering is restarted within %d × %d = %d s, and never during start-up, which the startupProbe covers); ",
		probePath, livenessPeriod, livenessFailures, livenessPeriod, livenessFailures, livenessPeriod*livenessFailures)
	fmt.Fprintf(&b, "compose healthcheck.start_period %ds = ceil(2 × %.1f s).", startPeriod, readyAt.Seconds())
	return b.String(), []report.Measure{
		count("startup_probe_failure_threshold", startupFailures),
		count("readiness_probe_period_seconds", readinessPeriod),
		count("liveness_probe_period_seconds", livenessPeriod),
		sec("compose_start_period", float64(startPeriod)),
	}
}
