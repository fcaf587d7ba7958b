package labtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mlready/mlready/labtest/check"
	"github.com/mlready/mlready/labtest/stack"
)

// SpecFile is the layout file a tested folder may carry at its top. It may
// say where the folder's services are (Layout), never how they are judged
// (Policy).
const SpecFile = "mlready-lab.yaml"

// Spec is a lab file as the grader writes it (the -lab flag, the Action's
// lab input): the grading policy, and the layout a tested folder has unless
// its own SpecFile says otherwise.
type Spec struct {
	Policy `yaml:",inline"`
	Layout `yaml:",inline"`
}

// Policy is how a lab judges: which checks, their points and thresholds,
// the limits and timeouts, what runs before the build. It belongs to whoever
// grades. A tested folder never sets it: a learner's fork that could lower
// its own bar would make every grade meaningless.
type Policy struct {
	// Lab names the lab in reports.
	Lab string `yaml:"lab"`
	// Prebuild runs in the tested folder before images are built, for
	// Dockerfiles that copy prebuilt binaries.
	Prebuild string `yaml:"prebuild"`
	// Env adds or overrides environment variables per compose service.
	Env map[string]map[string]string `yaml:"env"`
	// StartupTimeout bounds each service's start-up.
	StartupTimeout Duration `yaml:"startup_timeout"`
	// RequestTimeout bounds every request a check sends.
	RequestTimeout Duration `yaml:"request_timeout"`
	// BuildTimeout bounds the pre-build command and each image build.
	BuildTimeout Duration `yaml:"build_timeout"`
	// CheckTimeout bounds each check.
	CheckTimeout Duration `yaml:"check_timeout"`
	// Limits raise or lower what each container may use, up to
	// stack.MaxLimits.
	Limits LimitsSpec `yaml:"limits"`
	// Checks lists the checks to run, in order.
	Checks []CheckSpec `yaml:"checks"`
	// AllowOutsideContext lets the compose file's build contexts (and the
	// pre-build's mount) reach outside the graded folder: for forks that
	// live inside the repository whose code they build.
	AllowOutsideContext bool `yaml:"allow_outside_context"`
	// KeepImages keeps at most this many images built for graded forks
	// after a run (the oldest removed first); 0 removes them.
	KeepImages int `yaml:"keep_images"`
}

// Layout is where a tested folder's services are: its compose file and
// which of its services play the lab's roles. A folder may declare it in
// its own SpecFile.
type Layout struct {
	// Compose is the compose file, relative to the tested folder.
	Compose string `yaml:"compose"`
	// Services names the compose services that play each role.
	Services Roles `yaml:"services"`
}

// Roles names the compose services under test.
type Roles struct {
	Traditional string `yaml:"traditional"`
	ML          string `yaml:"ml"`
	// Ports override the container ports read from the compose file.
	TraditionalPort int `yaml:"traditional_port"`
	MLPort          int `yaml:"ml_port"`
}

// LimitsSpec is the limits section of a spec; zero keeps the default.
type LimitsSpec struct {
	MemoryMB int64   `yaml:"memory_mb"`
	PIDs     int64   `yaml:"pids"`
	CPUs     float64 `yaml:"cpus"`
}

func (l LimitsSpec) stack() (stack.Limits, error) {
	if l.MemoryMB < 0 || l.MemoryMB > stack.MaxLimits.MemoryBytes>>20 {
		return stack.Limits{}, fmt.Errorf("lab spec limits: memory limit %d MiB is outside 1..%d MiB", l.MemoryMB, stack.MaxLimits.MemoryBytes>>20)
	}
	lim, err := stack.Limits{MemoryBytes: l.MemoryMB << 20, PIDs: l.PIDs, CPUs: l.CPUs}.Within()
	if err != nil {
		return lim, fmt.Errorf("lab spec limits: %w", err)
	}
	return lim, nil
}

// CheckSpec configures one check.
type CheckSpec struct {
	ID     string `yaml:"id"`
	Points int    `yaml:"points"`
	// Threshold overrides the check's default when set; it must lie within
	// the range the check declares.
	Threshold *float64 `yaml:"threshold"`
	// Period is how often the production checks' readiness-gated router
	// polls /ready; 0 means check.DefaultPeriod.
	Period Duration `yaml:"period"`
	// WarmPool is how many replicas scale-out starts ahead of the spike.
	WarmPool int `yaml:"warm_pool"`
	// Reviews is a review file (check.ParseReviews) that real-model sends
	// instead of its own, which every learner can read. Relative to the
	// lab file.
	Reviews string `yaml:"reviews"`
}

// Duration is a time.Duration written as "90s" in YAML.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// DefaultPoints are the default lab's points per check, 100 in all.
// real-model weighs most: without it every other ML measure could be
// faked (a sleep, a ballast, a fake loading phase), and it is the one
// lesson a rule-based service cannot pass. The five observations share the
// rest equally.
var defaultPoints = map[string]int{
	"readiness-delay": 16, "cold-start": 16, "latency-ratio": 16,
	"memory-ratio": 16, "load-variance": 16, "real-model": 20,
}

// DefaultSpec is the lab this repository teaches: its own layout, the hub
// stand-in slowed down so that the ML API's download phase is always seen,
// and the lab's six checks, 100 points in all.
func DefaultSpec() Spec {
	s := Spec{
		Policy: Policy{
			Lab:      "ml-service-readiness",
			Prebuild: "make binaries",
			// The lab starts from the naive ML service, one model call per
			// request, whose latency spreads under load; batching
			// (BATCH_MAX > 1) is the fix a learner measures next.
			Env: map[string]map[string]string{
				"hub":    {"HUB_BANDWIDTH": "4MB"},
				"ml-api": {"BATCH_MAX": "1"},
			},
			StartupTimeout: Duration(120 * time.Second),
			RequestTimeout: Duration(10 * time.Second),
			BuildTimeout:   Duration(10 * time.Minute),
			CheckTimeout:   Duration(3 * time.Minute),
		},
		Layout: Layout{
			Compose:  "docker-compose.yml",
			Services: Roles{Traditional: "traditional-api", ML: "ml-api"},
		},
	}
	for _, c := range check.Lab() {
		id := c.Info().ID
		s.Checks = append(s.Checks, CheckSpec{ID: id, Points: defaultPoints[id]})
	}
	return s
}

// LoadSpec reads the grader's lab file at path over the defaults: fields
// the file leaves out keep their default values.
func LoadSpec(path string) (Spec, error) {
	s := DefaultSpec()
	b, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, fmt.Errorf("read lab spec: %w", err)
	}
	checks := s.Checks
	s.Checks = nil
	if err := decodeStrict(b, &s); err != nil {
		return Spec{}, fmt.Errorf("parse lab spec %s: %w", path, err)
	}
	if s.Checks == nil {
		s.Checks = checks
	}
	for i, cs := range s.Checks {
		if cs.Reviews != "" && !filepath.IsAbs(cs.Reviews) {
			s.Checks[i].Reviews = filepath.Join(filepath.Dir(path), cs.Reviews)
		}
	}
	return s, nil
}

// decodeStrict decodes YAML into v, refusing unknown keys: a misspelt key
// must not silently fall back to a default.
func decodeStrict(b []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// LayoutError is a tested folder's own SpecFile that the lab cannot honour.
// It is the folder's fault, not the grader's: the folder is graded, every
// check failing with it, and nothing is built.
type LayoutError struct {
	File string
	Err  error
}

func (e *LayoutError) Error() string { return fmt.Sprintf("%s: %v", filepath.Base(e.File), e.Err) }

func (e *LayoutError) Unwrap() error { return e.Err }

// yamlKeys lists the YAML keys of a struct's fields, inline ones included.
func yamlKeys(v any) []string {
	var keys []string
	var n yaml.Node
	_ = n.Encode(v)
	for i := 0; i+1 < len(n.Content); i += 2 {
		keys = append(keys, n.Content[i].Value)
	}
	return keys
}

// LoadLayout reads a tested folder's SpecFile at path over base. A policy
// key in it is refused by name: only the grader sets policy.
func LoadLayout(path string, base Layout) (Layout, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Layout{}, &LayoutError{File: path, Err: fmt.Errorf("read: %w", err)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return Layout{}, &LayoutError{File: path, Err: fmt.Errorf("parse: %w", err)}
	}
	layoutKeys := yamlKeys(Layout{})
	policyKeys := yamlKeys(Policy{})
	if len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		m := doc.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			if slices.Contains(policyKeys, k.Value) {
				return Layout{}, &LayoutError{File: path, Err: fmt.Errorf(
					"line %d sets %q, which is grading policy: a tested folder may declare only its layout (%s); checks, points, thresholds, limits, timeouts, env and the pre-build come from the grader's lab file",
					k.Line, k.Value, strings.Join(layoutKeys, ", "))}
			}
		}
	}
	l := base
	if err := decodeStrict(b, &l); err != nil {
		return Layout{}, &LayoutError{File: path, Err: fmt.Errorf("parse: %w (a tested folder may declare only %s)", err, strings.Join(layoutKeys, ", "))}
	}
	return l, nil
}
