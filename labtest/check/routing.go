package check

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mlready/mlready/labtest/observe"
	"github.com/mlready/mlready/labtest/report"
)

// The production checks route their load the way a Kubernetes Service
// does, and the naive way beside it, at once and on the same replicas: half
// of the clients go through each router, so that the lesson shows as two
// numbers measured under the same conditions.

// router picks a replica for each request, round-robin. A gated router
// picks only replicas whose /ready answered 200 at their last poll, polled
// every period (a readinessProbe); a naive one picks every replica whose
// container runs.
type router struct {
	gated  bool
	period time.Duration
	probe  *http.Client

	mu       sync.Mutex
	backends []*backend
	next     int
}

type backend struct {
	url   string
	ready bool
	stop  chan struct{}
}

func newRouter(gated bool, period time.Duration) *router {
	// A readinessProbe's timeoutSeconds defaults to 1.
	return &router{gated: gated, period: period, probe: observe.NewClient(time.Second)}
}

// add puts a replica behind the router. A gated router polls its /ready
// before add returns, and then every period until remove or ctx ends.
func (r *router) add(ctx context.Context, url string) {
	b := &backend{url: url, ready: !r.gated, stop: make(chan struct{})}
	poll := func() {
		a := observe.Get(ctx, r.probe, url+"/ready")
		r.mu.Lock()
		b.ready = a.Status == http.StatusOK
		r.mu.Unlock()
	}
	if r.gated {
		poll()
	}
	r.mu.Lock()
	r.backends = append(r.backends, b)
	r.mu.Unlock()
	if !r.gated {
		return
	}
	go func() {
		tick := time.NewTicker(r.period)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-b.stop:
				return
			case <-tick.C:
			}
			poll()
		}
	}()
}

// remove takes a replica out of the router: for a gated one, as Kubernetes
// takes a terminating pod out of a Service's endpoints before it signals
// the pod; for a naive one, once its container has stopped running.
func (r *router) remove(url string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, b := range r.backends {
		if b.url == url {
			close(b.stop)
			r.backends = append(r.backends[:i], r.backends[i+1:]...)
			return
		}
	}
}

// pick returns the next replica to send to, "" when none may take traffic.
func (r *router) pick() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for range r.backends {
		b := r.backends[r.next%len(r.backends)]
		r.next++
		if b.ready {
			return b.url
		}
	}
	return ""
}

// sent is one request of the load.
type sent struct {
	at    time.Time
	gated bool
	url   string
	ok    bool
	// why is what went wrong, for a failed request.
	why string
}

// traffic is closed-loop /analyze load through a gated and a naive router.
type traffic struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	sent []sent
}

// routedClients is how many closed-loop clients go through each router:
// enough to keep two cores busy, few enough that no queue fills.
const routedClients = 4

// startTraffic sends load through both routers until stop.
func startTraffic(ctx context.Context, env *Env, gated, naive *router) *traffic {
	ctx, cancel := context.WithCancel(ctx)
	t := &traffic{cancel: cancel}
	for _, r := range []*router{gated, naive} {
		for c := range routedClients {
			t.wg.Add(1)
			go func() {
				defer t.wg.Done()
				for i := c; ctx.Err() == nil; i += routedClients {
					t.one(ctx, env, r, env.Texts[i%len(env.Texts)])
				}
			}()
		}
	}
	return t
}

func (t *traffic) one(ctx context.Context, env *Env, r *router, text string) {
	url := r.pick()
	s := sent{at: time.Now(), gated: r.gated, url: url}
	if url == "" {
		s.why = "no replica to route to"
		t.record(s)
		// A Service with no endpoints refuses at once; the client backs
		// off before it tries again rather than spinning.
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
		return
	}
	a := observe.Analyze(ctx, env.Client, url, text)
	if ctx.Err() != nil {
		return // cut off by stop, not failed by the replica
	}
	s.ok = a.Status == http.StatusOK
	if !s.ok {
		s.why = describe(a)
	}
	t.record(s)
}

func (t *traffic) record(s sent) {
	t.mu.Lock()
	t.sent = append(t.sent, s)
	t.mu.Unlock()
}

// stop ends the load and returns every request it sent.
func (t *traffic) stop() []sent {
	t.cancel()
	t.wg.Wait()
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sent
}

// describe says what one answer was, for a message.
func describe(a observe.Answer) string {
	switch {
	case a.TimedOut:
		return "no answer within the request timeout"
	case a.Status == 0:
		return "no answer: " + errText(a.Err)
	default:
		body := strings.TrimSpace(string(a.Body))
		if len(body) > 120 {
			body = body[:120] + "…"
		}
		return fmt.Sprintf("%d %s", a.Status, body)
	}
}

func errText(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}

// tally counts the requests of one router sent in [from, to).
type tally struct {
	total, failed int
	// loading counts the failures on a replica that had not answered
	// /analyze yet: sent to it while it loaded. The others failed on a
	// replica that had been serving, or found no replica.
	loading  int
	firstWhy string
	served   int
}

func tallyOf(reqs []sent, gated bool, from, to time.Time) tally {
	// When each replica first answered, through either router.
	firstOK := map[string]time.Time{}
	for _, s := range reqs {
		if f, seen := firstOK[s.url]; s.ok && (!seen || s.at.Before(f)) {
			firstOK[s.url] = s.at
		}
	}
	var t tally
	for _, s := range reqs {
		if s.gated != gated || s.at.Before(from) || !s.at.Before(to) {
			continue
		}
		t.total++
		if s.ok {
			t.served++
			continue
		}
		t.failed++
		if f, seen := firstOK[s.url]; s.url != "" && (!seen || s.at.Before(f)) {
			t.loading++
		}
		if t.firstWhy == "" {
			t.firstWhy = s.why
		}
	}
	return t
}

// gatedFailed says why readiness-gated routing failed requests, in the
// lab's terms, with what naive routing did beside it.
func gatedFailed(p time.Duration, g tally, during, naiveSays string) string {
	why := "a replica's /ready answered 200 before it could answer /analyze, so users were sent to a replica still loading. /ready must answer 200 only once the model is loaded."
	if g.loading == 0 {
		why = "they were sent to replicas that had been serving and whose /ready still said 200: the model stopped answering while the replica counted as ready. /ready says the model is loaded, not that it responds; a livenessProbe on a model-responding probe restarts such a replica (see health-layers)."
	}
	return fmt.Sprintf("Routed on readiness (/ready polled every %s), %d of %d requests failed %s (first: %s): %s %s", p, g.failed, g.total, during, g.firstWhy, why, naiveSays)
}

// naiveSaid is what routing to every running container did.
func naiveSaid(n tally) string {
	if n.failed == 0 {
		return fmt.Sprintf("Routing to every running container, none of %d requests failed either.", n.total)
	}
	return fmt.Sprintf("Routing to every running container, %d of %d requests failed (first: %s).", n.failed, n.total, orNone(n.firstWhy))
}

// throughput is the answered (200) requests per second of both routers in
// [from, to): what the replicas delivered.
func throughput(reqs []sent, from, to time.Time) float64 {
	secs := to.Sub(from).Seconds()
	if secs <= 0 {
		return 0
	}
	n := 0
	for _, s := range reqs {
		if s.ok && !s.at.Before(from) && s.at.Before(to) {
			n++
		}
	}
	return float64(n) / secs
}

// awaitTraffic waits until the gated router has routed a request to url,
// and returns when that request was sent; ok is false when timeout passed,
// ctx ended or the replica exited first.
func (t *traffic) awaitTraffic(ctx context.Context, url string, since time.Time, timeout time.Duration, rep Replica) (time.Time, string) {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		t.mu.Lock()
		for _, s := range t.sent {
			if s.gated && s.url == url && !s.at.Before(since) {
				t.mu.Unlock()
				return s.at, ""
			}
		}
		t.mu.Unlock()
		if why := rep.Exited(ctx); why != "" {
			return time.Time{}, why
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Sprintf("the gated router sent it nothing within %s: its /ready never answered 200", timeout)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err().Error()
		case <-tick.C:
		}
	}
}

// awaitServing waits until rep answers /analyze with 200: the truth about
// whether it can take traffic, whatever its /ready says.
func awaitServing(ctx context.Context, env *Env, rep Replica) error {
	deadline := rep.Started().Add(env.StartupTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		a := observe.Analyze(ctx, env.Client, rep.URL(), env.Texts[0])
		if a.Status == http.StatusOK {
			return nil
		}
		if why := rep.Exited(ctx); why != "" {
			return fmt.Errorf("the new replica stopped: %s", why)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the new replica did not answer /analyze within %s (last: %s)", env.StartupTimeout, describe(a))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// stopAll stops replicas at the end of a check, on a context of its own so
// that a check that ran out of time still removes what it started.
func stopAll(reps ...Replica) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []string
	for _, r := range reps {
		if r == nil {
			continue
		}
		if err := r.Stop(ctx); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func period(env *Env) time.Duration {
	if env.Routing.Period > 0 {
		return env.Routing.Period
	}
	return DefaultPeriod
}

// reqsPerSec is a throughput measure.
func reqsPerSec(name string, v float64) report.Measure {
	return report.Measure{Name: name, Value: round(v, 1), Unit: "req/s"}
}
