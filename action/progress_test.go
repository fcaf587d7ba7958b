package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestProgressLogger(t *testing.T) {
	var buf bytes.Buffer
	logger := progressLogger(&buf)

	logger.Info("building image", "service", "ml-api")
	logger.Info("pre-build", "command", `make binaries && go build -ldflags="-s -w"`)
	logger.With("service", "ml-api").Info("start-up watched", "ready", true, "ready_after", 4600*time.Millisecond, "stopped", "")
	logger.Debug("not shown")

	assert.Equal(t, "· building image service=ml-api\n"+
		"· pre-build command=\"make binaries && go build -ldflags=\\\"-s -w\\\"\"\n"+
		"· start-up watched service=ml-api ready=true ready_after=4.6s stopped=\"\"\n", buf.String())
}
