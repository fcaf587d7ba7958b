package mlapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/httpapi/httpapitest"
	"github.com/mlready/mlready/apis/ml/classifier"
	"github.com/mlready/mlready/apis/ml/mlapi"
)

// post sends a raw /analyze body and returns the status, headers and body.
func post(t *testing.T, h http.Handler, body string) (int, http.Header, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/analyze", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.Bytes()
}

// analyzeTexts sends {"texts": texts} and decodes the list it answers.
func analyzeTexts(t *testing.T, h http.Handler, texts []string) (int, []map[string]any) {
	t.Helper()
	body, err := json.Marshal(map[string][]string{"texts": texts})
	require.NoError(t, err)
	status, _, raw := post(t, h, string(body))
	if status != http.StatusOK {
		return status, nil
	}
	var got []map[string]any
	require.NoError(t, json.Unmarshal(raw, &got), "%s", raw)
	return status, got
}

// metric reads one series of /metrics, e.g.
// `mlready_model_phase{phase="ready"}`; -1 when it is absent.
func metric(t *testing.T, h http.Handler, series string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		if value, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			v, err := strconv.ParseFloat(value, 64)
			require.NoError(t, err)
			return v
		}
	}
	return -1
}

func TestReadSettings(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	t.Run("defaults", func(t *testing.T) {
		s, err := mlapi.ReadSettings(env(map[string]string{"MODEL_DIR": "/m"}))
		require.NoError(t, err)
		assert.Equal(t, httpapi.DefaultPort, s.Port)
		assert.Equal(t, httpapi.DefaultShutdownGrace, s.ShutdownGrace)
		assert.Equal(t, mlapi.Config{
			ModelDir: "/m", HubEndpoint: mlapi.DefaultHubEndpoint, BatchMax: mlapi.DefaultBatchMax, BatchWait: mlapi.DefaultBatchWait,
			QueueMax: mlapi.DefaultQueueMax, RequestTimeout: mlapi.DefaultRequestTimeout, ProbeTimeout: mlapi.DefaultProbeTimeout,
			Workers: mlapi.DefaultWorkers, HoldMax: mlapi.DefaultHoldMax, MaxClientBatch: httpapi.DefaultMaxClientBatch,
		}, s.Model)
	})

	t.Run("every variable", func(t *testing.T) {
		s, err := mlapi.ReadSettings(env(map[string]string{
			"PORT": "9000", "SHUTDOWN_GRACE": "1m", "HF_ENDPOINT": "http://hub:8000",
			"MODEL_ID": "o/m", "MODEL_CACHE": "/c", "BATCH_MAX": "1", "BATCH_WAIT": "0",
			"QUEUE_MAX": "9", "REQUEST_TIMEOUT": "2s", "INFERENCE_WORKERS": "3",
			"HOLD_DURING_STARTUP": "true", "HOLD_MAX": "1m", "DEGRADED_FALLBACK": "1", "MAX_CLIENT_BATCH": "8",
			"PROBE_TIMEOUT": "300ms",
		}))
		require.NoError(t, err)
		assert.Equal(t, "9000", s.Port)
		assert.Equal(t, time.Minute, s.ShutdownGrace)
		assert.Equal(t, mlapi.Config{
			ModelID: "o/m", CacheDir: "/c", HubEndpoint: "http://hub:8000", BatchMax: 1, BatchWait: -1, QueueMax: 9, RequestTimeout: 2 * time.Second,
			Workers: 3, HoldDuringStartup: true, HoldMax: time.Minute, DegradedFallback: true, MaxClientBatch: 8,
			ProbeTimeout: 300 * time.Millisecond,
		}, s.Model, "BATCH_WAIT=0 means no wait, not the default")
	})
	t.Run("bad values of every group are all named", func(t *testing.T) {
		_, err := mlapi.ReadSettings(env(map[string]string{"SHUTDOWN_GRACE": "later", "BATCH_MAX": "0", "BATCH_WAIT": "soon", "DEGRADED_FALLBACK": "maybe"}))
		require.Error(t, err)
		for _, name := range []string{"SHUTDOWN_GRACE", "BATCH_MAX", "BATCH_WAIT", "DEGRADED_FALLBACK"} {
			assert.ErrorContains(t, err, name)
		}
	})
}

// TestDegradedFallbackWhileLoading: with DEGRADED_FALLBACK, /analyze answers
// with the rule-based scorer, marked degraded, while the model loads; /ready
// stays honest; once the start has failed it is a 503 again.
func TestDegradedFallbackWhileLoading(t *testing.T) {
	svc, h := newService(t, mlapi.Config{ModelDir: t.TempDir(), DegradedFallback: true})

	got := httpapitest.Analyze(t, h, "I love this amazing product!")
	require.Equal(t, http.StatusOK, got.Status, got.Body)
	assert.Equal(t, true, got.Body["degraded"])
	assert.Equal(t, "rule-based", got.Body["method"])
	assert.Equal(t, httpapi.Positive, got.Body["sentiment"])
	assert.NotContains(t, got.Body, "model")

	status, list := analyzeTexts(t, h, []string{"Wonderful!", "Terrible and awful."})
	require.Equal(t, http.StatusOK, status)
	require.Len(t, list, 2)
	assert.Equal(t, httpapi.Positive, list[0]["sentiment"])
	assert.Equal(t, httpapi.Negative, list[1]["sentiment"])
	assert.Equal(t, true, list[1]["degraded"])

	assert.Equal(t, http.StatusServiceUnavailable, httpapitest.Do(t, h, http.MethodGet, "/ready", "", "").Status, "degraded is not ready")
	assert.Equal(t, 2.0, metric(t, h, `mlready_request_count_total{api="ml",outcome="degraded",route="/analyze",status="200"}`))

	require.Error(t, svc.Start(context.Background()))
	assertNotReady(t, h, httpapi.StatusFailed, mlapi.PhaseFailed, "1")
}

func TestWithoutFallbackTheAnswerIsNeverDegraded(t *testing.T) {
	_, h := newService(t, mlapi.Config{ModelDir: t.TempDir()})
	got := httpapitest.Analyze(t, h, "I love this amazing product!")
	assert.Equal(t, http.StatusServiceUnavailable, got.Status)
	assert.Equal(t, 1.0, metric(t, h, `mlready_request_count_total{api="ml",outcome="not_ready",route="/analyze",status="503"}`))
}

// holdAnalyze sends one /analyze in the background; the answer comes on the
// channel once the service lets go of it.
func holdAnalyze(t *testing.T, h http.Handler, text string) <-chan httpapitest.Reply {
	t.Helper()
	out := make(chan httpapitest.Reply, 1)
	go func() {
		body, _ := json.Marshal(map[string]string{"text": text})
		status, header, raw := post(t, h, string(body))
		var got map[string]any
		_ = json.Unmarshal(raw, &got)
		out <- httpapitest.Reply{Status: status, Header: header, Body: got}
	}()
	return out
}

// waitHeld waits until n requests are held, as /metrics reports.
func waitHeld(t *testing.T, h http.Handler, n float64) {
	t.Helper()
	require.Eventually(t, func() bool { return metric(t, h, "mlready_held_requests") == n },
		5*time.Second, time.Millisecond, "%v requests held", n)
}

func TestHoldDuringStartup(t *testing.T) {
	t.Run("a failed start releases held requests with 503", func(t *testing.T) {
		svc, h := newService(t, mlapi.Config{ModelDir: t.TempDir(), HoldDuringStartup: true})
		answer := holdAnalyze(t, h, "Lovely.")
		waitHeld(t, h, 1)

		require.Error(t, svc.Start(context.Background()))

		got := <-answer
		assert.Equal(t, http.StatusServiceUnavailable, got.Status)
		assert.Equal(t, mlapi.PhaseFailed, got.Body["phase"])
		waitHeld(t, h, 0)
	})
	t.Run("Close lets held requests go", func(t *testing.T) {
		svc, h := newService(t, mlapi.Config{ModelDir: t.TempDir(), HoldDuringStartup: true})
		answer := holdAnalyze(t, h, "Lovely.")
		waitHeld(t, h, 1)

		require.NoError(t, svc.Close())

		assert.Equal(t, http.StatusServiceUnavailable, (<-answer).Status)
	})
	t.Run("a request is held for HOLD_MAX at most", func(t *testing.T) {
		_, h := newService(t, mlapi.Config{ModelDir: t.TempDir(), HoldDuringStartup: true, HoldMax: 50 * time.Millisecond})
		start := time.Now()
		got := <-holdAnalyze(t, h, "Lovely.")
		assert.Equal(t, http.StatusServiceUnavailable, got.Status)
		assert.Equal(t, "1", got.Header.Get("Retry-After"))
		assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	})
	t.Run("beyond the bound, requests are not held", func(t *testing.T) {
		_, h := newService(t, mlapi.Config{ModelDir: t.TempDir(), HoldDuringStartup: true, QueueMax: 1, MaxClientBatch: 1})
		first := holdAnalyze(t, h, "Lovely.")
		waitHeld(t, h, 1)
		start := time.Now()
		got := httpapitest.Analyze(t, h, "Lovely too.")
		assert.Equal(t, http.StatusServiceUnavailable, got.Status)
		assert.Less(t, time.Since(start), time.Second, "answered at once")
		select {
		case <-first:
			t.Fatal("the first request was let go")
		default:
		}
	})
	t.Run("held requests are answered by the model once it is ready", func(t *testing.T) {
		dir := httpapitest.FixtureModel(t)
		httpapitest.SkipUnderRace(t, httpapitest.ModelRace)
		svc, h := newService(t, mlapi.Config{ModelDir: dir, HoldDuringStartup: true, DegradedFallback: true})
		answers := []<-chan httpapitest.Reply{holdAnalyze(t, h, "I love this amazing product!"), holdAnalyze(t, h, "This is the worst service ever.")}
		waitHeld(t, h, 2)

		require.NoError(t, svc.Start(context.Background()))

		for i, want := range []string{httpapi.Positive, httpapi.Negative} {
			got := <-answers[i]
			require.Equal(t, http.StatusOK, got.Status, got.Body)
			assert.Equal(t, "transformer-ml", got.Body["method"], "held, then answered by the model, not degraded")
			assert.NotContains(t, got.Body, "degraded")
			assert.Equal(t, want, got.Body["sentiment"])
		}
	})
}

// startFixture starts a service on the fixture model with cfg.
func startFixture(t *testing.T, cfg mlapi.Config) http.Handler {
	t.Helper()
	cfg.ModelDir = httpapitest.FixtureModel(t)
	httpapitest.SkipUnderRace(t, httpapitest.ModelRace)
	svc, h := newService(t, cfg)
	require.NoError(t, svc.Start(context.Background()))
	return h
}

// reviewTexts are sentences of the fixture's test data.
var reviewTexts = []string{
	"The pasta was delicious and the staff were wonderful.",
	"I love this amazing product!",
	"This is the worst service ever.",
	"Great hotel, friendly people and a beautiful view from the room.",
	"The delivery arrived early and everything was perfect.",
	"I will never stay at this hotel again.",
	"Terrible food and rude waiters.",
	"Excellent value for the money.",
}

// singles is what the service answers for each text on its own.
func singles(t *testing.T, h http.Handler, texts []string) map[string]string {
	t.Helper()
	want := map[string]string{}
	for _, text := range texts {
		got := httpapitest.Analyze(t, h, text)
		require.Equal(t, http.StatusOK, got.Status, got.Body)
		want[text] = got.Body["sentiment"].(string)
	}
	return want
}

func TestClientBatch(t *testing.T) {
	h := startFixture(t, mlapi.Config{MaxClientBatch: 8})
	want := singles(t, h, reviewTexts)

	status, list := analyzeTexts(t, h, reviewTexts)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, list, len(reviewTexts))
	for i, text := range reviewTexts {
		assert.Equal(t, want[text], list[i]["sentiment"], "answer %d is for %q", i, text)
		assert.Equal(t, "transformer-ml", list[i]["method"])
		assert.Equal(t, "sst2-mini", list[i]["model"])
	}

	status, _, raw := post(t, h, `{"texts":["fine","\u0000\u0001"]}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, string(raw), `field \"texts[1]\" has no readable characters`)

	status, _, raw = post(t, h, `{"texts":["1","2","3","4","5","6","7","8","9"]}`)
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)
	assert.Contains(t, string(raw), "more than the 8 allowed")
}

// TestQueueLimitAnswers429AndNeverMixesAnswers overloads a service with a
// small queue: every answer is a 200 with exactly the caller's own results,
// in order, or a 429 with Retry-After; nothing else, and nothing lost.
func TestQueueLimitAnswers429AndNeverMixesAnswers(t *testing.T) {
	h := startFixture(t, mlapi.Config{BatchMax: 4, QueueMax: 4, MaxClientBatch: 4, Workers: 1})
	want := singles(t, h, reviewTexts)

	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for c := range 16 {
		wg.Go(func() {
			for r := range 5 {
				texts := make([]string, 1+(c+r)%4)
				for i := range texts {
					texts[i] = reviewTexts[(c*3+r+i)%len(reviewTexts)]
				}
				body, _ := json.Marshal(map[string][]string{"texts": texts})
				status, header, raw := post(t, h, string(body))
				mu.Lock()
				counts[status]++
				mu.Unlock()
				switch status {
				case http.StatusOK:
					var list []map[string]any
					if !assert.NoError(t, json.Unmarshal(raw, &list)) || !assert.Len(t, list, len(texts)) {
						return
					}
					for i, text := range texts {
						assert.Equal(t, want[text], list[i]["sentiment"], "answer %d of %q", i, texts)
					}
				case http.StatusTooManyRequests:
					assert.Equal(t, "1", header.Get("Retry-After"))
					assert.Contains(t, string(raw), "inference queue is full")
				default:
					t.Errorf("status %d: %s", status, raw)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("answers by status: %v", counts)
	assert.Positive(t, counts[http.StatusOK])
	assert.Positive(t, counts[http.StatusTooManyRequests], "16 clients overflow a queue of 4")
	assert.Equal(t, 80, counts[http.StatusOK]+counts[http.StatusTooManyRequests])
	assert.Equal(t, float64(counts[http.StatusTooManyRequests]),
		metric(t, h, `mlready_request_count_total{api="ml",outcome="rejected",route="/analyze",status="429"}`))
}

// TestExpiredRequestIsAnswered503AndNotRun: a request whose deadline has
// passed before its text reached the model gets 503, and the model does not
// run it.
func TestExpiredRequestIsAnswered503AndNotRun(t *testing.T) {
	h := startFixture(t, mlapi.Config{RequestTimeout: time.Nanosecond})
	before := metric(t, h, "mlready_batch_size_count")

	got := httpapitest.Analyze(t, h, "Lovely.")

	assert.Equal(t, http.StatusServiceUnavailable, got.Status)
	assert.Equal(t, "1", got.Header.Get("Retry-After"))
	assert.Contains(t, got.Body["error"], "was not run")
	assert.Equal(t, before, metric(t, h, "mlready_batch_size_count"), "no model call")
	assert.Equal(t, 1.0, metric(t, h, `mlready_request_count_total{api="ml",outcome="expired",route="/analyze",status="503"}`))
}

// TestMetricsFollowTheService checks /metrics through a start and a few
// requests: the phase, the load time per phase, and the request, batch,
// queue and inference series all move as the service works.
func TestMetricsFollowTheService(t *testing.T) {
	dir := httpapitest.FixtureModel(t)
	httpapitest.SkipUnderRace(t, httpapitest.ModelRace)
	svc, h := newService(t, mlapi.Config{ModelDir: dir})
	assert.Equal(t, 1.0, metric(t, h, `mlready_model_phase{phase="loading"}`))
	assert.Equal(t, 0.0, metric(t, h, `mlready_model_phase{phase="ready"}`))
	assert.Equal(t, -1.0, metric(t, h, `mlready_model_load_seconds{phase="loading"}`), "no load time before the load")
	require.NoError(t, svc.Start(context.Background()))
	assert.Equal(t, 0.0, metric(t, h, `mlready_model_phase{phase="loading"}`))
	assert.Equal(t, 1.0, metric(t, h, `mlready_model_phase{phase="ready"}`))
	assert.Positive(t, metric(t, h, `mlready_model_load_seconds{phase="loading"}`))
	assert.Positive(t, metric(t, h, `mlready_model_load_seconds{phase="warming"}`))

	series := []string{
		`mlready_request_count_total{api="ml",outcome="success",route="/analyze",status="200"}`,
		`mlready_request_duration_seconds_count{api="ml",route="/analyze"}`,
		"mlready_batch_size_sum",
		"mlready_queue_duration_seconds_count",
		"mlready_inference_duration_seconds_count",
	}
	before := map[string]float64{}
	for _, s := range series {
		before[s] = max(0, metric(t, h, s))
	}
	for _, text := range reviewTexts[:3] {
		require.Equal(t, http.StatusOK, httpapitest.Analyze(t, h, text).Status)
	}
	status, _ := analyzeTexts(t, h, reviewTexts[:4])
	require.Equal(t, http.StatusOK, status)

	gained := func(s string) float64 { return metric(t, h, s) - before[s] }
	assert.Equal(t, 4.0, gained(series[0]), "4 requests")
	assert.Equal(t, 4.0, gained(series[1]))
	assert.Equal(t, 7.0, gained(series[2]), "7 texts through the model")
	assert.Equal(t, 7.0, gained(series[3]), "each text's queue time")
	assert.GreaterOrEqual(t, gained(series[4]), 2.0, "at least a call for the singles and one for the batch")
	assert.Equal(t, 0.0, metric(t, h, "mlready_queue_depth"), "nothing left waiting")
}

func TestOpenInferenceProtocolModelReady(t *testing.T) {
	_, h := newService(t, mlapi.Config{ModelDir: "/models/sst2-mini"})
	assert.Equal(t, http.StatusServiceUnavailable, httpapitest.Do(t, h, http.MethodGet, "/v2/models/sst2-mini/ready", "", "").Status)
	assert.Equal(t, http.StatusServiceUnavailable, httpapitest.Do(t, h, http.MethodGet, "/v2/health/ready", "", "").Status)
	assert.Equal(t, http.StatusOK, httpapitest.Do(t, h, http.MethodGet, "/v2/health/live", "", "").Status)
	assert.Equal(t, http.StatusNotFound, httpapitest.Do(t, h, http.MethodGet, "/v2/models/other/ready", "", "").Status)

	h = startFixture(t, mlapi.Config{})
	assert.Equal(t, http.StatusOK, httpapitest.Do(t, h, http.MethodGet, "/v2/models/sst2-mini/ready", "", "").Status)
	assert.Equal(t, http.StatusOK, httpapitest.Do(t, h, http.MethodGet, "/v2/health/ready", "", "").Status)
}

// TestConcurrentRequestsShareModelCalls: many single-text requests at once
// are answered each with its own result, through fewer model calls than
// requests.
func TestConcurrentRequestsShareModelCalls(t *testing.T) {
	h := startFixture(t, mlapi.Config{BatchWait: 5 * time.Millisecond})
	want := singles(t, h, reviewTexts)
	callsBefore := metric(t, h, "mlready_batch_size_count")

	var wg sync.WaitGroup
	const clients, rounds = 16, 4
	for c := range clients {
		wg.Go(func() {
			for r := range rounds {
				text := reviewTexts[(c+r)%len(reviewTexts)]
				got := httpapitest.Analyze(t, h, text)
				if assert.Equal(t, http.StatusOK, got.Status, got.Body) {
					assert.Equal(t, want[text], got.Body["sentiment"], fmt.Sprintf("client %d round %d", c, r))
				}
			}
		})
	}
	wg.Wait()
	calls := metric(t, h, "mlready_batch_size_count") - callsBefore
	t.Logf("%d requests in %v model calls", clients*rounds, calls)
	assert.Less(t, calls, float64(clients*rounds), "requests were batched")
}

// TestAfterCloseRequestsAreTurnedAway: once Close has run (at shutdown),
// /analyze answers 503, not a 500 and not "not ready".
func TestAfterCloseRequestsAreTurnedAway(t *testing.T) {
	dir := httpapitest.FixtureModel(t)
	httpapitest.SkipUnderRace(t, httpapitest.ModelRace)
	svc, h := newService(t, mlapi.Config{ModelDir: dir})
	require.NoError(t, svc.Start(context.Background()))
	require.NoError(t, svc.Close())

	got := httpapitest.Analyze(t, h, "Lovely.")
	assert.Equal(t, http.StatusServiceUnavailable, got.Status)
	assert.Equal(t, "1", got.Header.Get("Retry-After"))
	assert.Contains(t, got.Body["error"], "shutting down")
}

// TestRespondingProbeSeesAHungModel: the model-responding probe runs a
// tiny inference within PROBE_TIMEOUT. When model calls hang, it answers
// 503 while /live and /ready stay 200, probes share the one hung call
// rather than piling up, and once the model answers again so does the
// probe.
func TestRespondingProbeSeesAHungModel(t *testing.T) {
	var hang atomic.Bool
	var inFlight, most atomic.Int64
	release := make(chan struct{})
	h := startFixture(t, mlapi.Config{ProbeTimeout: 200 * time.Millisecond, WrapModel: func(next mlapi.Classify) mlapi.Classify {
		return func(texts []string) ([]classifier.Prediction, error) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			if hang.Load() {
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				<-release
			}
			return next(texts)
		}
	}})
	const probe = "/v2/models/sst2-mini/ready"
	require.Equal(t, http.StatusOK, httpapitest.Do(t, h, http.MethodGet, probe, "", "").Status)

	hang.Store(true)
	for range 3 {
		r := httpapitest.Do(t, h, http.MethodGet, probe, "", "")
		assert.Equal(t, http.StatusServiceUnavailable, r.Status)
		assert.Equal(t, httpapi.StatusUnresponsive, r.Body["status"])
		assert.Contains(t, r.Body["reason"], "did not answer a probe inference within 200ms")
	}
	assert.Equal(t, http.StatusOK, httpapitest.Do(t, h, http.MethodGet, "/live", "", "").Status)
	assert.Equal(t, http.StatusOK, httpapitest.Do(t, h, http.MethodGet, "/ready", "", "").Status, "the model is still loaded")
	assert.Equal(t, int64(1), most.Load(), "probes wait on the one hung inference")

	hang.Store(false)
	close(release)
	assert.Equal(t, http.StatusOK, httpapitest.Do(t, h, http.MethodGet, probe, "", "").Status)
}

// TestMainRefusesBadSettingsOfEveryGroup: with bad serving and bad model
// settings (TestReadSettings: all named in one message) the process exits 2
// without listening.
func TestMainRefusesBadSettingsOfEveryGroup(t *testing.T) {
	vars := map[string]string{"PORT": "0", "SHUTDOWN_GRACE": "later", "BATCH_MAX": "0"}
	assert.Equal(t, 2, mlapi.Main(func(k string) string { return vars[k] }))
}
