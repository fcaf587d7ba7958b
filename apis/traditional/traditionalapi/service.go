// Package traditionalapi is the lab's traditional sentiment API: a lexicon scorer
// with nothing to load, ready the moment it listens.
package traditionalapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/lexicon"
)

// ModelName is the name under which /v2/models/{name}/ready knows the
// scorer.
const ModelName = "lexicon"

// RuleBasedAPI is the traditional API: the lexicon scorer over HTTP.
type RuleBasedAPI struct {
	logger  *slog.Logger
	start   time.Time
	scorer  *lexicon.Scorer
	metrics *httpapi.Metrics
}

// New returns a service that is ready at once.
func New(logger *slog.Logger) *RuleBasedAPI {
	return &RuleBasedAPI{logger: logger, start: time.Now(), scorer: lexicon.New(), metrics: httpapi.NewMetrics("traditional")}
}

// Handler serves /health, /live, /ready (with their Open Inference Protocol
// aliases), /metrics and /analyze.
func (s *RuleBasedAPI) Handler() http.Handler {
	r := httpapi.NewRouter(s.logger)
	r.Use(s.metrics.Middleware)
	httpapi.Health{APIType: "traditional", Started: s.start, Model: ModelName, Readiness: func() httpapi.Readiness {
		return httpapi.Readiness{Status: httpapi.StatusHealthy, Ready: true}
	}}.Mount(r)
	s.metrics.Mount(r)
	r.Post("/analyze", s.analyze)
	return r
}

func (s *RuleBasedAPI) analyze(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	in, rerr := httpapi.DecodeAnalyze(w, r, httpapi.DefaultMaxClientBatch)
	if rerr != nil {
		rerr.Write(w)
		return
	}
	out := make([]httpapi.AnalyzeResponse, len(in.Texts))
	for i, text := range in.Texts {
		res := s.scorer.Score(text)
		out[i] = httpapi.AnalyzeResponse{Sentiment: res.Sentiment, Confidence: res.Confidence, Method: "rule-based"}
	}
	took := float64(time.Since(start).Nanoseconds()) / 1e6
	for i := range out {
		out[i].ProcessingTimeMS = took
	}
	if in.Batch {
		httpapi.WriteJSON(w, http.StatusOK, out)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, out[0])
}
