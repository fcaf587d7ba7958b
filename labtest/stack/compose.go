package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
)

// MaxServices is how many services one compose file may define: the lab's
// two APIs and a few supporting services fit well within it; more would be
// a fork starting a fleet on the grader's machine.
const MaxServices = 8

// Service is one service of a compose file, as the lab runs it: every
// field is a key of the compose file that takes effect as `docker compose
// up` applies it (see the table in keys.go and the README).
type Service struct {
	// Name is the compose service name; other services reach it by it.
	Name string
	// File is the compose file that defines it, for messages.
	File string
	// Image is a prebuilt image to run when the service has no build.
	Image string
	// Context and Dockerfile build the image; Context is an absolute path.
	Context    string
	Dockerfile string
	// BuildArgs are the build's --build-arg values; Target its --target.
	BuildArgs map[string]*string
	Target    string
	// Env is the service's environment, env_file entries included.
	Env map[string]string
	// Entrypoint and Command replace the image's when not nil; an empty
	// non-nil one clears it, as in compose.
	Entrypoint []string
	Command    []string
	// WorkingDir, User and Hostname override the image's when set.
	WorkingDir string
	User       string
	Hostname   string
	// Init runs an init process as PID 1 when set.
	Init *bool
	// Labels are added to the container's.
	Labels map[string]string
	// ExtraHosts are /etc/hosts entries ("name:ip").
	ExtraHosts []string
	// Port is the container port it serves HTTP on; 0 when none is known.
	Port int
	// Volumes are Docker volumes: named ones (Volume.Name set) are shared by
	// the services that name them, anonymous ones are the container's own.
	// All are created for the run and removed with it.
	Volumes []Volume
	// Tmpfs are writable in-memory folders (the compose tmpfs key and
	// volumes of type tmpfs), counted in the container's memory as Docker
	// counts them.
	Tmpfs []string
	// DependsOn lists services to start first; Conditions says what each
	// must reach first (compose's service_started, service_healthy,
	// service_completed_successfully).
	DependsOn  []string
	Conditions map[string]string
	// Healthcheck is the service's own health check, run by Docker as
	// compose would, and shown in the report next to what the lab measured.
	Healthcheck *Healthcheck
}

// Volume is a Docker volume mounted into a service.
type Volume struct {
	// Name is the compose file's volume name; "" for an anonymous volume.
	Name     string
	Target   string
	ReadOnly bool
}

// Healthcheck is a compose healthcheck.
type Healthcheck struct {
	Test          []string
	Interval      time.Duration
	Timeout       time.Duration
	StartPeriod   time.Duration
	StartInterval time.Duration
	Retries       int
	// Disabled is healthcheck: {disable: true}: the image's check is off.
	Disabled bool
}

// String shows the check as a reader of the compose file would write it.
func (h *Healthcheck) String() string {
	if h == nil {
		return ""
	}
	if h.Disabled {
		return "disabled"
	}
	s := strings.Join(h.Test, " ")
	var opts []string
	for _, o := range []struct {
		name string
		d    time.Duration
	}{{"interval", h.Interval}, {"timeout", h.Timeout}, {"start_period", h.StartPeriod}} {
		if o.d > 0 {
			opts = append(opts, o.name+" "+o.d.String())
		}
	}
	if h.Retries > 0 {
		opts = append(opts, fmt.Sprintf("retries %d", h.Retries))
	}
	if len(opts) > 0 {
		s += " (" + strings.Join(opts, ", ") + ")"
	}
	return s
}

// ComposeRules say what a compose file may reach on the grader's machine.
type ComposeRules struct {
	// Within is the folder that every file the compose file reads (build
	// contexts, env_file, extends, include) must lie in: the graded folder.
	Within string
	// AllowOutsideContext lets build contexts and the files above lie
	// outside Within: a policy for forks that live inside the repository
	// whose code they build (this repository's sample forks).
	AllowOutsideContext bool
}

// LoadCompose reads the services of a compose file with compose-go, the
// loader of `docker compose` itself: interpolation, .env, env_file, extends,
// include, profiles and defaults mean what they mean there. Variables see
// only the folder's .env and ${NAME:-default} defaults: the grader's own
// environment never reaches a graded service. Every key either takes effect
// or is refused with a message naming it, the service and the file; see
// keys.go.
func LoadCompose(ctx context.Context, path string, rules ComposeRules) (map[string]Service, error) {
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("compose file %s: %w", path, err)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("read compose file: %w", err)
	}
	file := filepath.Base(path)
	// compose-go warns through logrus's standard logger, on stderr (that
	// `version` is obsolete, say). A grader's stderr is for errors only:
	// Classroom's graders fail on any output there. Like testcontainers'
	// logger in New, the lab owns its process's logging.
	logrus.SetOutput(io.Discard)
	if rules.Within == "" {
		rules.Within = filepath.Dir(path)
	}
	// Files the loader reads for extends and include, checked once it is
	// done: a fork may not make the lab read the grader's files.
	var read []string
	opts, err := cli.NewProjectOptions([]string{path},
		cli.WithWorkingDirectory(filepath.Dir(path)),
		cli.WithName("lab"),
		// The folder's own .env, as compose reads it; no cli.WithOsEnv: the
		// grader's environment is not the fork's.
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return nil, fmt.Errorf("compose file %s: %w", file, err)
	}
	opts.WithListeners(func(event string, meta map[string]any) {
		switch event {
		case "include":
			var paths []string
			switch v := meta["path"].(type) {
			case types.StringList:
				paths = v
			case []string:
				paths = v
			}
			for _, p := range paths {
				read = append(read, resolve(fmt.Sprint(meta["workingdir"]), p))
			}
		case "extends":
			if f, ok := meta["file"].(string); ok && f != "" {
				read = append(read, resolve(filepath.Dir(path), f))
			}
		}
	})
	project, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("compose file %s: %s", file, strings.TrimPrefix(err.Error(), path+": "))
	}
	if !rules.AllowOutsideContext {
		for _, p := range read {
			if !within(rules.Within, p) {
				return nil, fmt.Errorf("compose file %s reads %s, outside the graded folder: a graded fork may only use its own files", file, p)
			}
		}
	}
	if len(project.Services) == 0 {
		return nil, fmt.Errorf("compose file %s has no services", file)
	}
	if len(project.Services) > MaxServices {
		return nil, fmt.Errorf("compose file %s has %d services; the lab runs at most %d", file, len(project.Services), MaxServices)
	}
	if err := topLevel(project, file); err != nil {
		return nil, err
	}
	out := map[string]Service{}
	for name, sc := range project.Services {
		if err := refusedKeys(sc); err != nil {
			return nil, fmt.Errorf("compose file %s, service %s: %w", file, name, err)
		}
		s, err := service(sc, project, rules)
		if err != nil {
			return nil, fmt.Errorf("compose file %s, service %s: %w", file, name, err)
		}
		s.File = file
		out[name] = s
	}
	return out, nil
}

func resolve(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// within says whether path is dir or lies below it, after symlinks.
func within(dir, path string) bool {
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	if p, err := filepath.EvalSymlinks(path); err == nil {
		path = p
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// topLevel refuses the top-level sections the lab cannot honour.
func topLevel(p *types.Project, file string) error {
	for name, v := range p.Volumes {
		switch {
		case bool(v.External):
			return fmt.Errorf("compose file %s, volume %s: external: true is refused: a graded fork may not use the grader's volumes", file, name)
		case v.Driver != "" && v.Driver != "local", len(v.DriverOpts) > 0:
			return fmt.Errorf("compose file %s, volume %s: driver and driver_opts are refused: they can mount the grader's folders", file, name)
		}
	}
	for name, n := range p.Networks {
		if bool(n.External) {
			return fmt.Errorf("compose file %s, network %s: external: true is refused: graded services run on the lab's own network only", file, name)
		}
	}
	for name := range p.Secrets {
		return fmt.Errorf("compose file %s, secret %s: secrets are refused: they read the grader's files or environment", file, name)
	}
	for name := range p.Configs {
		return fmt.Errorf("compose file %s, config %s: configs are refused: they read the grader's files or environment", file, name)
	}
	for name := range p.Models {
		return fmt.Errorf("compose file %s, model %s: models are refused: the lab runs no model runner", file, name)
	}
	return nil
}

// refusedKeys names the first key of sc that the lab neither applies nor
// ignores on purpose (see keys.go).
func refusedKeys(sc types.ServiceConfig) error {
	keys, err := presentKeys(sc)
	if err != nil {
		return err
	}
	for _, k := range keys {
		rule, known := serviceKeys[k]
		if !known {
			return fmt.Errorf("%s is refused: the lab does not support it, and would not run the service as docker compose does", k)
		}
		if rule.how == refused {
			return fmt.Errorf("%s is refused: %s", k, rule.why)
		}
	}
	if sc.Build != nil {
		bkeys, err := presentKeys(sc.Build)
		if err != nil {
			return err
		}
		for _, k := range bkeys {
			rule, known := buildKeys[k]
			if !known {
				return fmt.Errorf("build.%s is refused: the lab does not support it, and would not build the image as docker compose does", k)
			}
			if rule.how == refused {
				return fmt.Errorf("build.%s is refused: %s", k, rule.why)
			}
		}
	}
	return nil
}

// presentKeys lists the keys v sets, as its JSON form names them: a key
// compose-go learns in a later version shows up here, so that it is
// refused rather than dropped.
func presentKeys(v any) ([]string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("read service: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read service: %w", err)
	}
	var keys []string
	for k, raw := range m {
		switch string(raw) {
		case "null", "false", "0", `""`, "[]", "{}":
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}

func service(sc types.ServiceConfig, p *types.Project, rules ComposeRules) (Service, error) {
	// Values of keys that are refused only in some forms.
	switch {
	case sc.NetworkMode != "":
		return Service{}, fmt.Errorf("network_mode %s is refused: graded services run on the lab's own network, which has no route out", sc.NetworkMode)
	case sc.Scale != nil && *sc.Scale != 1:
		return Service{}, fmt.Errorf("scale %d is refused: the lab runs one container per service", *sc.Scale)
	case sc.Deploy != nil && sc.Deploy.Replicas != nil && *sc.Deploy.Replicas != 1:
		return Service{}, fmt.Errorf("deploy.replicas %d is refused: the lab runs one container per service", *sc.Deploy.Replicas)
	}
	s := Service{
		Name: sc.Name, Image: sc.Image, Env: map[string]string{},
		WorkingDir: sc.WorkingDir, User: sc.User, Hostname: sc.Hostname, Init: sc.Init,
		Labels: map[string]string(sc.Labels),
	}
	if sc.Entrypoint != nil {
		s.Entrypoint = append([]string{}, sc.Entrypoint...)
	}
	if sc.Command != nil {
		s.Command = append([]string{}, sc.Command...)
	}
	for _, h := range sc.ExtraHosts.AsList(":") {
		if strings.Contains(h, "host-gateway") {
			return Service{}, fmt.Errorf("extra_hosts %s is refused: a graded service may not reach the grader's machine", h)
		}
		s.ExtraHosts = append(s.ExtraHosts, h)
	}
	if b := sc.Build; b != nil {
		if b.DockerfileInline != "" {
			return Service{}, fmt.Errorf("build.dockerfile_inline is refused: the lab builds from a Dockerfile in the graded folder")
		}
		s.Context = b.Context
		if s.Context == "" {
			s.Context = p.WorkingDir
		}
		if !filepath.IsAbs(s.Context) {
			if strings.Contains(s.Context, "://") {
				return Service{}, fmt.Errorf("build.context %s is refused: the lab builds from the graded folder, never from a remote source", s.Context)
			}
			s.Context = filepath.Join(p.WorkingDir, s.Context)
		}
		if !rules.AllowOutsideContext && !within(rules.Within, s.Context) {
			return Service{}, fmt.Errorf("build.context %s is outside the graded folder %s: refused, a graded fork builds from its own files only (a lab policy may allow it: allow_outside_context)", s.Context, rules.Within)
		}
		s.Dockerfile = b.Dockerfile
		if s.Dockerfile == "" {
			s.Dockerfile = "Dockerfile"
		}
		if filepath.IsAbs(s.Dockerfile) {
			rel, err := filepath.Rel(s.Context, s.Dockerfile)
			if err != nil || strings.HasPrefix(rel, "..") {
				return Service{}, fmt.Errorf("build.dockerfile %s is outside its context %s: refused", s.Dockerfile, s.Context)
			}
			s.Dockerfile = rel
		}
		if len(b.Args) > 0 {
			s.BuildArgs = map[string]*string(b.Args)
		}
		s.Target = b.Target
	}
	if s.Image == "" && s.Context == "" {
		return Service{}, fmt.Errorf("neither image nor build is given")
	}
	for _, ef := range sc.EnvFiles {
		if !rules.AllowOutsideContext && !within(rules.Within, ef.Path) {
			return Service{}, fmt.Errorf("env_file %s is outside the graded folder: refused, a graded fork may only use its own files", ef.Path)
		}
	}
	for k, v := range sc.Environment {
		// "NAME" with no value passes the host's in compose; the lab has
		// no host environment to give, so it is unset, as compose leaves
		// it when the variable is unset.
		if v != nil {
			s.Env[k] = *v
		}
	}
	for _, pc := range sc.Ports {
		if pc.Protocol != "" && pc.Protocol != "tcp" {
			continue
		}
		if pc.Target > 0 {
			s.Port = int(pc.Target)
			break
		}
	}
	if s.Port == 0 {
		for _, e := range sc.Expose {
			port, _, _ := strings.Cut(e, "/")
			if _, err := fmt.Sscan(port, &s.Port); err == nil && s.Port > 0 {
				break
			}
			s.Port = 0
		}
	}
	for _, v := range sc.Volumes {
		switch v.Type {
		case types.VolumeTypeVolume:
			if v.Source == "" {
				s.Volumes = append(s.Volumes, Volume{Target: v.Target, ReadOnly: v.ReadOnly})
				continue
			}
			if _, ok := p.Volumes[v.Source]; !ok {
				return Service{}, fmt.Errorf("volumes: %s is not declared under the top-level volumes key", v.Source)
			}
			if v.Volume != nil && v.Volume.Subpath != "" {
				return Service{}, fmt.Errorf("volumes: volume.subpath is refused: the lab mounts whole volumes")
			}
			s.Volumes = append(s.Volumes, Volume{Name: v.Source, Target: v.Target, ReadOnly: v.ReadOnly})
		case types.VolumeTypeTmpfs:
			s.Tmpfs = append(s.Tmpfs, v.Target)
		case types.VolumeTypeBind:
			return Service{}, fmt.Errorf("volumes: host folder mount %s is refused: a graded service gets no host access", v.Source)
		default:
			return Service{}, fmt.Errorf("volumes: a volume of type %s is refused: a graded service gets no host access", v.Type)
		}
	}
	s.Tmpfs = append(s.Tmpfs, sc.Tmpfs...)
	if len(sc.DependsOn) > 0 {
		s.Conditions = map[string]string{}
		for name, d := range sc.DependsOn {
			s.DependsOn = append(s.DependsOn, name)
			s.Conditions[name] = d.Condition
		}
		sort.Strings(s.DependsOn)
	}
	if h := sc.HealthCheck; h != nil {
		hc := &Healthcheck{Test: append([]string{}, h.Test...), Disabled: h.Disable}
		if len(hc.Test) > 0 && hc.Test[0] == "NONE" {
			hc.Disabled = true
		}
		for _, d := range []struct {
			from *types.Duration
			to   *time.Duration
		}{{h.Interval, &hc.Interval}, {h.Timeout, &hc.Timeout}, {h.StartPeriod, &hc.StartPeriod}, {h.StartInterval, &hc.StartInterval}} {
			if d.from != nil {
				*d.to = time.Duration(*d.from)
			}
		}
		if h.Retries != nil {
			hc.Retries = int(*h.Retries)
		}
		s.Healthcheck = hc
	}
	return s, nil
}
