package main

import (
	"encoding/base64"
	"encoding/json"
	"math"

	"github.com/mlready/mlready/labtest/report"
)

// classroomRunResult is what a GitHub Classroom grader step outputs as
// "result" (base64 of this JSON) and what
// classroom-resources/autograding-grading-reporter reads from the
// <RUNNER-ID>_RESULTS variable: it prints each test, fails the job when
// Status is "fail" or "error", and reports the sum of the tests' Score out
// of MaxScore to Classroom. The fields follow the graders of
// classroom-resources (autograding-command-grader, autograding-io-grader).
type classroomRunResult struct {
	Version  int             `json:"version"`
	Status   string          `json:"status"` // "pass", "fail" or "error"
	MaxScore int             `json:"max_score"`
	Tests    []classroomTest `json:"tests"`
}

// classroomTest is one test of a classroomRunResult: one lab check.
type classroomTest struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Score  int    `json:"score"`
	// MaxScore is not read by the reporter; it lets a reader of the result
	// see what each check was worth.
	MaxScore int    `json:"max_score"`
	Message  string `json:"message"`
	// TestCode is printed under the test ("Test code:" then the text) when
	// not empty. The reporter prints Message only for status "error", so a
	// failed check's reason goes here: it is the one place the reporter
	// shows anything under a failed test.
	TestCode string `json:"test_code"`
	Filename string `json:"filename"`
	// LineNo must be 0 when unknown: the reporter prints " - line N" for
	// anything else, a missing value included.
	LineNo int `json:"line_no"`
	// Duration is in milliseconds.
	Duration int64 `json:"duration"`
}

// classroomResult encodes rep for the reporter. passed is the verdict against
// the minimum score, so that the reporter fails the job exactly when the
// grading step does.
func classroomResult(rep *report.Report, passed bool) string {
	res := classroomRunResult{Version: 1, Status: status(passed), MaxScore: rep.MaxScore, Tests: []classroomTest{}}
	for _, c := range rep.Checks {
		name := c.Title
		if name == "" {
			name = c.ID
		}
		t := classroomTest{
			Name:     name,
			Status:   status(c.Passed),
			Score:    c.Points,
			MaxScore: c.MaxPoints,
			Message:  c.Message,
			Filename: c.File,
			Duration: int64(math.Round(c.DurationSeconds * 1000)),
		}
		if !c.Passed {
			t.TestCode = c.ID + ": " + versus(c) + "\n" + explanation(c)
		}
		res.Tests = append(res.Tests, t)
	}
	return encode(res)
}

// classroomError encodes a grading that could not happen: the reporter then
// fails the job with "Some tests errored." and shows err.
func classroomError(err error) string {
	return encode(classroomRunResult{Version: 1, Status: "error", Tests: []classroomTest{{
		Name: "mlready lab", Status: "error", Message: err.Error(),
	}}})
}

func status(passed bool) string {
	if passed {
		return "pass"
	}
	return "fail"
}

func encode(res classroomRunResult) string {
	// Marshalling plain structs of strings and numbers cannot fail.
	b, _ := json.Marshal(res)
	return base64.StdEncoding.EncodeToString(b)
}
