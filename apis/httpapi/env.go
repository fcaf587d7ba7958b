package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// DefaultShutdownGrace is how long an API may take to finish its in-flight
// requests after SIGTERM unless SHUTDOWN_GRACE says otherwise.
const DefaultShutdownGrace = 10 * time.Second

// Env reads typed settings from environment variables. A variable that is
// unset or empty takes its default; one that does not parse takes its
// default too and is reported by Err, so that a main can name every bad
// setting at once and refuse to start.
type Env struct {
	// Getenv looks a variable up, as os.Getenv does.
	Getenv func(string) string
	errs   []error
}

// String reads a text setting as it is.
func (e *Env) String(name, def string) string {
	if s := e.Getenv(name); s != "" {
		return s
	}
	return def
}

// Duration reads a Go duration ("5ms", "10s").
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	s := e.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		e.errs = append(e.errs, fmt.Errorf("%s=%q is not a duration such as 5ms or 10s", name, s))
		return def
	}
	return d
}

// Int reads a whole number of at least minimum.
func (e *Env) Int(name string, def, minimum int) int {
	s := e.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < minimum {
		e.errs = append(e.errs, fmt.Errorf("%s=%q is not a whole number of at least %d", name, s, minimum))
		return def
	}
	return n
}

// Bool reads true or false (also 1, 0 and the other forms strconv takes).
func (e *Env) Bool(name string, def bool) bool {
	s := e.Getenv(name)
	if s == "" {
		return def
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s=%q is not true or false", name, s))
		return def
	}
	return b
}

// Err names every setting that did not parse, or is nil.
func (e *Env) Err() error { return errors.Join(e.errs...) }

// Settings are the serving settings both APIs read from the environment;
// each API's own settings struct embeds them.
type Settings struct {
	// Port is $PORT, or DefaultPort.
	Port string
	// LogLevel is debug when LOG_LEVEL=debug (one line per request), info
	// otherwise.
	LogLevel slog.Level
	// ShutdownGrace is $SHUTDOWN_GRACE, or DefaultShutdownGrace: how long
	// the requests in flight may take to finish after SIGTERM.
	ShutdownGrace time.Duration
}

// ReadSettings reads PORT, LOG_LEVEL and SHUTDOWN_GRACE from e; a bad value
// is recorded in e, to be named with the API's other bad settings by e.Err.
func ReadSettings(e *Env) Settings {
	s := Settings{
		Port:          e.String("PORT", DefaultPort),
		LogLevel:      slog.LevelInfo,
		ShutdownGrace: e.Duration("SHUTDOWN_GRACE", DefaultShutdownGrace),
	}
	// Any other LOG_LEVEL is info, as it always was: a typo there must not
	// keep an API from starting.
	if e.Getenv("LOG_LEVEL") == "debug" {
		s.LogLevel = slog.LevelDebug
	}
	return s
}
