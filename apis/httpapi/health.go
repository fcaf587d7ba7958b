package httpapi

import (
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
}

// Mount adds GET /health, /live and /ready to r.
func (h Health) Mount(r chi.Router) {
	r.Get("/health", h.health)
	r.Get("/live", h.live)
	r.Get("/ready", h.ready)
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
