package labtest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mlready/mlready/labtest/check"
	"github.com/mlready/mlready/labtest/stack"
)

// replicaGrace is how long a stopped replica may drain before it is
// killed. The APIs' SHUTDOWN_GRACE (10 s) and Kubernetes'
// terminationGracePeriodSeconds (30 s) are longer, but a replica under the
// lab's load drains in well under a second; only one whose model hangs
// runs into it, and the lab need not wait longer for that one.
const replicaGrace = 5 * time.Second

// mlReplicas is the lab's check.Orchestrator: more containers of the ML
// service, from the image the lab built, on the lab's network.
type mlReplicas struct {
	stack   *stack.Stack
	service stack.Service
	image   string

	mu     sync.Mutex
	caches map[string]map[string]string // cache -> volume target -> Docker volume
	fresh  int
}

// StartReplica implements check.Orchestrator.
func (m *mlReplicas) StartReplica(ctx context.Context, cache string) (check.Replica, error) {
	volumes, err := m.volumes(ctx, cache)
	if err != nil {
		return nil, err
	}
	r, err := m.stack.StartReplica(ctx, m.service, m.image, volumes)
	if err != nil {
		return nil, fmt.Errorf("start a replica of %s: %w", m.service.Name, err)
	}
	return &replica{stack: m.stack, running: r}, nil
}

// volumes returns the Docker volumes of cache, made on first use.
func (m *mlReplicas) volumes(ctx context.Context, cache string) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cache == "" {
		m.fresh++
		cache = fmt.Sprintf("fresh-%d", m.fresh)
	}
	if v, ok := m.caches[cache]; ok {
		return v, nil
	}
	v := map[string]string{}
	for i, vol := range m.service.Volumes {
		if vol.Name == "" {
			continue // an anonymous volume is each container's own
		}
		name, err := m.stack.CreateVolume(ctx, fmt.Sprintf("%s-%d", cache, i))
		if err != nil {
			return nil, err
		}
		v[vol.Target] = name
	}
	if m.caches == nil {
		m.caches = map[string]map[string]string{}
	}
	m.caches[cache] = v
	return v, nil
}

// RemoveCache implements check.Orchestrator.
func (m *mlReplicas) RemoveCache(ctx context.Context, cache string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, name := range m.caches[cache] {
		if err := m.stack.RemoveVolume(ctx, name); err != nil {
			return err
		}
	}
	delete(m.caches, cache)
	return nil
}

// replica is a check.Replica; Stop may be called more than once.
type replica struct {
	stack   *stack.Stack
	running *stack.Running

	once sync.Once
	err  error
}

// URL implements check.Replica.
func (r *replica) URL() string { return r.running.URL }

// Started implements check.Replica.
func (r *replica) Started() time.Time { return r.running.Started }

// Exited implements check.Replica.
func (r *replica) Exited(ctx context.Context) string {
	return r.running.Exited(ctx)
}

// Stop implements check.Replica; a second call returns the first's error.
func (r *replica) Stop(ctx context.Context) error {
	r.once.Do(func() { r.err = r.stack.Remove(ctx, r.running, replicaGrace) })
	return r.err
}
