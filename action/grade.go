package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/mlready/mlready/labtest"
	"github.com/mlready/mlready/labtest/report"
)

// runFunc grades a folder; labtest.Grade in production, a canned report in
// tests.
type runFunc func(context.Context, labtest.Options) (*report.Report, error)

// Exit codes.
const (
	exitPassed   = 0
	exitBelowMin = 1
	exitNoGrade  = 2
)

// grade grades cfg.Path with run and reports the outcome: the scorecard on
// stdout and the JSON report (with its start-up picture) in cfg.Report
// always, the Classroom50, Gradescope and JUnit files when asked, and in
// GitHub Actions also the job summary, annotations and outputs. It returns
// the exit code. Only errors that stop grading go to stderr.
func grade(ctx context.Context, cfg config, gha *githubactions.Action, stdout, stderr io.Writer, run runFunc) int {
	inGitHub := gha.Getenv("GITHUB_ACTIONS") == "true"
	var c50 classroom50Identity
	if cfg.Classroom50 {
		// Checked before grading: a result without its identity would be
		// refused by the runner after minutes of work.
		id, err := classroom50FromEnv(gha.Getenv)
		if err != nil {
			fmt.Fprintf(stderr, "mlready: %v\n", err)
			return exitNoGrade
		}
		c50 = id
	}
	rep, buildTail, err := runLab(ctx, cfg, inGitHub, stdout, run)
	if err != nil {
		fmt.Fprintf(stderr, "mlready: could not grade %s: %v\n", cfg.Path, err)
		if cfg.JUnit != "" {
			if werr := writeJUnit(cfg.JUnit, junitError(fmt.Errorf("could not grade %s: %w", cfg.Path, err))); werr != nil {
				fmt.Fprintf(stderr, "mlready: %v\n", werr)
			}
		}
		if inGitHub {
			gha.Errorf("mlready could not grade %s: %v", cfg.Path, err)
			setOutputs(gha, map[string]string{"passed": "false", "result": classroomError(err)})
		}
		return exitNoGrade
	}
	if len(buildTail) > 0 {
		fmt.Fprintf(stdout, "The image build failed; the last %d lines of its log:\n", len(buildTail))
		for _, l := range buildTail {
			fmt.Fprintln(stdout, "  "+l)
		}
	}

	minScore := cfg.MinScore
	if minScore < 0 {
		minScore = rep.MaxScore
	}
	passed := rep.Score >= minScore
	// The files first: a terminal or pipe that went away loses the
	// scorecard, not the grade.
	reportPath, err := writeReport(cfg.Report, rep)
	if err != nil {
		fmt.Fprintf(stderr, "mlready: %v\n", err)
		return exitNoGrade
	}
	svgPath := ""
	if len(rep.Timeline) > 0 {
		svgPath = startupSVGPath(cfg.Report)
		if err := os.WriteFile(svgPath, []byte(startupSVG(rep)), 0o644); err != nil {
			fmt.Fprintf(stderr, "mlready: write the start-up picture: %v\n", err)
			return exitNoGrade
		}
	}
	if err := writeFormats(cfg, rep, c50); err != nil {
		fmt.Fprintf(stderr, "mlready: %v\n", err)
		return exitNoGrade
	}
	if err := report.WriteScorecard(stdout, rep); err != nil {
		fmt.Fprintf(stderr, "mlready: write the scorecard: %v (the report is in %s)\n", err, reportPath)
		return exitNoGrade
	}
	fmt.Fprintf(stdout, "Report: %s\n", reportPath)
	if svgPath != "" {
		fmt.Fprintf(stdout, "Start-up timeline: %s\n", svgPath)
	}
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

// runLab runs the lab with progress on stdout. When grading stopped at an
// image build, it also returns the last lines of the build log.
func runLab(ctx context.Context, cfg config, inGitHub bool, stdout io.Writer, run runFunc) (*report.Report, []string, error) {
	prog := newProgress(stdout, inGitHub, time.Now)
	buildTail := newTail(30)
	var buildLog io.Writer = buildTail
	if inGitHub {
		// The whole build log folds into the build's log group.
		buildLog = io.MultiWriter(prog.detail(), buildTail)
	}
	rep, err := run(ctx, labtest.Options{Dir: cfg.Path, SpecPath: cfg.Lab, Logger: prog.logger(), BuildLog: buildLog, KeepImages: cfg.KeepImages})
	prog.end()
	if err == nil && ctx.Err() != nil {
		// Checks cut short by Ctrl-C fail for that reason alone: such a
		// report says nothing about the folder.
		err = fmt.Errorf("grading cancelled: %w", context.Cause(ctx))
	}
	if err != nil {
		return nil, nil, err
	}
	var lines []string
	if rep.Error != "" && prog.lastStep() == labtest.StepBuildingImage {
		lines = buildTail.Lines()
	}
	return rep, lines, nil
}

// writeFormats writes the files of the other grading platforms cfg asks for.
func writeFormats(cfg config, rep *report.Report, c50 classroom50Identity) error {
	if cfg.Classroom50 {
		if err := writeClassroom50(".", rep, c50, time.Now()); err != nil {
			return err
		}
	}
	if cfg.Gradescope != "" {
		if err := writeGradescope(cfg.Gradescope, rep); err != nil {
			return err
		}
	}
	if cfg.JUnit != "" {
		if err := writeJUnit(cfg.JUnit, newJUnit(rep, time.Now())); err != nil {
			return err
		}
	}
	return nil
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
	// The report's target is relative to where the grader ran.
	abs, err := filepath.Abs(filepath.Join(target, file))
	if err != nil {
		return filepath.ToSlash(file)
	}
	rel, err := filepath.Rel(workspace, abs)
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
