package main

import (
	"bytes"
	"flag"
	"testing"

	"github.com/sethvargo/go-githubactions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/check"
)

// fakeEnv is an environment for githubactions.WithGetenv.
type fakeEnv map[string]string

func (e fakeEnv) getenv(k string) string { return e[k] }

func TestConfigure(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     fakeEnv
		want    config
		wantErr string
	}{
		{
			name: "defaults",
			want: config{Path: ".", MinScore: -1, Report: DefaultReport, ReportsDir: DefaultReportsDir},
		},
		{
			name: "flags",
			args: []string{"-path", "../fork", "-lab", "lab.yaml", "-min-score", "60", "-report", "out.json"},
			want: config{Path: "../fork", Lab: "lab.yaml", MinScore: 60, Report: "out.json", ReportsDir: DefaultReportsDir},
		},
		{
			name: "action inputs when no flags are given",
			env:  fakeEnv{"INPUT_PATH": "fork", "INPUT_LAB": "spec.yaml", "INPUT_MIN-SCORE": " 80 ", "INPUT_REPORT": "r.json"},
			want: config{Path: "fork", Lab: "spec.yaml", MinScore: 80, Report: "r.json", ReportsDir: DefaultReportsDir},
		},
		{
			name: "flags win over inputs",
			args: []string{"-path", "flagged", "-min-score", "0"},
			env:  fakeEnv{"INPUT_PATH": "input", "INPUT_MIN-SCORE": "100"},
			want: config{Path: "flagged", MinScore: 0, Report: DefaultReport, ReportsDir: DefaultReportsDir},
		},
		{
			name: "empty inputs keep the defaults",
			env:  fakeEnv{"INPUT_PATH": "", "INPUT_MIN-SCORE": "", "INPUT_REPORT": ""},
			want: config{Path: ".", MinScore: -1, Report: DefaultReport, ReportsDir: DefaultReportsDir},
		},
		{
			name: "platform formats",
			args: []string{"-classroom50", "-gradescope", "-junit", "out/junit.xml"},
			want: config{Path: ".", MinScore: -1, Report: DefaultReport, ReportsDir: DefaultReportsDir, Classroom50: true, Gradescope: DefaultGradescope, JUnit: "out/junit.xml"},
		},
		{
			name: "gradescope to a file of its own, either spelling",
			args: []string{"-gradescope", "gs/results.json", "-path", "f"},
			want: config{Path: "f", MinScore: -1, Report: DefaultReport, ReportsDir: DefaultReportsDir, Gradescope: "gs/results.json"},
		},
		{
			name: "gradescope=FILE",
			args: []string{"-gradescope=gs.json"},
			want: config{Path: ".", MinScore: -1, Report: DefaultReport, ReportsDir: DefaultReportsDir, Gradescope: "gs.json"},
		},
		{
			name: "junit from its input",
			env:  fakeEnv{"INPUT_JUNIT": "junit.xml"},
			want: config{Path: ".", MinScore: -1, Report: DefaultReport, ReportsDir: DefaultReportsDir, JUnit: "junit.xml"},
		},
		{
			name: "batch",
			args: []string{"-forks", "fixtures/forks", "-min-score", "60"},
			want: config{Path: ".", MinScore: 60, Report: DefaultReport, ReportsDir: DefaultReportsDir, Forks: "fixtures/forks"},
		},
		{
			name: "merge",
			args: []string{"-merge", "reports"},
			want: config{Path: ".", MinScore: -1, Report: DefaultReport, ReportsDir: DefaultReportsDir, Merge: "reports"},
		},
		{name: "batch with a one-folder flag", args: []string{"-forks", "f", "-junit", "j.xml"}, wantErr: "-junit is for grading one"},
		{name: "batch and merge", args: []string{"-forks", "f", "-merge", "r"}, wantErr: "-forks and -merge do not go together"},
		{name: "min-score not a number", args: []string{"-min-score", "most"}, wantErr: `min-score "most" is not a whole number`},
		{name: "negative min-score", env: fakeEnv{"INPUT_MIN-SCORE": "-5"}, wantErr: `min-score "-5"`},
		{name: "unknown flag", args: []string{"-dir", "."}, wantErr: "flag provided but not defined: -dir"},
		{name: "stray argument", args: []string{"-path", ".", "extra"}, wantErr: `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gha := githubactions.New(githubactions.WithGetenv(tt.env.getenv))
			var stdout bytes.Buffer

			got, err := configure(tt.args, gha, &stdout)

			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Empty(t, stdout.String())
		})
	}
}

func TestConfigureHelpGoesToStdout(t *testing.T) {
	var stdout bytes.Buffer
	_, err := configure([]string{"-h"}, githubactions.New(githubactions.WithGetenv(fakeEnv{}.getenv)), &stdout)

	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, stdout.String(), "Usage: go run ./action")
	assert.Contains(t, stdout.String(), "-min-score")
	for _, want := range []string{
		"Exit codes:\n  0  graded, at or above the minimum score",
		"  1  graded, below the minimum score",
		"  2  not graded",
		"INPUT_PATH", "INPUT_MIN-SCORE", "INPUT_JUNIT",
		"-classroom50", "-gradescope", "-junit", "-forks", "-merge",
	} {
		assert.Contains(t, stdout.String(), want)
	}
	// Every check a lab spec may choose, from the registry.
	for _, c := range check.All() {
		assert.Contains(t, stdout.String(), "  "+c.Info().ID+" ")
	}
}
