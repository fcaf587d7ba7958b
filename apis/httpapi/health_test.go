package httpapi_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/httpapi/httpapitest"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// statusAndBody splits a reply for tests that compare both.
func statusAndBody(r httpapitest.Reply) (int, map[string]any) { return r.Status, r.Body }

func TestHealthEndpoints(t *testing.T) {
	tests := []struct {
		name       string
		readiness  httpapi.Readiness
		wantReady  int
		wantReason string
	}{
		{
			name:      "healthy",
			readiness: httpapi.Readiness{Status: httpapi.StatusHealthy, Ready: true},
			wantReady: http.StatusOK,
		},
		{
			name: "starting",
			readiness: httpapi.Readiness{Status: httpapi.StatusStarting, Reason: "model is loading",
				Details: map[string]any{"phase": "loading"}},
			wantReady:  http.StatusServiceUnavailable,
			wantReason: "model is loading",
		},
		{
			name: "failed",
			readiness: httpapi.Readiness{Status: httpapi.StatusFailed, Reason: "model failed to load: no such file",
				Details: map[string]any{"phase": "failed", "error": "no such file"}},
			wantReady:  http.StatusServiceUnavailable,
			wantReason: "model failed to load: no such file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httpapi.NewRouter(discardLogger())
			httpapi.Health{
				APIType:   "ml",
				Started:   time.Now().Add(-90 * time.Second),
				Readiness: func() httpapi.Readiness { return tt.readiness },
			}.Mount(r)

			// /health describes the process and never gates traffic.
			code, body := statusAndBody(httpapitest.Get(t, r, "/health"))
			assert.Equal(t, http.StatusOK, code)
			assert.Equal(t, tt.readiness.Status, body["status"])
			assert.Equal(t, tt.readiness.Ready, body["ready"])
			assert.Equal(t, "ml", body["api_type"])
			assert.InDelta(t, 90, body["uptime_seconds"], 30)
			assert.Greater(t, body["memory_rss_bytes"], float64(1<<20), "RSS of a Go process is over 1 MiB")
			for k, v := range tt.readiness.Details {
				assert.Equal(t, v, body[k], "detail %q", k)
			}
			if tt.wantReason != "" {
				assert.Equal(t, tt.wantReason, body["reason"])
			} else {
				assert.NotContains(t, body, "reason")
			}

			code, body = statusAndBody(httpapitest.Get(t, r, "/live"))
			assert.Equal(t, http.StatusOK, code)
			assert.Equal(t, true, body["live"])

			code, body = statusAndBody(httpapitest.Get(t, r, "/ready"))
			assert.Equal(t, tt.wantReady, code)
			assert.Equal(t, tt.readiness.Ready, body["ready"])
			if !tt.readiness.Ready {
				assert.Equal(t, tt.readiness.Status, body["status"])
				assert.Equal(t, tt.wantReason, body["reason"])
			}
		})
	}
}

// TestHealthDetailsCannotOverrideContractFields guards the contract's own
// fields against an API that happens to use the same name in Details.
func TestHealthDetailsCannotOverrideContractFields(t *testing.T) {
	r := httpapi.NewRouter(discardLogger())
	httpapi.Health{APIType: "traditional", Started: time.Now(), Readiness: func() httpapi.Readiness {
		return httpapi.Readiness{Status: httpapi.StatusStarting, Details: map[string]any{
			"status": "bogus", "ready": true, "api_type": "bogus", "uptime_seconds": -1, "memory_rss_bytes": -1,
		}}
	}}.Mount(r)

	body := httpapitest.Get(t, r, "/health").Body

	assert.Equal(t, httpapi.StatusStarting, body["status"])
	assert.Equal(t, false, body["ready"])
	assert.Equal(t, "traditional", body["api_type"])
	assert.GreaterOrEqual(t, body["uptime_seconds"], 0.0)
	assert.Greater(t, body["memory_rss_bytes"], 0.0)
}

func TestHealthIsCurrentOnEveryRequest(t *testing.T) {
	ready := false
	r := httpapi.NewRouter(discardLogger())
	httpapi.Health{APIType: "ml", Started: time.Now(), Readiness: func() httpapi.Readiness {
		if ready {
			return httpapi.Readiness{Status: httpapi.StatusHealthy, Ready: true}
		}
		return httpapi.Readiness{Status: httpapi.StatusStarting, Reason: "warming"}
	}}.Mount(r)

	code := httpapitest.Get(t, r, "/ready").Status
	assert.Equal(t, http.StatusServiceUnavailable, code)
	ready = true
	code = httpapitest.Get(t, r, "/ready").Status
	assert.Equal(t, http.StatusOK, code)
}

// TestRSSBytesIsMeasured checks that the figure follows the process's real
// memory: touching 64 MiB must raise it by about that much.
func TestRSSBytesIsMeasured(t *testing.T) {
	// Give freed heap back to the OS first, or the new buffer may reuse
	// pages that are resident already (as on a second -count run).
	debug.FreeOSMemory()
	before, err := httpapi.RSSBytes()
	require.NoError(t, err)
	require.Positive(t, before)

	buf := make([]byte, 64<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	after, err := httpapi.RSSBytes()
	runtime.KeepAlive(buf)

	require.NoError(t, err)
	assert.Greater(t, after-before, int64(48<<20), "RSS went from %d to %d bytes", before, after)
}

func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	httpapi.WriteError(rec, http.StatusTeapot, "short and stout")

	assert.Equal(t, http.StatusTeapot, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	body, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	assert.JSONEq(t, `{"error":"short and stout"}`, string(body))
}

// TestOpenInferenceProtocolAliases checks the KServe v2 health paths: they
// answer as /live and /ready do, and the model path knows the API's model
// (a name with a slash included) and no other.
func TestOpenInferenceProtocolAliases(t *testing.T) {
	tests := []struct {
		name      string
		ready     bool
		path      string
		wantCode  int
		wantField string // "live", "ready" or "error"
	}{
		{"live", false, "/v2/health/live", 200, "live"},
		{"ready", true, "/v2/health/ready", 200, "ready"},
		{"not ready", false, "/v2/health/ready", 503, "ready"},
		{"model ready", true, "/v2/models/mlready/sst2-mini/ready", 200, "ready"},
		{"model not ready", false, "/v2/models/mlready/sst2-mini/ready", 503, "ready"},
		{"other model", true, "/v2/models/bert/ready", 404, "error"},
		{"model without /ready", true, "/v2/models/mlready/sst2-mini", 404, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httpapi.NewRouter(discardLogger())
			httpapi.Health{APIType: "ml", Started: time.Now(), Model: "mlready/sst2-mini", Readiness: func() httpapi.Readiness {
				if tt.ready {
					return httpapi.Readiness{Status: httpapi.StatusHealthy, Ready: true}
				}
				return httpapi.Readiness{Status: httpapi.StatusStarting, Reason: "model is loading"}
			}}.Mount(r)

			code, body := statusAndBody(httpapitest.Get(t, r, tt.path))

			assert.Equal(t, tt.wantCode, code, "%v", body)
			assert.Contains(t, body, tt.wantField)
		})
	}
}

func TestIsReadinessPath(t *testing.T) {
	for path, want := range map[string]bool{
		"/ready": true, "/v2/health/ready": true, "/v2/models/x/ready": true, "/v2/models/a/b/ready": true,
		"/live": false, "/health": false, "/v2/health/live": false, "/v2/models/x": false, "/analyze": false,
	} {
		assert.Equal(t, want, httpapi.IsReadinessPath(path), path)
	}
}

// TestModelRespondingProbe: with Responding set, /v2/models/{name}/ready
// answers 200 only when the API is ready and its inference came back;
// before the model is ready it answers like /ready without running one.
func TestModelRespondingProbe(t *testing.T) {
	tests := []struct {
		name       string
		ready      bool
		responding error
		wantCode   int
		wantStatus string
		wantCalled bool
	}{
		{"responding", true, nil, 200, "", true},
		{"loaded but not responding", true, errors.New("the model did not answer a probe inference within 1s"), 503, httpapi.StatusUnresponsive, true},
		{"not loaded", false, nil, 503, httpapi.StatusStarting, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			r := httpapi.NewRouter(discardLogger())
			httpapi.Health{APIType: "ml", Started: time.Now(), Model: "m", Readiness: func() httpapi.Readiness {
				if tt.ready {
					return httpapi.Readiness{Status: httpapi.StatusHealthy, Ready: true}
				}
				return httpapi.Readiness{Status: httpapi.StatusStarting, Reason: "model is loading"}
			}, Responding: func(context.Context) error {
				called = true
				return tt.responding
			}}.Mount(r)

			code, body := statusAndBody(httpapitest.Get(t, r, "/v2/models/m/ready"))

			assert.Equal(t, tt.wantCode, code, "%v", body)
			assert.Equal(t, tt.wantCalled, called, "inference run")
			assert.Equal(t, tt.wantCode == 200, body["ready"])
			if tt.wantStatus != "" {
				assert.Equal(t, tt.wantStatus, body["status"])
			}
			if tt.responding != nil {
				assert.Contains(t, body["reason"], "did not answer")
			}
			// /ready keeps its own meaning: loaded, not responding.
			code = httpapitest.Get(t, r, "/ready").Status
			assert.Equal(t, map[bool]int{true: 200, false: 503}[tt.ready], code)
		})
	}
}
