package mlapi

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// probeText is the responding probe's inference: one short sentence, the
// cheapest call that still runs the whole model.
const probeText = "ok"

// probeCall is one probe inference; done is closed when it has returned.
type probeCall struct {
	started time.Time
	done    chan struct{}
	err     error
}

// responding runs a tiny inference on the loaded model, directly rather
// than through the batcher's queue, so that a busy queue does not read as
// a dead model, and reports whether it returned within ProbeTimeout. A
// model that hangs keeps the one call in flight; later probes wait on that
// same call and fail at their deadline too.
func (s *ModelAPI) responding(ctx context.Context) error {
	s.mu.RLock()
	classify := s.classify
	s.mu.RUnlock()
	if classify == nil {
		return errors.New("model not loaded")
	}
	s.probeMu.Lock()
	call := s.probing
	if call == nil {
		call = &probeCall{started: time.Now(), done: make(chan struct{})}
		s.probing = call
		go func() {
			_, err := classify([]string{probeText})
			s.probeMu.Lock()
			call.err = err
			s.probing = nil
			s.probeMu.Unlock()
			close(call.done)
		}()
	}
	s.probeMu.Unlock()
	timer := time.NewTimer(s.cfg.ProbeTimeout)
	defer timer.Stop()
	select {
	case <-call.done:
		if call.err != nil {
			return fmt.Errorf("probe inference failed: %w", call.err)
		}
		return nil
	case <-timer.C:
		return fmt.Errorf("the model did not answer a probe inference within %s (the one in flight started %.1f s ago)", s.cfg.ProbeTimeout, time.Since(call.started).Seconds())
	case <-ctx.Done():
		return fmt.Errorf("probe cancelled: %w", ctx.Err())
	}
}
