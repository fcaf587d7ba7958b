package httpapi_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/mlready/mlready/apis/httpapi"
)

func TestEnv(t *testing.T) {
	vars := map[string]string{
		"WAIT": "5ms", "BAD_WAIT": "soon", "NEG_WAIT": "-1s",
		"N": "16", "BAD_N": "many", "LOW_N": "0",
		"ON": "true", "OFF": "0", "BAD_ON": "yes please",
	}
	e := httpapi.Env{Getenv: func(k string) string { return vars[k] }}

	assert.Equal(t, 5*time.Millisecond, e.Duration("WAIT", time.Second))
	assert.Equal(t, time.Second, e.Duration("UNSET", time.Second))
	assert.Equal(t, 16, e.Int("N", 1, 1))
	assert.Equal(t, 7, e.Int("UNSET", 7, 1))
	assert.True(t, e.Bool("ON", false))
	assert.False(t, e.Bool("OFF", true))
	assert.True(t, e.Bool("UNSET", true))
	assert.NoError(t, e.Err())

	assert.Equal(t, time.Second, e.Duration("BAD_WAIT", time.Second), "a bad value takes the default")
	e.Duration("NEG_WAIT", 0)
	e.Int("BAD_N", 1, 1)
	e.Int("LOW_N", 1, 1)
	e.Bool("BAD_ON", false)
	err := e.Err()
	for _, name := range []string{"BAD_WAIT", "NEG_WAIT", "BAD_N", "LOW_N", "BAD_ON"} {
		assert.ErrorContains(t, err, name, "every bad setting is named")
	}
}

func TestReadSettings(t *testing.T) {
	read := func(vars map[string]string) (httpapi.Settings, error) {
		e := httpapi.Env{Getenv: func(k string) string { return vars[k] }}
		s := httpapi.ReadSettings(&e)
		return s, e.Err()
	}
	s, err := read(nil)
	assert.NoError(t, err)
	assert.Equal(t, httpapi.Settings{Port: httpapi.DefaultPort, LogLevel: slog.LevelInfo, ShutdownGrace: httpapi.DefaultShutdownGrace}, s)

	s, err = read(map[string]string{"PORT": "9000", "LOG_LEVEL": "debug", "SHUTDOWN_GRACE": "3s"})
	assert.NoError(t, err)
	assert.Equal(t, httpapi.Settings{Port: "9000", LogLevel: slog.LevelDebug, ShutdownGrace: 3 * time.Second}, s)

	s, err = read(map[string]string{"LOG_LEVEL": "verbose"})
	assert.NoError(t, err, "an unknown LOG_LEVEL is info, never a reason not to start")
	assert.Equal(t, slog.LevelInfo, s.LogLevel)

	_, err = read(map[string]string{"SHUTDOWN_GRACE": "later"})
	assert.ErrorContains(t, err, "SHUTDOWN_GRACE")
}
