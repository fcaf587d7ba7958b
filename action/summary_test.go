package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mlready/mlready/labtest/report"
)

func TestSummaryVerdict(t *testing.T) {
	tests := []struct {
		name     string
		rep      *report.Report
		minScore int
		want     string
	}{
		{"all passed", cannedReport("/f"), 100, "## mlready lab ml-service-readiness: 100/100\n\n✅ All checks passed.\n"},
		{"below the minimum", cannedReport("/f", "cold-start"), 100, "## mlready lab ml-service-readiness: 80/100\n\n❌ 1 of 5 checks failed; the minimum score is 100.\n"},
		{"at the minimum", cannedReport("/f", "cold-start"), 80, "## mlready lab ml-service-readiness: 80/100\n\n☑️ 1 of 5 checks failed; the score reaches the minimum of 80.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.True(t, strings.HasPrefix(summary(tt.rep, tt.minScore), tt.want), summary(tt.rep, tt.minScore))
		})
	}
}

func TestSummaryTable(t *testing.T) {
	got := summary(cannedReport("/f", "memory-ratio"), 100)

	assert.Contains(t, got, "| | Check | Points | Measured | Expected |\n|:-:|---|--:|---|---|\n")
	assert.Contains(t, got, "| ✅ | `latency-ratio`<br>ML inference is much slower than a rule | 20/20 | "+
		"traditional_p50 0.12 ms<br>ml_p50 7.31 ms<br>median_ratio 60.9x | min_median_ratio ≥ 10x |\n")
	assert.Contains(t, got, "| ❌ | `memory-ratio`<br>An ML service needs far more memory | 0/20 | ")
	assert.Contains(t, got, "| ✅ | `cold-start`<br>Requests during a cold start get 503 with Retry-After | 20/20 | "+
		"not_ready_503 58<br>server_errors 0 | min_not_ready_answers ≥ 3 |\n", "counts have no unit")
}

func TestSummaryWhatToFix(t *testing.T) {
	got := summary(cannedReport("/f", "memory-ratio"), 100)

	assert.Contains(t, got, "### What to fix\n\n**`memory-ratio`**: An ML service needs far more memory\n\n"+
		"memory-ratio failed | badly.\n\n> Lesson: the lesson of memory-ratio\n\nLook at `ml/Dockerfile`.\n")
	assert.NotContains(t, summary(cannedReport("/f"), 100), "What to fix")
}

func TestSummaryOfAFolderThatDidNotBuild(t *testing.T) {
	rep := failedToBuild("/f")
	rep.Error = "image for service ml-api does not build:\nCOPY failed | no such file"

	got := summary(rep, 100)

	assert.Contains(t, got, "## mlready lab ml-service-readiness: 0/100\n\n❌ 5 of 5 checks failed")
	assert.Contains(t, got, "> [!CAUTION]\n> The lab could not run its checks: image for service ml-api does not build:<br>COPY failed \\| no such file\n")
	assert.NotContains(t, got, "What to fix", "the cause is given once, not per check")
	assert.NotContains(t, got, "mermaid", "nothing was measured")
}

func TestSummaryCharts(t *testing.T) {
	got := summary(cannedReport("/f"), 100)

	assert.Contains(t, got, "### Latency and memory\n")
	assert.Contains(t, got, "```mermaid\nxychart-beta\n"+
		"    title \"Median latency, one request at a time (ms)\"\n"+
		"    x-axis [\"traditional 0.12 ms\", \"ML 7.31 ms\"]\n"+
		"    y-axis \"ms\"\n"+
		"    bar [0.12, 7.31]\n```\n")
	assert.Contains(t, got, "    x-axis [\"traditional p50 0.3 ms\", \"traditional p95 0.9 ms\", \"traditional p99 1.4 ms\", "+
		"\"ML p50 30.2 ms\", \"ML p95 61.5 ms\", \"ML p99 80.1 ms\"]\n"+
		"    y-axis \"ms\"\n"+
		"    bar [0.3, 0.9, 1.4, 30.2, 61.5, 80.1]\n")
	assert.Contains(t, got, "    title \"Container memory (MiB)\"\n"+
		"    x-axis [\"traditional 3.1 MiB\", \"ML 120.4 MiB\"]\n"+
		"    y-axis \"MiB\"\n"+
		"    bar [3.1, 120.4]\n")
}

func TestSummaryChartsOnlyWhatWasMeasured(t *testing.T) {
	// A lab spec that runs only the memory check gets only its chart.
	rep := cannedReport("/f")
	rep.Checks = rep.Checks[3:4]

	got := summary(rep, 20)

	assert.Equal(t, 1, strings.Count(got, "```mermaid"))
	assert.Contains(t, got, "Container memory (MiB)")
}
