package check

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/observe"
)

// readyServer answers /ready 200 while ready is set, 503 otherwise.
func readyServer(t *testing.T, ready *atomic.Bool) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ready.Load() {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRouters: the gated router sends only to replicas whose /ready said
// 200 at the last poll, and follows a replica that turns ready at the next
// poll; the naive one sends to every replica it has; neither sends to a
// removed one.
func TestRouters(t *testing.T) {
	var aReady, bReady atomic.Bool
	aReady.Store(true)
	a, b := readyServer(t, &aReady), readyServer(t, &bReady)
	gated, naive := newRouter(true, 20*time.Millisecond), newRouter(false, 20*time.Millisecond)
	for _, r := range []*router{gated, naive} {
		r.add(t.Context(), a)
		r.add(t.Context(), b)
	}
	picks := func(r *router) map[string]int {
		n := map[string]int{}
		for range 10 {
			n[r.pick()]++
		}
		return n
	}
	assert.Equal(t, map[string]int{a: 10}, picks(gated), "b is not ready")
	assert.Equal(t, map[string]int{a: 5, b: 5}, picks(naive), "round-robin over running replicas")

	bReady.Store(true)
	require.Eventually(t, func() bool { return picks(gated)[b] == 5 }, 2*time.Second, 10*time.Millisecond, "b is picked once a poll saw it ready")

	gated.remove(a)
	naive.remove(a)
	assert.Equal(t, map[string]int{b: 10}, picks(gated))
	assert.Equal(t, map[string]int{b: 10}, picks(naive))
	gated.remove(b)
	assert.Equal(t, "", gated.pick(), "no replica to route to")
}

// TestTally: failures on a replica before it first answered count as
// sent while it loaded; those after, as a replica that stopped answering.
func TestTally(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	reqs := []sent{
		{at: at(0), gated: true, url: "old", ok: true},
		{at: at(10), gated: true, url: "new", why: "503 loading"},
		{at: at(20), gated: false, url: "new", ok: true},
		{at: at(30), gated: true, url: "new", ok: true},
		{at: at(40), gated: true, url: "old", why: "no answer within the request timeout"},
		{at: at(50), gated: true, why: "no replica to route to"},
		{at: at(60), gated: false, url: "new", why: "outside the window"},
	}
	g := tallyOf(reqs, true, t0, at(60))
	assert.Equal(t, tally{total: 5, failed: 3, loading: 1, served: 2, firstWhy: "503 loading"}, g)
	n := tallyOf(reqs, false, t0, at(60))
	assert.Equal(t, tally{total: 1, served: 1}, n)
	assert.InDelta(t, 3/0.06, throughput(reqs, t0, at(60)), 0.01, "answered requests of both routers per second")
}

// TestJudgeLayers: each broken layer fails the check with its own
// message; a model that stops answering fails it even when every probe
// tells the truth.
func TestJudgeLayers(t *testing.T) {
	ok := observe.Answer{Status: http.StatusOK}
	hung := observe.Answer{TimedOut: true}
	loading := observe.Answer{Status: http.StatusServiceUnavailable}
	round := func(ms, live, ready, probe int, analyze observe.Answer) layers {
		return layers{at: time.Duration(ms) * time.Millisecond, live: live, ready: ready, probe: probe, analyze: analyze}
	}
	starting := []layers{round(100, 200, 503, 503, observe.Answer{}), round(200, 200, 503, 503, observe.Answer{})}
	tests := []struct {
		name    string
		rounds  []layers
		serving time.Duration
		passed  bool
		want    string
	}{
		{
			name:    "three honest layers",
			rounds:  append(starting, round(300, 200, 200, 200, ok), round(400, 200, 200, 200, ok)),
			serving: 300 * time.Millisecond, passed: true,
			want: "/live answered 200 from 0.10 s",
		},
		{
			name:    "liveness waits for the model",
			rounds:  []layers{round(100, 503, 503, 503, observe.Answer{}), round(300, 200, 200, 200, ok)},
			serving: 300 * time.Millisecond,
			want:    "/live answered other than 200 1 times",
		},
		{
			name:    "no responding probe",
			rounds:  append(starting, round(300, 200, 200, 404, ok)),
			serving: 300 * time.Millisecond,
			want:    "answered 404: the ML API has no model-responding probe",
		},
		{
			name:    "ready before loaded",
			rounds:  []layers{round(100, 200, 200, 503, loading), round(300, 200, 200, 200, ok)},
			serving: 300 * time.Millisecond,
			want:    "/ready answered 200 1 times while /analyze could not answer yet",
		},
		{
			name:    "a probe that does not run the model",
			rounds:  append(starting, round(300, 200, 200, 200, ok), round(400, 200, 200, 200, hung)),
			serving: 300 * time.Millisecond,
			want:    "answered 200 in 1 rounds in which /analyze was not answered",
		},
		{
			name:    "a probe that fails a model that answers",
			rounds:  append(starting, round(300, 200, 200, 200, ok), round(400, 200, 200, 503, ok)),
			serving: 300 * time.Millisecond,
			want:    "as a livenessProbe it would restart a healthy replica",
		},
		{
			name:    "the model hangs and the probe sees it",
			rounds:  append(starting, round(300, 200, 200, 200, ok), round(400, 200, 200, 503, hung), round(500, 200, 200, 503, hung)),
			serving: 300 * time.Millisecond,
			want:    "The model stopped answering 0.4 s after the replica started: /analyze went unanswered 2 times",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := judgeLayers(tt.rounds, "/v2/models/m/ready", tt.serving, time.Second, 0, "ml/Dockerfile")
			assert.Equal(t, tt.passed, out.Passed, out.Message)
			assert.Contains(t, out.Message, tt.want)
			assert.Contains(t, out.Message, "startupProbe httpGet /ready", "probe settings come with every verdict")
		})
	}
}

// TestRecommend shows its arithmetic: twice the measured start-up, in
// probe periods, and as compose's start_period.
func TestRecommend(t *testing.T) {
	msg, measured := recommend(6800*time.Millisecond, "/v2/models/m/ready", time.Second)
	assert.Contains(t, msg, "failureThreshold 14 = ceil(2 × 6.8 s / 1 s)")
	assert.Contains(t, msg, "livenessProbe httpGet /v2/models/m/ready, periodSeconds 10, timeoutSeconds 2, failureThreshold 3")
	assert.Contains(t, msg, "start_period 14s = ceil(2 × 6.8 s)")
	byName := map[string]float64{}
	for _, m := range measured {
		byName[m.Name] = m.Value
	}
	assert.Equal(t, 14.0, byName["startup_probe_failure_threshold"])
	assert.Equal(t, 14.0, byName["compose_start_period"])
}
