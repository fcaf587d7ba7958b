package mlapi

import (
	"context"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/mlready/mlready/apis/httpapi"
)

// Main runs the ML API as a process: configuration from getenv, JSON logs
// on stdout, start-up in the background, serving until SIGINT or SIGTERM,
// then draining. wrap, outermost first, wraps the handler (the sample forks
// plant their one mistake there). It returns the process's exit code: 0
// after a clean drain, 1 when serving failed or the grace ran out, 2 for bad
// configuration.
func Main(getenv func(string) string, wrap ...func(http.Handler) http.Handler) int {
	return MainWithModel(getenv, nil, wrap...)
}

// MainWithModel is Main with the model call wrapped by wrapModel (see
// Config.WrapModel); nil leaves it as it is.
func MainWithModel(getenv func(string) string, wrapModel func(Classify) Classify, wrap ...func(http.Handler) http.Handler) int {
	logger := httpapi.NewLogger(getenv)
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		logger.Error("bad configuration", "error", err.Error())
		return 2
	}
	cfg.WrapModel = wrapModel
	grace, err := httpapi.ShutdownGrace(getenv)
	if err != nil {
		logger.Error("bad configuration", "error", err.Error())
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	svc := New(cfg, logger)
	// A failed start is already logged and shown in /health; the process
	// stays up so that operators can see why.
	go func() { _ = svc.Start(ctx) }()

	if err := httpapi.Serve(ctx, ":"+httpapi.Port(getenv), httpapi.Wrap(svc.Handler(), wrap...), logger, grace); err != nil {
		// No Close: it would run what is still queued, and the grace
		// period is over.
		logger.Error("server stopped", "error", err.Error())
		return 1
	}
	if err := svc.Close(); err != nil {
		logger.Error("release the model", "error", err.Error())
		return 1
	}
	return 0
}
