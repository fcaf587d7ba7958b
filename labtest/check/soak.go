package check

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mlready/mlready/labtest/observe"
	"github.com/mlready/mlready/labtest/report"
)

// Soak sends a few thousand mixed good and bad requests at concurrency to
// each API and checks that every good request got the answer it gets alone,
// every bad one a 4xx with a JSON error, and that memory did not run away.
// It is not part of the default lab; a spec chooses it.
type Soak struct{}

const (
	soakRequests = 2000
	soakWorkers  = 8
	// soakWarmup requests bring the heap to its steady size first: memory is
	// compared after the warm-up and after the soak, so that what is
	// measured is growth that goes on, not a garbage collector's first
	// stretch.
	soakWarmup = 500
)

// Info implements Check: private memory (heap, no page cache) after
// the soak over private memory after the warm-up.
func (Soak) Info() Info {
	return Info{
		ID:        "soak",
		Title:     "Mixed good and bad traffic breaks nothing",
		Lesson:    "A service in production meets every kind of input at once: bad requests must cost a 4xx, never a crash, a mixed-up answer or a leak.",
		Threshold: report.Threshold{Name: "max_memory_growth", Value: 1.5, Unit: "x", Direction: report.AtMost, Min: 1, Max: 10},
	}
}

// badRequest is a request that must get a 4xx with a JSON error.
type badRequest struct {
	contentType string
	body        []byte
}

func badRequests() []badRequest {
	return []badRequest{
		{"application/json", []byte(`{"text": `)},
		{"application/json", []byte(`[1, 2, 3]`)},
		{"application/json", []byte(`{"txt": "missing"}`)},
		{"application/json", []byte(`{"text": ""}`)},
		{"application/json", []byte(`{"text": 12345678901234567890}`)},
		{"application/json", []byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000))},
		{"text/plain", []byte(`{"text": "wrong content type"}`)},
		{"application/json", []byte(`{"text": "` + strings.Repeat("a", 70<<10) + `"}`)},
	}
}

// Run implements Check.
func (Soak) Run(ctx context.Context, env *Env, threshold float64) Outcome {
	var measured []report.Measure
	var problems []string
	passed := true
	for _, s := range []*API{env.Traditional, env.ML} {
		who := report.Traditional
		if s == env.ML {
			who = report.ML
		}
		res, err := soak(ctx, env, s)
		if err != nil {
			return failed(fmt.Sprintf("Soaking the %s API failed: %v", who, err), measured...)
		}
		growth := float64(res.memAfter) / float64(res.memBefore)
		measured = append(measured,
			count("good", res.good).Of(who), count("good_wrong", res.goodWrong).Of(who),
			count("bad", res.bad).Of(who), count("bad_wrong", res.badWrong).Of(who),
			mib("private_memory_before", float64(res.memBefore)/(1<<20)).Of(who), mib("private_memory_after", float64(res.memAfter)/(1<<20)).Of(who),
			times("memory_growth", growth).Of(who))
		if res.goodWrong > 0 {
			passed = false
			problems = append(problems, fmt.Sprintf("the %s API answered %d of %d good requests wrongly (first: %s)", who, res.goodWrong, res.good, res.firstWrong))
		}
		if res.badWrong > 0 {
			passed = false
			problems = append(problems, fmt.Sprintf("the %s API answered %d of %d bad requests without a 4xx JSON error (first: %s)", who, res.badWrong, res.bad, res.firstBadWrong))
		}
		if growth > threshold {
			passed = false
			problems = append(problems, fmt.Sprintf("the %s API's memory grew %.2fx (%.1f to %.1f MiB), more than %.2fx", who, growth, float64(res.memBefore)/(1<<20), float64(res.memAfter)/(1<<20), threshold))
		}
	}
	out := Outcome{Passed: passed, Measured: measured}
	if passed {
		out.Message = fmt.Sprintf("Each API got %d mixed requests from %d clients: every good one got its solo answer, every bad one a 4xx JSON error, and memory grew at most %.2fx.", soakRequests, soakWorkers, threshold)
	} else {
		out.Message = "Under mixed traffic, " + strings.Join(problems, "; ") + "."
	}
	return out
}

type soakResult struct {
	good, goodWrong, bad, badWrong int
	firstWrong, firstBadWrong      string
	memBefore, memAfter            int64
}

type answer struct {
	Sentiment  string  `json:"sentiment"`
	Confidence float64 `json:"confidence"`
}

func soak(ctx context.Context, env *Env, s *API) (*soakResult, error) {
	// The answer each text gets alone is the answer it must get in a crowd:
	// a batching server must never mix answers up.
	solo := map[string]string{}
	for _, t := range env.Texts {
		a := observe.Analyze(ctx, env.Client, s.URL, t)
		var ans answer
		if a.Status != http.StatusOK || json.Unmarshal(a.Body, &ans) != nil {
			return nil, fmt.Errorf("solo request answered %d: %s", a.Status, a.Body)
		}
		solo[t] = ans.Sentiment
	}
	if _, err := mixedTraffic(ctx, env, s, solo, soakWarmup); err != nil {
		return nil, err
	}
	before, err := s.PrivateMemory(ctx)
	if err != nil {
		return nil, err
	}
	res, err := mixedTraffic(ctx, env, s, solo, soakRequests)
	if err != nil {
		return nil, err
	}
	res.memBefore = before
	if res.memAfter, err = s.PrivateMemory(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

// mixedTraffic sends n requests from soakWorkers clients, one in four of
// them bad, and counts the answers.
func mixedTraffic(ctx context.Context, env *Env, s *API, solo map[string]string, n int) (*soakResult, error) {
	bad := badRequests()
	res := &soakResult{}
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	for range soakWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if i%4 == 3 {
					b := bad[(i/4)%len(bad)]
					ok, why := soakBad(ctx, env.Client, s.URL, b)
					mu.Lock()
					res.bad++
					if !ok {
						res.badWrong++
						if res.firstBadWrong == "" {
							res.firstBadWrong = why
						}
					}
					mu.Unlock()
					continue
				}
				text := env.Texts[i%len(env.Texts)]
				a := observe.Analyze(ctx, env.Client, s.URL, text)
				var ans answer
				ok := a.Status == http.StatusOK && json.Unmarshal(a.Body, &ans) == nil &&
					ans.Sentiment == solo[text] && ans.Confidence >= 0 && ans.Confidence <= 1
				mu.Lock()
				res.good++
				if !ok {
					res.goodWrong++
					if res.firstWrong == "" {
						res.firstWrong = fmt.Sprintf("%q got %d %s, alone it got %s", text, a.Status, bytes.TrimSpace(a.Body), solo[text])
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return res, ctx.Err()
}

func soakBad(ctx context.Context, c *http.Client, url string, b badRequest) (bool, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/analyze", bytes.NewReader(b.body))
	if err != nil {
		return false, err.Error()
	}
	req.Header.Set("Content-Type", b.contentType)
	resp, err := c.Do(req)
	if err != nil {
		return false, "no answer: " + err.Error()
	}
	defer resp.Body.Close()
	var e struct {
		Error string `json:"error"`
	}
	if resp.StatusCode < 400 || resp.StatusCode > 499 || json.NewDecoder(resp.Body).Decode(&e) != nil || e.Error == "" {
		return false, fmt.Sprintf("%s with %d bytes got %d", b.contentType, len(b.body), resp.StatusCode)
	}
	return true, ""
}
