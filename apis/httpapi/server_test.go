package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/apis/httpapi"
)

func TestRouterAnswersUnknownPathsAndMethodsWithJSON(t *testing.T) {
	r := httpapi.NewRouter(discardLogger())
	r.Post("/analyze", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })

	tests := []struct {
		name, method, path string
		wantStatus         int
		wantMsg            string
	}{
		{"unknown path", http.MethodGet, "/nope", http.StatusNotFound, "no such endpoint: /nope"},
		{"unknown path, POST", http.MethodPost, "/analyse", http.StatusNotFound, "no such endpoint: /analyse"},
		{"GET on a POST route", http.MethodGet, "/analyze", http.StatusMethodNotAllowed, "method GET is not allowed on /analyze"},
		{"PUT on a POST route", http.MethodPut, "/analyze", http.StatusMethodNotAllowed, "method PUT is not allowed on /analyze"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))

			assert.Equal(t, tt.wantStatus, rec.Code)
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.JSONEq(t, `{"error":"`+tt.wantMsg+`"}`, rec.Body.String())
		})
	}
}

func TestNewLoggerLevel(t *testing.T) {
	tests := []struct {
		level     string
		wantDebug bool
	}{
		{"", false},
		{"info", false},
		{"debug", true},
	}
	for _, tt := range tests {
		settings := httpapi.ReadSettings(&httpapi.Env{Getenv: func(k string) string {
			if k == "LOG_LEVEL" {
				return tt.level
			}
			return ""
		}})
		logger := httpapi.NewLogger(settings.LogLevel)
		assert.Equal(t, tt.wantDebug, logger.Enabled(context.Background(), slog.LevelDebug), "LOG_LEVEL=%q", tt.level)
		assert.True(t, logger.Enabled(context.Background(), slog.LevelInfo), "LOG_LEVEL=%q", tt.level)
	}
}

// addrHandler hands over the address of Serve's "listening" log line, so a
// test learns the port without polling.
type addrHandler struct{ addr chan<- string }

func (h addrHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h addrHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h addrHandler) WithGroup(string) slog.Handler            { return h }
func (h addrHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "listening" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "addr" {
				h.addr <- a.Value.String()
			}
			return true
		})
	}
	return nil
}

// TestServeFinishesInFlightRequestsOnShutdown is what SIGTERM relies on: a
// request that is being answered when the context ends still gets its answer,
// and Serve then returns without error.
func TestServeFinishesInFlightRequestsOnShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"done": "yes"})
	})
	addrs := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- httpapi.Serve(ctx, "127.0.0.1:0", h, slog.New(addrHandler{addrs}), 5*time.Second) }()
	addr := <-addrs

	type answer struct {
		status int
		body   string
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answered <- answer{resp.StatusCode, string(b), err}
	}()
	<-entered
	cancel()
	close(release)

	a := <-answered
	require.NoError(t, a.err)
	assert.Equal(t, http.StatusOK, a.status)
	assert.JSONEq(t, `{"done":"yes"}`, a.body)
	require.NoError(t, <-served)

	_, err := net.DialTimeout("tcp", addr, time.Second)
	assert.Error(t, err, "the listener is closed after shutdown")
}

func TestServeReportsAPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()

	err = httpapi.Serve(context.Background(), ln.Addr().String(), http.NotFoundHandler(), discardLogger(), time.Second)

	require.Error(t, err)
	assert.Contains(t, err.Error(), "listen on "+ln.Addr().String())
}

func TestHealthcheck(t *testing.T) {
	portEnv := func(port string) func(string) string {
		return func(k string) string {
			if k == "PORT" {
				return port
			}
			return ""
		}
	}
	tests := []struct {
		name     string
		status   int
		wantCode int
	}{
		{"ready", http.StatusOK, 0},
		{"not ready", http.StatusServiceUnavailable, 1},
		{"no /ready endpoint", http.StatusNotFound, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var path string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				path = r.URL.Path
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]

			assert.Equal(t, tt.wantCode, httpapi.Healthcheck(portEnv(port)))
			assert.Equal(t, "/ready", path)
		})
	}
	t.Run("nothing listening", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())

		assert.Equal(t, 1, httpapi.Healthcheck(portEnv(addr[strings.LastIndex(addr, ":")+1:])))
	})
}

func TestRouterAnswersAPanicWithJSONAndKeepsServing(t *testing.T) {
	r := httpapi.NewRouter(slog.New(slog.DiscardHandler))
	r.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("bug") })
	r.Get("/fine", func(w http.ResponseWriter, _ *http.Request) {
		httpapi.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.JSONEq(t, `{"error":"internal error"}`, rec.Body.String())

	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/fine", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
}
