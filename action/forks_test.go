package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"github.com/sethvargo/go-githubactions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest"
	"github.com/mlready/mlready/labtest/report"
)

// TestForks grades each sample learner fork in fixtures/forks end to end,
// as the action does in GitHub: real images and containers, one fork after
// the other (the lab measures, so labs never overlap). Each broken fork
// breaks one lesson and must fail exactly the checks that lesson is about,
// for the reason the lesson gives. The hostile ones (sleeps-forever,
// eats-memory, floods-logs) hang, leak or flood once ready: every check
// from then on fails with that cause, and the run goes on to the next.
func TestForks(t *testing.T) {
	if testing.Short() {
		t.Skip("grading a fork builds images and starts containers; skipped with -short")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := filepath.Abs("..")
	require.NoError(t, err)

	tests := []struct {
		fork string
		// wantFailed maps each check that must fail to a part of its message
		// that says why; every other check must pass.
		wantFailed map[string]string
		wantScore  int
		// wantError is part of the report's error when the lab cannot run.
		wantError string
	}{
		{fork: "good", wantScore: 100},
		{
			fork: "ready-too-early",
			// /ready says 200 from the first probe, so the start-up watch
			// takes the ML API for ready at once: no 503 from /ready is seen
			// (readiness-delay), and the 503s that /analyze still gives
			// while the model loads come after "ready", so no not-ready
			// window is seen either (cold-start). Once the model is loaded
			// it measures like the good fork.
			wantFailed: map[string]string{
				"readiness-delay": "said ready on its very first answer",
				"cold-start":      "Only 0 answers of 503 were seen",
			},
			wantScore: 60,
		},
		{
			fork: "error-500-while-loading",
			// /ready is right, so only what /analyze answers while loading
			// is wrong.
			wantFailed: map[string]string{"cold-start": "answered 500 while loading"},
			wantScore:  80,
		},
		{
			fork: "no-build",
			wantFailed: map[string]string{
				"readiness-delay": "Not run: image for service ml-api does not build",
				"cold-start":      "Not run: image for service ml-api does not build",
				"latency-ratio":   "Not run: image for service ml-api does not build",
				"memory-ratio":    "Not run: image for service ml-api does not build",
				"load-variance":   "Not run: image for service ml-api does not build",
			},
			wantScore: 0,
			wantError: "image for service ml-api does not build",
		},
		{
			fork: "no-model",
			// It starts like an ML service (503 with Retry-After, then
			// ready), so both start-up checks pass; everything that measures
			// the cost of a model fails.
			wantFailed: map[string]string{
				"latency-ratio": "Is it really running a model?",
				"memory-ratio":  "Is the model really loaded in the service?",
				"load-variance": "should spread under parallel load",
			},
			wantScore: 40,
		},
		{
			fork: "sleeps-forever",
			// It loads and says ready like the good fork; then no /analyze
			// is ever answered. Each check gives up at its request timeout
			// and says so, and the run goes on to the next.
			wantFailed: map[string]string{
				"cold-start":    "/analyze got no answer in time 3 times in a row",
				"latency-ratio": "did not answer /analyze within the request timeout",
				"memory-ratio":  "did not answer /analyze within the request timeout",
				"load-variance": "did not answer /analyze within the request timeout",
			},
			wantScore: 20,
		},
		{
			fork: "eats-memory",
			// 16 MiB kept per answer: the 1 GiB limit kills it a few dozen
			// requests into latency-ratio; the checks after it are told why.
			wantFailed: map[string]string{
				"latency-ratio": "killed: out of memory",
				"memory-ratio":  "killed: out of memory",
				"load-variance": "killed: out of memory",
			},
			wantScore: 40,
		},
		{
			fork: "floods-logs",
			// 64 KiB of log per answer: the lab stops it at 10 MiB of log,
			// about 160 requests into latency-ratio.
			wantFailed: map[string]string{
				"latency-ratio": "stopped by the lab: it wrote more than 10 MiB to its log",
				"memory-ratio":  "stopped by the lab: it wrote more than 10 MiB to its log",
				"load-variance": "stopped by the lab: it wrote more than 10 MiB to its log",
			},
			wantScore: 40,
		},
	}
	for _, tt := range tests {
		t.Run(tt.fork, func(t *testing.T) {
			dir := t.TempDir()
			env := githubEnv(dir, nil)
			env["GITHUB_WORKSPACE"] = root
			forkDir := filepath.Join("..", "fixtures", "forks", tt.fork)
			reportPath := filepath.Join(dir, "report.json")
			var stdout, stderr bytes.Buffer
			gha := githubactions.New(githubactions.WithGetenv(env.getenv), githubactions.WithWriter(&stdout))

			code := grade(ctx, config{Path: forkDir, MinScore: -1, Report: reportPath}, gha, &stdout, &stderr, labtest.Run)

			t.Log("\n" + stdout.String())
			assert.Empty(t, stderr.String())
			var rep report.Report
			b, err := os.ReadFile(reportPath)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &rep))
			requireConforms(t, b)

			failed := map[string]string{}
			for _, c := range rep.Checks {
				if !c.Passed {
					failed[c.ID] = c.Message
				}
			}
			assert.Len(t, rep.Checks, 5)
			assert.Equal(t, slices.Sorted(maps.Keys(tt.wantFailed)), slices.Sorted(maps.Keys(failed)), "failed checks")
			for id, why := range tt.wantFailed {
				assert.Contains(t, failed[id], why, "why %s failed", id)
			}
			assert.Equal(t, tt.wantScore, rep.Score)
			assert.Equal(t, 100, rep.MaxScore)
			if tt.wantError != "" {
				assert.Contains(t, rep.Error, tt.wantError)
			} else {
				assert.Empty(t, rep.Error)
			}
			assert.Equal(t, map[bool]int{true: 0, false: 1}[tt.wantScore == 100], code, "exit code")

			if tt.wantError == "" {
				// Both services were started and watched: the ML API was
				// seen loading before it was ready, and the picture is drawn.
				require.Len(t, rep.Timeline, 2)
				assert.Equal(t, "ml", rep.Timeline[0].Role)
				var phases []string
				for _, p := range rep.Timeline[0].Phases {
					phases = append(phases, p.Name)
				}
				require.NotEmpty(t, phases)
				assert.NotEqual(t, "ready", phases[0], "container running is not service ready")
				if tt.fork == "good" {
					assert.Contains(t, phases, "loading", "the ML API's phases from /health")
					assert.Contains(t, stdout.String(), "start-up phase service=ml-api phase=loading")
				}
				assert.FileExists(t, startupSVGPath(reportPath))
			}
			out := readOutputs(t, filepath.Join(dir, "output"))
			assert.Equal(t, strconv.Itoa(rep.Score), out["score"])
			// Annotations point at the fork's ML Dockerfile, relative to the
			// workspace, when the checks ran.
			if tt.wantError == "" && len(tt.wantFailed) > 0 {
				assert.Contains(t, stdout.String(), "::error file=fixtures/forks/"+tt.fork+"/ml/Dockerfile,")
			}
		})
	}
}
