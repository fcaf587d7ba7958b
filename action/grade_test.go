package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest"
	"github.com/mlready/mlready/labtest/report"
)

// cannedReport is a report of the lab's five checks in which the checks
// named in failing failed, as labtest would write it for the folder target.
func cannedReport(target string, failing ...string) *report.Report {
	checks := []report.CheckResult{
		{ID: "readiness-delay", Title: "Container running is not service ready", Measured: []report.Measure{
			{Name: "traditional_ready", API: report.Traditional, Quantity: "ready", Value: 0.05, Unit: "s"}, {Name: "ml_ready", API: report.ML, Quantity: "ready", Value: 4.2, Unit: "s"},
			{Name: "ready_gap", Value: 4.15, Unit: "s"}, {Name: "ml_not_ready_answers", API: report.ML, Quantity: "not_ready_answers", Value: 60, Unit: "count"},
		}, Threshold: report.Threshold{Name: "min_ready_gap", Value: 1, Unit: "s", Direction: report.AtLeast}},
		{ID: "cold-start", Title: "Requests during a cold start get 503 with Retry-After", Measured: []report.Measure{
			{Name: "not_ready_503", Value: 58, Unit: "count"}, {Name: "server_errors", Value: 0, Unit: "count"},
		}, Threshold: report.Threshold{Name: "min_not_ready_answers", Value: 3, Unit: "count", Direction: report.AtLeast}},
		{ID: "latency-ratio", Title: "ML inference is much slower than a rule", Measured: []report.Measure{
			{Name: "traditional_p50", API: report.Traditional, Quantity: "p50", Value: 0.12, Unit: "ms"}, {Name: "ml_p50", API: report.ML, Quantity: "p50", Value: 7.31, Unit: "ms"},
			{Name: "median_ratio", Value: 60.9, Unit: "x"},
		}, Threshold: report.Threshold{Name: "min_median_ratio", Value: 10, Unit: "x", Direction: report.AtLeast}},
		{ID: "memory-ratio", Title: "An ML service needs far more memory", Measured: []report.Measure{
			{Name: "traditional_memory", API: report.Traditional, Quantity: "memory", Value: 3.1, Unit: "MiB"}, {Name: "ml_memory", API: report.ML, Quantity: "memory", Value: 120.4, Unit: "MiB"},
			{Name: "memory_ratio", Value: 38.8, Unit: "x"},
		}, Threshold: report.Threshold{Name: "min_memory_ratio", Value: 10, Unit: "x", Direction: report.AtLeast}},
		{ID: "load-variance", Title: "ML latency spreads under parallel load", Measured: []report.Measure{
			{Name: "traditional_p50", API: report.Traditional, Quantity: "p50", Value: 0.3, Unit: "ms"}, {Name: "traditional_p95", API: report.Traditional, Quantity: "p95", Value: 0.9, Unit: "ms"},
			{Name: "traditional_p99", API: report.Traditional, Quantity: "p99", Value: 1.4, Unit: "ms"}, {Name: "ml_p50", API: report.ML, Quantity: "p50", Value: 30.2, Unit: "ms"},
			{Name: "ml_p95", API: report.ML, Quantity: "p95", Value: 61.5, Unit: "ms"}, {Name: "ml_p99", API: report.ML, Quantity: "p99", Value: 80.1, Unit: "ms"},
			{Name: "spread_ratio", Value: 52.2, Unit: "x"},
		}, Threshold: report.Threshold{Name: "min_spread_ratio", Value: 5, Unit: "x", Direction: report.AtLeast}},
	}
	failed := map[string]bool{}
	for _, id := range failing {
		failed[id] = true
	}
	for i := range checks {
		c := &checks[i]
		c.MaxPoints, c.DurationSeconds, c.Lesson = 20, 1.25, "the lesson of "+c.ID
		c.Passed = !failed[c.ID]
		c.Message = c.ID + " passed."
		if !c.Passed {
			c.Message, c.File = c.ID+" failed | badly.", "ml/Dockerfile"
		}
		if c.Passed {
			c.Points = 20
		}
	}
	r := &report.Report{Schema: report.Schema, Lab: "ml-service-readiness", Target: target, Checks: checks, DurationSeconds: 31}
	r.Tally()
	return r
}

// failedToBuild is the report of a folder whose ML image does not build.
func failedToBuild(target string) *report.Report {
	r := cannedReport(target, "readiness-delay", "cold-start", "latency-ratio", "memory-ratio", "load-variance")
	r.Error = "image for service ml-api does not build (ml/Dockerfile): COPY failed"
	for i := range r.Checks {
		r.Checks[i].Message, r.Checks[i].Measured, r.Checks[i].File = "Not run: "+r.Error, []report.Measure{}, ""
	}
	return r
}

// githubEnv is what a runner gives a step: the outputs and summary files in
// dir, the workspace, and the action's inputs.
func githubEnv(dir string, inputs fakeEnv) fakeEnv {
	env := fakeEnv{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_WORKSPACE":    dir,
		"GITHUB_OUTPUT":       filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary.md"),
	}
	for k, v := range inputs {
		env[k] = v
	}
	return env
}

// readOutputs parses a GITHUB_OUTPUT file of name<<DELIMITER blocks.
func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	out := map[string]string{}
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			continue
		}
		var value []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			value = append(value, lines[i])
		}
		out[name] = strings.Join(value, "\n")
	}
	return out
}

// gradeRun is one call of grade in a fake environment.
type gradeRun struct {
	code           int
	stdout, stderr string
	opts           labtest.Options
}

func runGrade(t *testing.T, cfg config, env fakeEnv, rep *report.Report, runErr error) gradeRun {
	t.Helper()
	var stdout, stderr bytes.Buffer
	gha := githubactions.New(githubactions.WithGetenv(env.getenv), githubactions.WithWriter(&stdout))
	var res gradeRun
	run := func(_ context.Context, opts labtest.Options) (*report.Report, error) {
		res.opts = opts
		return rep, runErr
	}
	res.code = grade(context.Background(), cfg, gha, &stdout, &stderr, run)
	res.stdout, res.stderr = stdout.String(), stderr.String()
	return res
}

func TestGradeExitCodeAndOutputs(t *testing.T) {
	tests := []struct {
		name       string
		rep        func(target string) *report.Report
		minScore   int
		wantCode   int
		wantScore  string
		wantPassed string
		// wantAnnotations are the ::error lines, without their message.
		wantAnnotations []string
	}{
		{
			name:      "all checks pass",
			rep:       func(d string) *report.Report { return cannedReport(d) },
			minScore:  -1,
			wantCode:  0,
			wantScore: "100", wantPassed: "true",
		},
		{
			name:      "below all points",
			rep:       func(d string) *report.Report { return cannedReport(d, "readiness-delay", "cold-start") },
			minScore:  -1,
			wantCode:  1,
			wantScore: "60", wantPassed: "false",
			wantAnnotations: []string{
				"::error file=fork/ml/Dockerfile,title=mlready readiness-delay (0/20)%3A Container running is not service ready::",
				"::error file=fork/ml/Dockerfile,title=mlready cold-start (0/20)%3A Requests during a cold start get 503 with Retry-After::",
			},
		},
		{
			name:      "at the minimum score",
			rep:       func(d string) *report.Report { return cannedReport(d, "cold-start") },
			minScore:  80,
			wantCode:  0,
			wantScore: "80", wantPassed: "true",
			wantAnnotations: []string{
				"::error file=fork/ml/Dockerfile,title=mlready cold-start (0/20)%3A Requests during a cold start get 503 with Retry-After::",
			},
		},
		{
			name:      "did not build",
			rep:       failedToBuild,
			minScore:  -1,
			wantCode:  1,
			wantScore: "0", wantPassed: "false",
			wantAnnotations: []string{"::error title=mlready%3A the lab could not run its checks::"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			rep := tt.rep(filepath.Join(dir, "fork"))
			reportPath := filepath.Join(dir, "report.json")
			cfg := config{Path: "fork", Lab: "lab.yaml", MinScore: tt.minScore, Report: reportPath}

			res := runGrade(t, cfg, githubEnv(dir, nil), rep, nil)

			assert.Equal(t, tt.wantCode, res.code, res.stdout)
			assert.Empty(t, res.stderr, "nothing but errors goes to stderr")
			assert.Equal(t, "fork", res.opts.Dir)
			assert.Equal(t, "lab.yaml", res.opts.SpecPath)

			var card bytes.Buffer
			require.NoError(t, report.WriteScorecard(&card, rep))
			assert.Contains(t, res.stdout, card.String(), "the log shows the scorecard")

			var annotations []string
			for _, l := range strings.Split(res.stdout, "\n") {
				if strings.HasPrefix(l, "::error") {
					annotations = append(annotations, l[:strings.Index(l[2:], "::")+4])
				}
			}
			assert.Equal(t, tt.wantAnnotations, annotations)

			out := readOutputs(t, filepath.Join(dir, "output"))
			assert.Equal(t, tt.wantScore, out["score"])
			assert.Equal(t, "100", out["max-score"])
			assert.Equal(t, tt.wantPassed, out["passed"])
			assert.Equal(t, reportPath, out["report"])
			assert.ElementsMatch(t, outputNames(), slices.Collect(maps.Keys(out)), "every output is set")
			var result classroomRunResult
			b, err := base64.StdEncoding.DecodeString(out["result"])
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &result))
			assert.Equal(t, map[bool]string{true: "pass", false: "fail"}[tt.wantCode == 0], result.Status)

			var written report.Report
			b, err = os.ReadFile(reportPath)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &written))
			assert.Equal(t, *rep, written)

			sum, err := os.ReadFile(filepath.Join(dir, "summary.md"))
			require.NoError(t, err)
			assert.Equal(t, summary(rep, map[bool]int{true: 100, false: tt.minScore}[tt.minScore < 0])+"\n", string(sum))
		})
	}
}

func TestAnnotationMessageCarriesTheLesson(t *testing.T) {
	dir := t.TempDir()
	res := runGrade(t, config{Path: "fork", MinScore: -1, Report: filepath.Join(dir, "r.json")},
		githubEnv(dir, nil), cannedReport(filepath.Join(dir, "fork"), "memory-ratio"), nil)

	// Newlines in a workflow command are escaped as %0A.
	assert.Contains(t, res.stdout, "::memory-ratio failed | badly.%0ALesson: the lesson of memory-ratio\n")
}

func TestGradeOutsideGitHub(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	rep := cannedReport(filepath.Join(dir, "fork"), "latency-ratio")

	res := runGrade(t, config{Path: "fork", MinScore: -1, Report: DefaultReport}, fakeEnv{}, rep, nil)

	assert.Equal(t, 1, res.code)
	assert.Empty(t, res.stderr)
	assert.NotContains(t, res.stdout, "::", "no workflow commands outside GitHub")
	assert.Contains(t, res.stdout, "FAIL  latency-ratio")
	assert.Contains(t, res.stdout, "Report: "+filepath.Join(dir, DefaultReport))
	assert.Contains(t, res.stdout, "The score 80 is below the minimum of 100.")
	assert.FileExists(t, filepath.Join(dir, DefaultReport))
	assert.NoFileExists(t, filepath.Join(dir, "summary.md"))
}

func TestGradeWithoutOutputFiles(t *testing.T) {
	// A runner without GITHUB_OUTPUT and GITHUB_STEP_SUMMARY (an old one, or
	// act) still gets the scorecard and the annotations.
	dir := t.TempDir()
	env := fakeEnv{"GITHUB_ACTIONS": "true"}

	res := runGrade(t, config{Path: "fork", MinScore: -1, Report: filepath.Join(dir, "r.json")}, env,
		cannedReport(filepath.Join(dir, "fork"), "cold-start"), nil)

	assert.Equal(t, 1, res.code)
	assert.Contains(t, res.stdout, "::error file=")
}

func TestGradeCannotRun(t *testing.T) {
	for _, inGitHub := range []bool{false, true} {
		t.Run(map[bool]string{false: "locally", true: "in GitHub"}[inGitHub], func(t *testing.T) {
			dir := t.TempDir()
			env := fakeEnv{}
			if inGitHub {
				env = githubEnv(dir, nil)
			}
			reportPath := filepath.Join(dir, "r.json")

			res := runGrade(t, config{Path: "fork", MinScore: -1, Report: reportPath}, env, nil,
				errors.New("Docker engine is not reachable (is it running?)"))

			assert.Equal(t, 2, res.code)
			assert.Equal(t, "mlready: could not grade fork: Docker engine is not reachable (is it running?)\n", res.stderr)
			assert.NoFileExists(t, reportPath)
			if !inGitHub {
				assert.NotContains(t, res.stdout, "::")
				return
			}
			assert.Contains(t, res.stdout, "::error::mlready could not grade fork: Docker engine is not reachable")
			out := readOutputs(t, filepath.Join(dir, "output"))
			assert.Equal(t, "false", out["passed"])
			b, err := base64.StdEncoding.DecodeString(out["result"])
			require.NoError(t, err)
			assert.JSONEq(t, `{"version":1,"status":"error","max_score":0,"tests":[{"name":"mlready lab","status":"error","score":0,
				"max_score":0,"message":"Docker engine is not reachable (is it running?)","test_code":"","filename":"","line_no":0,"duration":0}]}`, string(b))
		})
	}
}

func TestGradeReportNotWritable(t *testing.T) {
	dir := t.TempDir()
	res := runGrade(t, config{Path: "fork", MinScore: -1, Report: filepath.Join(dir, "missing", "r.json")}, fakeEnv{},
		cannedReport(dir), nil)

	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, "mlready: write the report:")
}

func TestGradeCancelled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancelCause(context.Background())
	var stdout, stderr bytes.Buffer
	gha := githubactions.New(githubactions.WithGetenv(fakeEnv{}.getenv), githubactions.WithWriter(&stdout))
	// labtest returns the checks it ran, failed by the cancellation.
	run := func(context.Context, labtest.Options) (*report.Report, error) {
		cancel(errors.New("interrupt signal received"))
		return cannedReport(dir, "memory-ratio", "load-variance"), nil
	}

	code := grade(ctx, config{Path: "fork", MinScore: -1, Report: filepath.Join(dir, "r.json")}, gha, &stdout, &stderr, run)

	assert.Equal(t, 2, code)
	assert.Equal(t, "mlready: could not grade fork: grading cancelled: interrupt signal received\n", stderr.String())
	assert.NotContains(t, stdout.String(), "Score:", "no scorecard of checks cut short")
	assert.NoFileExists(t, filepath.Join(dir, "r.json"))
}
