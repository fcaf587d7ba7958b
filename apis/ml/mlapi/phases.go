package mlapi

import (
	"sync"
	"time"

	"github.com/mlready/mlready/apis/httpapi"
)

// Phases of the ML API's start-up, as /health shows them in "phase".
const (
	PhaseDownloading = "downloading"
	PhaseLoading     = "loading"
	PhaseWarming     = "warming"
	PhaseReady       = "ready"
	PhaseFailed      = "failed"
)

// phases records the start-up phase the service is in and how long each
// finished phase took. It is the one place the phase changes.
type phases struct {
	mu      sync.RWMutex
	current string
	since   time.Time
	seconds map[string]float64
	failure string
}

func newPhases(now time.Time) *phases {
	return &phases{current: PhaseLoading, since: now, seconds: map[string]float64{}}
}

// enter ends the current phase and starts next; it returns how long the
// phase that ended lasted.
func (p *phases) enter(next string, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	took := now.Sub(p.since)
	if p.current != PhaseReady && p.current != PhaseFailed {
		p.seconds[p.current] = took.Seconds()
	}
	p.current, p.since = next, now
	return took
}

func (p *phases) fail(cause string, now time.Time) time.Duration {
	took := p.enter(PhaseFailed, now)
	p.mu.Lock()
	p.failure = cause
	p.mu.Unlock()
	return took
}

func (p *phases) ready() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.current == PhaseReady
}

// readiness is the /health, /ready view of the phases.
func (p *phases) readiness(model string, now time.Time) httpapi.Readiness {
	p.mu.RLock()
	defer p.mu.RUnlock()
	timings := make(map[string]float64, len(p.seconds))
	for k, v := range p.seconds {
		timings[k] = v
	}
	r := httpapi.Readiness{
		Status: httpapi.StatusStarting,
		Details: map[string]any{
			"phase":            p.current,
			"phase_seconds":    timings,
			"seconds_in_phase": now.Sub(p.since).Seconds(),
			"model":            model,
		},
	}
	switch p.current {
	case PhaseReady:
		r.Status, r.Ready = httpapi.StatusHealthy, true
	case PhaseFailed:
		r.Status, r.Reason = httpapi.StatusFailed, "model failed to load: "+p.failure
		r.Details["error"] = p.failure
	default:
		r.Reason = "model is " + p.current
	}
	return r
}

// allPhases lists every phase, in start-up order, for the phase metric.
var allPhases = []string{PhaseDownloading, PhaseLoading, PhaseWarming, PhaseReady, PhaseFailed}

// snapshot is the current phase and the durations of the finished ones.
func (p *phases) snapshot() (current string, seconds map[string]float64) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	seconds = make(map[string]float64, len(p.seconds))
	for k, v := range p.seconds {
		seconds[k] = v
	}
	return p.current, seconds
}

// starting tells whether the model may still become ready: neither ready
// nor failed yet.
func (p *phases) starting() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.current != PhaseReady && p.current != PhaseFailed
}
