package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mlready/mlready/labtest/report"
)

// Classroom50 (foundation50/classroom50) runs a teacher's autograder.py in
// the student's repository, with the checkout as working directory, and
// reads back two files from it.
const (
	classroom50Result = "result.json"
	classroom50Body   = "release-body.md"
	// classroom50Schema is the result's schema sentinel
	// (schemas/result-v1.schema.json in that repository).
	classroom50Schema = "classroom50/result/v1"
)

// classroom50Identity is the submission a result is about, as the
// Classroom50 runner (runner.py) describes it to the autograder through the
// environment.
type classroom50Identity struct {
	Classroom, Assignment, AssignmentType, Owner string
	Submission, Commit, Release, Review          string
}

// classroom50FromEnv reads the identity from the variables runner.py sets
// (CLASSROOM, ASSIGNMENT, SUBMISSION_TAG from the workflow; OWNER,
// ASSIGNMENT_TYPE, COMMIT_URL, RELEASE_URL, REVIEW_URL that it adds for the
// autograder), falling back to what GitHub Actions sets for the links. It
// fails when a value the result needs is missing: then the program runs
// outside Classroom50, and no result it wrote would be accepted.
func classroom50FromEnv(getenv func(string) string) (classroom50Identity, error) {
	get := func(keys ...string) string {
		for _, k := range keys {
			if v := strings.TrimSpace(getenv(k)); v != "" {
				return v
			}
		}
		return ""
	}
	id := classroom50Identity{
		Classroom:      get("CLASSROOM"),
		Assignment:     get("ASSIGNMENT"),
		AssignmentType: get("ASSIGNMENT_TYPE", "MODE"),
		Owner:          get("OWNER", "USERNAME", "GITHUB_ACTOR"),
		Submission:     get("SUBMISSION_TAG"),
		Commit:         get("COMMIT_URL"),
		Release:        get("RELEASE_URL"),
		Review:         get("REVIEW_URL"),
	}
	if id.AssignmentType == "" {
		// runner.py's default for a missing mode.
		id.AssignmentType = "individual"
	}
	repo := get("GITHUB_SERVER_URL") + "/" + get("GITHUB_REPOSITORY")
	if id.Commit == "" && get("GITHUB_SERVER_URL") != "" && get("GITHUB_REPOSITORY") != "" && get("GITHUB_SHA") != "" {
		id.Commit = repo + "/commit/" + get("GITHUB_SHA")
	}
	if id.Release == "" && get("GITHUB_SERVER_URL") != "" && get("GITHUB_REPOSITORY") != "" && id.Submission != "" {
		id.Release = repo + "/releases/tag/" + strings.ReplaceAll(id.Submission, "/", "%2F")
	}
	if id.Review == "" {
		id.Review = id.Commit
	}
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"CLASSROOM", id.Classroom}, {"ASSIGNMENT", id.Assignment}, {"SUBMISSION_TAG", id.Submission},
		{"OWNER (or USERNAME)", id.Owner}, {"COMMIT_URL", id.Commit}, {"RELEASE_URL", id.Release},
	} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return id, fmt.Errorf("-classroom50 needs the environment Classroom50's runner sets; missing %s", strings.Join(missing, ", "))
	}
	if !strings.HasPrefix(id.Submission, "submit/") {
		return id, fmt.Errorf("SUBMISSION_TAG %q is not a submit/... tag", id.Submission)
	}
	if id.AssignmentType != "individual" && id.AssignmentType != "group" {
		return id, fmt.Errorf("ASSIGNMENT_TYPE %q is neither individual nor group", id.AssignmentType)
	}
	return id, nil
}

// c50Result is result.json. Field order follows the schema; no other
// top-level field is allowed.
type c50Result struct {
	Schema         string    `json:"schema"`
	Classroom      string    `json:"classroom"`
	Assignment     string    `json:"assignment"`
	AssignmentType string    `json:"assignment_type"`
	Owner          string    `json:"owner"`
	Submission     string    `json:"submission"`
	Commit         string    `json:"commit"`
	Release        string    `json:"release"`
	Review         string    `json:"review"`
	Datetime       string    `json:"datetime"`
	Score          int       `json:"score"`
	MaxScore       int       `json:"max-score"`
	Tests          []c50Test `json:"tests"`
}

// c50Test is one check. The schema allows extra fields per test; the
// runner and the gradebook keep them.
type c50Test struct {
	TestName string `json:"test-name"`
	Passed   bool   `json:"passed"`
	Score    int    `json:"score"`
	MaxScore int    `json:"max-score"`
	ID       string `json:"id"`
	Message  string `json:"message"`
	Lesson   string `json:"lesson,omitempty"`
	File     string `json:"file,omitempty"`
}

// c50Time is the schema's datetime: UTC, to the second, with a Z.
const c50Time = "2006-01-02T15:04:05Z"

// newClassroom50Result is rep as result.json. datetime is the grading time;
// the runner overwrites it with the commit's date (and stamps owner,
// assignment_type itself), but the file must be valid on its own.
func newClassroom50Result(rep *report.Report, id classroom50Identity, now time.Time) c50Result {
	res := c50Result{
		Schema: classroom50Schema, Classroom: id.Classroom, Assignment: id.Assignment, AssignmentType: id.AssignmentType,
		Owner: id.Owner, Submission: id.Submission, Commit: id.Commit, Release: id.Release, Review: id.Review,
		Datetime: now.UTC().Format(c50Time), Score: rep.Score, MaxScore: rep.MaxScore, Tests: []c50Test{},
	}
	for _, c := range rep.Checks {
		name := c.Title
		if name == "" {
			name = c.ID
		}
		t := c50Test{TestName: name, Passed: c.Passed, Score: c.Points, MaxScore: c.MaxPoints, ID: c.ID, Message: c.Message}
		if !c.Passed {
			t.Lesson, t.File = c.Lesson, c.File
		}
		res.Tests = append(res.Tests, t)
	}
	return res
}

// classroom50ReleaseBody is release-body.md, what the student reads on the
// submission's release: the scorecard, and for each failed check what was
// measured against what was expected, its lesson and what to fix.
func classroom50ReleaseBody(rep *report.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### mlready lab %s: %d/%d\n\n", rep.Lab, rep.Score, rep.MaxScore)
	if rep.Error != "" {
		fmt.Fprintf(&b, "> [!CAUTION]\n> The lab could not run its checks: %s\n\n", cell(rep.Error))
	}
	b.WriteString(checksTable(rep))
	if !rep.Passed && rep.Error == "" {
		b.WriteString("\n### What to fix\n" + whatToFix(rep))
	}
	b.WriteString("\nGraded by mlready: `go run ./action -path .` in your repository runs the same lab on your machine.\n")
	return b.String()
}

// writeClassroom50 writes result.json and release-body.md into dir.
func writeClassroom50(dir string, rep *report.Report, id classroom50Identity, now time.Time) error {
	b, err := json.MarshalIndent(newClassroom50Result(rep, id, now), "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", classroom50Result, err)
	}
	if err := os.WriteFile(filepath.Join(dir, classroom50Result), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", classroom50Result, err)
	}
	if err := os.WriteFile(filepath.Join(dir, classroom50Body), []byte(classroom50ReleaseBody(rep)), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", classroom50Body, err)
	}
	return nil
}
