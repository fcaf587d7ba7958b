package httpapi_test

import (
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

func TestShutdownGrace(t *testing.T) {
	d, err := httpapi.ShutdownGrace(func(string) string { return "" })
	assert.NoError(t, err)
	assert.Equal(t, httpapi.DefaultShutdownGrace, d)
	d, err = httpapi.ShutdownGrace(func(string) string { return "3s" })
	assert.NoError(t, err)
	assert.Equal(t, 3*time.Second, d)
	_, err = httpapi.ShutdownGrace(func(string) string { return "later" })
	assert.ErrorContains(t, err, "SHUTDOWN_GRACE")
}
