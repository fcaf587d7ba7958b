// Command ml is the lab's ML sentiment API: a transformer model served with
// hugot's pure-Go backend. It listens at once and becomes ready only once its
// model is downloaded, loaded and warmed up. `ml healthcheck` probes /ready.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/ml/mlapi"
)

func main() {
	port := httpapi.Port(os.Getenv)
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(httpapi.Healthcheck(port))
	}
	logger := httpapi.NewLogger(os.Getenv)
	cfg := mlapi.Config{
		ModelDir: os.Getenv("MODEL_DIR"),
		ModelID:  os.Getenv("MODEL_ID"),
		CacheDir: os.Getenv("MODEL_CACHE"),
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	svc := mlapi.New(cfg, logger)
	defer svc.Close()
	// A failed start is already logged and shown in /health; the process
	// stays up so that operators can see why.
	go func() { _ = svc.Start(ctx) }()

	if err := httpapi.Serve(ctx, ":"+port, svc.Handler(), logger, 10*time.Second); err != nil {
		logger.Error("server stopped", "error", err.Error())
		os.Exit(1)
	}
}
