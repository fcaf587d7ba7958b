package mlapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/httpapi/httpapitest"
	"github.com/mlready/mlready/apis/ml/mlapi"
)

// modelID is the hub repository the download tests serve.
const modelID = "mlready/sst2-mini"

// fakeHub serves one repository the way huggingface.co does, as far as
// hugot's downloader looks: the revision listing, then HEAD and GET of each
// file by commit, with an ETag and no redirect.
type fakeHub struct {
	files map[string][]byte
	sha   string
	// gate, when set, holds the GET of model.onnx until it is closed, and
	// entered is closed once that GET has arrived: the test can look at the
	// API mid-download without sleeping.
	gate, entered chan struct{}
	enterOnce     sync.Once
	// truncate names a file whose GET declares its full length, sends half
	// of it and drops the connection, as a flaky link does.
	truncate string
	// corrupt names a file whose GET serves other bytes than its ETag says.
	corrupt string

	mu       sync.Mutex
	requests []string
}

func newFakeHub(files map[string][]byte) *fakeHub {
	h := sha256.New()
	for _, name := range modelFiles {
		h.Write(files[name])
	}
	return &fakeHub{files: files, sha: hex.EncodeToString(h.Sum(nil))[:40]}
}

// withGate makes the download of model.onnx wait for the test.
func (h *fakeHub) withGate() *fakeHub {
	h.gate, h.entered = make(chan struct{}), make(chan struct{})
	return h
}

// seen is every request the hub has answered, as "METHOD /path".
func (h *fakeHub) seen() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.requests...)
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.requests = append(h.requests, r.Method+" "+r.URL.Path)
	h.mu.Unlock()

	if r.URL.Path == "/api/models/"+modelID+"/revision/main" {
		siblings := make([]map[string]string, 0, len(h.files))
		for name := range h.files {
			siblings = append(siblings, map[string]string{"rfilename": name})
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"id": modelID, "modelId": modelID, "sha": h.sha, "siblings": siblings})
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/"+modelID+"/resolve/")
	rev, name, _ := strings.Cut(rest, "/")
	data, found := h.files[name]
	if !ok || !found || (rev != h.sha && rev != "main") {
		httpapi.WriteError(w, http.StatusNotFound, "not found: "+r.URL.Path)
		return
	}
	sum := sha256.Sum256(data)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	w.Header().Set("X-Repo-Commit", h.sha)
	if h.gate != nil && r.Method == http.MethodGet && name == "model.onnx" {
		h.enterOnce.Do(func() { close(h.entered) })
		select {
		case <-h.gate:
		case <-r.Context().Done():
			return
		}
	}
	if name == h.truncate && r.Method == http.MethodGet {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data[:len(data)/2])
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
	if name == h.corrupt && r.Method == http.MethodGet {
		data = append([]byte{data[0] ^ 0xff}, data[1:]...)
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}

// serveHub starts h, to be named in Config.HubEndpoint, with the
// downloader's caches in fresh folders. t.Setenv restores the variables
// that the API sets for hugot's downloader (pointHugotAt) after the test.
func serveHub(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	home := t.TempDir()
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	t.Setenv("HF_HOME", filepath.Join(home, ".cache", "huggingface"))
	return srv
}

// readModel reads the files of a model folder.
func readModel(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for _, name := range modelFiles {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		files[name] = b
	}
	return files
}

// garbageModel is a model folder whose model.onnx cannot be parsed.
func garbageModel() map[string][]byte {
	return map[string][]byte{
		"model.onnx":     []byte("not an ONNX model"),
		"tokenizer.json": []byte(`{}`),
		"config.json":    []byte(`{"id2label": {"0": "NEGATIVE", "1": "POSITIVE"}}`),
	}
}

// assertCached checks that cacheDir holds exactly the model, in its final
// place, with no partial download left over.
func assertCached(t *testing.T, cacheDir string, want map[string][]byte) {
	t.Helper()
	entries, err := os.ReadDir(cacheDir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasPrefix(e.Name(), ".partial-"), "partial download left in the cache: %s", e.Name())
	}
	for name, data := range want {
		got, err := os.ReadFile(filepath.Join(cacheDir, "mlready_sst2-mini", name))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(data, got), "%s is the hub's copy", name)
	}
}

func phaseSeconds(t *testing.T, h http.Handler) map[string]any {
	t.Helper()
	health := httpapitest.Do(t, h, http.MethodGet, "/health", "", "")
	require.IsType(t, map[string]any{}, health.Body["phase_seconds"])
	return health.Body["phase_seconds"].(map[string]any)
}

// TestDownloadThenCache follows MODEL_ID from an empty cache: the API is
// "downloading" (and says so) until the hub has delivered, then ready; a
// second start with the same cache downloads nothing.
func TestDownloadThenCache(t *testing.T) {
	model := readModel(t, httpapitest.FixtureModel(t))
	httpapitest.SkipUnderRace(t, httpapitest.ModelRace)
	hub := newFakeHub(model).withGate()
	srv := serveHub(t, hub)
	cacheDir := t.TempDir()
	cfg := mlapi.Config{ModelID: modelID, CacheDir: cacheDir, HubEndpoint: srv.URL}
	svc, h := newService(t, cfg)

	started := make(chan error, 1)
	go func() { started <- svc.Start(context.Background()) }()
	select {
	case <-hub.entered:
	case err := <-started:
		t.Fatalf("Start returned before it downloaded model.onnx: %v", err)
	}
	assertNotReady(t, h, httpapi.StatusStarting, mlapi.PhaseDownloading, "1")
	assert.Contains(t, httpapitest.Do(t, h, http.MethodGet, "/ready", "", "").Body["reason"], "downloading")
	close(hub.gate)
	require.NoError(t, <-started)

	assert.Equal(t, http.StatusOK, httpapitest.Do(t, h, http.MethodGet, "/ready", "", "").Status)
	got := httpapitest.Analyze(t, h, "I love this amazing product!")
	assert.Equal(t, http.StatusOK, got.Status)
	assert.Equal(t, modelID, got.Body["model"])
	took := phaseSeconds(t, h)
	for _, p := range []string{mlapi.PhaseDownloading, mlapi.PhaseLoading, mlapi.PhaseWarming} {
		assert.Contains(t, took, p)
	}
	assert.Contains(t, hub.seen(), "GET /"+modelID+"/resolve/"+hub.sha+"/model.onnx")
	assertCached(t, cacheDir, model)

	t.Run("second start uses the cache", func(t *testing.T) {
		before := len(hub.seen())
		svc, h := newService(t, cfg)
		require.NoError(t, svc.Start(context.Background()))
		assert.Len(t, hub.seen(), before, "no request to the hub")
		assert.Equal(t, http.StatusOK, httpapitest.Do(t, h, http.MethodGet, "/ready", "", "").Status)
	})
}

// TestCachedModelNeedsNoHub checks that a complete cached model starts with
// the hub unreachable.
func TestCachedModelNeedsNoHub(t *testing.T) {
	model := readModel(t, httpapitest.FixtureModel(t))
	httpapitest.SkipUnderRace(t, httpapitest.ModelRace)
	srv := serveHub(t, http.NotFoundHandler())
	srv.Close()
	cacheDir := t.TempDir()
	dir := filepath.Join(cacheDir, "mlready_sst2-mini")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, data := range model {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	svc, h := newService(t, mlapi.Config{ModelID: modelID, CacheDir: cacheDir, HubEndpoint: srv.URL})

	require.NoError(t, svc.Start(context.Background()))

	assert.Equal(t, http.StatusOK, httpapitest.Do(t, h, http.MethodGet, "/ready", "", "").Status)
	assert.Equal(t, http.StatusOK, httpapitest.Analyze(t, h, "Lovely.").Status)
}

// assertNoModelCached checks that cacheDir holds no model and no partial
// download: what a start that failed must leave, so that the next one
// downloads again.
func assertNoModelCached(t *testing.T, cacheDir string) {
	t.Helper()
	entries, err := os.ReadDir(cacheDir)
	require.NoError(t, err)
	for _, e := range entries {
		t.Errorf("left in the cache after a failed start: %s", e.Name())
	}
}

// TestIncompleteCacheIsReplaced checks that a cached folder missing a file
// or holding an empty one is downloaded again and replaced, not loaded and
// not left in the way of the new copy.
func TestIncompleteCacheIsReplaced(t *testing.T) {
	tests := []struct {
		name  string
		stale map[string][]byte
	}{
		{"empty model.onnx", map[string][]byte{"model.onnx": {}, "tokenizer.json": []byte("{}"), "config.json": []byte("{}")}},
		{"no model.onnx", map[string][]byte{"tokenizer.json": []byte("{}"), "config.json": []byte("{}")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			httpapitest.SkipUnderRace(t, httpapitest.DownloadRace)
			hub := newFakeHub(garbageModel())
			srv := serveHub(t, hub)
			cacheDir := t.TempDir()
			dir := filepath.Join(cacheDir, "mlready_sst2-mini")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			for name, data := range tt.stale {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
			}
			svc, _ := newService(t, mlapi.Config{ModelID: modelID, CacheDir: cacheDir, HubEndpoint: srv.URL})

			err := svc.Start(context.Background())

			// The hub's copy is garbage on purpose, so that this runs
			// without the fixture model: failing to parse it shows that it
			// was downloaded and moved into the stale folder's place.
			require.Error(t, err)
			assert.Contains(t, err.Error(), "failed to parse ONNX model")
			assert.Contains(t, hub.seen(), "GET /"+modelID+"/resolve/"+hub.sha+"/model.onnx")
			assertNoModelCached(t, cacheDir)
		})
	}
}

// TestIncompleteCacheIsReplacedByAWorkingModel is the same with the real
// model: the API ends up ready, with the hub's copy cached.
func TestIncompleteCacheIsReplacedByAWorkingModel(t *testing.T) {
	model := readModel(t, httpapitest.FixtureModel(t))
	httpapitest.SkipUnderRace(t, httpapitest.ModelRace)
	srv := serveHub(t, newFakeHub(model))
	cacheDir := t.TempDir()
	dir := filepath.Join(cacheDir, "mlready_sst2-mini")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "model.onnx"), model["model.onnx"][:1000], 0o644))
	svc, h := newService(t, mlapi.Config{ModelID: modelID, CacheDir: cacheDir, HubEndpoint: srv.URL})

	require.NoError(t, svc.Start(context.Background()))

	assert.Equal(t, http.StatusOK, httpapitest.Do(t, h, http.MethodGet, "/ready", "", "").Status)
	assertCached(t, cacheDir, model)
}

// TestDownloadedModelThatFailsToLoad walks downloading, then loading, then
// failed, without the fixture model; the broken download is not kept.
func TestDownloadedModelThatFailsToLoad(t *testing.T) {
	httpapitest.SkipUnderRace(t, httpapitest.DownloadRace)
	hub := newFakeHub(garbageModel())
	srv := serveHub(t, hub)
	cacheDir := t.TempDir()
	svc, h := newService(t, mlapi.Config{ModelID: modelID, CacheDir: cacheDir, HubEndpoint: srv.URL})

	err := svc.Start(context.Background())

	require.Error(t, err)
	assert.Contains(t, err.Error(), "failed to parse ONNX model")
	assertNotReady(t, h, httpapi.StatusFailed, mlapi.PhaseFailed, "1")
	took := phaseSeconds(t, h)
	assert.Contains(t, took, mlapi.PhaseDownloading)
	assert.Contains(t, took, mlapi.PhaseLoading)
	assertNoModelCached(t, cacheDir)
}

func TestDownloadFailureNamesModelAndHub(t *testing.T) {
	srv := serveHub(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteError(w, http.StatusNotFound, "repository not found")
	}))
	cacheDir := t.TempDir()
	svc, h := newService(t, mlapi.Config{ModelID: modelID, CacheDir: cacheDir, HubEndpoint: srv.URL})

	err := svc.Start(context.Background())

	require.Error(t, err)
	assert.Contains(t, err.Error(), "download "+modelID+" from "+srv.URL)
	assertNotReady(t, h, httpapi.StatusFailed, mlapi.PhaseFailed, "1")
	health := httpapitest.Do(t, h, http.MethodGet, "/health", "", "")
	assert.Contains(t, health.Body["error"], srv.URL)
	assert.Contains(t, phaseSeconds(t, h), mlapi.PhaseDownloading)
	assertNoModelCached(t, cacheDir)
}

// TestBrokenDownloadIsNotKept: a hub that drops the connection half-way
// through a file, or serves other bytes than the sha256 it gives, makes the
// start fail with a cause that names the file, before anything tries to
// load it, and leaves nothing in the cache that a restart would take for a
// model.
func TestBrokenDownloadIsNotKept(t *testing.T) {
	model := readModel(t, httpapitest.FixtureModel(t))
	half := func(f string) string {
		return f + " is " + strconv.Itoa(len(model[f])/2) + " bytes, the hub says " + strconv.Itoa(len(model[f])) + ": the download was cut short"
	}
	tests := []struct {
		name              string
		truncate, corrupt string
		want              string
	}{
		{name: "model.onnx cut short", truncate: "model.onnx", want: half("model.onnx")},
		{name: "tokenizer.json cut short", truncate: "tokenizer.json", want: half("tokenizer.json")},
		{name: "model.onnx corrupt", corrupt: "model.onnx", want: "the download is corrupt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			httpapitest.SkipUnderRace(t, httpapitest.DownloadRace)
			hub := newFakeHub(model)
			hub.truncate, hub.corrupt = tt.truncate, tt.corrupt
			srv := serveHub(t, hub)
			cacheDir := t.TempDir()
			svc, h := newService(t, mlapi.Config{ModelID: modelID, CacheDir: cacheDir, HubEndpoint: srv.URL})

			err := svc.Start(context.Background())

			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "load model", "refused before loading")
			assertNotReady(t, h, httpapi.StatusFailed, mlapi.PhaseFailed, "1")
			assertNoModelCached(t, cacheDir)
		})
	}
}
