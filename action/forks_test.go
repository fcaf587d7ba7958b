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
		{
			// Correct in an unusual way: its ML API takes its port from an
			// env_file, its model from command: and its binary from a
			// build argument, so a lab that dropped any of the three fails
			// it. (The good fork, the lab's own ML API unchanged, is what
			// labtest's TestLab grades in this repository itself.)
			fork: "compose-features", wantScore: 100,
		},
		{
			// Its model ships in its image: ready a fraction of a second
			// after start, which is sound practice, not a failure.
			fork: "model-baked-in", wantScore: 100,
		},
		{
			fork: "ready-too-early",
			// /ready says 200 from the first probe: the loading phase is
			// never seen on /ready (readiness-delay). What /analyze answered
			// while the model loaded (503 with Retry-After) was right, so
			// cold-start passes; once loaded it measures like the good fork.
			wantFailed: map[string]string{"readiness-delay": "said ready on its very first answer"},
			wantScore:  84,
		},
		{
			fork: "ready-lies",
			// /ready turns 200 two seconds after start while the model is
			// still downloading: every /analyze after that is held to it.
			wantFailed: map[string]string{"readiness-delay": "yet /analyze then answered 503"},
			wantScore:  84,
		},
		{
			fork: "error-500-while-loading",
			// /ready is right, so only what /analyze answers while loading
			// is wrong.
			wantFailed: map[string]string{"cold-start": "answered 500 while loading"},
			wantScore:  84,
		},
		{
			fork: "no-build",
			wantFailed: map[string]string{
				"readiness-delay": "Not run: image for service ml-api does not build",
				"cold-start":      "Not run: image for service ml-api does not build",
				"latency-ratio":   "Not run: image for service ml-api does not build",
				"memory-ratio":    "Not run: image for service ml-api does not build",
				"load-variance":   "Not run: image for service ml-api does not build",
				"real-model":      "Not run: image for service ml-api does not build",
			},
			wantScore: 0,
			wantError: "image for service ml-api does not build",
		},
		{
			fork: "lowers-own-bar",
			// Its mlready-lab.yaml lowers thresholds and drops checks: it is
			// refused by name before anything is built, and the fork is
			// graded on the grader's policy, 0 of 100.
			wantFailed: map[string]string{
				"readiness-delay": "Not run: mlready-lab.yaml: line 6 sets \"checks\", which is grading policy",
				"cold-start":      "Not run: mlready-lab.yaml: line 6 sets \"checks\", which is grading policy",
				"latency-ratio":   "Not run: mlready-lab.yaml: line 6 sets \"checks\", which is grading policy",
				"memory-ratio":    "Not run: mlready-lab.yaml: line 6 sets \"checks\", which is grading policy",
				"load-variance":   "Not run: mlready-lab.yaml: line 6 sets \"checks\", which is grading policy",
				"real-model":      "Not run: mlready-lab.yaml: line 6 sets \"checks\", which is grading policy",
			},
			wantScore: 0,
			wantError: `mlready-lab.yaml: line 6 sets "checks"`,
		},
		{
			fork: "no-model",
			// It starts like an ML service (503 with Retry-After, then
			// ready), so both start-up checks pass; everything that measures
			// the cost of a model fails, and it says it is rule-based.
			wantFailed: map[string]string{
				"latency-ratio": "Is it really running a model?",
				"memory-ratio":  "Is the model really loaded in the service?",
				"load-variance": "should spread under parallel load",
				"real-model":    `method "rule-based"`,
			},
			wantScore: 32,
		},
		{
			fork: "fake-model",
			// No model, but every cost of one faked: a loading phase, a
			// ballast, random sleeps, answers dressed as a transformer's
			// that guess POSITIVE where the rules find no cue. What it
			// answers gives it away, and so does its latency under load:
			// a random 14-28 ms sleep spreads 7 ms whether one client calls
			// or eight, where a model queueing for the CPU spreads 100 ms.
			wantFailed: map[string]string{
				"load-variance": "should spread under parallel load",
				"real-model":    "Is a model really answering?",
			},
			wantScore: 64,
		},
		{
			fork: "sleeps-forever",
			// It loads and says ready like the good fork; then no /analyze
			// is ever answered, so its /ready is not honest either. Each
			// check gives up at its request timeout and says so, and the
			// run goes on to the next.
			wantFailed: map[string]string{
				"readiness-delay": "/analyze then answered nothing (it hung)",
				"cold-start":      "/analyze got no answer in time 3 times in a row",
				"latency-ratio":   "did not answer /analyze within the request timeout",
				"memory-ratio":    "did not answer /analyze within the request timeout",
				"load-variance":   "did not answer /analyze within the request timeout",
				"real-model":      "did not answer /analyze within the request timeout",
			},
			wantScore: 0,
		},
		{
			fork: "eats-memory",
			// 16 MiB kept per answer: the 1 GiB limit kills it a few dozen
			// requests into latency-ratio; the checks after it are told why.
			wantFailed: map[string]string{
				"latency-ratio": "killed: out of memory",
				"memory-ratio":  "killed: out of memory",
				"load-variance": "killed: out of memory",
				"real-model":    "killed: out of memory",
			},
			wantScore: 32,
		},
		{
			fork: "floods-logs",
			// 64 KiB of log per answer: the lab stops it at 10 MiB of log,
			// about 160 requests into latency-ratio.
			wantFailed: map[string]string{
				"latency-ratio": "stopped by the lab: it wrote more than 10 MiB to its log",
				"memory-ratio":  "stopped by the lab: it wrote more than 10 MiB to its log",
				"load-variance": "stopped by the lab: it wrote more than 10 MiB to its log",
				"real-model":    "stopped by the lab: it wrote more than 10 MiB to its log",
			},
			wantScore: 32,
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

			code := grade(ctx, config{Path: forkDir, Lab: filepath.Join(root, "fixtures", "forks", "lab.yaml"), MinScore: -1, Report: reportPath}, gha, &stdout, &stderr, labtest.Grade)

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
			assert.Len(t, rep.Checks, 6)
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
				if tt.fork == "compose-features" {
					assert.Contains(t, phases, "loading", "the ML API's phases from /health")
					assert.Contains(t, stdout.String(), "start-up phase service=ml-api phase=loading")
				}
				if tt.wantScore == 100 {
					require.Len(t, rep.Services, 2)
					for _, sv := range rep.Services {
						assert.Positive(t, sv.ReadySeconds, sv.Name)
					}
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
