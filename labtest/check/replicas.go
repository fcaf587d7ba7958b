package check

import (
	"context"
	"time"
)

// Orchestrator starts and stops more containers of the ML service, as an
// autoscaler, a rolling update or `docker-compose down && up` does. The
// production checks use it; the lab gives it to them in Env.Replicas.
type Orchestrator interface {
	// StartReplica starts another container of the ML service and returns
	// as soon as it runs. Its named volumes (the model cache) are those of
	// cache: replicas started with the same cache share them, as compose's
	// replicas share a named volume; "" gives the replica fresh ones.
	StartReplica(ctx context.Context, cache string) (Replica, error)
	// RemoveCache removes the volumes of cache, as `docker-compose down -v`
	// does; no running replica may use them.
	RemoveCache(ctx context.Context, cache string) error
}

// Replica is one container of the ML service started by an Orchestrator.
type Replica interface {
	// URL is its base URL.
	URL() string
	// Started is when its container started.
	Started() time.Time
	// Stop sends SIGTERM, waits until the container has exited (killing it
	// after the shutdown grace) and removes it.
	Stop(ctx context.Context) error
	// Exited says why the container is not running, "" while it runs.
	Exited(ctx context.Context) string
}

// Routing configures how the production checks route their load.
type Routing struct {
	// Period is how often the readiness-gated router polls each replica's
	// /ready, as a Kubernetes readinessProbe's periodSeconds.
	Period time.Duration
	// WarmPool is how many replicas scale-out starts before the spike, to
	// add when it comes.
	WarmPool int
}

// DefaultPeriod is the router's poll period when the spec sets none.
const DefaultPeriod = time.Second
