package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/mlready/mlready/labtest/report"
)

// DefaultGradescope is where Gradescope's harness reads an autograder's
// results from.
const DefaultGradescope = "/autograder/results/results.json"

// gradescopeResults is Gradescope's results.json
// (gradescope-autograders.readthedocs.io, "Autograder Specifications").
// The top-level score, when given, is the submission's score; it equals
// the tests' sum here.
type gradescopeResults struct {
	Score float64 `json:"score"`
	// ExecutionTime is in seconds.
	ExecutionTime int    `json:"execution_time"`
	Output        string `json:"output"`
	// OutputFormat applies to Output: "md" renders Markdown.
	OutputFormat string `json:"output_format"`
	// TestOutputFormat is the default for each test's output.
	TestOutputFormat string           `json:"test_output_format"`
	Visibility       string           `json:"visibility"`
	StdoutVisibility string           `json:"stdout_visibility"`
	Tests            []gradescopeTest `json:"tests"`
}

// gradescopeTest is one check.
type gradescopeTest struct {
	Name     string  `json:"name"`
	Number   string  `json:"number"`
	Score    float64 `json:"score"`
	MaxScore float64 `json:"max_score"`
	// Status colours the test; without it Gradescope infers it from score.
	Status     string `json:"status"`
	Output     string `json:"output"`
	Visibility string `json:"visibility"`
}

// newGradescopeResults is rep as results.json. Every check is visible at
// once: the lab teaches by its failures, so hiding them defeats it.
func newGradescopeResults(rep *report.Report) gradescopeResults {
	res := gradescopeResults{
		Score: float64(rep.Score), ExecutionTime: int(math.Ceil(rep.DurationSeconds)),
		OutputFormat: "md", TestOutputFormat: "text", Visibility: "visible", StdoutVisibility: "visible",
		Tests: []gradescopeTest{},
	}
	res.Output = fmt.Sprintf("mlready lab %s: %d/%d\n\n", rep.Lab, rep.Score, rep.MaxScore)
	if rep.Error != "" {
		res.Output += "The lab could not run its checks: " + rep.Error + "\n"
	}
	for i, c := range rep.Checks {
		st := "passed"
		if !c.Passed {
			st = "failed"
		}
		out := explanation(c)
		if !c.Passed {
			out = versus(c) + "\n" + out
		}
		res.Tests = append(res.Tests, gradescopeTest{
			Name: c.ID + ": " + c.Title, Number: strconv.Itoa(i + 1),
			Score: float64(c.Points), MaxScore: float64(c.MaxPoints), Status: st, Output: out, Visibility: "visible",
		})
	}
	return res
}

// writeGradescope writes results.json to path, creating its folder.
func writeGradescope(path string, rep *report.Report) error {
	b, err := json.MarshalIndent(newGradescopeResults(rep), "", "  ")
	if err != nil {
		return fmt.Errorf("encode the Gradescope results: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write the Gradescope results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write the Gradescope results: %w", err)
	}
	return nil
}
