package mlapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/httpapi/httpapitest"
	"github.com/mlready/mlready/apis/ml/mlapi"
)

// fixtureDir is the committed sst2-mini fixture model.
// modelFiles are the files of a model folder that the API needs.
var modelFiles = []string{"model.onnx", "tokenizer.json", "config.json"}

func newService(t *testing.T, cfg mlapi.Config) (*mlapi.ModelAPI, http.Handler) {
	t.Helper()
	svc := mlapi.New(cfg, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { assert.NoError(t, svc.Close()) })
	return svc, svc.Handler()
}

// assertNotReady checks every endpoint of a service that cannot answer
// /analyze yet (or ever): alive, not ready, and a 503 with Retry-After.
func assertNotReady(t *testing.T, h http.Handler, wantStatus, wantPhase, wantRetryAfter string) {
	t.Helper()
	health := httpapitest.Do(t, h, http.MethodGet, "/health", "", "")
	assert.Equal(t, http.StatusOK, health.Status, "/health answers 200 while the process lives")
	assert.Equal(t, wantStatus, health.Body["status"])
	assert.Equal(t, false, health.Body["ready"])
	assert.Equal(t, "ml", health.Body["api_type"])
	assert.Equal(t, wantPhase, health.Body["phase"])
	assert.GreaterOrEqual(t, health.Body["uptime_seconds"], 0.0)
	assert.Greater(t, health.Body["memory_rss_bytes"], 0.0)
	assert.IsType(t, map[string]any{}, health.Body["phase_seconds"])
	assert.IsType(t, 0.0, health.Body["seconds_in_phase"])

	live := httpapitest.Do(t, h, http.MethodGet, "/live", "", "")
	assert.Equal(t, http.StatusOK, live.Status)

	ready := httpapitest.Do(t, h, http.MethodGet, "/ready", "", "")
	assert.Equal(t, http.StatusServiceUnavailable, ready.Status)
	assert.Equal(t, false, ready.Body["ready"])
	assert.Equal(t, wantStatus, ready.Body["status"])
	assert.NotEmpty(t, ready.Body["reason"])

	got := httpapitest.Analyze(t, h, "I love this amazing product!")
	assert.Equal(t, http.StatusServiceUnavailable, got.Status, "never a 500 while not ready")
	assert.Equal(t, wantRetryAfter, got.Header.Get("Retry-After"))
	require.IsType(t, "", got.Body["error"])
	assert.Contains(t, got.Body["error"], "model not ready")
	assert.Equal(t, wantPhase, got.Body["phase"])
}

func TestNotReadyBeforeStart(t *testing.T) {
	tests := []struct {
		name           string
		cfg            mlapi.Config
		wantRetryAfter string
	}{
		{"default Retry-After", mlapi.Config{ModelDir: t.TempDir()}, "1"},
		{"configured Retry-After", mlapi.Config{ModelDir: t.TempDir(), RetryAfter: 7}, "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, h := newService(t, tt.cfg)
			assertNotReady(t, h, httpapi.StatusStarting, mlapi.PhaseLoading, tt.wantRetryAfter)

			health := httpapitest.Do(t, h, http.MethodGet, "/health", "", "")
			assert.Contains(t, health.Body["reason"], "loading")
		})
	}
}

func TestFailedStartKeepsServingTheCause(t *testing.T) {
	garbageModel := func(t *testing.T) string {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "model.onnx"), []byte("not an ONNX model"), 0o644))
		return dir
	}
	tests := []struct {
		name     string
		cfg      func(t *testing.T) mlapi.Config
		wantErr  string
		wantTook []string // phases with a recorded duration
	}{
		{
			name:     "no MODEL_DIR and no MODEL_ID",
			cfg:      func(*testing.T) mlapi.Config { return mlapi.Config{} },
			wantErr:  "no model configured: set MODEL_DIR",
			wantTook: []string{mlapi.PhaseLoading},
		},
		{
			name:     "empty model folder",
			cfg:      func(t *testing.T) mlapi.Config { return mlapi.Config{ModelDir: t.TempDir()} },
			wantErr:  "no .onnx file",
			wantTook: []string{mlapi.PhaseLoading},
		},
		{
			name:     "missing model folder",
			cfg:      func(t *testing.T) mlapi.Config { return mlapi.Config{ModelDir: filepath.Join(t.TempDir(), "nope")} },
			wantErr:  "no such file or directory",
			wantTook: []string{mlapi.PhaseLoading},
		},
		{
			name:     "garbage model.onnx",
			cfg:      func(t *testing.T) mlapi.Config { return mlapi.Config{ModelDir: garbageModel(t)} },
			wantErr:  "failed to parse ONNX model",
			wantTook: []string{mlapi.PhaseLoading},
		},
		{
			name:     "MODEL_ID without MODEL_CACHE",
			cfg:      func(*testing.T) mlapi.Config { return mlapi.Config{ModelID: "mlready/sst2-mini"} },
			wantErr:  "MODEL_CACHE is not set",
			wantTook: []string{mlapi.PhaseDownloading},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, h := newService(t, tt.cfg(t))

			err := svc.Start(context.Background())

			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assertNotReady(t, h, httpapi.StatusFailed, mlapi.PhaseFailed, "1")
			health := httpapitest.Do(t, h, http.MethodGet, "/health", "", "")
			assert.Equal(t, err.Error(), health.Body["error"], "/health carries the cause")
			assert.Equal(t, "model failed to load: "+err.Error(), health.Body["reason"])
			require.IsType(t, map[string]any{}, health.Body["phase_seconds"])
			for _, p := range tt.wantTook {
				assert.Contains(t, health.Body["phase_seconds"], p)
			}
			ready := httpapitest.Do(t, h, http.MethodGet, "/ready", "", "")
			assert.Contains(t, ready.Body["reason"], tt.wantErr)
		})
	}
}

// TestRequestsDuringAFailingStart hammers every endpoint while Start runs
// and fails; the race detector checks the service's own locking.
func TestRequestsDuringAFailingStart(t *testing.T) {
	svc, h := newService(t, mlapi.Config{ModelDir: t.TempDir()})
	started := make(chan error, 1)
	go func() { started <- svc.Start(context.Background()) }()

	want := map[string]int{"/health": 200, "/live": 200, "/ready": 503, "/analyze": 503}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				for path, code := range want {
					req := httptest.NewRequest(http.MethodGet, path, nil)
					if path == "/analyze" {
						req = httptest.NewRequest(http.MethodPost, path, strings.NewReader(`{"text":"fine"}`))
						req.Header.Set("Content-Type", "application/json")
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					assert.Equal(t, code, rec.Code, "%s: %s", path, rec.Body)
				}
			}
		})
	}
	wg.Wait()
	require.Error(t, <-started)
	assertNotReady(t, h, httpapi.StatusFailed, mlapi.PhaseFailed, "1")
}

// checkBadRequests sends each bad request, then a good one that must get
// wantGood: the service keeps serving after every mistake.
func checkBadRequests(t *testing.T, h http.Handler, wantGood int) {
	t.Helper()
	for _, tt := range httpapitest.BadRequests() {
		t.Run(tt.Name, func(t *testing.T) {
			got := httpapitest.Do(t, h, tt.Method, tt.Path, tt.ContentType, tt.Body)
			assert.Equal(t, tt.WantStatus, got.Status)
			require.IsType(t, "", got.Body["error"], "error body: %v", got.Body)
			assert.Contains(t, got.Body["error"], tt.WantMsg)

			got = httpapitest.Analyze(t, h, "Great value for the price.")
			assert.Equal(t, wantGood, got.Status, "a good request after the bad one: %v", got.Body)
		})
	}
}

// TestBadRequestsBeforeReady checks that request mistakes are named even
// while the model loads: validation comes before readiness.
func TestBadRequestsBeforeReady(t *testing.T) {
	_, h := newService(t, mlapi.Config{ModelDir: t.TempDir()})
	checkBadRequests(t, h, http.StatusServiceUnavailable)
}

func TestStartWithFixtureModel(t *testing.T) {
	dir := httpapitest.FixtureModel(t)
	httpapitest.SkipUnderRace(t, httpapitest.ModelRace)
	svc, h := newService(t, mlapi.Config{ModelDir: dir})
	assert.Equal(t, "sst2-mini", svc.ModelName())

	assertNotReady(t, h, httpapi.StatusStarting, mlapi.PhaseLoading, "1")
	require.NoError(t, svc.Start(context.Background()))

	health := httpapitest.Do(t, h, http.MethodGet, "/health", "", "")
	assert.Equal(t, http.StatusOK, health.Status)
	assert.Equal(t, httpapi.StatusHealthy, health.Body["status"])
	assert.Equal(t, true, health.Body["ready"])
	assert.Equal(t, "ml", health.Body["api_type"])
	assert.Equal(t, mlapi.PhaseReady, health.Body["phase"])
	assert.Equal(t, "sst2-mini", health.Body["model"])
	assert.Greater(t, health.Body["memory_rss_bytes"], 0.0)
	assert.NotContains(t, health.Body, "reason")
	assert.NotContains(t, health.Body, "error")
	require.IsType(t, map[string]any{}, health.Body["phase_seconds"])
	took := health.Body["phase_seconds"].(map[string]any)
	assert.Contains(t, took, mlapi.PhaseLoading)
	assert.Contains(t, took, mlapi.PhaseWarming)
	assert.NotContains(t, took, mlapi.PhaseDownloading, "a local model is not downloaded")

	ready := httpapitest.Do(t, h, http.MethodGet, "/ready", "", "")
	assert.Equal(t, http.StatusOK, ready.Status)
	assert.Equal(t, map[string]any{"ready": true}, ready.Body)
	assert.Equal(t, http.StatusOK, httpapitest.Do(t, h, http.MethodGet, "/live", "", "").Status)

	t.Run("analyze", func(t *testing.T) {
		tests := []struct{ name, text, want string }{
			{"praise", "I love this amazing product!", httpapi.Positive},
			{"complaint", "This is the worst service ever.", httpapi.Negative},
			{"5,000 words are truncated, not rejected", strings.Repeat("wonderful ", 5000), ""},
			{"emoji and mixed scripts", "Great 很好 отлично 👍", ""},
			{"invalid UTF-8", "good \xff\xfe product", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				require.Less(t, len(tt.text), httpapi.MaxBodyBytes)
				got := httpapitest.Analyze(t, h, tt.text)

				require.Equal(t, http.StatusOK, got.Status, got.Body)
				assert.Contains(t, []any{httpapi.Positive, httpapi.Negative}, got.Body["sentiment"])
				if tt.want != "" {
					assert.Equal(t, tt.want, got.Body["sentiment"])
				}
				assert.Equal(t, "transformer-ml", got.Body["method"])
				assert.Equal(t, "sst2-mini", got.Body["model"])
				require.IsType(t, 0.0, got.Body["confidence"])
				assert.GreaterOrEqual(t, got.Body["confidence"], 0.0)
				assert.LessOrEqual(t, got.Body["confidence"], 1.0)
				require.IsType(t, 0.0, got.Body["processing_time_ms"])
				assert.Greater(t, got.Body["processing_time_ms"], 0.0)
			})
		}
	})

	t.Run("text with no readable characters", func(t *testing.T) {
		got := httpapitest.Analyze(t, h, "\x00\x01\x02")
		assert.Equal(t, http.StatusBadRequest, got.Status)
		assert.Contains(t, got.Body["error"], "no readable characters")
	})

	t.Run("bad requests", func(t *testing.T) { checkBadRequests(t, h, http.StatusOK) })
}

// TestRequestsDuringASuccessfulStart checks the whole way from not ready to
// ready under load: every answer is a 200 or a 503, never a 500, and once
// Start has returned every answer is a 200.
func TestRequestsDuringASuccessfulStart(t *testing.T) {
	dir := httpapitest.FixtureModel(t)
	httpapitest.SkipUnderRace(t, httpapitest.ModelRace)
	svc, h := newService(t, mlapi.Config{ModelDir: dir})
	done := make(chan struct{})
	var startErr error
	go func() {
		defer close(done)
		startErr = svc.Start(context.Background())
	}()

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				req := httptest.NewRequest(http.MethodPost, "/analyze", strings.NewReader(`{"text":"Lovely hotel."}`))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if !assert.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, rec.Code, rec.Body.String()) {
					return
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, startErr)
	assert.Equal(t, http.StatusOK, httpapitest.Analyze(t, h, "Lovely hotel.").Status)
}

func TestCloseIsIdempotent(t *testing.T) {
	svc := mlapi.New(mlapi.Config{ModelDir: t.TempDir()}, slog.New(slog.DiscardHandler))
	assert.NoError(t, svc.Close(), "close before start")
	require.Error(t, svc.Start(context.Background()))
	assert.NoError(t, svc.Close())
	assert.NoError(t, svc.Close())
}

func TestModelName(t *testing.T) {
	tests := []struct {
		cfg  mlapi.Config
		want string
	}{
		{mlapi.Config{ModelDir: "/models/sst2-mini"}, "sst2-mini"},
		{mlapi.Config{ModelDir: "/models/sst2-mini/"}, "sst2-mini"},
		{mlapi.Config{ModelID: "mlready/sst2-mini", CacheDir: "/cache"}, "mlready/sst2-mini"},
		{mlapi.Config{ModelDir: "/models/local", ModelID: "mlready/sst2-mini"}, "local"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, mlapi.New(tt.cfg, slog.New(slog.DiscardHandler)).ModelName(), "%+v", tt.cfg)
	}
}
