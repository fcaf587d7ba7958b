package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

// Process is one API as Main runs it.
type Process struct {
	// Handler serves the API.
	Handler http.Handler
	// Start, when set, runs in the background once the API listens (the ML
	// API's download, load and warm-up). A failed start is the API's to
	// log and to show in /health: the process stays up so that operators
	// can see why.
	Start func(ctx context.Context) error
	// Close, when set, releases what the API holds after a clean drain.
	Close func() error
}

// Main runs an API as a process: JSON logs on stdout, serving until SIGINT
// or SIGTERM, then draining. settings are the API's serving settings and
// bad names every setting of the API that did not parse, or is nil; newAPI
// builds the API once the settings are known good. wrap, outermost first,
// wraps the handler (the sample forks plant their one mistake there). It
// returns the process's exit code: 0 after a clean drain, 1 when serving
// failed or the grace ran out, 2 for bad configuration.
func Main(settings Settings, bad error, newAPI func(*slog.Logger) Process, wrap ...func(http.Handler) http.Handler) int {
	logger := NewLogger(settings.LogLevel)
	if bad != nil {
		logger.Error("bad configuration", "error", bad.Error())
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	api := newAPI(logger)
	if api.Start != nil {
		go func() { _ = api.Start(ctx) }()
	}
	if err := Serve(ctx, ":"+settings.Port, Wrap(api.Handler, wrap...), logger, settings.ShutdownGrace); err != nil {
		// No Close: it would run what is still queued, and the grace
		// period is over.
		logger.Error("server stopped", "error", err.Error())
		return 1
	}
	if api.Close != nil {
		if err := api.Close(); err != nil {
			logger.Error("release the API's resources", "error", err.Error())
			return 1
		}
	}
	return 0
}
