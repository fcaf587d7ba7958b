package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sethvargo/go-githubactions"

	"github.com/mlready/mlready/labtest"
	"github.com/mlready/mlready/labtest/report"
)

// runFunc grades a folder; labtest.Run in production, a canned report in
// tests.
type runFunc func(context.Context, labtest.Options) (*report.Report, error)

// Exit codes.
const (
	exitPassed   = 0
	exitBelowMin = 1
	exitNoGrade  = 2
)

// grade grades cfg.Path with run and reports the outcome: the scorecard on
// stdout and the JSON report in cfg.Report always, and in GitHub Actions
// also the job summary, annotations and outputs. It returns the exit code.
// Only errors that stop grading go to stderr.
func grade(ctx context.Context, cfg config, gha *githubactions.Action, stdout, stderr io.Writer, run runFunc) int {
	inGitHub := gha.Getenv("GITHUB_ACTIONS") == "true"
	if inGitHub {
		// The build and start-up steps fold away in the log.
		gha.Group("Building and starting " + cfg.Path)
	}
	rep, err := run(ctx, labtest.Options{Dir: cfg.Path, SpecPath: cfg.Lab, Logger: progressLogger(stdout), KeepImages: cfg.KeepImages})
	if inGitHub {
		gha.EndGroup()
	}
	if err == nil && ctx.Err() != nil {
		// Checks cut short by Ctrl-C fail for that reason alone: such a
		// report says nothing about the folder.
		err = fmt.Errorf("grading cancelled: %w", context.Cause(ctx))
	}
	if err != nil {
		fmt.Fprintf(stderr, "mlready: could not grade %s: %v\n", cfg.Path, err)
		if inGitHub {
			gha.Errorf("mlready could not grade %s: %v", cfg.Path, err)
			setOutputs(gha, map[string]string{"passed": "false", "result": classroomError(err)})
		}
		return exitNoGrade
	}

	minScore := cfg.MinScore
	if minScore < 0 {
		minScore = rep.MaxScore
	}
	passed := rep.Score >= minScore
	if err := report.WriteScorecard(stdout, rep); err != nil {
		fmt.Fprintf(stderr, "mlready: write the scorecard: %v\n", err)
		return exitNoGrade
	}
	reportPath, err := writeReport(cfg.Report, rep)
	if err != nil {
		fmt.Fprintf(stderr, "mlready: %v\n", err)
		return exitNoGrade
	}
	fmt.Fprintf(stdout, "Report: %s\n", reportPath)
	if inGitHub {
		annotate(gha, rep)
		if gha.Getenv("GITHUB_STEP_SUMMARY") != "" {
			gha.AddStepSummary(summary(rep, minScore))
		}
		setOutputs(gha, map[string]string{
			"score":     strconv.Itoa(rep.Score),
			"max-score": strconv.Itoa(rep.MaxScore),
			"passed":    strconv.FormatBool(passed),
			"report":    reportPath,
			"result":    classroomResult(rep, passed),
		})
	}
	if !passed {
		fmt.Fprintf(stdout, "The score %d is below the minimum of %d.\n", rep.Score, minScore)
		return exitBelowMin
	}
	return exitPassed
}

// outputNames are the outputs grade sets, in order; action.yml declares the
// same.
func outputNames() []string { return []string{"score", "max-score", "passed", "report", "result"} }

// setOutputs sets step outputs when the runner gave an output file (the
// library panics without one).
func setOutputs(gha *githubactions.Action, values map[string]string) {
	if gha.Getenv("GITHUB_OUTPUT") == "" {
		return
	}
	for _, k := range outputNames() {
		if v, ok := values[k]; ok {
			gha.SetOutput(k, v)
		}
	}
}

// annotate adds one error annotation per failed check, on the file a learner
// should look at when one is known; when the lab could not run its checks
// at all, one annotation gives the cause instead of one per check.
func annotate(gha *githubactions.Action, rep *report.Report) {
	if rep.Error != "" {
		gha.WithFieldsMap(map[string]string{"title": "mlready: the lab could not run its checks"}).Errorf("%s", rep.Error)
		return
	}
	for _, c := range rep.Checks {
		if c.Passed {
			continue
		}
		fields := map[string]string{"title": fmt.Sprintf("mlready %s (%d/%d): %s", c.ID, c.Points, c.MaxPoints, c.Title)}
		if f := annotationFile(gha.Getenv("GITHUB_WORKSPACE"), rep.Target, c.File); f != "" {
			fields["file"] = f
		}
		gha.WithFieldsMap(fields).Errorf("%s\nLesson: %s", c.Message, c.Lesson)
	}
}

// annotationFile turns file, relative to the graded folder, into a path
// relative to the workspace, as GitHub expects; "" when there is no file.
func annotationFile(workspace, target, file string) string {
	if file == "" {
		return ""
	}
	if workspace == "" || target == "" {
		return filepath.ToSlash(file)
	}
	rel, err := filepath.Rel(workspace, filepath.Join(target, file))
	if err != nil {
		return filepath.ToSlash(file)
	}
	return filepath.ToSlash(rel)
}

// writeReport writes rep as indented JSON to path and returns its absolute
// path.
func writeReport(path string, rep *report.Report) (string, error) {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode the report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("write the report: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path, nil
	}
	return abs, nil
}
