package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// Values of the "status" field of /health.
const (
	StatusStarting = "starting"
	StatusHealthy  = "healthy"
	StatusFailed   = "failed"
)

// Readiness is a snapshot of whether an API can answer /analyze.
type Readiness struct {
	// Status is StatusStarting, StatusHealthy or StatusFailed.
	Status string
	// Ready is true when /analyze can be answered.
	Ready bool
	// Reason says why the API is not ready; empty when it is.
	Reason string
	// Details are extra /health fields of one API (phase, timings, model).
	Details map[string]any
}

// Health serves /health, /live and /ready for one API.
type Health struct {
	// APIType is "traditional" or "ml".
	APIType string
	// Started is when the process started, for uptime_seconds.
	Started time.Time
	// Readiness reports the API's current state; it must be cheap and safe
	// for concurrent use.
	Readiness func() Readiness
	// Model is the name of the one model the API serves, for the Open
	// Inference Protocol's /v2/models/{name}/ready.
	Model string
	// Responding, when set, makes /v2/models/{name}/ready the
	// model-responding probe: once the API is ready it answers 200 only
	// when Responding returns nil (a tiny inference that finished within
	// its deadline), and 503 with the reason otherwise. Unset, the path is
	// an alias of /ready. It must return within its own deadline.
	Responding func(ctx context.Context) error
}

// StatusUnresponsive is the "status" of the model-responding probe when the
// API is ready but its model did not answer the probe's inference.
const StatusUnresponsive = "unresponsive"

// Paths of the Open Inference Protocol (KServe v2) health endpoints, served
// as aliases of /live and /ready.
const (
	OIPLivePath  = "/v2/health/live"
	OIPReadyPath = "/v2/health/ready"
	// OIPModelsPrefix starts /v2/models/{name}/ready; a model name may
	// itself hold a slash ("owner/model").
	OIPModelsPrefix = "/v2/models/"
)

// Mount adds GET /health, /live and /ready to r, and their Open Inference
// Protocol aliases /v2/health/live, /v2/health/ready and
// /v2/models/{name}/ready.
func (h Health) Mount(r chi.Router) {
	r.Get("/health", h.health)
	r.Get("/live", h.live)
	r.Get("/ready", h.ready)
	r.Get(OIPLivePath, h.live)
	r.Get(OIPReadyPath, h.ready)
	r.Get(OIPModelsPrefix+"*", h.modelReady)
}

// IsReadinessPath tells whether path is /ready or one of its aliases.
func IsReadinessPath(path string) bool {
	if path == "/ready" || path == OIPReadyPath {
		return true
	}
	rest, ok := strings.CutPrefix(path, OIPModelsPrefix)
	return ok && strings.HasSuffix(rest, "/ready")
}

// modelReady answers /v2/models/{name}/ready for the API's own model, 404
// for any other name: like /ready, and once ready, with Responding's
// verdict when the API has one.
func (h Health) modelReady(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, OIPModelsPrefix), "/ready")
	if !ok {
		WriteError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s", r.URL.Path))
		return
	}
	if name != h.Model {
		WriteError(w, http.StatusNotFound, fmt.Sprintf("no such model: %q (this API serves %q)", name, h.Model))
		return
	}
	if h.Responding == nil || !h.Readiness().Ready {
		h.ready(w, r)
		return
	}
	if err := h.Responding(r.Context()); err != nil {
		WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "status": StatusUnresponsive, "reason": err.Error()})
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"ready": true})
}

// health always answers 200 while the process lives: it describes the
// process, it does not gate traffic.
func (h Health) health(w http.ResponseWriter, _ *http.Request) {
	st := h.Readiness()
	body := map[string]any{}
	for k, v := range st.Details {
		body[k] = v
	}
	body["status"] = st.Status
	body["ready"] = st.Ready
	body["api_type"] = h.APIType
	body["uptime_seconds"] = time.Since(h.Started).Seconds()
	if rss, err := RSSBytes(); err == nil {
		body["memory_rss_bytes"] = rss
	}
	if st.Reason != "" {
		body["reason"] = st.Reason
	}
	WriteJSON(w, http.StatusOK, body)
}

func (h Health) live(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]any{"live": true})
}

func (h Health) ready(w http.ResponseWriter, _ *http.Request) {
	st := h.Readiness()
	if st.Ready {
		WriteJSON(w, http.StatusOK, map[string]any{"ready": true})
		return
	}
	WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "status": st.Status, "reason": st.Reason})
}

// RSSBytes is the resident set size of this process, read from
// /proc/self/statm (present in FROM scratch containers too).
func RSSBytes() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, os.ErrInvalid
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, err
	}
	return pages * int64(os.Getpagesize()), nil
}
