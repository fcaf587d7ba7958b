package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-githubactions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest"
	"github.com/mlready/mlready/labtest/report"
)

// c50Env is the environment Classroom50's runner gives an autograder.
func c50Env() fakeEnv {
	return fakeEnv{
		"CLASSROOM": "devops-2026", "ASSIGNMENT": "mlready", "SUBMISSION_TAG": "submit/2026-12-01T10-00-00Z-abc1234",
		"OWNER": "ada", "USERNAME": "ada", "ASSIGNMENT_TYPE": "individual", "MODE": "individual",
		"COMMIT_URL":        "https://github.com/devops-2026/devops-2026-mlready-ada/commit/abc1234",
		"RELEASE_URL":       "https://github.com/devops-2026/devops-2026-mlready-ada/releases/tag/submit%2F2026-12-01T10-00-00Z-abc1234",
		"REVIEW_URL":        "https://github.com/devops-2026/devops-2026-mlready-ada/compare/0001...abc1234",
		"GITHUB_REPOSITORY": "devops-2026/devops-2026-mlready-ada", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_SHA": "abc1234",
	}
}

func validC50() map[string]any {
	return map[string]any{
		"schema": "classroom50/result/v1", "classroom": "c", "assignment": "a", "assignment_type": "individual", "owner": "o",
		"submission": "submit/x", "commit": "c", "release": "r", "review": "v", "datetime": "2026-12-01T10:00:00Z",
		"score": 20, "max-score": 40,
		"tests": []any{map[string]any{"test-name": "t", "passed": true, "score": 20, "max-score": 20, "extra": "kept"}},
	}
}

// TestValidateClassroom50 shows the validator catches each rule broken.
func TestValidateClassroom50(t *testing.T) {
	ok, err := json.Marshal(validC50())
	require.NoError(t, err)
	require.Empty(t, validateClassroom50(ok))

	tests := []struct {
		name   string
		change func(m map[string]any)
		raw    string
		want   string
	}{
		{name: "missing field", change: func(m map[string]any) { delete(m, "review") }, want: `missing required field "review"`},
		{name: "extra top-level field", change: func(m map[string]any) { m["lab"] = "x" }, want: `top-level field "lab" is not allowed`},
		{name: "wrong schema", change: func(m map[string]any) { m["schema"] = "classroom50/result/v2" }, want: "schema is"},
		{name: "empty owner", change: func(m map[string]any) { m["owner"] = "" }, want: "owner must be a non-empty string"},
		{name: "assignment type", change: func(m map[string]any) { m["assignment_type"] = "solo" }, want: "assignment_type"},
		{name: "submission pattern", change: func(m map[string]any) { m["submission"] = "v1.0" }, want: "does not match ^submit/"},
		{name: "datetime format", change: func(m map[string]any) { m["datetime"] = "2026-12-01 10:00:00" }, want: "datetime"},
		{name: "fractional score", raw: strings.Replace(string(ok), `"score":20,`, `"score":20.0,`, 1), want: "score 20.0 is not a non-negative integer"},
		{name: "score over max", change: func(m map[string]any) { m["score"] = 50 }, want: "score 50 > max-score 40"},
		{name: "test without passed", change: func(m map[string]any) { delete(m["tests"].([]any)[0].(map[string]any), "passed") }, want: `tests[0] is missing "passed"`},
		{name: "test score over its max", change: func(m map[string]any) { m["tests"].([]any)[0].(map[string]any)["score"] = 21 }, want: "tests[0].score 21 > max-score 20"},
		{name: "test score a string", change: func(m map[string]any) { m["tests"].([]any)[0].(map[string]any)["score"] = "20" }, want: "tests[0].score"},
		{name: "submitted_by without username", change: func(m map[string]any) { m["submitted_by"] = map[string]any{"id": 1} }, want: "submitted_by.username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := []byte(tt.raw)
			if tt.change != nil {
				m := validC50()
				tt.change(m)
				var err error
				doc, err = json.Marshal(m)
				require.NoError(t, err)
			}
			errs := validateClassroom50(doc)
			require.NotEmpty(t, errs)
			assert.Contains(t, strings.Join(errs, "\n"), tt.want)
		})
	}
}

func TestClassroom50FromEnv(t *testing.T) {
	id, err := classroom50FromEnv(c50Env().getenv)
	require.NoError(t, err)
	assert.Equal(t, classroom50Identity{
		Classroom: "devops-2026", Assignment: "mlready", AssignmentType: "individual", Owner: "ada",
		Submission: "submit/2026-12-01T10-00-00Z-abc1234", Commit: c50Env()["COMMIT_URL"], Release: c50Env()["RELEASE_URL"], Review: c50Env()["REVIEW_URL"],
	}, id)

	// Links fall back to what GitHub Actions sets.
	env := c50Env()
	delete(env, "COMMIT_URL")
	delete(env, "RELEASE_URL")
	delete(env, "REVIEW_URL")
	id, err = classroom50FromEnv(env.getenv)
	require.NoError(t, err)
	assert.Equal(t, "https://github.com/devops-2026/devops-2026-mlready-ada/commit/abc1234", id.Commit)
	assert.Equal(t, id.Commit, id.Review)
	assert.Equal(t, "https://github.com/devops-2026/devops-2026-mlready-ada/releases/tag/submit%2F2026-12-01T10-00-00Z-abc1234", id.Release)

	_, err = classroom50FromEnv(fakeEnv{}.getenv)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing CLASSROOM, ASSIGNMENT, SUBMISSION_TAG")

	env = c50Env()
	env["SUBMISSION_TAG"] = "v1"
	_, err = classroom50FromEnv(env.getenv)
	assert.ErrorContains(t, err, `SUBMISSION_TAG "v1" is not a submit/... tag`)
}

// TestAllFormatsFromOneRun grades once with every format asked for and
// checks each file against its format's rules.
func TestAllFormatsFromOneRun(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	rep := cannedReport("fork", "cold-start", "memory-ratio")
	rep.Timeline = []report.ServiceTimeline{{Role: "ml", Service: "ml-api", Phases: []report.Phase{{Name: "loading", EndSeconds: 2}}, Probes: []report.Probe{{AtSeconds: 2, Ready: 503}}}}
	cfg := config{Path: "fork", MinScore: 0, Report: "mlready-report.json", Classroom50: true, Gradescope: filepath.Join("gs", "results.json"), JUnit: "junit.xml"}
	env := c50Env()

	res := runGrade(t, cfg, env, rep, nil)

	require.Equal(t, exitPassed, res.code, res.stderr)
	// Classroom50.
	b, err := os.ReadFile("result.json")
	require.NoError(t, err)
	assert.Empty(t, validateClassroom50(b))
	var c50 c50Result
	require.NoError(t, json.Unmarshal(b, &c50))
	assert.Equal(t, 60, c50.Score)
	assert.Equal(t, 100, c50.MaxScore)
	assert.Equal(t, "submit/2026-12-01T10-00-00Z-abc1234", c50.Submission)
	assert.Equal(t, "cold-start", c50.Tests[1].ID)
	assert.False(t, c50.Tests[1].Passed)
	assert.Equal(t, "the lesson of cold-start", c50.Tests[1].Lesson)
	_, err = time.Parse(c50Time, c50.Datetime)
	assert.NoError(t, err)
	body, err := os.ReadFile("release-body.md")
	require.NoError(t, err)
	assert.Contains(t, string(body), "### mlready lab ml-service-readiness: 60/100")
	assert.Contains(t, string(body), "| ❌ | `cold-start`<br>Requests during a cold start get 503 with Retry-After | 0/20 | not_ready_503 58<br>server_errors 0 | min_not_ready_answers ≥ 3 |")
	assert.Contains(t, string(body), "**`memory-ratio`**: An ML service needs far more memory\n\nmemory-ratio failed | badly.\n\n> Lesson: the lesson of memory-ratio\n\nLook at `ml/Dockerfile`.")
	// Gradescope.
	b, err = os.ReadFile(filepath.Join("gs", "results.json"))
	require.NoError(t, err)
	assert.Empty(t, validateGradescope(b))
	var gs gradescopeResults
	require.NoError(t, json.Unmarshal(b, &gs))
	assert.Equal(t, 60.0, gs.Score)
	assert.Equal(t, "failed", gs.Tests[1].Status)
	assert.Contains(t, gs.Tests[1].Output, "measured not_ready_503 58, server_errors 0; expected min_not_ready_answers ≥ 3\ncold-start failed | badly.\nLesson: the lesson of cold-start")
	// JUnit.
	b, err = os.ReadFile("junit.xml")
	require.NoError(t, err)
	assert.Empty(t, validateJUnit(b))
	var ju junitSuites
	require.NoError(t, xml.Unmarshal(b, &ju))
	require.Len(t, ju.Suites, 1)
	assert.Equal(t, 2, ju.Suites[0].Failures)
	assert.Equal(t, "measured traditional_memory 3.1 MiB, ml_memory 120.4 MiB, memory_ratio 38.8x; expected min_memory_ratio ≥ 10x", ju.Suites[0].Cases[3].Failure.Message)
	assert.Equal(t, "fork/ml/Dockerfile", ju.Suites[0].Cases[3].File)
	// The report and its start-up picture.
	_, err = os.Stat("mlready-report.startup.svg")
	assert.NoError(t, err)
}

func TestGradeClassroom50OutsideClassroom50(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ran := false
	var stdout, stderr strings.Builder
	code := grade(t.Context(), config{Path: ".", MinScore: -1, Report: "r.json", Classroom50: true},
		githubactions.New(githubactions.WithGetenv(fakeEnv{}.getenv), githubactions.WithWriter(&stdout)), &stdout, &stderr,
		func(context.Context, labtest.Options) (*report.Report, error) { ran = true; return nil, nil })

	assert.Equal(t, exitNoGrade, code)
	assert.False(t, ran, "nothing is graded without Classroom50's environment")
	assert.Contains(t, stderr.String(), "-classroom50 needs the environment Classroom50's runner sets")
	_, err := os.Stat("result.json")
	assert.True(t, os.IsNotExist(err), "no result.json: the runner reports the error itself")
}

func TestJUnitOnGradingError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "junit.xml")
	res := runGrade(t, config{Path: "fork", MinScore: -1, Report: filepath.Join(dir, "r.json"), JUnit: path}, fakeEnv{}, nil, errors.New("no Docker engine"))

	assert.Equal(t, exitNoGrade, res.code)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Empty(t, validateJUnit(b))
	assert.Contains(t, string(b), `<error message="could not grade fork: no Docker engine" type="grading-error">`)
}

// validateGradescope checks results.json against Gradescope's
// specification: a numeric score, tests with a name, numeric score and
// max_score, and only the documented values of status, visibility and the
// output formats.
func validateGradescope(doc []byte) []string {
	var errs []string
	var top map[string]any
	if err := json.Unmarshal(doc, &top); err != nil {
		return []string{"not a JSON object: " + err.Error()}
	}
	vis := map[any]bool{"hidden": true, "after_due_date": true, "after_published": true, "visible": true}
	formats := map[any]bool{"text": true, "html": true, "simple_format": true, "md": true, "ansi": true}
	if _, ok := top["score"].(float64); !ok {
		errs = append(errs, "score is not a number")
	}
	for _, k := range []string{"visibility", "stdout_visibility"} {
		if v, ok := top[k]; ok && !vis[v] {
			errs = append(errs, k+" is not a Gradescope visibility")
		}
	}
	for _, k := range []string{"output_format", "test_output_format"} {
		if v, ok := top[k]; ok && !formats[v] {
			errs = append(errs, k+" is not a Gradescope output format")
		}
	}
	if v, ok := top["execution_time"]; ok {
		if f, isNum := v.(float64); !isNum || f < 0 {
			errs = append(errs, "execution_time is not a number of seconds")
		}
	}
	tests, _ := top["tests"].([]any)
	sum := 0.0
	for i, raw := range tests {
		tc, _ := raw.(map[string]any)
		where := "tests[" + strconv.Itoa(i) + "]"
		if s, ok := tc["name"].(string); !ok || s == "" {
			errs = append(errs, where+".name is missing")
		}
		score, ok1 := tc["score"].(float64)
		max, ok2 := tc["max_score"].(float64)
		if !ok1 || !ok2 || max < 0 || score < 0 || score > max {
			errs = append(errs, where+" has no score within 0..max_score")
		}
		sum += score
		if v, ok := tc["status"]; ok && v != "passed" && v != "failed" {
			errs = append(errs, where+".status is neither passed nor failed")
		}
		if v, ok := tc["visibility"]; ok && !vis[v] {
			errs = append(errs, where+".visibility is not a Gradescope visibility")
		}
	}
	if s, ok := top["score"].(float64); ok && len(tests) > 0 && s != sum {
		errs = append(errs, "score differs from the tests' sum: Gradescope shows the top-level score")
	}
	return errs
}

// validateJUnit checks a JUnit document the way the common readers take
// it: a <testsuites> root, suites whose tests/failures/errors counts match
// their testcases, times as plain decimal seconds, and a message on every
// failure and error.
func validateJUnit(doc []byte) []string {
	var errs []string
	var j junitSuites
	if err := xml.Unmarshal(doc, &j); err != nil {
		return []string{"not JUnit XML: " + err.Error()}
	}
	if j.XMLName.Local != "testsuites" {
		errs = append(errs, "the root is not <testsuites>")
	}
	total, failures, errors := 0, 0, 0
	for _, s := range j.Suites {
		f, e := 0, 0
		for _, c := range s.Cases {
			if c.Name == "" || c.Classname == "" {
				errs = append(errs, "a testcase has no name or classname")
			}
			if _, err := strconv.ParseFloat(c.Time, 64); err != nil || strings.ContainsAny(c.Time, ",eE") {
				errs = append(errs, "testcase time "+c.Time+" is not decimal seconds")
			}
			if c.Failure != nil {
				f++
				if c.Failure.Message == "" {
					errs = append(errs, "a failure has no message")
				}
			}
			if c.Error != nil {
				e++
				if c.Error.Message == "" {
					errs = append(errs, "an error has no message")
				}
			}
		}
		if s.Tests != len(s.Cases) || s.Failures != f || s.Errors != e {
			errs = append(errs, "suite "+s.Name+" counts do not match its testcases")
		}
		if _, err := time.Parse("2006-01-02T15:04:05", s.Timestamp); err != nil {
			errs = append(errs, "suite timestamp is not ISO 8601 without a zone")
		}
		total, failures, errors = total+s.Tests, failures+f, errors+e
	}
	if j.Tests != total || j.Failures != failures || j.Errors != errors {
		errs = append(errs, "<testsuites> counts do not add up")
	}
	return errs
}
