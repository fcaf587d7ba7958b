package main

import (
	"bytes"
	"path"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gradeForksWorkflow is what TestGradeForksWorkflow reads of
// grade-forks.yml.
type gradeForksWorkflow struct {
	Jobs map[string]struct {
		Needs    any    `yaml:"needs"`
		If       string `yaml:"if"`
		Strategy struct {
			FailFast *bool `yaml:"fail-fast"`
			Matrix   map[string]string
		} `yaml:"strategy"`
		Steps []struct {
			step            `yaml:",inline"`
			ContinueOnError bool `yaml:"continue-on-error"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// TestGradeForksWorkflow checks that the matrix workflow fits action.yml
// and that its merge job reads what the grading jobs upload, with a
// command line the grader accepts.
func TestGradeForksWorkflow(t *testing.T) {
	const file = "../fixtures/workflows/grade-forks.yml"
	_, ours := usesOfOurs(t, file, func(uses string) bool { return strings.HasPrefix(uses, "mlready/mlready@") })
	require.Len(t, ours, 1)
	wf, _ := readYAML[gradeForksWorkflow](t, file)
	grade, merge := wf.Jobs["grade"], wf.Jobs["merge"]

	// One fork per job, none cancelling the others.
	assert.Equal(t, "${{ fromJSON(needs.list.outputs.forks) }}", grade.Strategy.Matrix["fork"])
	require.NotNil(t, grade.Strategy.FailFast)
	assert.False(t, *grade.Strategy.FailFast)
	assert.Contains(t, wf.Jobs, "list")

	var lab, upload struct {
		step            `yaml:",inline"`
		ContinueOnError bool `yaml:"continue-on-error"`
	}
	for _, s := range grade.Steps {
		switch {
		case strings.HasPrefix(s.Uses, "mlready/mlready@"):
			lab = s
		case strings.HasPrefix(s.Uses, "actions/upload-artifact@"):
			upload = s
		}
	}
	assert.True(t, lab.ContinueOnError, "a fork below the pass mark still gets its report merged")
	reportPath := lab.With["report"]
	require.True(t, strings.HasSuffix(reportPath, ".json"), "the report input names a JSON report")
	reportDir, reportName := path.Split(reportPath)
	assert.Equal(t, reportDir+strings.TrimSuffix(reportName, ".json")+".*", upload.With["path"], "the upload takes the report and its picture")
	assert.Equal(t, "${{ !cancelled() }}", upload.If)

	// The merge job runs after every grading job, whatever their outcome,
	// and reads what they uploaded.
	assert.Equal(t, "grade", merge.Needs)
	assert.Equal(t, "${{ !cancelled() }}", merge.If)
	var download, run, checkout struct {
		step            `yaml:",inline"`
		ContinueOnError bool `yaml:"continue-on-error"`
	}
	for _, s := range merge.Steps {
		switch {
		case strings.HasPrefix(s.Uses, "actions/download-artifact@"):
			download = s
		case strings.HasPrefix(s.Uses, "actions/checkout@"):
			checkout = s
		case strings.Contains(s.Run, "./action"):
			run = s
		}
	}
	uploadName := upload.With["name"]
	prefix := strings.TrimSuffix(download.With["pattern"], "*")
	assert.True(t, strings.HasPrefix(uploadName, prefix), "download pattern %q matches upload %q", download.With["pattern"], uploadName)
	assert.Equal(t, "true", download.With["merge-multiple"], "all reports land in one folder")
	assert.Equal(t, strings.TrimSuffix(reportDir, "/"), download.With["path"])

	// The merge command line is one the grader accepts, merging that folder.
	// A plain command line: words, some in double quotes.
	var words []string
	for _, w := range strings.Fields(run.Run) {
		words = append(words, strings.Trim(w, `"`))
	}
	i := 0
	for i < len(words) && words[i] != "./action" {
		i++
	}
	require.Less(t, i, len(words), "the merge step runs ./action")
	assert.Equal(t, []string{"go", "run", "-C", checkout.With["path"]}, words[:i], "it runs the grader's own checkout")
	var stdout bytes.Buffer
	cfg, err := configure(words[i+1:], githubactions.New(githubactions.WithGetenv(fakeEnv{}.getenv)), &stdout)
	require.NoError(t, err)
	assert.Equal(t, "$GITHUB_WORKSPACE/"+download.With["path"], cfg.Merge)
}
