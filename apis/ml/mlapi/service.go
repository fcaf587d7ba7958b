// Package mlapi is the lab's ML sentiment API: it listens at once, then
// downloads (when needed), loads and warms a transformer model, and answers
// /analyze only once that is done. Until then it says so: 503 with
// Retry-After, never a hang and never a 500.
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
	"time"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/ml/classifier"
)

// Config says where the model comes from.
type Config struct {
	// ModelDir is a local model folder; when set, nothing is downloaded.
	ModelDir string
	// ModelID is a Hugging Face model id, downloaded from $HF_ENDPOINT into
	// CacheDir unless CacheDir already holds it.
	ModelID string
	// CacheDir holds downloaded models between starts.
	CacheDir string
	// WarmupText is classified once before the API reports ready, so that
	// the first user request does not pay for the first compilation.
	WarmupText string
	// RetryAfter is the Retry-After, in seconds, of a 503 while not ready.
	RetryAfter int
}

// Service is the ML API. Create it with New, serve Handler, run Start once.
type Service struct {
	cfg    Config
	logger *slog.Logger
	start  time.Time
	phases *phases

	mu  sync.RWMutex
	clf *classifier.Classifier
}

// New returns a service that is not ready yet; Start makes it ready.
func New(cfg Config, logger *slog.Logger) *Service {
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 1
	}
	if cfg.WarmupText == "" {
		cfg.WarmupText = "This product works well and I am happy with it."
	}
	now := time.Now()
	return &Service{cfg: cfg, logger: logger, start: now, phases: newPhases(now)}
}

// ModelName is the model's id as /analyze reports it.
func (s *Service) ModelName() string {
	if s.cfg.ModelDir != "" {
		return filepath.Base(filepath.Clean(s.cfg.ModelDir))
	}
	return s.cfg.ModelID
}

// Handler serves /health, /live, /ready and /analyze.
func (s *Service) Handler() http.Handler {
	r := httpapi.NewRouter(s.logger)
	httpapi.Health{APIType: "ml", Started: s.start, Readiness: s.readiness}.Mount(r)
	r.Post("/analyze", s.analyze)
	return r
}

func (s *Service) readiness() httpapi.Readiness {
	return s.phases.readiness(s.ModelName(), time.Now())
}

// Start runs the start-up phases: download (unless the model is local or
// cached), load, warm up. On failure the service stays up, reports the cause
// in /health and answers 503; the error is returned too.
func (s *Service) Start(ctx context.Context) error {
	dir := s.cfg.ModelDir
	if dir == "" {
		if s.cfg.ModelID == "" {
			return s.failed(errors.New("no model configured: set MODEL_DIR, or MODEL_ID with HF_ENDPOINT and MODEL_CACHE"))
		}
		s.phases.enter(PhaseDownloading, time.Now())
		var err error
		var fetched bool
		dir, fetched, err = fetch(ctx, s.cfg.ModelID, s.cfg.CacheDir)
		if err != nil {
			return s.failed(err)
		}
		took := s.phases.enter(PhaseLoading, time.Now())
		s.logger.Info("phase done", "phase", PhaseDownloading, "seconds", took.Seconds(), "downloaded", fetched, "dir", dir)
	}
	clf, err := classifier.Load(dir)
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
	s.mu.Lock()
	s.clf = clf
	s.mu.Unlock()
	took = s.phases.enter(PhaseReady, time.Now())
	s.logger.Info("phase done", "phase", PhaseWarming, "seconds", took.Seconds())
	s.logger.Info("ready", "seconds_since_start", time.Since(s.start).Seconds(), "model", s.ModelName())
	return nil
}

func (s *Service) failed(err error) error {
	s.phases.fail(err.Error(), time.Now())
	s.logger.Error("model failed to load", "error", err.Error())
	return err
}

// Close releases the model.
func (s *Service) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clf == nil {
		return nil
	}
	err := s.clf.Close()
	s.clf = nil
	return err
}

func (s *Service) classifier() *classifier.Classifier {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.clf
}

func (s *Service) analyze(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	text, rerr := httpapi.DecodeText(w, r)
	if rerr != nil {
		rerr.Write(w)
		return
	}
	clf := s.classifier()
	if clf == nil {
		st := s.readiness()
		w.Header().Set("Retry-After", strconv.Itoa(s.cfg.RetryAfter))
		httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{
			"error": "model not ready: " + st.Reason, "phase": st.Details["phase"], "ready": false,
		})
		return
	}
	preds, err := clf.Classify([]string{text})
	if errors.Is(err, classifier.ErrEmptyText) {
		httpapi.WriteError(w, http.StatusBadRequest, `field "text" has no readable characters`)
		return
	}
	if err != nil {
		s.logger.Error("classify", "error", err.Error())
		httpapi.WriteError(w, http.StatusInternalServerError, "model could not classify the text: "+err.Error())
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, httpapi.AnalyzeResponse{
		Sentiment:        preds[0].Label,
		Confidence:       math.Min(1, math.Max(0, preds[0].Score)),
		Method:           "transformer-ml",
		ProcessingTimeMS: float64(time.Since(start).Microseconds()) / 1000,
		Model:            s.ModelName(),
	})
}
