// Package mlapi is the lab's ML sentiment API: it listens at once, then
// downloads (when needed), loads and warms a transformer model, and answers
// /analyze only once that is done. Until then it says so: 503 with
// Retry-After, never a hang and never a 500 (or, when configured, it holds
// requests until the model is ready, or answers them with the rule-based
// scorer marked degraded). Once ready, concurrent requests are gathered into
// batches for the model by a bounded queue (package batcher), which answers
// 429 when full and 503 to requests that waited past their deadline.
package mlapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/lexicon"
	"github.com/mlready/mlready/apis/ml/batcher"
	"github.com/mlready/mlready/apis/ml/classifier"
)

// ModelAPI is the ML API. Create it with New, serve Handler, run Start once.
type ModelAPI struct {
	cfg     Config
	logger  *slog.Logger
	start   time.Time
	phases  *phases
	metrics *metrics
	// fallback answers while the model loads, when DegradedFallback is on.
	fallback *lexicon.Scorer
	// settled is closed once Start has ended, ready or failed: held
	// requests wait for it.
	settled     chan struct{}
	settledOnce sync.Once
	// stopping is closed when the context of Start ends (SIGTERM) or on
	// Close: held requests are let go at once.
	stopping     chan struct{}
	stoppingOnce sync.Once
	held         atomic.Int64

	mu      sync.RWMutex
	clf     *classifier.Classifier
	batcher *batcher.Batcher
	// classify is the model call the batcher and the responding probe use.
	classify Classify
	closed   bool

	// probing is the responding probe's inference in flight, if any: probes
	// share it, so a model that hangs holds one goroutine, not one per probe.
	probeMu sync.Mutex
	probing *probeCall
}

// New returns a service that is not ready yet; Start makes it ready.
func New(cfg Config, logger *slog.Logger) *ModelAPI {
	cfg = cfg.withDefaults()
	now := time.Now()
	s := &ModelAPI{cfg: cfg, logger: logger, start: now, phases: newPhases(now),
		settled: make(chan struct{}), stopping: make(chan struct{})}
	if cfg.DegradedFallback {
		s.fallback = lexicon.New()
	}
	s.metrics = newMetrics(s)
	return s
}

// Config is the service's configuration, defaults filled in.
func (s *ModelAPI) Config() Config { return s.cfg }

// ModelName is the model's id as /analyze reports it.
func (s *ModelAPI) ModelName() string {
	if s.cfg.ModelDir != "" {
		return filepath.Base(filepath.Clean(s.cfg.ModelDir))
	}
	return s.cfg.ModelID
}

// Handler serves /health, /live, /ready (with their Open Inference Protocol
// aliases), the model-responding probe /v2/models/{name}/ready, /metrics
// and /analyze.
func (s *ModelAPI) Handler() http.Handler {
	r := httpapi.NewRouter(s.logger)
	r.Use(s.metrics.Middleware)
	httpapi.Health{APIType: "ml", Started: s.start, Readiness: s.readiness, Model: s.ModelName(), Responding: s.responding}.Mount(r)
	s.metrics.Mount(r)
	r.Post("/analyze", s.analyze)
	return r
}

func (s *ModelAPI) readiness() httpapi.Readiness {
	return s.phases.readiness(s.ModelName(), time.Now())
}

// Start runs the start-up phases: download (unless the model is local or
// cached), load, warm up. On failure the service stays up, reports the cause
// in /health and answers 503; the error is returned too.
func (s *ModelAPI) Start(ctx context.Context) error {
	defer s.settledOnce.Do(func() { close(s.settled) })
	// Not stopped when Start returns: the context ends at shutdown, long
	// after, and held requests must hear of it then.
	context.AfterFunc(ctx, s.stopHolding)
	dir := s.cfg.ModelDir
	if dir == "" {
		if s.cfg.ModelID == "" {
			return s.failed(errors.New("no model configured: set MODEL_DIR, or MODEL_ID with HF_ENDPOINT and MODEL_CACHE"))
		}
		s.phases.enter(PhaseDownloading, time.Now())
		var err error
		var fetched bool
		dir, fetched, err = fetch(ctx, s.cfg.HubEndpoint, s.cfg.ModelID, s.cfg.CacheDir)
		if err != nil {
			return s.failed(err)
		}
		took := s.phases.enter(PhaseLoading, time.Now())
		s.logger.Info("phase done", "phase", PhaseDownloading, "seconds", took.Seconds(), "downloaded", fetched, "dir", dir)
	}
	clf, err := classifier.Load(dir, classifier.WithMaxBatch(s.cfg.BatchMax))
	if err != nil {
		if s.cfg.ModelDir == "" {
			// A model that does not load must not stay cached as complete:
			// the next start downloads it again.
			err = errors.Join(err, os.RemoveAll(dir))
		}
		return s.failed(err)
	}
	took := s.phases.enter(PhaseWarming, time.Now())
	s.logger.Info("phase done", "phase", PhaseLoading, "seconds", took.Seconds(), "dir", dir)
	if _, err := clf.Classify([]string{s.cfg.WarmupText}); err != nil {
		return s.failed(errors.Join(fmt.Errorf("warm up: %w", err), clf.Close()))
	}
	if err := clf.WarmUp(s.cfg.Workers); err != nil {
		return s.failed(errors.Join(err, clf.Close()))
	}
	// Every text is tokenized once by Tokens as it is queued, which sorts it
	// into its length bucket and refuses what would crash hugot; so the
	// model calls can skip that guard (ClassifyAccepted). The responding
	// probe's one fixed text passes that guard too.
	classify := Classify(clf.ClassifyAccepted)
	if s.cfg.WrapModel != nil {
		classify = s.cfg.WrapModel(classify)
	}
	b := batcher.New(batcher.Config{
		MaxBatch: s.cfg.BatchMax,
		Length:   clf.Tokens,
		Buckets:  buckets(clf),
		MaxWait:  s.cfg.BatchWait,
		QueueMax: s.cfg.QueueMax,
		Workers:  s.cfg.Workers,
	}, classify, s.metrics.hooks())
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.clf, s.batcher, s.classify = clf, b, classify
	}
	s.mu.Unlock()
	if closed {
		b.Close()
		return s.failed(errors.Join(errors.New("service closed while starting"), clf.Close()))
	}
	took = s.phases.enter(PhaseReady, time.Now())
	s.logger.Info("phase done", "phase", PhaseWarming, "seconds", took.Seconds())
	s.logger.Info("ready", "seconds_since_start", time.Since(s.start).Seconds(), "model", s.ModelName())
	return nil
}

// buckets are the classifier's sequence buckets, each with the batch size
// measured to pay off at its length.
func buckets(clf *classifier.Classifier) []batcher.Bucket {
	var out []batcher.Bucket
	for _, l := range clf.Lengths() {
		out = append(out, batcher.Bucket{MaxLength: l.Tokens, MaxBatch: l.MaxBatch})
	}
	return out
}

func (s *ModelAPI) failed(err error) error {
	s.phases.fail(err.Error(), time.Now())
	s.logger.Error("model failed to load", "error", err.Error())
	return err
}

func (s *ModelAPI) stopHolding() { s.stoppingOnce.Do(func() { close(s.stopping) }) }

// Close answers what is queued, then releases the model. Requests that
// arrive afterwards get 503.
func (s *ModelAPI) Close() error {
	s.stopHolding()
	s.mu.Lock()
	clf, b := s.clf, s.batcher
	s.clf, s.batcher, s.classify, s.closed = nil, nil, nil, true
	s.mu.Unlock()
	if b != nil {
		b.Close()
	}
	if clf == nil {
		return nil
	}
	return clf.Close()
}

// serving is the batcher in front of the loaded model, or nil before the
// model is ready and after Close.
func (s *ModelAPI) serving() *batcher.Batcher {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.batcher
}

func (s *ModelAPI) queueDepth() int {
	if b := s.serving(); b != nil {
		return b.Depth()
	}
	return 0
}

// await returns the batcher, holding the request until the model is ready
// when HoldDuringStartup is on: for at most HoldMax, for at most QueueMax
// requests at once, and never past a failed start or into a shutdown.
func (s *ModelAPI) await(r *http.Request) *batcher.Batcher {
	if b := s.serving(); b != nil || !s.cfg.HoldDuringStartup || !s.phases.starting() {
		return s.serving()
	}
	if s.held.Add(1) > int64(s.cfg.QueueMax) {
		s.held.Add(-1)
		return nil
	}
	defer s.held.Add(-1)
	timer := time.NewTimer(s.cfg.HoldMax)
	defer timer.Stop()
	select {
	case <-s.settled:
	case <-s.stopping:
	case <-timer.C:
	case <-r.Context().Done():
	}
	return s.serving()
}

func (s *ModelAPI) analyze(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	in, rerr := httpapi.DecodeAnalyze(w, r, s.cfg.MaxClientBatch)
	if rerr != nil {
		rerr.Write(w)
		return
	}
	// Texts the model cannot take are named here, before they wait in the
	// queue and before they share a batch with anyone else's.
	for i, t := range in.Texts {
		if classifier.Clean(t) == "" {
			field := `"text"`
			if in.Batch {
				field = fmt.Sprintf(`"texts[%d]"`, i)
			}
			httpapi.WriteError(w, http.StatusBadRequest, "field "+field+" has no readable characters")
			return
		}
	}
	b := s.await(r)
	if b == nil {
		if s.fallback != nil && s.phases.starting() {
			s.answerDegraded(w, r, in, start)
			return
		}
		s.notReady(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	preds, err := b.Submit(ctx, in.Texts)
	if err != nil {
		s.submitFailed(w, r, err)
		return
	}
	took := float64(time.Since(start).Microseconds()) / 1000
	out := make([]httpapi.AnalyzeResponse, len(preds))
	for i, p := range preds {
		out[i] = httpapi.AnalyzeResponse{
			Sentiment:        p.Label,
			Confidence:       math.Min(1, math.Max(0, p.Score)),
			Method:           "transformer-ml",
			ProcessingTimeMS: took,
			Model:            s.ModelName(),
		}
	}
	writeAnswers(w, in, out)
}

// writeAnswers answers one object for {"text"} and a list for {"texts"}.
func writeAnswers(w http.ResponseWriter, in httpapi.AnalyzeRequest, out []httpapi.AnalyzeResponse) {
	if in.Batch {
		httpapi.WriteJSON(w, http.StatusOK, out)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, out[0])
}

func (s *ModelAPI) notReady(w http.ResponseWriter, r *http.Request) {
	st := s.readiness()
	w.Header().Set("Retry-After", strconv.Itoa(s.cfg.RetryAfter))
	if st.Ready {
		// Ready, yet no batcher: Close has run.
		httpapi.WriteError(w, http.StatusServiceUnavailable, "shutting down: send the request to another instance")
		return
	}
	httpapi.SetOutcome(r, httpapi.OutcomeNotReady)
	httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{
		"error": "model not ready: " + st.Reason, "phase": st.Details["phase"], "ready": false,
	})
}

func (s *ModelAPI) answerDegraded(w http.ResponseWriter, r *http.Request, in httpapi.AnalyzeRequest, start time.Time) {
	out := make([]httpapi.AnalyzeResponse, len(in.Texts))
	for i, t := range in.Texts {
		res := s.fallback.Score(t)
		out[i] = httpapi.AnalyzeResponse{
			Sentiment:  res.Sentiment,
			Confidence: res.Confidence,
			Method:     "rule-based",
			Degraded:   true,
		}
	}
	took := float64(time.Since(start).Microseconds()) / 1000
	for i := range out {
		out[i].ProcessingTimeMS = took
	}
	httpapi.SetOutcome(r, httpapi.OutcomeDegraded)
	writeAnswers(w, in, out)
}

// submitFailed answers a request the batcher did not answer.
func (s *ModelAPI) submitFailed(w http.ResponseWriter, r *http.Request, err error) {
	retry := strconv.Itoa(s.cfg.RetryAfter)
	switch {
	case errors.Is(err, batcher.ErrQueueFull):
		w.Header().Set("Retry-After", retry)
		httpapi.WriteError(w, http.StatusTooManyRequests, "too many requests: "+err.Error())
	case errors.Is(err, batcher.ErrExpired):
		httpapi.SetOutcome(r, httpapi.OutcomeExpired)
		w.Header().Set("Retry-After", retry)
		httpapi.WriteError(w, http.StatusServiceUnavailable, fmt.Sprintf("request waited longer than %s for the model and was not run", s.cfg.RequestTimeout))
	case errors.Is(err, batcher.ErrClosed):
		w.Header().Set("Retry-After", retry)
		httpapi.WriteError(w, http.StatusServiceUnavailable, "shutting down: send the request to another instance")
	case errors.Is(err, classifier.ErrEmptyText):
		httpapi.WriteError(w, http.StatusBadRequest, "a text has no readable characters: "+err.Error())
	default:
		s.logger.Error("classify", "error", err.Error())
		httpapi.WriteError(w, http.StatusInternalServerError, "model could not classify the text: "+err.Error())
	}
}
