package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest"
	"github.com/mlready/mlready/labtest/report"
)

// forksDir makes a folder with one subfolder per name (and a hidden one
// that is not a fork).
func forksDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "forks")
	for _, n := range append(names, ".git") {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, n), 0o755))
	}
	return dir
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return rows
}

func TestGradeForks(t *testing.T) {
	forks := forksDir(t, "alice", "bob", "carol", "dave")
	out := filepath.Join(t.TempDir(), "reports")
	var graded []string
	run := func(_ context.Context, opts labtest.Options) (*report.Report, error) {
		fork := filepath.Base(opts.Dir)
		graded = append(graded, fork)
		switch fork {
		case "alice":
			return cannedReport(opts.Dir), nil
		case "bob":
			// Does not build: graded 0 with the cause.
			return failedToBuild(opts.Dir), nil
		case "carol":
			// Its own lab spec is broken: not graded at all.
			return nil, errors.New("lab spec carol/mlready-lab.yaml: unknown check \"speed\"")
		default:
			return cannedReport(opts.Dir, "memory-ratio"), nil
		}
	}
	var stdout, stderr bytes.Buffer
	gha := githubactions.New(githubactions.WithGetenv(fakeEnv{}.getenv), githubactions.WithWriter(&stdout))

	code := gradeForks(t.Context(), config{Forks: forks, MinScore: 60, ReportsDir: out}, gha, &stdout, &stderr, run)

	assert.Equal(t, exitNoGrade, code, "carol could not be graded")
	assert.Empty(t, stderr.String())
	assert.Equal(t, []string{"alice", "bob", "carol", "dave"}, graded, "one broken fork does not stop the batch")
	for _, f := range []string{"alice", "bob", "dave"} {
		rep, err := readReport(filepath.Join(out, f+".json"))
		require.NoError(t, err, f)
		assert.Equal(t, report.Schema, rep.Schema)
	}
	assert.NoFileExists(t, filepath.Join(out, "carol.json"))

	rows := readCSV(t, filepath.Join(out, "summary.csv"))
	assert.Equal(t, []string{"fork", "score", "max_score", "readiness-delay", "cold-start", "latency-ratio", "memory-ratio", "load-variance", "error"}, rows[0])
	assert.Equal(t, []string{"alice", "100", "100", "20", "20", "20", "20", "20", ""}, rows[1])
	assert.Equal(t, []string{"bob", "0", "100", "0", "0", "0", "0", "0", "image for service ml-api does not build (ml/Dockerfile): COPY failed"}, rows[2])
	assert.Equal(t, []string{"carol", "", "", "", "", "", "", "", `lab spec carol/mlready-lab.yaml: unknown check "speed"`}, rows[3])
	assert.Equal(t, []string{"dave", "80", "100", "20", "20", "20", "0", "20", ""}, rows[4])

	md, err := os.ReadFile(filepath.Join(out, "summary.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "| alice | 100/100 | ✅ | ✅ | ✅ | ✅ | ✅ |  |\n")
	assert.Contains(t, string(md), "| dave | 80/100 | ✅ | ✅ | ✅ | ❌ | ✅ |  |\n")
	assert.Contains(t, string(md), "| carol | – | | | | | | could not be graded: lab spec")
}

func TestGradeForksBelowMinimum(t *testing.T) {
	forks := forksDir(t, "a", "b")
	run := func(_ context.Context, opts labtest.Options) (*report.Report, error) {
		if filepath.Base(opts.Dir) == "b" {
			return cannedReport(opts.Dir, "cold-start", "memory-ratio", "latency-ratio"), nil
		}
		return cannedReport(opts.Dir), nil
	}
	var stdout, stderr bytes.Buffer
	gha := githubactions.New(githubactions.WithGetenv(fakeEnv{}.getenv), githubactions.WithWriter(&stdout))

	assert.Equal(t, exitBelowMin, gradeForks(t.Context(), config{Forks: forks, MinScore: 60, ReportsDir: t.TempDir()}, gha, &stdout, &stderr, run))
	assert.Equal(t, exitPassed, gradeForks(t.Context(), config{Forks: forks, MinScore: 40, ReportsDir: t.TempDir()}, gha, &stdout, &stderr, run))
}

// TestGradeForksCtrlC: Ctrl-C during a fork stops the batch once that
// fork's run has returned (labtest removes what it started before it
// returns); the forks graded so far are summarised.
func TestGradeForksCtrlC(t *testing.T) {
	forks := forksDir(t, "a", "b", "c")
	out := t.TempDir()
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	var graded []string
	cleanedUp := false
	run := func(ctx context.Context, opts labtest.Options) (*report.Report, error) {
		graded = append(graded, filepath.Base(opts.Dir))
		if filepath.Base(opts.Dir) == "b" {
			cancel(errors.New("interrupt signal received"))
			<-ctx.Done()
			cleanedUp = true // labtest.Grade's deferred Close
			return nil, errors.New("grading cancelled: context canceled")
		}
		return cannedReport(opts.Dir), nil
	}
	var stdout, stderr bytes.Buffer
	gha := githubactions.New(githubactions.WithGetenv(fakeEnv{}.getenv), githubactions.WithWriter(&stdout))

	code := gradeForks(ctx, config{Forks: forks, MinScore: -1, ReportsDir: out}, gha, &stdout, &stderr, run)

	assert.Equal(t, exitNoGrade, code)
	assert.True(t, cleanedUp)
	assert.Equal(t, []string{"a", "b"}, graded, "nothing runs after Ctrl-C")
	assert.Contains(t, stdout.String(), "Stopped at fork b, after removing what it started; 1 of 3 forks graded.")
	rows := readCSV(t, filepath.Join(out, "summary.csv"))
	require.Len(t, rows, 2)
	assert.Equal(t, "a", rows[1][0])
}

func TestGradeForksNothingToGrade(t *testing.T) {
	var stdout, stderr bytes.Buffer
	gha := githubactions.New(githubactions.WithGetenv(fakeEnv{}.getenv))
	empty := t.TempDir()

	assert.Equal(t, exitNoGrade, gradeForks(t.Context(), config{Forks: empty, ReportsDir: t.TempDir()}, gha, &stdout, &stderr, nil))
	assert.Contains(t, stderr.String(), "has no subfolders to grade")
	stderr.Reset()
	assert.Equal(t, exitNoGrade, gradeForks(t.Context(), config{Forks: filepath.Join(empty, "nope"), ReportsDir: t.TempDir()}, gha, &stdout, &stderr, nil))
	assert.Contains(t, stderr.String(), "list the forks")
}

func TestMergeReports(t *testing.T) {
	dir := t.TempDir()
	for name, rep := range map[string]*report.Report{"org__alice": cannedReport("fork"), "org__bob": cannedReport("fork", "cold-start")} {
		rep.Schema = report.Schema
		_, err := writeReport(filepath.Join(dir, name+".json"), rep)
		require.NoError(t, err)
	}
	var stdout, stderr bytes.Buffer

	require.Equal(t, exitPassed, mergeReports(dir, &stdout, &stderr), stderr.String())

	rows := readCSV(t, filepath.Join(dir, "summary.csv"))
	require.Len(t, rows, 3)
	assert.Equal(t, []string{"org__alice", "100"}, rows[1][:2])
	assert.Equal(t, []string{"org__bob", "80"}, rows[2][:2])
	assert.FileExists(t, filepath.Join(dir, "summary.md"))

	// A file that is not an mlready report is refused by name.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"x"}`), 0o644))
	stderr.Reset()
	assert.Equal(t, exitNoGrade, mergeReports(dir, &stdout, &stderr))
	assert.True(t, strings.Contains(stderr.String(), "package.json is not an mlready report"), stderr.String())
}
