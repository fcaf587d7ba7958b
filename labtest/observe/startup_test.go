package observe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/internal/fakeapi"
	"github.com/mlready/mlready/labtest/observe"
)

func TestWatchStartup(t *testing.T) {
	const text = "I love this amazing product!"
	tests := []struct {
		name          string
		api           *fakeapi.API
		timeout       time.Duration
		clientTimeout time.Duration
		check         func(t *testing.T, tl *observe.Timeline, api *fakeapi.API, took time.Duration)
	}{
		{
			name: "loads, then serves three answers and stops watching",
			api:  &fakeapi.API{ReadyAfter: 4},
			check: func(t *testing.T, tl *observe.Timeline, api *fakeapi.API, _ time.Duration) {
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
				assert.EqualValues(t, 8, api.Analyzes(), "no /analyze after the third 200")
				assert.Equal(t, text, api.Texts()[0])
			},
		},
		{
			name: "ready at once: the first round already serves",
			api:  &fakeapi.API{},
			check: func(t *testing.T, tl *observe.Timeline, _ *fakeapi.API, _ time.Duration) {
				require.True(t, tl.Ready())
				require.Len(t, tl.Samples, 3, "the first round's /analyze is the first of the three answers")
				assert.Equal(t, tl.Samples[0].At, tl.ReadyAt)
				assert.GreaterOrEqual(t, tl.ReadyAt, time.Duration(0))
			},
		},
		{
			name:    "/health reports failed: stops at once with its cause",
			api:     &fakeapi.API{ReadyAfter: -1, Health: `{"status":"failed","reason":"boom"}`},
			timeout: 30 * time.Second,
			check: func(t *testing.T, tl *observe.Timeline, _ *fakeapi.API, took time.Duration) {
				assert.False(t, tl.Ready())
				assert.Contains(t, tl.Stopped, "boom")
				assert.Contains(t, tl.Stopped, "failed")
				assert.Len(t, tl.Samples, 1)
				assert.Less(t, took, 5*time.Second, "did not wait for the start-up timeout")
			},
		},
		{
			name:    "/health reports failed without a reason",
			api:     &fakeapi.API{ReadyAfter: -1, Health: `{"status":"failed"}`},
			timeout: 30 * time.Second,
			check: func(t *testing.T, tl *observe.Timeline, _ *fakeapi.API, _ time.Duration) {
				assert.Contains(t, tl.Stopped, "failed: no cause given")
				assert.Len(t, tl.Samples, 1)
			},
		},
		{
			name:    "never ready: stops at the start-up timeout",
			api:     &fakeapi.API{ReadyAfter: -1},
			timeout: 300 * time.Millisecond,
			check: func(t *testing.T, tl *observe.Timeline, _ *fakeapi.API, took time.Duration) {
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
			api:     &fakeapi.API{ReadyAfter: 1, Status: http.StatusInternalServerError},
			timeout: 300 * time.Millisecond,
			check: func(t *testing.T, tl *observe.Timeline, _ *fakeapi.API, _ time.Duration) {
				assert.True(t, tl.Ready())
				assert.Contains(t, tl.Stopped, "ready after")
				assert.Contains(t, tl.Stopped, "/analyze answered 200 only 0 of 3 times within 300ms")
				assert.NotContains(t, tl.Stopped, "not ready")
			},
		},
		{
			name:          "ready, but /analyze hangs: stops after three hangs, not at the start-up timeout",
			api:           &fakeapi.API{ReadyAfter: 1, HangWhenReady: true},
			timeout:       30 * time.Second,
			clientTimeout: 100 * time.Millisecond,
			check: func(t *testing.T, tl *observe.Timeline, api *fakeapi.API, took time.Duration) {
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
			api:           &fakeapi.API{ReadyAfter: 1, HangEveryOther: true},
			timeout:       30 * time.Second,
			clientTimeout: 100 * time.Millisecond,
			check: func(t *testing.T, tl *observe.Timeline, _ *fakeapi.API, _ time.Duration) {
				assert.True(t, tl.Ready())
				assert.Empty(t, tl.Stopped, "three 200s were served in the end")
				require.Len(t, tl.Samples, 1+1+6, "loading, turning ready, then hang/200 three times")
			},
		},
		{
			name:          "/analyze hangs while loading: those rounds are Hung",
			api:           &fakeapi.API{ReadyAfter: 2, HangWhileLoading: true},
			clientTimeout: 100 * time.Millisecond,
			check: func(t *testing.T, tl *observe.Timeline, _ *fakeapi.API, _ time.Duration) {
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
			api := &fakeapi.API{ReadyAfter: -1}
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
				api.OnReadyProbe = func(n int32) {
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
