package traditionalapi

import (
	"log/slog"
	"net/http"

	"github.com/mlready/mlready/apis/httpapi"
)

// Settings are everything the traditional API reads from the environment:
// only the serving settings both APIs share.
type Settings struct {
	httpapi.Settings
}

// ReadSettings reads the settings from getenv; the error names every bad
// one at once.
func ReadSettings(getenv func(string) string) (Settings, error) {
	e := httpapi.Env{Getenv: getenv}
	s := Settings{Settings: httpapi.ReadSettings(&e)}
	return s, e.Err()
}

// Main runs the traditional API as a process (see httpapi.Main): it is
// ready the moment it listens. wrap, outermost first, wraps the handler.
func Main(getenv func(string) string, wrap ...func(http.Handler) http.Handler) int {
	s, err := ReadSettings(getenv)
	return httpapi.Main(s.Settings, err, func(logger *slog.Logger) httpapi.Process {
		logger.Info("ready", "seconds_since_start", 0)
		return httpapi.Process{Handler: New(logger).Handler()}
	}, wrap...)
}
