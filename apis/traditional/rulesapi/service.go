// Package rulesapi is the lab's traditional sentiment API: a lexicon scorer
// with nothing to load, ready the moment it listens.
package rulesapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/traditional/lexicon"
)

// Service is the traditional API.
type Service struct {
	logger *slog.Logger
	start  time.Time
	scorer *lexicon.Scorer
}

// New returns a service that is ready at once.
func New(logger *slog.Logger) *Service {
	return &Service{logger: logger, start: time.Now(), scorer: lexicon.New()}
}

// Handler serves /health, /live, /ready and /analyze.
func (s *Service) Handler() http.Handler {
	r := httpapi.NewRouter(s.logger)
	httpapi.Health{APIType: "traditional", Started: s.start, Readiness: func() httpapi.Readiness {
		return httpapi.Readiness{Status: httpapi.StatusHealthy, Ready: true}
	}}.Mount(r)
	r.Post("/analyze", s.analyze)
	return r
}

func (s *Service) analyze(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	text, rerr := httpapi.DecodeText(w, r)
	if rerr != nil {
		rerr.Write(w)
		return
	}
	res := s.scorer.Score(text)
	httpapi.WriteJSON(w, http.StatusOK, httpapi.AnalyzeResponse{
		Sentiment:        res.Sentiment,
		Confidence:       res.Confidence,
		Method:           "rule-based",
		ProcessingTimeMS: float64(time.Since(start).Nanoseconds()) / 1e6,
	})
}
