package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// clock returns a now that moves on by step at each call.
func clock(step time.Duration) func() time.Time {
	t := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { now := t; t = t.Add(step); return now }
}

func TestProgressLines(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, false, clock(1500*time.Millisecond))
	logger := p.logger()

	logger.Info("building image", "service", "ml-api")
	logger.Info("pre-build", "command", `make binaries && go build -ldflags="-s -w"`)
	logger.With("service", "ml-api").Info("start-up watched", "ready", true, "ready_after", 4600123456*time.Nanosecond, "stopped", "")
	logger.Debug("not shown")
	p.end()

	assert.Equal(t, "[   1.5s] building image service=ml-api\n"+
		"[   3.0s] pre-build command=\"make binaries && go build -ldflags=\\\"-s -w\\\"\"\n"+
		"[   4.5s] start-up watched service=ml-api ready=true ready_after=4.6s stopped=\"\"\n", buf.String())
	assert.Equal(t, "start-up watched", p.lastStep())
}

// TestProgressGroups: in GitHub Actions each step is a log group holding
// its output, indented so that a build cannot issue workflow commands.
func TestProgressGroups(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, true, clock(time.Second))
	logger := p.logger()

	logger.Info("building image", "service", "ml-api")
	fmt.Fprint(p.detail(), "Step 1/3 : FROM scratch\n::error::injected\n")
	logger.Info("running check", "check", "cold-start")
	p.end()

	assert.Equal(t, "::group::[   1.0s] building image service=ml-api\n"+
		"  Step 1/3 : FROM scratch\n"+
		"  ::error::injected\n"+
		"::endgroup::\n"+
		"::group::[   2.0s] running check check=cold-start\n"+
		"::endgroup::\n", buf.String())
}

func TestTail(t *testing.T) {
	tl := newTail(3)
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(tl, "line %d\n", i)
	}
	fmt.Fprint(tl, "partial")

	assert.Equal(t, []string{"line 4", "line 5", "partial"}, tl.Lines())
	assert.Empty(t, newTail(30).Lines())
	big := newTail(30)
	fmt.Fprint(big, strings.Repeat("x\n", 100))
	assert.Len(t, big.Lines(), 30)
}
