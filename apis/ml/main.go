// Command ml is the lab's ML sentiment API: a transformer model served with
// hugot's pure-Go backend. It listens at once and becomes ready only once its
// model is downloaded, loaded and warmed up; then it batches concurrent
// requests for the model. On SIGTERM it turns /ready 503, finishes the
// requests in flight and exits. `ml healthcheck` probes /ready.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/ml/mlapi"
)

func main() { os.Exit(run(os.Getenv)) }

func run(getenv func(string) string) int {
	port := httpapi.Port(getenv)
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		return httpapi.Healthcheck(port)
	}
	logger := httpapi.NewLogger(getenv)
	cfg, err := mlapi.ConfigFromEnv(getenv)
	if err != nil {
		logger.Error("bad configuration", "error", err.Error())
		return 2
	}
	grace, err := httpapi.ShutdownGrace(getenv)
	if err != nil {
		logger.Error("bad configuration", "error", err.Error())
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	svc := mlapi.New(cfg, logger)
	// A failed start is already logged and shown in /health; the process
	// stays up so that operators can see why.
	go func() { _ = svc.Start(ctx) }()

	if err := httpapi.Serve(ctx, ":"+port, svc.Handler(), logger, grace); err != nil {
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
