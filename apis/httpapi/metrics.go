package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsNamespace prefixes every metric of both APIs.
const MetricsNamespace = "mlready"

// Outcomes of a request, the "outcome" label of mlready_request_count_total.
// A handler names its outcome with SetOutcome; otherwise it follows from the
// status: 2xx success, 429 rejected, other 4xx invalid, 503 unavailable,
// other 5xx error.
const (
	OutcomeSuccess     = "success"
	OutcomeInvalid     = "invalid"
	OutcomeRejected    = "rejected"
	OutcomeUnavailable = "unavailable"
	OutcomeError       = "error"
	// OutcomeDegraded: answered by a fallback rather than the model.
	OutcomeDegraded = "degraded"
	// OutcomeNotReady: 503 because the model is not loaded (yet).
	OutcomeNotReady = "not_ready"
	// OutcomeExpired: 503 because the request waited past its deadline.
	OutcomeExpired = "expired"
)

// Metrics is one API's Prometheus registry, holding the HTTP metrics both
// APIs share plus whatever the API registers itself. Each service owns one,
// so that two services in one process (as in tests) never share counters.
type Metrics struct {
	// Registry is where an API registers its own collectors.
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// LatencyBuckets are the histogram buckets, in seconds, of every duration
// metric: from a rule-based answer (well under a millisecond) to a request
// that waits in a long queue.
var LatencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// NewMetrics returns a registry for the API called api ("traditional",
// "ml"), with Go runtime and process metrics and the HTTP request metrics.
func NewMetrics(api string) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	constLabels := prometheus.Labels{"api": api}
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: MetricsNamespace, Name: "request_count_total", ConstLabels: constLabels,
			Help: "HTTP requests answered, by route, status code and outcome.",
		}, []string{"route", "status", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: MetricsNamespace, Name: "request_duration_seconds", ConstLabels: constLabels,
			Help: "Time from a request's arrival to its answer, by route.", Buckets: LatencyBuckets,
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// Mount adds GET /metrics, in the Prometheus text format, to r.
func (m *Metrics) Mount(r chi.Router) {
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
}

// Middleware counts and times every request. Its route label is the chi
// route pattern ("other" for unknown paths, so that scanners cannot blow up
// the number of series); it must run inside the chi router.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		outcome := new(string)
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r.WithContext(context.WithValue(r.Context(), outcomeKey{}, outcome)))
		route := "other"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK // nothing written: net/http answers 200
		}
		if *outcome == "" {
			*outcome = outcomeOf(status)
		}
		m.requests.WithLabelValues(route, strconv.Itoa(status), *outcome).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

type outcomeKey struct{}

// SetOutcome names the outcome of the request being served, for the
// "outcome" label; without it the outcome follows from the status.
func SetOutcome(r *http.Request, outcome string) {
	if p, ok := r.Context().Value(outcomeKey{}).(*string); ok {
		*p = outcome
	}
}

func outcomeOf(status int) string {
	switch {
	case status < 400:
		return OutcomeSuccess
	case status == http.StatusTooManyRequests:
		return OutcomeRejected
	case status < 500:
		return OutcomeInvalid
	case status == http.StatusServiceUnavailable:
		return OutcomeUnavailable
	default:
		return OutcomeError
	}
}
