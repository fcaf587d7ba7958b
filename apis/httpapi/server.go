package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// DefaultPort is where an API listens when PORT is not set.
const DefaultPort = "8000"

// NewRouter returns a chi router that logs one line per request and answers
// unknown paths (404) and wrong methods (405) with a JSON error.
func NewRouter(logger *slog.Logger) *chi.Mux {
	r := chi.NewRouter()
	r.Use(logRequests(logger), recoverJSON(logger))
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s", r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path))
	})
	return r
}

// recoverJSON turns a panic in a handler into a logged error and a JSON 500,
// so that even a bug answers in the contract's shape.
func recoverJSON(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					logger.Error("handler panicked", "path", r.URL.Path, "panic", fmt.Sprint(v))
					WriteError(w, http.StatusInternalServerError, "internal error")
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

func logRequests(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			logger.LogAttrs(r.Context(), slog.LevelDebug, "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", ww.Status()), slog.Duration("duration", time.Since(start)))
		})
	}
}

// Serve serves h on addr until ctx is done, then shuts down gracefully:
// /ready turns 503 at once and new requests get 503 (see Drain), the
// requests in flight run to the end, and Serve returns once they have, or
// with an error once grace has passed without them all finishing.
func Serve(ctx context.Context, addr string, h http.Handler, logger *slog.Logger, grace time.Duration) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	var drain Drain
	srv := &http.Server{Handler: drain.Wrap(h), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", addr, err)
	case <-ctx.Done():
	}
	drain.Start()
	logger.Info("shutting down", "grace", grace.String(), "in_flight", drain.InFlight())
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	// Until the requests in flight are done the listener stays open, so
	// that whoever still sends traffic hears 503 rather than a refused
	// connection; Shutdown then closes it and waits for idle connections.
	_ = drain.Wait(sctx)
	if err := srv.Shutdown(sctx); err != nil {
		left := drain.InFlight()
		_ = srv.Close()
		return fmt.Errorf("shut down: %d requests still in flight after the grace period of %s: %w", left, grace, err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("shut down")
	return nil
}

// Healthcheck probes the API listening on $PORT at /ready and returns the
// process exit code: 0 when ready, 1 otherwise. It is the image's health
// check, for images that have no shell or curl.
func Healthcheck(getenv func(string) string) int {
	s := ReadSettings(&Env{Getenv: getenv})
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://127.0.0.1:" + s.Port + "/ready")
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "healthcheck: /ready answered", resp.Status)
		return 1
	}
	return 0
}

// NewLogger returns the JSON logger both APIs write to stdout; at debug
// level it adds one line per request.
func NewLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}

// Wrap returns h behind the middleware mws, the first one outermost.
func Wrap(h http.Handler, mws ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}
