package report_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/report"
)

func passed(id string, points int) report.CheckResult {
	return report.CheckResult{ID: id, Title: "Title of " + id, Passed: true, Points: points, MaxPoints: points, Message: id + " passed."}
}

func failed(id string, points int) report.CheckResult {
	return report.CheckResult{ID: id, Title: "Title of " + id, MaxPoints: points, Message: id + " failed.", Lesson: "Lesson of " + id}
}

func TestTally(t *testing.T) {
	tests := []struct {
		name      string
		checks    []report.CheckResult
		score     int
		max       int
		allPassed bool
	}{
		{"all pass", []report.CheckResult{passed("a", 20), passed("b", 30)}, 50, 50, true},
		{"one fails", []report.CheckResult{passed("a", 20), failed("b", 30), passed("c", 50)}, 70, 100, false},
		{"all fail", []report.CheckResult{failed("a", 20), failed("b", 20)}, 0, 40, false},
		{"a zero-point check still decides", []report.CheckResult{passed("a", 20), failed("b", 0)}, 20, 20, false},
		{"no checks", nil, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Stale totals from an earlier tally must not add up.
			r := &report.Report{Checks: tt.checks, Score: 999, MaxScore: 999, Passed: !tt.allPassed}
			r.Tally()
			assert.Equal(t, tt.score, r.Score)
			assert.Equal(t, tt.max, r.MaxScore)
			assert.Equal(t, tt.allPassed, r.Passed)
		})
	}
}

func TestLookup(t *testing.T) {
	c := report.CheckResult{Measured: []report.Measure{{Name: "ml_p50", Value: 12.5, Unit: "ms"}, {Name: "median_ratio", Value: 30, Unit: "x"}}}
	tests := []struct {
		name string
		want report.Measure
		ok   bool
	}{
		{"ml_p50", report.Measure{Name: "ml_p50", Value: 12.5, Unit: "ms"}, true},
		{"median_ratio", report.Measure{Name: "median_ratio", Value: 30, Unit: "x"}, true},
		{"ml_p95", report.Measure{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := c.Lookup(tt.name)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, m)
		})
	}
}

func TestJSON(t *testing.T) {
	// The GitHub Action and other tools read these field names.
	r := &report.Report{Lab: "ml-service-readiness", Target: "/src", Checks: []report.CheckResult{failed("cold-start", 20)}}
	r.Checks[0].File = "apis/ml/Dockerfile"
	r.Checks[0].Threshold = report.Threshold{Name: "min_not_ready_answers", Value: 3, Unit: "count", Direction: report.AtLeast, Min: 1, Max: 1000}
	r.Tally()
	b, err := json.Marshal(r)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"lab", "target", "score", "max_score", "passed", "checks", "duration_seconds"} {
		assert.Contains(t, m, k)
	}
	assert.NotContains(t, m, "error", "empty error is left out")
	c := m["checks"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "title", "passed", "points", "max_points", "measured", "threshold", "message", "lesson", "file", "duration_seconds"} {
		assert.Contains(t, c, k)
	}
	assert.Equal(t, map[string]any{"name": "min_not_ready_answers", "value": 3.0, "unit": "count", "direction": "at_least", "min": 1.0, "max": 1000.0}, c["threshold"])
}

func TestWriteScorecard(t *testing.T) {
	tests := []struct {
		name    string
		report  report.Report
		want    []string
		notWant []string
	}{
		{
			name: "a pass and a failure",
			report: report.Report{Lab: "ml-service-readiness", Target: "/src/fork", DurationSeconds: 42, Checks: []report.CheckResult{
				passed("readiness-delay", 20),
				func() report.CheckResult { c := failed("cold-start", 20); c.File = "ml/Dockerfile"; return c }(),
			}},
			want: []string{
				"Lab ml-service-readiness: /src/fork",
				"PASS  readiness-delay   20/20  Title of readiness-delay",
				"readiness-delay passed.",
				"FAIL  cold-start         0/20  Title of cold-start",
				"cold-start failed.",
				"Lesson: Lesson of cold-start",
				"Look at: ml/Dockerfile",
				"Score: 20/40 (some checks failed) in 42 s",
			},
			notWant: []string{"Lesson of readiness-delay", "Could not run"},
		},
		{
			name:    "a failure with no file to point at",
			report:  report.Report{Checks: []report.CheckResult{failed("memory-ratio", 20)}},
			want:    []string{"FAIL  memory-ratio", "Lesson: Lesson of memory-ratio"},
			notWant: []string{"Look at:"},
		},
		{
			name:   "all passed",
			report: report.Report{Checks: []report.CheckResult{passed("a", 50), passed("b", 50)}},
			want:   []string{"Score: 100/100 (all checks passed)"},
		},
		{
			name: "the lab could not run",
			report: report.Report{Error: "image for service ml-api did not build within 10m0s", Checks: []report.CheckResult{
				func() report.CheckResult {
					c := failed("readiness-delay", 20)
					c.Message = "Not run: image for service ml-api did not build within 10m0s"
					return c
				}(),
			}},
			want: []string{"Could not run the checks: image for service ml-api did not build within 10m0s", "Not run: image", "Score: 0/20"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.report
			r.Tally()
			var b strings.Builder
			require.NoError(t, report.WriteScorecard(&b, &r))
			out := b.String()
			for _, s := range tt.want {
				assert.Contains(t, out, s)
			}
			for _, s := range tt.notWant {
				assert.NotContains(t, out, s)
			}
		})
	}
}

func TestMeasureOf(t *testing.T) {
	m := report.Measure{Name: "p95", Value: 61.5, Unit: "ms"}.Of(report.ML)
	assert.Equal(t, report.Measure{Name: "ml_p95", Value: 61.5, Unit: "ms", API: "ml", Quantity: "p95"}, m)
	c := report.CheckResult{Measured: []report.Measure{report.Measure{Name: "p95", Value: 0.9, Unit: "ms"}.Of(report.Traditional), m}}
	got, ok := c.LookupOf(report.ML, "p95")
	assert.True(t, ok)
	assert.Equal(t, m, got)
	_, ok = c.LookupOf(report.ML, "p50")
	assert.False(t, ok, "a quantity not measured")
}
