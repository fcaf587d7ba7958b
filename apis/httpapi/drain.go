package httpapi

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// StatusStopping is the "status" of /ready while an API shuts down.
const StatusStopping = "stopping"

// Drain lets an API shut down without dropping work: once started, it
// answers /ready (and its aliases) 503 at once, so that load balancers stop
// sending traffic, and every new request other than the liveness and
// metrics probes 503 with Retry-After, while the requests already being
// served run to the end. Serve uses one; the zero value is ready to use.
type Drain struct {
	draining atomic.Bool
	inFlight atomic.Int64
}

// Wrap guards next: it counts the requests next is serving and turns new
// ones away once draining.
func (d *Drain) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.draining.Load() && !passesDrain(r.URL.Path) {
			w.Header().Set("Retry-After", "1")
			if IsReadinessPath(r.URL.Path) {
				WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "status": StatusStopping, "reason": "shutting down"})
				return
			}
			WriteError(w, http.StatusServiceUnavailable, "shutting down: send the request to another instance")
			return
		}
		d.inFlight.Add(1)
		defer d.inFlight.Add(-1)
		next.ServeHTTP(w, r)
	})
}

// passesDrain tells the paths that keep answering while draining: the
// process is still alive and its metrics still worth scraping.
func passesDrain(path string) bool {
	switch path {
	case "/health", "/live", OIPLivePath, "/metrics":
		return true
	}
	return false
}

// Start begins draining; it cannot be undone.
func (d *Drain) Start() { d.draining.Store(true) }

// InFlight is the number of requests being served.
func (d *Drain) InFlight() int64 { return d.inFlight.Load() }

// Wait returns once no request is in flight, or with ctx's error when ctx
// ends first.
func (d *Drain) Wait(ctx context.Context) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for d.inFlight.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
