// Command traditional is the lab's rule-based sentiment API: no model, ready
// as soon as it listens. `traditional healthcheck` probes /ready.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/traditional/rulesapi"
)

func main() {
	port := httpapi.Port(os.Getenv)
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(httpapi.Healthcheck(port))
	}
	logger := httpapi.NewLogger(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("ready", "seconds_since_start", 0)
	if err := httpapi.Serve(ctx, ":"+port, rulesapi.New(logger).Handler(), logger, 10*time.Second); err != nil {
		logger.Error("server stopped", "error", err.Error())
		os.Exit(1)
	}
}
