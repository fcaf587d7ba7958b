package labtest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mlready/mlready/labtest/check"
	"github.com/mlready/mlready/labtest/stack"
)

// SpecFile is the lab spec a tested folder may carry at its top.
const SpecFile = "mlready-lab.yaml"

// Spec chooses a lab's checks, thresholds and points, and how to reach the
// services. Every field has a default: a folder with the lab's layout needs
// no spec at all.
type Spec struct {
	// Lab names the lab in reports.
	Lab string `yaml:"lab"`
	// Compose is the compose file, relative to the tested folder.
	Compose string `yaml:"compose"`
	// Prebuild runs (with sh -c, in the tested folder) before images are
	// built, for Dockerfiles that copy prebuilt binaries.
	Prebuild string `yaml:"prebuild"`
	// Services names the compose services that play each role.
	Services Roles `yaml:"services"`
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
	// Threshold overrides the check's default when set.
	Threshold *float64 `yaml:"threshold"`
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

// DefaultSpec is the lab this repository teaches: its own layout, the hub
// stand-in slowed down so that the ML API's download phase is always seen,
// and the five checks at 20 points each.
func DefaultSpec() Spec {
	s := Spec{
		Lab:      "ml-service-readiness",
		Compose:  "docker-compose.yml",
		Prebuild: "make binaries",
		Services: Roles{Traditional: "traditional-api", ML: "ml-api"},
		// The lab starts from the naive ML service, one model call per
		// request, whose latency spreads under load; batching (BATCH_MAX > 1)
		// is the fix a learner measures next.
		Env: map[string]map[string]string{
			"hub":    {"HUB_BANDWIDTH": "4MB"},
			"ml-api": {"BATCH_MAX": "1"},
		},
		StartupTimeout: Duration(120 * time.Second),
		RequestTimeout: Duration(10 * time.Second),
		BuildTimeout:   Duration(10 * time.Minute),
		CheckTimeout:   Duration(3 * time.Minute),
	}
	for _, c := range check.Lab() {
		s.Checks = append(s.Checks, CheckSpec{ID: c.ID(), Points: 20})
	}
	return s
}

// LoadSpec reads path over the defaults: fields the file leaves out keep
// their default values.
func LoadSpec(path string) (Spec, error) {
	s := DefaultSpec()
	b, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, fmt.Errorf("read lab spec: %w", err)
	}
	checks := s.Checks
	s.Checks = nil
	dec := yaml.NewDecoder(bytes.NewReader(b))
	// A misspelt key must not silently fall back to a default.
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && err != io.EOF {
		return Spec{}, fmt.Errorf("parse lab spec %s: %w", path, err)
	}
	if s.Checks == nil {
		s.Checks = checks
	}
	return s, nil
}

// specFor finds the spec for dir: path when given, else dir's SpecFile, else
// the defaults.
func specFor(dir, path string) (Spec, error) {
	if path != "" {
		return LoadSpec(path)
	}
	p := filepath.Join(dir, SpecFile)
	if _, err := os.Stat(p); err == nil {
		return LoadSpec(p)
	}
	return DefaultSpec(), nil
}

// validate checks the spec against the checks it may choose from.
func (s Spec) validate(registry []check.Check) error {
	if _, err := s.Limits.stack(); err != nil {
		return err
	}
	if s.Services.Traditional == "" || s.Services.ML == "" {
		return fmt.Errorf("lab spec: services.traditional and services.ml must name compose services")
	}
	seen := map[string]bool{}
	for _, c := range s.Checks {
		if _, err := check.ByID(registry, c.ID); err != nil {
			return fmt.Errorf("lab spec: %w", err)
		}
		if seen[c.ID] {
			return fmt.Errorf("lab spec: check %q is listed twice", c.ID)
		}
		seen[c.ID] = true
		if c.Points < 0 {
			return fmt.Errorf("lab spec: check %q has negative points", c.ID)
		}
	}
	return nil
}
