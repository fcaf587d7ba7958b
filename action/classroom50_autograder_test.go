package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Classroom50 autograder in fixtures/classroom50, run as Classroom50's
// runner runs it: python3 autograder.py, in the student's checkout, with
// the environment of the autograde-runner workflow's grade job plus what
// runner.py adds for the entrypoint.

// buildGrader builds this program once for the test.
func buildGrader(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mlready")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "build the grader: %s", out)
	return bin
}

// classroom50RunnerEnv is the environment runner.py runs autograder.py
// with: the job's own (PATH, Docker, Go), the workflow's grade-job
// variables, GitHub's, and the helper variables runner.py adds.
func classroom50RunnerEnv(runnerTemp, bundleDir string) map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	repo := "devops-2026/devops-2026-mlready-ada"
	for k, v := range map[string]string{
		// The grade job's env (autograde-runner.yaml).
		"PAGES_BASE_URL": "https://devops-2026.github.io/classroom50", "CLASSROOM": "devops-2026", "ASSIGNMENT": "mlready",
		"SUBMISSION_TAG": "submit/2026-12-01T10-00-00Z-abc1234", "SECRET": "", "MODE": "individual",
		"ALLOWED_FILES": "[]", "RELEASE_ASSETS": `["mlready-report.json","mlready-report.startup.svg"]`,
		// GitHub's.
		"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": repo, "GITHUB_SHA": "abc1234abc1234abc1234abc1234abc1234abc12",
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_ACTOR": "ada", "GITHUB_ACTOR_ID": "1234",
		"GITHUB_OUTPUT": filepath.Join(runnerTemp, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(runnerTemp, "summary.md"),
		"RUNNER_TEMP": runnerTemp,
		// runner.py's run_entrypoint.
		"CLASSROOM50_BUNDLE_DIR": bundleDir, "USERNAME": "ada", "OWNER": "ada", "ASSIGNMENT_TYPE": "individual",
		"COMMIT_URL":  "https://github.com/" + repo + "/commit/abc1234abc1234abc1234abc1234abc1234abc12",
		"RELEASE_URL": "https://github.com/" + repo + "/releases/tag/submit%2F2026-12-01T10-00-00Z-abc1234",
		"REVIEW_URL":  "https://github.com/" + repo + "/compare/0000000...abc1234",
	} {
		env[k] = v
	}
	return env
}

// runAutograder runs autograder.py in checkout and returns its exit code
// and output.
func runAutograder(t *testing.T, checkout string, env map[string]string) (int, string) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "fixtures", "classroom50", "autograder.py"))
	require.NoError(t, err)
	cmd := exec.CommandContext(t.Context(), "python3", script)
	cmd.Dir = checkout
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	}
	require.NoError(t, err, "run python3 autograder.py")
	return 0, out.String()
}

// TestClassroom50AutograderInfrastructureExit: without what Classroom50
// sets, grading cannot start; the autograder exits with the documented
// infrastructure code and writes no result (the runner publishes the
// error itself).
func TestClassroom50AutograderInfrastructureExit(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	grader := buildGrader(t)
	tests := []struct {
		name   string
		change func(env map[string]string)
		want   string
	}{
		{"no submission tag", func(env map[string]string) { delete(env, "SUBMISSION_TAG") }, "missing SUBMISSION_TAG"},
		{"not a submit tag", func(env map[string]string) { env["SUBMISSION_TAG"] = "v1.0" }, `SUBMISSION_TAG "v1.0" is not a submit/... tag`},
		{"no grader", func(env map[string]string) { env["MLREADY_GRADER"] = "/nonexistent/mlready@v0" }, "could not grade this submission"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkout, temp := t.TempDir(), t.TempDir()
			env := classroom50RunnerEnv(temp, t.TempDir())
			env["MLREADY_GRADER"] = grader
			tt.change(env)

			code, out := runAutograder(t, checkout, env)

			assert.Equal(t, 2, code, out)
			assert.Contains(t, out, tt.want)
			assert.Contains(t, out, "::error title=mlready autograder::")
			assert.NoFileExists(t, filepath.Join(checkout, "result.json"))
		})
	}
}

// TestClassroom50Autograder grades a sample fork through autograder.py,
// end to end, and checks result.json against every rule of
// classroom50/result/v1. The fork is lowers-own-bar, graded 0 before
// anything is built: a real grading through the same flags, in seconds
// (TestForks grades full labs).
func TestClassroom50Autograder(t *testing.T) {
	if testing.Short() {
		t.Skip("grading a fork builds images and starts containers; skipped with -short")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	grader := buildGrader(t)
	checkout, temp := t.TempDir(), t.TempDir()
	env := classroom50RunnerEnv(temp, t.TempDir())
	env["MLREADY_GRADER"] = grader
	fork, err := filepath.Abs(filepath.Join("..", "fixtures", "forks", "lowers-own-bar"))
	require.NoError(t, err)
	env["MLREADY_PATH"] = fork
	// The teacher's policy: the sample forks build the root's APIs.
	env["MLREADY_LAB"], err = filepath.Abs(filepath.Join("..", "fixtures", "forks", "lab.yaml"))
	require.NoError(t, err)

	code, out := runAutograder(t, checkout, env)
	t.Log(out)

	require.Equal(t, 0, code, "grading ran: exit 0")
	b, err := os.ReadFile(filepath.Join(checkout, "result.json"))
	require.NoError(t, err)
	assert.Empty(t, validateClassroom50(b))
	var res c50Result
	require.NoError(t, jsonUnmarshal(b, &res))
	assert.Equal(t, 0, res.Score, "the fork's own policy is refused: 0, and still graded (exit 0)")
	assert.Equal(t, 100, res.MaxScore)
	assert.Equal(t, "devops-2026", res.Classroom)
	assert.Equal(t, "ada", res.Owner)
	rep, err := readReport(filepath.Join(checkout, "mlready-report.json"))
	require.NoError(t, err)
	assert.Len(t, res.Tests, len(rep.Checks), "one test per check")
	assert.Equal(t, rep.Score, res.Score)
	body, err := os.ReadFile(filepath.Join(checkout, "release-body.md"))
	require.NoError(t, err)
	assert.Contains(t, string(body), ": 0/100")
	assert.Contains(t, string(body), `line 6 sets "checks"`, "the student reads why")
	// The release assets assignments.json lists.
	assert.FileExists(t, filepath.Join(checkout, "mlready-report.json"))
	assert.Contains(t, out, "::group::", "progress folds into log groups in Actions")
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
