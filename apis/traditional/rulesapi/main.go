package rulesapi

import (
	"context"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/mlready/mlready/apis/httpapi"
)

// Main runs the traditional API as a process: JSON logs on stdout, serving
// until SIGINT or SIGTERM, then draining. wrap, outermost first, wraps the
// handler. It returns the process's exit code: 0 after a clean drain, 1 when
// serving failed or the grace ran out, 2 for bad configuration.
func Main(getenv func(string) string, wrap ...func(http.Handler) http.Handler) int {
	logger := httpapi.NewLogger(getenv)
	grace, err := httpapi.ShutdownGrace(getenv)
	if err != nil {
		logger.Error("bad configuration", "error", err.Error())
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("ready", "seconds_since_start", 0)
	if err := httpapi.Serve(ctx, ":"+httpapi.Port(getenv), httpapi.Wrap(New(logger).Handler(), wrap...), logger, grace); err != nil {
		logger.Error("server stopped", "error", err.Error())
		return 1
	}
	return 0
}
