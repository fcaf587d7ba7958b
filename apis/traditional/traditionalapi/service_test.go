package traditionalapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/httpapi/httpapitest"
	"github.com/mlready/mlready/apis/traditional/traditionalapi"
)

func newServer(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(traditionalapi.New(slog.New(slog.DiscardHandler)).Handler())
	t.Cleanup(srv.Close)
	return srv
}

func TestHealthLiveReady(t *testing.T) {
	h := newServer(t).Config.Handler

	got := httpapitest.Get(t, h, "/health")
	assert.Equal(t, http.StatusOK, got.Status)
	health := got.Body
	assert.Equal(t, httpapi.StatusHealthy, health["status"])
	assert.Equal(t, true, health["ready"])
	assert.Equal(t, "traditional", health["api_type"])
	assert.GreaterOrEqual(t, health["uptime_seconds"], 0.0)
	assert.Greater(t, health["memory_rss_bytes"], 0.0)
	assert.NotContains(t, health, "phase", "phases are the ML API's")

	assert.Equal(t, http.StatusOK, httpapitest.Get(t, h, "/live").Status)

	ready := httpapitest.Get(t, h, "/ready")
	assert.Equal(t, http.StatusOK, ready.Status, "ready the moment it listens")
	assert.Equal(t, map[string]any{"ready": true}, ready.Body)
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"praise", "I love this amazing product!", httpapi.Positive},
		{"complaint", "This is the worst service ever.", httpapi.Negative},
		{"negation", "The food was not good.", httpapi.Negative},
		{"factual", "The parcel was delivered on Tuesday.", httpapi.Neutral},
		{"unknown script", "这是一个桌子", httpapi.Neutral},
		{"emoji", "arrived today 👍", httpapi.Positive},
		{"control characters only", "\u0000\u0001", httpapi.Neutral},
		{"5,000 words, under 64 KiB", strings.Repeat("good ", 5000), httpapi.Positive},
	}
	h := newServer(t).Config.Handler
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := httpapitest.Analyze(t, h, tt.text)
			got := reply.Body

			require.Equal(t, http.StatusOK, reply.Status, got)
			assert.Equal(t, tt.want, got["sentiment"])
			assert.Equal(t, "rule-based", got["method"])
			require.IsType(t, 0.0, got["confidence"])
			assert.GreaterOrEqual(t, got["confidence"], 0.0)
			assert.LessOrEqual(t, got["confidence"], 1.0)
			require.IsType(t, 0.0, got["processing_time_ms"])
			assert.GreaterOrEqual(t, got["processing_time_ms"], 0.0)
			assert.NotContains(t, got, "model", "the rule-based API has no model")
		})
	}
}

func TestBadRequestsAreJSON4xxAndServiceKeepsServing(t *testing.T) {
	h := newServer(t).Config.Handler
	for _, tt := range httpapitest.BadRequests() {
		t.Run(tt.Name, func(t *testing.T) {
			got := httpapitest.Do(t, h, tt.Method, tt.Path, tt.ContentType, tt.Body)
			assert.Equal(t, tt.WantStatus, got.Status)
			require.IsType(t, "", got.Body["error"], "error body: %v", got.Body)
			assert.Contains(t, got.Body["error"], tt.WantMsg)

			got = httpapitest.Analyze(t, h, "Great value for the price.")
			assert.Equal(t, http.StatusOK, got.Status, "a good request after the bad one: %v", got.Body)
		})
	}
}

func TestConcurrentRequests(t *testing.T) {
	srv := newServer(t)
	texts := []string{"I love it", "I hate it", "It is a chair", "not bad at all"}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			body, _ := json.Marshal(map[string]string{"text": texts[i%len(texts)]})
			resp, err := srv.Client().Post(srv.URL+"/analyze", "application/json", bytes.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b, _ := io.ReadAll(resp.Body)
				errs <- fmt.Errorf("status %d: %s", resp.StatusCode, b)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkAnalyze measures the handler alone, one short review per call.
func BenchmarkAnalyze(b *testing.B) {
	h := traditionalapi.New(slog.New(slog.DiscardHandler)).Handler()
	body := []byte(`{"text":"The staff were friendly but the room was not very clean."}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/analyze", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// TestClientBatch: {"texts": [...]} is answered with a list in the same
// order, each entry as {"text"} would have been answered.
func TestClientBatch(t *testing.T) {
	srv := newServer(t)
	texts := []string{"I love it", "I hate it", "It is a chair"}
	body, err := json.Marshal(map[string][]string{"texts": texts})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/analyze", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var list []map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	require.Len(t, list, len(texts))
	for i, text := range texts {
		single := httpapitest.Analyze(t, srv.Config.Handler, text).Body
		assert.Equal(t, single["sentiment"], list[i]["sentiment"], text)
		assert.Equal(t, single["confidence"], list[i]["confidence"], text)
		assert.Equal(t, "rule-based", list[i]["method"])
	}

	tooMany := make([]string, httpapi.DefaultMaxClientBatch+1)
	for i := range tooMany {
		tooMany[i] = "fine"
	}
	body, err = json.Marshal(map[string][]string{"texts": tooMany})
	require.NoError(t, err)
	got := httpapitest.Do(t, srv.Config.Handler, http.MethodPost, "/analyze", "application/json", string(body))
	assert.Equal(t, http.StatusRequestEntityTooLarge, got.Status)
	assert.Contains(t, got.Body["error"], "more than the 32 allowed")
}

func TestOpenInferenceProtocolAliases(t *testing.T) {
	h := newServer(t).Config.Handler
	for path, want := range map[string]int{
		"/v2/health/live": 200, "/v2/health/ready": 200, "/v2/models/lexicon/ready": 200, "/v2/models/bert/ready": 404,
	} {
		assert.Equal(t, want, httpapitest.Get(t, h, path).Status, path)
	}
}

// TestMetrics checks that /metrics counts the traditional API's requests.
func TestMetrics(t *testing.T) {
	srv := newServer(t)
	httpapitest.Analyze(t, srv.Config.Handler, "I love it")
	httpapitest.Analyze(t, srv.Config.Handler, "I love it")
	httpapitest.Do(t, srv.Config.Handler, http.MethodPost, "/analyze", "application/json", `{"text":5}`)

	resp, err := srv.Client().Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	text := string(raw)
	assert.Contains(t, text, `mlready_request_count_total{api="traditional",outcome="success",route="/analyze",status="200"} 2`)
	assert.Contains(t, text, `mlready_request_count_total{api="traditional",outcome="invalid",route="/analyze",status="400"} 1`)
	assert.Contains(t, text, `mlready_request_duration_seconds_count{api="traditional",route="/analyze"} 3`)
	assert.NotContains(t, text, "mlready_batch_size", "batching is the ML API's")
}
