package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/apis/httpapi"
)

// TestDrainTurnsNewRequestsAway checks what each path answers once
// draining: liveness and metrics as before, readiness and work 503.
func TestDrainTurnsNewRequestsAway(t *testing.T) {
	var d httpapi.Drain
	h := d.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpapi.WriteJSON(w, http.StatusOK, map[string]bool{"served": true})
	}))
	paths := []struct {
		path       string
		wantStatus int // once draining
	}{
		{"/health", 200}, {"/live", 200}, {"/v2/health/live", 200}, {"/metrics", 200},
		{"/ready", 503}, {"/v2/health/ready", 503}, {"/v2/models/m/ready", 503},
		{"/analyze", 503}, {"/anything", 503},
	}
	for _, p := range paths {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.path, nil))
		assert.Equal(t, http.StatusOK, rec.Code, "%s before draining", p.path)
	}

	d.Start()

	for _, p := range paths {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.path, nil))
		assert.Equal(t, p.wantStatus, rec.Code, "%s while draining", p.path)
		if p.wantStatus != http.StatusServiceUnavailable {
			continue
		}
		assert.Equal(t, "1", rec.Header().Get("Retry-After"), p.path)
		var body map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		if httpapi.IsReadinessPath(p.path) {
			assert.Equal(t, map[string]any{"ready": false, "status": httpapi.StatusStopping, "reason": "shutting down"}, body)
		} else {
			assert.Contains(t, body["error"], "shutting down")
		}
	}
}

func TestDrainWaitsForInFlightRequests(t *testing.T) {
	var d httpapi.Drain
	entered, release := make(chan struct{}), make(chan struct{})
	h := d.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		close(entered)
		<-release
	}))
	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/analyze", nil))
	<-entered
	d.Start()
	assert.EqualValues(t, 1, d.InFlight())

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, d.Wait(ctx), context.DeadlineExceeded, "gives up when ctx ends first")

	close(release)
	assert.NoError(t, d.Wait(context.Background()))
	assert.Zero(t, d.InFlight())
}

// startServe runs Serve on a free port with h until the returned cancel.
func startServe(t *testing.T, h http.Handler, grace time.Duration) (addr string, cancel func(), served <-chan error) {
	t.Helper()
	addrs := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	errc := make(chan error, 1)
	go func() { errc <- httpapi.Serve(ctx, "127.0.0.1:0", h, slog.New(addrHandler{addrs}), grace) }()
	return <-addrs, cancel, errc
}

// TestServeDrainsBeforeItCloses: between the end of ctx and the end of the
// last in-flight request, the listener stays open and answers /ready and
// new work with 503, and /live with 200.
func TestServeDrainsBeforeItCloses(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	r := httpapi.NewRouter(discardLogger())
	httpapi.Health{APIType: "test", Started: time.Now(), Readiness: func() httpapi.Readiness {
		return httpapi.Readiness{Status: httpapi.StatusHealthy, Ready: true}
	}}.Mount(r)
	r.Post("/analyze", func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"done": "yes"})
	})
	addr, cancel, served := startServe(t, r, 5*time.Second)
	base := "http://" + addr

	slow := make(chan int, 1)
	go func() {
		resp, err := http.Post(base+"/analyze", "application/json", strings.NewReader(`{}`))
		if err != nil {
			slow <- 0
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	<-entered
	cancel()

	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	}, 2*time.Second, 5*time.Millisecond, "/ready turns 503 at once")
	resp, err := http.Post(base+"/analyze", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "new work is turned away")
	resp, err = http.Get(base + "/live")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "still alive")
	select {
	case err := <-served:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	default:
	}

	close(release)
	assert.Equal(t, http.StatusOK, <-slow, "the in-flight request is answered")
	require.NoError(t, <-served)
}

func TestServeGivesUpAfterTheGracePeriod(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		close(entered)
		<-release
	})
	addr, cancel, served := startServe(t, h, 100*time.Millisecond)
	go func() {
		if resp, err := http.Get("http://" + addr + "/stuck"); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	start := time.Now()
	cancel()

	err := <-served
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 requests still in flight after the grace period of 100ms")
	assert.Less(t, time.Since(start), 2*time.Second)
}
