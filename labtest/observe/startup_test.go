package observe_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/observe"
)

// fakeML is an ML API seen from outside: /ready answers 503 for its first
// readyAfter probes and 200 from then on, and /analyze answers 503 with
// Retry-After until /ready has said 200. Readiness flips inside the /ready
// handler, so a test knows exactly which round saw it.
type fakeML struct {
	// readyAfter is how many /ready probes answer 503; negative: never ready.
	readyAfter int32
	// hangWhileLoading makes /analyze hold the connection until ready.
	hangWhileLoading bool
	// hangWhenReady makes /analyze hold the connection once ready.
	hangWhenReady bool
	// hangEveryOther makes every other /analyze hold the connection once
	// ready, starting with the first.
	hangEveryOther bool
	// health, if set, is the body /health answers with 200.
	health string
	// brokenAnalyze, if set, is /analyze's status once ready.
	brokenAnalyze int
	// onReadyProbe, if set, is called with the number of each /ready probe.
	onReadyProbe func(n int32)

	ready       atomic.Bool
	readyProbes atomic.Int32
	// readyAnalyzes counts /analyze requests once ready.
	readyAnalyzes atomic.Int32
	analyzes      atomic.Int32
	mu            sync.Mutex
	texts         []string
}

func (f *fakeML) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/ready":
		n := f.readyProbes.Add(1)
		if f.onReadyProbe != nil {
			f.onReadyProbe(n)
		}
		if f.readyAfter >= 0 && n > f.readyAfter {
			f.ready.Store(true)
		}
		if !f.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"ready":false}`))
			return
		}
		_, _ = w.Write([]byte(`{"ready":true}`))
	case "/live":
		_, _ = w.Write([]byte(`{"live":true}`))
	case "/health":
		switch {
		case f.health != "":
			_, _ = w.Write([]byte(f.health))
		case f.ready.Load():
			_, _ = w.Write([]byte(`{"status":"healthy"}`))
		default:
			_, _ = w.Write([]byte(`{"status":"starting"}`))
		}
	case "/analyze":
		f.analyzes.Add(1)
		var req struct {
			Text string `json:"text"`
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, `{"error":"want a JSON POST"}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.texts = append(f.texts, req.Text)
		f.mu.Unlock()
		if !f.ready.Load() {
			if f.hangWhileLoading {
				<-r.Context().Done()
				return
			}
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"model loading"}`))
			return
		}
		if f.hangWhenReady || f.hangEveryOther && f.readyAnalyzes.Add(1)%2 == 1 {
			<-r.Context().Done()
			return
		}
		if f.brokenAnalyze != 0 {
			w.WriteHeader(f.brokenAnalyze)
			_, _ = w.Write([]byte(`{"error":"tensor shape mismatch"}`))
			return
		}
		_, _ = w.Write([]byte(`{"label":"positive","score":0.99}`))
	default:
		http.NotFound(w, r)
	}
}

func TestWatchStartup(t *testing.T) {
	const text = "I love this amazing product!"
	tests := []struct {
		name          string
		api           *fakeML
		timeout       time.Duration
		clientTimeout time.Duration
		check         func(t *testing.T, tl *observe.Timeline, api *fakeML, took time.Duration)
	}{
		{
			name: "loads, then serves three answers and stops watching",
			api:  &fakeML{readyAfter: 4},
			check: func(t *testing.T, tl *observe.Timeline, api *fakeML, _ time.Duration) {
				require.True(t, tl.Ready())
				assert.Empty(t, tl.Stopped)
				require.Len(t, tl.Samples, 4+1+3, "4 rounds while loading, the round that saw ready, then 3 served /analyze")
				for i, s := range tl.Samples[:4] {
					assert.Equal(t, http.StatusServiceUnavailable, s.Ready, "round %d /ready", i)
					assert.Equal(t, http.StatusOK, s.Live, "round %d /live", i)
					assert.Equal(t, http.StatusOK, s.Health, "round %d /health", i)
					assert.Equal(t, http.StatusServiceUnavailable, s.Analyze, "round %d /analyze", i)
					assert.Equal(t, "1", s.RetryAfter, "round %d Retry-After", i)
					assert.False(t, s.Hung, "round %d", i)
					assert.Less(t, s.At, tl.ReadyAt, "round %d came before ready", i)
				}
				// /analyze goes before /ready in a round, so the round in
				// which the fake turned ready saw /analyze still loading.
				assert.Equal(t, http.StatusOK, tl.Samples[4].Ready)
				assert.Equal(t, http.StatusServiceUnavailable, tl.Samples[4].Analyze)
				for i, s := range tl.Samples[5:] {
					assert.Equal(t, http.StatusOK, s.Ready, "round %d /ready", 5+i)
					assert.Equal(t, http.StatusOK, s.Analyze, "round %d /analyze", 5+i)
				}
				assert.Equal(t, tl.Samples[4].At, tl.ReadyAt, "ReadyAt is the round /ready first said 200")
				assert.EqualValues(t, 8, api.analyzes.Load(), "no /analyze after the third 200")
				assert.Equal(t, text, api.texts[0])
			},
		},
		{
			name: "ready on the first probe",
			api:  &fakeML{readyAfter: 0},
			check: func(t *testing.T, tl *observe.Timeline, _ *fakeML, _ time.Duration) {
				require.True(t, tl.Ready())
				require.Len(t, tl.Samples, 1+3)
				assert.Equal(t, tl.Samples[0].At, tl.ReadyAt)
				assert.GreaterOrEqual(t, tl.ReadyAt, time.Duration(0))
			},
		},
		{
			name:    "/health reports failed: stops at once with its cause",
			api:     &fakeML{readyAfter: -1, health: `{"status":"failed","reason":"boom"}`},
			timeout: 30 * time.Second,
			check: func(t *testing.T, tl *observe.Timeline, _ *fakeML, took time.Duration) {
				assert.False(t, tl.Ready())
				assert.Contains(t, tl.Stopped, "boom")
				assert.Contains(t, tl.Stopped, "failed")
				assert.Len(t, tl.Samples, 1)
				assert.Less(t, took, 5*time.Second, "did not wait for the start-up timeout")
			},
		},
		{
			name:    "/health reports failed without a reason",
			api:     &fakeML{readyAfter: -1, health: `{"status":"failed"}`},
			timeout: 30 * time.Second,
			check: func(t *testing.T, tl *observe.Timeline, _ *fakeML, _ time.Duration) {
				assert.Contains(t, tl.Stopped, "failed: no cause given")
				assert.Len(t, tl.Samples, 1)
			},
		},
		{
			name:    "never ready: stops at the start-up timeout",
			api:     &fakeML{readyAfter: -1},
			timeout: 300 * time.Millisecond,
			check: func(t *testing.T, tl *observe.Timeline, _ *fakeML, took time.Duration) {
				assert.False(t, tl.Ready())
				assert.Negative(t, tl.ReadyAt)
				assert.Contains(t, tl.Stopped, "not ready within 300ms")
				assert.GreaterOrEqual(t, took, 300*time.Millisecond)
				assert.Less(t, took, 5*time.Second)
				require.NotEmpty(t, tl.Samples)
				for _, s := range tl.Samples {
					assert.Equal(t, http.StatusServiceUnavailable, s.Ready)
					assert.Equal(t, http.StatusOK, s.Live)
				}
			},
		},
		{
			name:    "ready, but /analyze fails: says so rather than not ready",
			api:     &fakeML{readyAfter: 1, brokenAnalyze: http.StatusInternalServerError},
			timeout: 300 * time.Millisecond,
			check: func(t *testing.T, tl *observe.Timeline, _ *fakeML, _ time.Duration) {
				assert.True(t, tl.Ready())
				assert.Contains(t, tl.Stopped, "ready after")
				assert.Contains(t, tl.Stopped, "/analyze answered 200 only 0 of 3 times within 300ms")
				assert.NotContains(t, tl.Stopped, "not ready")
			},
		},
		{
			name:          "ready, but /analyze hangs: stops after three hangs, not at the start-up timeout",
			api:           &fakeML{readyAfter: 1, hangWhenReady: true},
			timeout:       30 * time.Second,
			clientTimeout: 100 * time.Millisecond,
			check: func(t *testing.T, tl *observe.Timeline, api *fakeML, took time.Duration) {
				assert.True(t, tl.Ready())
				assert.Contains(t, tl.Stopped, "/analyze got no answer in time 3 times in a row")
				require.Len(t, tl.Samples, 1+1+3, "loading, turning ready, then three hangs")
				assert.False(t, tl.Samples[1].Hung)
				for i, s := range tl.Samples[2:] {
					assert.True(t, s.Hung, "round %d", 2+i)
				}
				assert.Less(t, took, 10*time.Second, "did not wait for the start-up timeout")
			},
		},
		{
			name:          "ready, /analyze hangs every other time: three hangs not in a row do not stop the watch",
			api:           &fakeML{readyAfter: 1, hangEveryOther: true},
			timeout:       30 * time.Second,
			clientTimeout: 100 * time.Millisecond,
			check: func(t *testing.T, tl *observe.Timeline, _ *fakeML, _ time.Duration) {
				assert.True(t, tl.Ready())
				assert.Empty(t, tl.Stopped, "three 200s were served in the end")
				require.Len(t, tl.Samples, 1+1+6, "loading, turning ready, then hang/200 three times")
			},
		},
		{
			name:          "/analyze hangs while loading: those rounds are Hung",
			api:           &fakeML{readyAfter: 2, hangWhileLoading: true},
			clientTimeout: 100 * time.Millisecond,
			check: func(t *testing.T, tl *observe.Timeline, _ *fakeML, _ time.Duration) {
				require.True(t, tl.Ready())
				require.Len(t, tl.Samples, 2+1+3)
				for i, s := range tl.Samples[:2] {
					assert.True(t, s.Hung, "round %d", i)
					assert.Equal(t, 0, s.Analyze, "round %d: no answer", i)
					assert.Equal(t, http.StatusServiceUnavailable, s.Ready, "round %d", i)
				}
				// The fake turns ready on a /ready probe, after that round's
				// /analyze has hung.
				assert.True(t, tl.Samples[2].Hung)
				assert.Equal(t, http.StatusOK, tl.Samples[2].Ready)
				for i, s := range tl.Samples[3:] {
					assert.False(t, s.Hung, "round %d", 3+i)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.api)
			t.Cleanup(srv.Close)
			if tt.timeout == 0 {
				tt.timeout = 10 * time.Second
			}
			if tt.clientTimeout == 0 {
				tt.clientTimeout = 2 * time.Second
			}
			var exitedAsked atomic.Int32
			started := time.Now()
			tl := observe.WatchStartup(t.Context(), observe.NewClient(tt.clientTimeout), observe.StartupWatch{
				URL: srv.URL, Started: started, Every: time.Millisecond, Timeout: tt.timeout, Text: text,
				Exited: func(context.Context) string { exitedAsked.Add(1); return "" },
			})
			took := time.Since(started)
			tt.check(t, tl, tt.api, took)
			assert.Zero(t, exitedAsked.Load(), "a service that answers is not asked whether it exited")
		})
	}
}

func TestWatchStartupExited(t *testing.T) {
	const why = "container of ml-api exited with code 1; its last log lines: panic: out of cheese"
	tests := []struct {
		name string
		// dieAfter is how many /ready probes the server answers before it
		// goes away; 0: it is gone before watching starts.
		dieAfter int32
	}{
		{"gone before the first probe", 0},
		{"exits while loading", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeML{readyAfter: -1}
			srv := httptest.NewServer(api)
			var gone atomic.Bool
			dying := make(chan struct{})
			done := make(chan struct{})
			var once sync.Once
			die := func() { once.Do(func() { close(dying) }) }
			go func() {
				defer close(done)
				<-dying
				srv.Close()
				gone.Store(true)
			}()
			t.Cleanup(func() { die(); <-done })
			if tt.dieAfter == 0 {
				die()
				<-done
			} else {
				api.onReadyProbe = func(n int32) {
					if n == tt.dieAfter {
						die()
					}
				}
			}

			tl := observe.WatchStartup(t.Context(), observe.NewClient(2*time.Second), observe.StartupWatch{
				URL: srv.URL, Started: time.Now(), Every: time.Millisecond, Timeout: 10 * time.Second, Text: "hi",
				Exited: func(context.Context) string {
					if gone.Load() {
						return why
					}
					return ""
				},
			})

			assert.Equal(t, why, tl.Stopped)
			assert.False(t, tl.Ready())
			answered := 0
			for _, s := range tl.Samples {
				if s.Ready != 0 {
					answered++
					assert.Equal(t, http.StatusServiceUnavailable, s.Ready)
				}
			}
			// A keep-alive connection may carry a probe or two while the
			// server closes; what matters is that it was loading until then.
			assert.GreaterOrEqual(t, answered, int(tt.dieAfter), "rounds answered before the server went away")
		})
	}
}
