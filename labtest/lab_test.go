package labtest_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest"
	"github.com/mlready/mlready/labtest/report"
)

// The folder to grade, a lab spec and where to write the JSON report. Each
// flag falls back to an environment variable, so that
// `MLREADY_PATH=../my-fork go test ./labtest/...` grades a fork.
var (
	pathFlag   = flag.String("path", envOr("MLREADY_PATH", ".."), "folder to grade (env MLREADY_PATH)")
	labFlag    = flag.String("lab", os.Getenv("MLREADY_LAB"), "lab spec file (env MLREADY_LAB)")
	reportFlag = flag.String("report", os.Getenv("MLREADY_REPORT"), "write the JSON report here (env MLREADY_REPORT)")
)

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// TestLab grades the folder: each check of the lab is a subtest, so that
// `go test ./labtest -run TestLab/latency-ratio` runs one.
func TestLab(t *testing.T) {
	if testing.Short() {
		t.Skip("the lab builds images and starts containers; skipped with -short")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := labtest.Open(ctx, labtest.Options{Dir: *pathFlag, SpecPath: *labFlag, Logger: testLogger(t)})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })

	for _, id := range s.Checks() {
		t.Run(id, func(t *testing.T) {
			r := s.RunCheck(ctx, id)
			for _, m := range r.Measured {
				t.Logf("%s = %g %s", m.Name, m.Value, m.Unit)
			}
			if !r.Passed {
				t.Errorf("%s\nexpected: %s %g %s\nlesson: %s", r.Message, r.Threshold.Name, r.Threshold.Value, r.Threshold.Unit, r.Lesson)
				return
			}
			t.Log(r.Message)
		})
	}
	rep := s.Report()
	var card strings.Builder
	require.NoError(t, report.WriteScorecard(&card, rep))
	t.Log("\n" + card.String())
	if *reportFlag != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(*reportFlag, b, 0o644))
	}
}
