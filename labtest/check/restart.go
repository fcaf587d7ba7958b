package check

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/mlready/mlready/labtest/observe"
	"github.com/mlready/mlready/labtest/report"
)

// Restart brings the ML service down and up three times, as
// `docker-compose down && up` does: from an empty model cache, then with
// the cache volume kept, then with it removed (`down -v`). The start with
// the cache kept must skip the download and be ready sooner; the one after
// the volume is gone must download again.
type Restart struct{}

// Info implements Check. Threshold: how much sooner, at least, the start with
// the cache kept must be ready than the first.
func (Restart) Info() Info {
	return Info{
		ID:     "restart",
		Title:  "A restart with the model cache kept skips the download",
		Lesson: "docker-compose down && up brings the cold start back; a model cache on a named volume that outlives the container skips the download, and removing the volume brings it back.",
		Threshold: report.Threshold{Name: "min_seconds_saved", Value: 1, Unit: "s", Direction: report.AtLeast,
			Min: 0.1, Max: 600},
	}
}

const restartCache = "restart"

// start is one start of the ML service, as /health told it.
type start struct {
	ready       time.Duration
	phase       string
	downloading float64
	// hasDownload is whether /health timed a download phase at all.
	hasDownload bool
}

// Run implements Check.
func (Restart) Run(ctx context.Context, env *Env, threshold float64) Outcome {
	if env.Replicas == nil {
		return failed("This lab cannot start replicas of the ML service.")
	}
	var starts []start
	for i, step := range []string{"the first start, from an empty cache", "the start with the cache volume kept", "the start after the cache volume was removed"} {
		if i == 2 {
			if err := env.Replicas.RemoveCache(ctx, restartCache); err != nil {
				return failed(fmt.Sprintf("Removing the model-cache volume failed: %v", err))
			}
		}
		s, err := startOnce(ctx, env)
		if err != nil {
			return Outcome{File: env.ML.File, Message: fmt.Sprintf("In %s: %v", step, err)}
		}
		starts = append(starts, s)
	}
	cold, kept, removed := starts[0], starts[1], starts[2]
	saved := cold.ready - kept.ready
	measured := []report.Measure{
		sec("ready_cold", cold.ready.Seconds()), sec("download_cold", cold.downloading),
		sec("ready_cache_kept", kept.ready.Seconds()), sec("download_cache_kept", kept.downloading),
		sec("ready_cache_removed", removed.ready.Seconds()), sec("download_cache_removed", removed.downloading),
		sec("seconds_saved", saved.Seconds()),
	}
	out := Outcome{Measured: measured, File: env.ML.File}
	switch {
	case !cold.hasDownload:
		out.Message = "/health's phase_seconds has no \"downloading\" phase after a start from an empty cache: time the download, so that a restart can show it skipped it."
	case kept.downloading > cold.downloading/10:
		out.Message = fmt.Sprintf("With the model-cache volume kept, the second start downloaded again (%.1f s, against %.1f s the first time): the model did not survive the restart. Put MODEL_CACHE on a named volume in docker-compose.yml.", kept.downloading, cold.downloading)
	case saved.Seconds() < threshold:
		out.Message = fmt.Sprintf("With the cache kept, the ML API was ready after %.1f s, against %.1f s from an empty cache: %.1f s saved, expected at least %.1f s.", kept.ready.Seconds(), cold.ready.Seconds(), saved.Seconds(), threshold)
	case removed.downloading < cold.downloading/2:
		out.Message = fmt.Sprintf("After the cache volume was removed, the start downloaded for only %.1f s (%.1f s the first time): was the model cached somewhere that outlives the volume?", removed.downloading, cold.downloading)
	default:
		out.Passed = true
		out.Message = fmt.Sprintf("From an empty cache the ML API was ready after %.1f s (download %.1f s); with the cache volume kept, after %.1f s (download skipped, %.1f s saved); with it removed, it downloaded again and was ready after %.1f s.",
			cold.ready.Seconds(), cold.downloading, kept.ready.Seconds(), saved.Seconds(), removed.ready.Seconds())
	}
	return out
}

// startOnce starts a replica on the restart cache, waits until it serves,
// reads its /health and stops it.
func startOnce(ctx context.Context, env *Env) (start, error) {
	rep, err := env.Replicas.StartReplica(ctx, restartCache)
	if err != nil {
		return start{}, err
	}
	defer func() { _ = stopAll(rep) }()
	if err := awaitServing(ctx, env, rep); err != nil {
		return start{}, err
	}
	s := start{ready: time.Since(rep.Started())}
	a := observe.Get(ctx, env.Client, rep.URL()+"/health")
	var h struct {
		Phase        string             `json:"phase"`
		PhaseSeconds map[string]float64 `json:"phase_seconds"`
	}
	if a.Status != http.StatusOK || json.Unmarshal(a.Body, &h) != nil {
		return s, fmt.Errorf("/health answered %s; expected 200 with phase and phase_seconds", describe(a))
	}
	s.phase = h.Phase
	s.downloading, s.hasDownload = h.PhaseSeconds["downloading"]
	return s, stopAll(rep)
}
