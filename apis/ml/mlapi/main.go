package mlapi

import (
	"log/slog"
	"net/http"

	"github.com/mlready/mlready/apis/httpapi"
)

// Main runs the ML API as a process (see httpapi.Main): it listens at once
// and starts up (download, load, warm-up) in the background. wrap,
// outermost first, wraps the handler (the sample forks plant their one
// mistake there).
func Main(getenv func(string) string, wrap ...func(http.Handler) http.Handler) int {
	return MainWithModel(getenv, nil, wrap...)
}

// MainWithModel is Main with the model call wrapped by wrapModel (see
// Config.WrapModel); nil leaves it as it is.
func MainWithModel(getenv func(string) string, wrapModel func(Classify) Classify, wrap ...func(http.Handler) http.Handler) int {
	s, err := ReadSettings(getenv)
	return httpapi.Main(s.Settings, err, func(logger *slog.Logger) httpapi.Process {
		cfg := s.Model
		cfg.WrapModel = wrapModel
		svc := New(cfg, logger)
		return httpapi.Process{Handler: svc.Handler(), Start: svc.Start, Close: svc.Close}
	}, wrap...)
}
