package observe

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Target is one service to send /analyze traffic to.
type Target struct {
	Name string
	URL  string
}

// Interleaved sends rounds of the texts to every target in turn, one request
// at a time, so that all targets see the same traffic under the same machine
// load. It returns each target's latencies of 200 answers, in target order,
// and fails on the first answer that is not 200.
func Interleaved(ctx context.Context, c *http.Client, targets []Target, texts []string, rounds int) ([][]time.Duration, error) {
	out := make([][]time.Duration, len(targets))
	for r := 0; r < rounds; r++ {
		text := texts[r%len(texts)]
		for i, t := range targets {
			a := Analyze(ctx, c, t.URL, text)
			if err := OK(t.Name, a); err != nil {
				return nil, err
			}
			out[i] = append(out[i], a.Latency)
		}
	}
	return out, nil
}

// Parallel runs clients goroutines that each send perClient /analyze
// requests to one target back to back, and returns all their latencies.
func Parallel(ctx context.Context, c *http.Client, t Target, texts []string, clients, perClient int) ([]time.Duration, error) {
	var (
		mu    sync.Mutex
		lat   = make([]time.Duration, 0, clients*perClient)
		first error
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perClient; i++ {
				a := Analyze(ctx, c, t.URL, texts[(w*perClient+i)%len(texts)])
				mu.Lock()
				if err := OK(t.Name, a); err != nil {
					if first == nil {
						first = err
						cancel()
					}
					mu.Unlock()
					return
				}
				lat = append(lat, a.Latency)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lat, first
}

// OK returns nil for a 200 answer and, for any other, an error that says
// what name answered instead.
func OK(name string, a Answer) error {
	switch {
	case a.TimedOut:
		return fmt.Errorf("%s did not answer /analyze within the request timeout", name)
	case a.Err != nil:
		return fmt.Errorf("%s /analyze: %w", name, a.Err)
	case a.Status != http.StatusOK:
		return fmt.Errorf("%s answered /analyze with %d: %s", name, a.Status, a.Body)
	}
	return nil
}
