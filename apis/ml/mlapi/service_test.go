package mlapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
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
const fixtureDir = "../../../fixtures/models/sst2-mini"

// modelFiles are the files of a model folder that the API needs.
var modelFiles = []string{"model.onnx", "tokenizer.json", "config.json"}

// fixtureModel returns the absolute path of the fixture model, skipping the
// test when it is not there yet.
func fixtureModel(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(fixtureDir)
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "model.onnx")); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("fixture model missing: %s/model.onnx does not exist (train it with fixtures/models/sst2-mini/train.py)", fixtureDir)
	}
	return dir
}

// Reasons to skip a test under -race: two dependencies race inside
// themselves, and neither lets the caller avoid it.
const (
	// modelRace: gomlx v0.26.0's SimpleGo backend, under hugot's Go
	// session, races in every model run that has the backend to itself
	// (executeParallel reads execBuf.numUsed without its lock,
	// backends/simplego/exec.go:425), and hugot offers no way to make it
	// run the ops sequentially.
	modelRace = "runs the model, and gomlx v0.26.0 SimpleGo's parallel executor races on its own bookkeeping (exec.go:425); run without -race"
	// downloadRace: go-huggingface v0.3.1, under hugot.DownloadModel, bumps
	// its download counters from several goroutines without a lock.
	downloadRace = "downloads, and go-huggingface v0.3.1 races on its own download counters (hub/files.go:229,248); run without -race"
)

// skipUnderRace skips the test when the race detector is on, for reason.
func skipUnderRace(t *testing.T, reason string) {
	t.Helper()
	if raceDetector {
		t.Skip(reason)
	}
}

func newService(t *testing.T, cfg mlapi.Config) (*mlapi.ModelAPI, http.Handler) {
	t.Helper()
	svc := mlapi.New(cfg, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { assert.NoError(t, svc.Close()) })
	return svc, svc.Handler()
}

// reply is one answer of the API.
type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func do(t *testing.T, h http.Handler, method, path, contentType, body string) reply {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"), "%s %s answers JSON", method, path)
	var got map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got), "%s %s answered %q", method, path, rec.Body.String())
	return reply{rec.Code, rec.Header(), got}
}

func analyze(t *testing.T, h http.Handler, text string) reply {
	t.Helper()
	body, err := json.Marshal(map[string]string{"text": text})
	require.NoError(t, err)
	return do(t, h, http.MethodPost, "/analyze", "application/json", string(body))
}

// assertNotReady checks every endpoint of a service that cannot answer
// /analyze yet (or ever): alive, not ready, and a 503 with Retry-After.
func assertNotReady(t *testing.T, h http.Handler, wantStatus, wantPhase, wantRetryAfter string) {
	t.Helper()
	health := do(t, h, http.MethodGet, "/health", "", "")
	assert.Equal(t, http.StatusOK, health.status, "/health answers 200 while the process lives")
	assert.Equal(t, wantStatus, health.body["status"])
	assert.Equal(t, false, health.body["ready"])
	assert.Equal(t, "ml", health.body["api_type"])
	assert.Equal(t, wantPhase, health.body["phase"])
	assert.GreaterOrEqual(t, health.body["uptime_seconds"], 0.0)
	assert.Greater(t, health.body["memory_rss_bytes"], 0.0)
	assert.IsType(t, map[string]any{}, health.body["phase_seconds"])
	assert.IsType(t, 0.0, health.body["seconds_in_phase"])

	live := do(t, h, http.MethodGet, "/live", "", "")
	assert.Equal(t, http.StatusOK, live.status)

	ready := do(t, h, http.MethodGet, "/ready", "", "")
	assert.Equal(t, http.StatusServiceUnavailable, ready.status)
	assert.Equal(t, false, ready.body["ready"])
	assert.Equal(t, wantStatus, ready.body["status"])
	assert.NotEmpty(t, ready.body["reason"])

	got := analyze(t, h, "I love this amazing product!")
	assert.Equal(t, http.StatusServiceUnavailable, got.status, "never a 500 while not ready")
	assert.Equal(t, wantRetryAfter, got.header.Get("Retry-After"))
	require.IsType(t, "", got.body["error"])
	assert.Contains(t, got.body["error"], "model not ready")
	assert.Equal(t, wantPhase, got.body["phase"])
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

			health := do(t, h, http.MethodGet, "/health", "", "")
			assert.Contains(t, health.body["reason"], "loading")
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
			health := do(t, h, http.MethodGet, "/health", "", "")
			assert.Equal(t, err.Error(), health.body["error"], "/health carries the cause")
			assert.Equal(t, "model failed to load: "+err.Error(), health.body["reason"])
			require.IsType(t, map[string]any{}, health.body["phase_seconds"])
			for _, p := range tt.wantTook {
				assert.Contains(t, health.body["phase_seconds"], p)
			}
			ready := do(t, h, http.MethodGet, "/ready", "", "")
			assert.Contains(t, ready.body["reason"], tt.wantErr)
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
			got := do(t, h, tt.Method, tt.Path, tt.ContentType, tt.Body)
			assert.Equal(t, tt.WantStatus, got.status)
			require.IsType(t, "", got.body["error"], "error body: %v", got.body)
			assert.Contains(t, got.body["error"], tt.WantMsg)

			got = analyze(t, h, "Great value for the price.")
			assert.Equal(t, wantGood, got.status, "a good request after the bad one: %v", got.body)
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
	dir := fixtureModel(t)
	skipUnderRace(t, modelRace)
	svc, h := newService(t, mlapi.Config{ModelDir: dir})
	assert.Equal(t, "sst2-mini", svc.ModelName())

	assertNotReady(t, h, httpapi.StatusStarting, mlapi.PhaseLoading, "1")
	require.NoError(t, svc.Start(context.Background()))

	health := do(t, h, http.MethodGet, "/health", "", "")
	assert.Equal(t, http.StatusOK, health.status)
	assert.Equal(t, httpapi.StatusHealthy, health.body["status"])
	assert.Equal(t, true, health.body["ready"])
	assert.Equal(t, "ml", health.body["api_type"])
	assert.Equal(t, mlapi.PhaseReady, health.body["phase"])
	assert.Equal(t, "sst2-mini", health.body["model"])
	assert.Greater(t, health.body["memory_rss_bytes"], 0.0)
	assert.NotContains(t, health.body, "reason")
	assert.NotContains(t, health.body, "error")
	require.IsType(t, map[string]any{}, health.body["phase_seconds"])
	took := health.body["phase_seconds"].(map[string]any)
	assert.Contains(t, took, mlapi.PhaseLoading)
	assert.Contains(t, took, mlapi.PhaseWarming)
	assert.NotContains(t, took, mlapi.PhaseDownloading, "a local model is not downloaded")

	ready := do(t, h, http.MethodGet, "/ready", "", "")
	assert.Equal(t, http.StatusOK, ready.status)
	assert.Equal(t, map[string]any{"ready": true}, ready.body)
	assert.Equal(t, http.StatusOK, do(t, h, http.MethodGet, "/live", "", "").status)

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
				got := analyze(t, h, tt.text)

				require.Equal(t, http.StatusOK, got.status, got.body)
				assert.Contains(t, []any{httpapi.Positive, httpapi.Negative}, got.body["sentiment"])
				if tt.want != "" {
					assert.Equal(t, tt.want, got.body["sentiment"])
				}
				assert.Equal(t, "transformer-ml", got.body["method"])
				assert.Equal(t, "sst2-mini", got.body["model"])
				require.IsType(t, 0.0, got.body["confidence"])
				assert.GreaterOrEqual(t, got.body["confidence"], 0.0)
				assert.LessOrEqual(t, got.body["confidence"], 1.0)
				require.IsType(t, 0.0, got.body["processing_time_ms"])
				assert.Greater(t, got.body["processing_time_ms"], 0.0)
			})
		}
	})

	t.Run("text with no readable characters", func(t *testing.T) {
		got := analyze(t, h, "\x00\x01\x02")
		assert.Equal(t, http.StatusBadRequest, got.status)
		assert.Contains(t, got.body["error"], "no readable characters")
	})

	t.Run("bad requests", func(t *testing.T) { checkBadRequests(t, h, http.StatusOK) })
}

// TestRequestsDuringASuccessfulStart checks the whole way from not ready to
// ready under load: every answer is a 200 or a 503, never a 500, and once
// Start has returned every answer is a 200.
func TestRequestsDuringASuccessfulStart(t *testing.T) {
	dir := fixtureModel(t)
	skipUnderRace(t, modelRace)
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
	assert.Equal(t, http.StatusOK, analyze(t, h, "Lovely hotel.").status)
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
