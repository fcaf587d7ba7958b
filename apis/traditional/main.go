// Command traditional is the lab's rule-based sentiment API: no model, ready
// as soon as it listens. On SIGTERM it turns /ready 503, finishes the
// requests in flight and exits. `traditional healthcheck` probes /ready.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/traditional/rulesapi"
)

func main() { os.Exit(run(os.Getenv)) }

func run(getenv func(string) string) int {
	port := httpapi.Port(getenv)
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		return httpapi.Healthcheck(port)
	}
	logger := httpapi.NewLogger(getenv)
	grace, err := httpapi.ShutdownGrace(getenv)
	if err != nil {
		logger.Error("bad configuration", "error", err.Error())
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("ready", "seconds_since_start", 0)
	if err := httpapi.Serve(ctx, ":"+port, rulesapi.New(logger).Handler(), logger, grace); err != nil {
		logger.Error("server stopped", "error", err.Error())
		return 1
	}
	return 0
}
