package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/apis/httpapi"
)

// TestMetricsCountRequestsByRouteStatusAndOutcome serves a few requests and
// checks that /metrics reports them, with the outcome a handler named or the
// one its status implies, and unknown paths folded into one route.
func TestMetricsCountRequestsByRouteStatusAndOutcome(t *testing.T) {
	m := httpapi.NewMetrics("test")
	r := httpapi.NewRouter(discardLogger())
	r.Use(m.Middleware)
	m.Mount(r)
	r.Post("/analyze", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("answer") {
		case "degraded":
			httpapi.SetOutcome(r, httpapi.OutcomeDegraded)
			httpapi.WriteJSON(w, http.StatusOK, map[string]bool{"degraded": true})
		case "full":
			httpapi.WriteError(w, http.StatusTooManyRequests, "full")
		default:
			httpapi.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
		}
	})
	serve := func(method, path string) {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
	}
	serve(http.MethodPost, "/analyze")
	serve(http.MethodPost, "/analyze")
	serve(http.MethodPost, "/analyze?answer=degraded")
	serve(http.MethodPost, "/analyze?answer=full")
	serve(http.MethodGet, "/nope/1")
	serve(http.MethodGet, "/nope/2")

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Header().Get("Content-Type"), "text/plain")
	body, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	text := string(body)
	for _, line := range []string{
		`mlready_request_count_total{api="test",outcome="success",route="/analyze",status="200"} 2`,
		`mlready_request_count_total{api="test",outcome="degraded",route="/analyze",status="200"} 1`,
		`mlready_request_count_total{api="test",outcome="rejected",route="/analyze",status="429"} 1`,
		`mlready_request_count_total{api="test",outcome="invalid",route="other",status="404"} 2`,
		`mlready_request_duration_seconds_count{api="test",route="/analyze"} 4`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		assert.Contains(t, text, line)
	}
	problems, err := testutil.GatherAndLint(m.Registry)
	require.NoError(t, err)
	assert.Empty(t, problems, "metric names and help follow Prometheus conventions")
}

// TestMetricsAreOnePerService: two services in one process keep their own
// counts (no global registry).
func TestMetricsAreOnePerService(t *testing.T) {
	a, b := httpapi.NewMetrics("a"), httpapi.NewMetrics("b")
	h := a.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))

	n, err := testutil.GatherAndCount(a.Registry, "mlready_request_count_total")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = testutil.GatherAndCount(b.Registry, "mlready_request_count_total")
	require.NoError(t, err)
	assert.Zero(t, n)
}
