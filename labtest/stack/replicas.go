package stack

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// What production does to a service, the lab does to its containers: start
// more replicas of it (scale-out), stop one and start another (a rolling
// update), and bring it down and up again with its named volumes kept or
// removed (docker-compose down && up, with or without -v). Every volume and
// container made here carries the run's label and goes with Close.

// CreateVolume makes a Docker volume for the run, named after key, and
// returns its name. Close removes it if RemoveVolume did not.
func (st *Stack) CreateVolume(ctx context.Context, key string) (string, error) {
	name := "mlready-" + st.runID + "-" + sanitize(key)
	if _, err := st.client.VolumeCreate(ctx, client.VolumeCreateOptions{
		Name: name, Labels: map[string]string{LabelRun: st.runID},
	}); err != nil {
		return "", fmt.Errorf("create volume %s: %w", name, err)
	}
	st.mu.Lock()
	st.volumes[name] = true
	st.mu.Unlock()
	return name, nil
}

// RemoveVolume removes a volume made by CreateVolume, as `docker-compose
// down -v` does; no container may be using it any more.
func (st *Stack) RemoveVolume(ctx context.Context, name string) error {
	if _, err := st.client.VolumeRemove(ctx, name, client.VolumeRemoveOptions{}); err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	st.mu.Lock()
	delete(st.volumes, name)
	st.mu.Unlock()
	return nil
}

// StartReplica starts one more container of s from image, like Start, with
// the Docker volume volumes[target] mounted at each of s's named volume
// targets that volumes names; the others stay empty folders. Other
// containers reach it under the service's name too, as compose's replicas.
func (st *Stack) StartReplica(ctx context.Context, s Service, image string, volumes map[string]string) (*Running, error) {
	for target := range volumes {
		if !slices.ContainsFunc(s.Volumes, func(v Volume) bool { return v.Name != "" && v.Target == target }) {
			return nil, fmt.Errorf("service %s has no named volume at %s", s.Name, target)
		}
	}
	return st.start(ctx, s, image, volumes)
}

// Remove stops r as `docker stop` does (SIGTERM, then SIGKILL after
// grace), waits until it has exited and removes its container; the stack
// no longer tracks it. Named volumes stay.
func (st *Stack) Remove(ctx context.Context, r *Running, grace time.Duration) error {
	if err := r.Stop(ctx, grace); err != nil {
		return err
	}
	if err := r.container.Terminate(ctx, testcontainers.StopTimeout(0), testcontainers.RemoveVolumes()); err != nil {
		return fmt.Errorf("remove container of %s: %w", r.Name, err)
	}
	st.mu.Lock()
	st.containers = slices.DeleteFunc(st.containers, func(c *Running) bool { return c == r })
	st.mu.Unlock()
	return nil
}

// Stop sends the container SIGTERM and returns once it has exited, killing
// it after grace.
func (r *Running) Stop(ctx context.Context, grace time.Duration) error {
	secs := int(grace.Round(time.Second) / time.Second)
	if _, err := r.client.ContainerStop(ctx, r.container.GetContainerID(), client.ContainerStopOptions{Timeout: &secs}); err != nil {
		return fmt.Errorf("stop container of %s: %w", r.Name, err)
	}
	return nil
}

// IsRunning tells whether the container is running now.
func (r *Running) IsRunning(ctx context.Context) bool {
	state, err := r.container.State(ctx)
	return err == nil && state.Running
}
