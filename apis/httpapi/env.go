package httpapi

import (
	"errors"
	"fmt"
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

// ShutdownGrace is $SHUTDOWN_GRACE or DefaultShutdownGrace.
func ShutdownGrace(getenv func(string) string) (time.Duration, error) {
	e := Env{Getenv: getenv}
	d := e.Duration("SHUTDOWN_GRACE", DefaultShutdownGrace)
	return d, e.Err()
}
