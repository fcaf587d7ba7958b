package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/mlready/mlready/labtest/report"
)

// Batch mode: grade every subfolder of a folder in turn, for a maintainer
// checking sample forks or a teacher grading a class on one machine. Each
// fork's report goes to <reports>/<fork>.json (with its start-up picture),
// and summary.csv and summary.md list them all. A class larger than one
// machine grades one fork per GitHub Actions job and merges the reports with
// -merge (fixtures/workflows/grade-forks.yml).

// forkResult is one fork's line of the summary.
type forkResult struct {
	Fork string
	// Report is nil when the fork could not be graded at all.
	Report *report.Report
	// Error is why it could not be graded.
	Error string
}

// gradeForks grades each subfolder of cfg.Forks. A fork that does not
// build, or hangs, is graded 0 with the cause and the batch goes on; one
// that cannot be graded at all (a broken lab spec of its own) is listed
// with the error. Ctrl-C stops the batch once labtest has removed what the
// current fork started; the summaries then list the forks graded so far.
func gradeForks(ctx context.Context, cfg config, gha *githubactions.Action, stdout, stderr io.Writer, run runFunc) int {
	forks, err := listForks(cfg.Forks)
	if err != nil {
		fmt.Fprintf(stderr, "mlready: %v\n", err)
		return exitNoGrade
	}
	if err := os.MkdirAll(cfg.ReportsDir, 0o755); err != nil {
		fmt.Fprintf(stderr, "mlready: create %s: %v\n", cfg.ReportsDir, err)
		return exitNoGrade
	}
	inGitHub := gha.Getenv("GITHUB_ACTIONS") == "true"
	var results []forkResult
	cancelled := false
	for i, fork := range forks {
		fmt.Fprintf(stdout, "\n=== fork %s (%d of %d)\n", fork, i+1, len(forks))
		rep, buildTail, err := runLab(ctx, config{Path: filepath.Join(cfg.Forks, fork), Lab: cfg.Lab}, inGitHub, stdout, run)
		if ctx.Err() != nil {
			// labtest removed the fork's containers before returning.
			fmt.Fprintf(stdout, "Stopped at fork %s, after removing what it started; %d of %d forks graded.\n", fork, len(results), len(forks))
			cancelled = true
			break
		}
		if err != nil {
			fmt.Fprintf(stdout, "Could not grade %s: %v\n", fork, err)
			results = append(results, forkResult{Fork: fork, Error: err.Error()})
			continue
		}
		for _, l := range buildTail {
			fmt.Fprintln(stdout, "  "+l)
		}
		path := filepath.Join(cfg.ReportsDir, fork+".json")
		if _, err := writeReport(path, rep); err != nil {
			fmt.Fprintf(stderr, "mlready: %v\n", err)
			return exitNoGrade
		}
		if len(rep.Timeline) > 0 {
			if err := os.WriteFile(startupSVGPath(path), []byte(startupSVG(rep)), 0o644); err != nil {
				fmt.Fprintf(stderr, "mlready: write the start-up picture of %s: %v\n", fork, err)
				return exitNoGrade
			}
		}
		fmt.Fprintf(stdout, "%s: %d/%d -> %s\n", fork, rep.Score, rep.MaxScore, path)
		results = append(results, forkResult{Fork: fork, Report: rep})
	}
	if err := writeSummaries(cfg.ReportsDir, results); err != nil {
		fmt.Fprintf(stderr, "mlready: %v\n", err)
		return exitNoGrade
	}
	fmt.Fprintf(stdout, "\nSummary: %s, %s\n", filepath.Join(cfg.ReportsDir, "summary.csv"), filepath.Join(cfg.ReportsDir, "summary.md"))
	if inGitHub && gha.Getenv("GITHUB_STEP_SUMMARY") != "" {
		gha.AddStepSummary(summaryMarkdown(results))
	}
	return batchExit(results, cfg.MinScore, cancelled)
}

// batchExit: 2 when the batch was stopped or a fork could not be graded at
// all, 1 when a fork scored below the minimum, else 0.
func batchExit(results []forkResult, minScore int, cancelled bool) int {
	code := exitPassed
	for _, r := range results {
		if r.Report == nil {
			return exitNoGrade
		}
		min := minScore
		if min < 0 {
			min = r.Report.MaxScore
		}
		if r.Report.Score < min {
			code = exitBelowMin
		}
	}
	if cancelled {
		return exitNoGrade
	}
	return code
}

// listForks lists the subfolders of dir, sorted, hidden ones left out.
func listForks(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list the forks: %w", err)
	}
	var forks []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			forks = append(forks, e.Name())
		}
	}
	if len(forks) == 0 {
		return nil, fmt.Errorf("%s has no subfolders to grade", dir)
	}
	return forks, nil
}

// mergeReports reads every mlready report in dir (<fork>.json, as the
// per-fork jobs of grade-forks.yml upload them) and writes summary.csv and
// summary.md there.
func mergeReports(dir string, stdout, stderr io.Writer) int {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(paths) == 0 {
		fmt.Fprintf(stderr, "mlready: no reports (*.json) in %s\n", dir)
		return exitNoGrade
	}
	sort.Strings(paths)
	var results []forkResult
	for _, p := range paths {
		rep, err := readReport(p)
		if err != nil {
			fmt.Fprintf(stderr, "mlready: %v\n", err)
			return exitNoGrade
		}
		results = append(results, forkResult{Fork: strings.TrimSuffix(filepath.Base(p), ".json"), Report: rep})
	}
	if err := writeSummaries(dir, results); err != nil {
		fmt.Fprintf(stderr, "mlready: %v\n", err)
		return exitNoGrade
	}
	fmt.Fprintf(stdout, "Merged %d reports into %s and %s\n", len(results), filepath.Join(dir, "summary.csv"), filepath.Join(dir, "summary.md"))
	return exitPassed
}

// readReport reads one mlready report, refusing another kind of document.
func readReport(path string) (*report.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	if rep.Schema != report.Schema {
		return nil, fmt.Errorf("%s is not an mlready report (schema %q, want %q)", path, rep.Schema, report.Schema)
	}
	return &rep, nil
}

// checkColumns are the check ids of the reports, in the order they first
// appear: the lab's own order.
func checkColumns(results []forkResult) []string {
	var ids []string
	for _, r := range results {
		if r.Report == nil {
			continue
		}
		for _, c := range r.Report.Checks {
			if !slices.Contains(ids, c.ID) {
				ids = append(ids, c.ID)
			}
		}
	}
	return ids
}

// writeSummaries writes summary.csv and summary.md into dir.
func writeSummaries(dir string, results []forkResult) error {
	var csvText strings.Builder
	if err := summaryCSV(&csvText, results); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.csv"), []byte(csvText.String()), 0o644); err != nil {
		return fmt.Errorf("write summary.csv: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.md"), []byte(summaryMarkdown(results)), 0o644); err != nil {
		return fmt.Errorf("write summary.md: %w", err)
	}
	return nil
}

// summaryCSV writes one row per fork: its score, the points of each check
// (empty when the check did not run for it), and why it could not be
// graded or could not run its checks.
func summaryCSV(w io.Writer, results []forkResult) error {
	ids := checkColumns(results)
	cw := csv.NewWriter(w)
	if err := cw.Write(append(append([]string{"fork", "score", "max_score"}, ids...), "error")); err != nil {
		return fmt.Errorf("write summary.csv: %w", err)
	}
	for _, r := range results {
		row := []string{r.Fork, "", ""}
		points := map[string]string{}
		errText := r.Error
		if r.Report != nil {
			row[1], row[2] = strconv.Itoa(r.Report.Score), strconv.Itoa(r.Report.MaxScore)
			for _, c := range r.Report.Checks {
				points[c.ID] = strconv.Itoa(c.Points)
			}
			errText = r.Report.Error
		}
		for _, id := range ids {
			row = append(row, points[id])
		}
		if err := cw.Write(append(row, oneLine(errText))); err != nil {
			return fmt.Errorf("write summary.csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write summary.csv: %w", err)
	}
	return nil
}

// summaryMarkdown is the batch as a Markdown table: a mark per check, and
// the cause for a fork whose checks did not run.
func summaryMarkdown(results []forkResult) string {
	ids := checkColumns(results)
	var b strings.Builder
	fmt.Fprintf(&b, "## mlready: %d forks\n\n| Fork | Score |", len(results))
	for _, id := range ids {
		fmt.Fprintf(&b, " `%s` |", id)
	}
	b.WriteString(" Notes |\n|---|--:|" + strings.Repeat(":-:|", len(ids)) + "---|\n")
	for _, r := range results {
		if r.Report == nil {
			fmt.Fprintf(&b, "| %s | – |%s could not be graded: %s |\n", cell(r.Fork), strings.Repeat(" |", len(ids)), cell(r.Error))
			continue
		}
		fmt.Fprintf(&b, "| %s | %d/%d |", cell(r.Fork), r.Report.Score, r.Report.MaxScore)
		byID := map[string]report.CheckResult{}
		for _, c := range r.Report.Checks {
			byID[c.ID] = c
		}
		for _, id := range ids {
			c, ok := byID[id]
			switch {
			case !ok:
				b.WriteString(" |")
			case c.Passed:
				b.WriteString(" ✅ |")
			default:
				b.WriteString(" ❌ |")
			}
		}
		fmt.Fprintf(&b, " %s |\n", cell(r.Report.Error))
	}
	return b.String()
}
