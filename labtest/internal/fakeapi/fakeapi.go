// Package fakeapi is one sentiment API for labtest's own tests: it speaks
// the lab's HTTP contract (/health, /live, /ready, POST /analyze answering
// {"sentiment","confidence","method","processing_time_ms"}) and can be told
// to misbehave the ways learners' APIs do: ready late or never, answer
// 500s, hang, take its time. labtest never imports the real APIs (it grades
// forks in any language), so its tests use this instead.
package fakeapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// API is a fake sentiment API; its zero value is ready at once and answers
// every text POSITIVE from a transformer. Set the fields before serving.
type API struct {
	// ReadyAfter is how many /ready probes answer 503 before it turns
	// ready; negative: never. Readiness flips inside the /ready handler, so
	// a test knows exactly which probe saw it. Until then /analyze answers
	// 503 with Retry-After, like a model that is loading.
	ReadyAfter int32
	// HangWhileLoading makes /analyze hold the connection until ready.
	HangWhileLoading bool
	// HangWhenReady makes /analyze hold the connection once ready.
	HangWhenReady bool
	// HangEveryOther makes every other /analyze hold the connection once
	// ready, starting with the first.
	HangEveryOther bool
	// Health, if set, is the body /health answers with 200.
	Health string
	// Status, if set, is every /analyze answer's status once ready, with a
	// JSON error: 500 for a model that fails.
	Status int
	// Cost, if set, is how long the n-th /analyze (from 1) takes, like a
	// model's time.
	Cost func(n int64) time.Duration
	// Answer, if set, is the answer to a text; else the contract's answer
	// POSITIVE, 0.98, from a transformer.
	Answer func(text string) map[string]any
	// OnReadyProbe, if set, is called with the number of each /ready probe.
	OnReadyProbe func(n int32)
	// OnAnalyze, if set, is called with the text of each /analyze request
	// as it arrives.
	OnAnalyze func(text string)

	startOnce     sync.Once
	ready         atomic.Bool
	readyProbes   atomic.Int32
	readyAnalyzes atomic.Int32
	analyzes      atomic.Int64
	mu            sync.Mutex
	texts         []string
}

// Start serves the API until the test ends and returns its base URL.
func (a *API) Start(t testing.TB) string {
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Analyzes is how many /analyze requests arrived.
func (a *API) Analyzes() int64 { return a.analyzes.Load() }

// Texts are the texts /analyze received, in arrival order.
func (a *API) Texts() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.texts)
}

// ServeHTTP serves the contract's endpoints.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.startOnce.Do(func() { a.ready.Store(a.ReadyAfter == 0) })
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/ready":
		n := a.readyProbes.Add(1)
		if a.OnReadyProbe != nil {
			a.OnReadyProbe(n)
		}
		if a.ReadyAfter >= 0 && n > a.ReadyAfter {
			a.ready.Store(true)
		}
		if !a.ready.Load() {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "reason": "model is loading"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ready": true})
	case "/live":
		writeJSON(w, http.StatusOK, map[string]any{"live": true})
	case "/health":
		switch {
		case a.Health != "":
			_, _ = w.Write([]byte(a.Health))
		case a.ready.Load():
			writeJSON(w, http.StatusOK, map[string]any{"status": "healthy", "ready": true})
		default:
			writeJSON(w, http.StatusOK, map[string]any{"status": "starting", "ready": false})
		}
	case "/analyze":
		a.analyze(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "no such endpoint: " + r.URL.Path})
	}
}

func (a *API) analyze(w http.ResponseWriter, r *http.Request) {
	n := a.analyzes.Add(1)
	var req struct {
		Text string `json:"text"`
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&req) != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "want a JSON POST of {\"text\": ...}"})
		return
	}
	a.mu.Lock()
	a.texts = append(a.texts, req.Text)
	a.mu.Unlock()
	if a.OnAnalyze != nil {
		a.OnAnalyze(req.Text)
	}
	if !a.ready.Load() {
		if a.HangWhileLoading {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "model is loading"})
		return
	}
	if a.HangWhenReady || a.HangEveryOther && a.readyAnalyzes.Add(1)%2 == 1 {
		<-r.Context().Done()
		return
	}
	start := time.Now()
	if a.Cost != nil {
		// The simulated model's time, not an ordering of events.
		select {
		case <-time.After(a.Cost(n)):
		case <-r.Context().Done():
			return
		}
	}
	if a.Status != 0 && a.Status != http.StatusOK {
		writeJSON(w, a.Status, map[string]any{"error": "model exploded"})
		return
	}
	answer := map[string]any{"sentiment": "POSITIVE", "confidence": 0.98, "method": "transformer-ml", "model": "fake"}
	if a.Answer != nil {
		answer = a.Answer(req.Text)
	}
	if _, ok := answer["processing_time_ms"]; !ok && a.Answer == nil {
		answer["processing_time_ms"] = float64(time.Since(start).Microseconds()) / 1000
	}
	writeJSON(w, http.StatusOK, answer)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
