package stack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Health is Docker's verdict on a service's own healthcheck.
type Health struct {
	// Status is "starting", "healthy" or "unhealthy"; "" when the service
	// has no healthcheck.
	Status string
	// FailingStreak is how many checks in a row failed.
	FailingStreak int
	// Last is the output of the last check, shortened.
	Last string
}

// Health returns what Docker says of the service's healthcheck (compose's
// or the image's HEALTHCHECK).
func (r *Running) Health(ctx context.Context) (Health, error) {
	insp, err := r.container.Inspect(ctx)
	if err != nil {
		return Health{}, fmt.Errorf("inspect %s: %w", r.Name, err)
	}
	if insp.State == nil || insp.State.Health == nil {
		return Health{}, nil
	}
	h := Health{Status: string(insp.State.Health.Status), FailingStreak: insp.State.Health.FailingStreak}
	if n := len(insp.State.Health.Log); n > 0 {
		h.Last = strings.TrimSpace(insp.State.Health.Log[n-1].Output)
		if len(h.Last) > maxTailLine {
			h.Last = strings.ToValidUTF8(h.Last[:maxTailLine], "") + "…"
		}
	}
	return h, nil
}

// WaitCondition waits until the service reaches what a compose depends_on
// condition asks of it before its dependants start: service_healthy (its
// healthcheck passed), service_completed_successfully (it exited with 0),
// or service_started (it runs and, when it has a port, listens: the lab
// asks a little more than compose here, so that a dependant never races
// its dependency's start-up).
func (r *Running) WaitCondition(ctx context.Context, condition string, timeout time.Duration) error {
	switch condition {
	case "service_healthy":
		return r.poll(ctx, timeout, func() (bool, error) {
			if why := r.Exited(ctx); why != "" {
				return false, errors.New(why)
			}
			h, err := r.Health(ctx)
			switch {
			case err != nil:
				return false, err
			case h.Status == "":
				return false, fmt.Errorf("service %s is depended on with condition service_healthy but has no healthcheck", r.Name)
			case h.Status == "unhealthy":
				return false, fmt.Errorf("service %s is unhealthy: its healthcheck failed %d times in a row (last output: %q)", r.Name, h.FailingStreak, h.Last)
			}
			return h.Status == "healthy", nil
		})
	case "service_completed_successfully":
		return r.poll(ctx, timeout, func() (bool, error) {
			state, err := r.container.State(ctx)
			if err != nil {
				return false, fmt.Errorf("state of %s: %w", r.Name, err)
			}
			if state.Running {
				return false, nil
			}
			if state.ExitCode != 0 {
				return false, fmt.Errorf("service %s exited with code %d; its dependants need it to complete successfully", r.Name, state.ExitCode)
			}
			return true, nil
		})
	}
	return r.WaitListening(ctx, timeout)
}

// ConditionOn is what the services that depend on name ask of it: the
// strictest of their depends_on conditions.
func ConditionOn(services map[string]Service, name string) string {
	rank := map[string]int{"service_started": 1, "service_healthy": 2, "service_completed_successfully": 3}
	best := "service_started"
	for _, s := range services {
		if c, ok := s.Conditions[name]; ok && rank[c] > rank[best] {
			best = c
		}
	}
	return best
}

// poll calls done every 100 ms until it says yes or fails, the container
// exits (but for a condition that waits for that), or timeout passes.
func (r *Running) poll(ctx context.Context, timeout time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("service %s did not get there within %s", r.Name, timeout)
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), context.Cause(ctx))
		case <-tick.C:
		}
	}
}
