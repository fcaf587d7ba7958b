package main

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// actionFile is the part of action.yml these tests read.
type actionFile struct {
	Inputs  map[string]struct{ Default string } `yaml:"inputs"`
	Outputs map[string]struct{ Value string }   `yaml:"outputs"`
	Runs    struct {
		Using string `yaml:"using"`
		Steps []step `yaml:"steps"`
	} `yaml:"runs"`
}

type workflowFile struct {
	Name string `yaml:"name"`
	Jobs map[string]struct {
		Steps []step `yaml:"steps"`
	} `yaml:"jobs"`
}

type step struct {
	ID   string            `yaml:"id"`
	Uses string            `yaml:"uses"`
	With map[string]string `yaml:"with"`
	Env  map[string]string `yaml:"env"`
	Run  string            `yaml:"run"`
	If   string            `yaml:"if"`
}

func readYAML[T any](t *testing.T, path string) (T, string) {
	t.Helper()
	var v T
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &v), path)
	return v, string(b)
}

func TestActionYAML(t *testing.T) {
	a, _ := readYAML[actionFile](t, "../action.yml")

	assert.Equal(t, "composite", a.Runs.Using)
	assert.ElementsMatch(t, inputs(), slices.Collect(maps.Keys(a.Inputs)), "action.yml declares the inputs configure reads")
	assert.Equal(t, DefaultReport, a.Inputs["report"].Default)
	assert.ElementsMatch(t, outputNames(), slices.Collect(maps.Keys(a.Outputs)), "action.yml declares what grade sets")
	for name, o := range a.Outputs {
		assert.Equal(t, "${{ steps.grade.outputs."+name+" }}", o.Value, "output %s", name)
	}

	require.NotEmpty(t, a.Runs.Steps)
	setupGo := a.Runs.Steps[0]
	assert.True(t, strings.HasPrefix(setupGo.Uses, "actions/setup-go@"))
	assert.Equal(t, "${{ github.action_path }}/go.mod", setupGo.With["go-version-file"])

	var grade step
	for _, s := range a.Runs.Steps {
		if s.ID == "grade" {
			grade = s
		}
	}
	require.Equal(t, "grade", grade.ID, "a step with id grade sets the outputs")
	for name := range a.Inputs {
		// What githubactions' GetInput reads: a composite action's steps
		// get no INPUT_* variables unless they are passed on.
		assert.Equal(t, "${{ inputs."+name+" }}", grade.Env["INPUT_"+strings.ToUpper(name)], "input %s", name)
	}
}

// usesOfOurs checks each step of workflow that uses this action: its inputs
// must exist in action.yml, and so must every output the workflow reads from
// it. It returns those steps.
func usesOfOurs(t *testing.T, path string, ours func(uses string) bool) (workflowFile, []step) {
	t.Helper()
	a, _ := readYAML[actionFile](t, "../action.yml")
	wf, raw := readYAML[workflowFile](t, path)
	var found []step
	for _, job := range wf.Jobs {
		for _, s := range job.Steps {
			if !ours(s.Uses) {
				continue
			}
			found = append(found, s)
			require.NotEmpty(t, s.ID, "%s: a step that uses the action needs an id to read its outputs", path)
			for k := range s.With {
				assert.Contains(t, a.Inputs, k, "%s: input %q is not in action.yml", path, k)
			}
			re := regexp.MustCompile(`steps\.` + regexp.QuoteMeta(s.ID) + `\.outputs\.([A-Za-z0-9_-]+)`)
			for _, m := range re.FindAllStringSubmatch(raw, -1) {
				assert.Contains(t, a.Outputs, m[1], "%s: output %q is not in action.yml", path, m[1])
			}
		}
	}
	require.NotEmpty(t, found, "%s uses the action", path)
	return wf, found
}

func TestClassroomWorkflow(t *testing.T) {
	const path = "../fixtures/workflows/classroom.yml"
	wf, ours := usesOfOurs(t, path, func(uses string) bool { return strings.HasPrefix(uses, "mlready/mlready@") })

	// The reporter reports points to Classroom only from this workflow and
	// job name.
	assert.Equal(t, "Autograding Tests", wf.Name)
	require.Contains(t, wf.Jobs, "run-autograding-tests")
	assert.Len(t, wf.Jobs, 1)

	var reporter step
	for _, s := range wf.Jobs["run-autograding-tests"].Steps {
		if strings.HasPrefix(s.Uses, "classroom-resources/autograding-grading-reporter@") {
			reporter = s
		}
	}
	require.NotEmpty(t, reporter.Uses, "the workflow runs Classroom's grading reporter")
	assert.Equal(t, "${{ !cancelled() }}", reporter.If, "it reports also when the lab step failed")
	runners := strings.Split(reporter.With["runners"], ",")
	require.Equal(t, []string{ours[0].ID}, runners, "the reporter reads the lab step")
	for _, id := range runners {
		// The reporter reads <RUNNER-ID upper-cased>_RESULTS.
		assert.Equal(t, "${{ steps."+id+".outputs.result }}", reporter.Env[strings.ToUpper(id)+"_RESULTS"])
	}
}

func TestCIWorkflow(t *testing.T) {
	_, ours := usesOfOurs(t, "../.github/workflows/ci.yml", func(uses string) bool { return uses == "./" })

	assert.Equal(t, ".", ours[0].With["path"])
}
