package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Service is one service of a compose file, as far as the lab runs it.
type Service struct {
	// Name is the compose service name; other services reach it by it.
	Name string
	// Image is a prebuilt image to run when the service has no build.
	Image string
	// Context and Dockerfile build the image; Context is an absolute path.
	Context    string
	Dockerfile string
	// Env is the service's environment.
	Env map[string]string
	// Port is the container port it serves HTTP on; 0 when none is known.
	Port int
	// Tmpfs are writable folders: the compose file's volume targets and
	// tmpfs entries, mounted empty for every run.
	Tmpfs []string
	// Volumes are the targets of the compose file's named volumes: what
	// docker-compose keeps from one `down` and `up` to the next. A replica
	// started with StartReplica mounts a real Docker volume there.
	Volumes []string
	// DependsOn lists services to start first.
	DependsOn []string
}

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image       string         `yaml:"image"`
	Build       yaml.Node      `yaml:"build"`
	Environment yaml.Node      `yaml:"environment"`
	Ports       []yaml.Node    `yaml:"ports"`
	Expose      []yaml.Node    `yaml:"expose"`
	Volumes     []yaml.Node    `yaml:"volumes"`
	Tmpfs       yaml.Node      `yaml:"tmpfs"`
	DependsOn   yaml.Node      `yaml:"depends_on"`
	Privileged  bool           `yaml:"privileged"`
	NetworkMode string         `yaml:"network_mode"`
	Pid         string         `yaml:"pid"`
	CapAdd      []string       `yaml:"cap_add"`
	Devices     []string       `yaml:"devices"`
	Extra       map[string]any `yaml:",inline"`
}

// LoadCompose reads the services of a compose file. Variables like
// ${NAME:-default} take their defaults: the grader's own environment never
// reaches a tested service. A service that asks for host access
// (privileged, host network or pid, devices, added capabilities, host
// folder mounts) is refused.
func LoadCompose(path string) (map[string]Service, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read compose file: %w", err)
	}
	var f composeFile
	if err := yaml.Unmarshal([]byte(interpolate(string(raw))), &f); err != nil {
		return nil, fmt.Errorf("parse compose file %s: %w", path, err)
	}
	if len(f.Services) == 0 {
		return nil, fmt.Errorf("compose file %s has no services", path)
	}
	dir := filepath.Dir(path)
	out := map[string]Service{}
	for name, cs := range f.Services {
		s, err := cs.service(name, dir)
		if err != nil {
			return nil, fmt.Errorf("compose file %s, service %s: %w", filepath.Base(path), name, err)
		}
		out[name] = s
	}
	return out, nil
}

func (cs composeService) service(name, dir string) (Service, error) {
	switch {
	case cs.Privileged:
		return Service{}, fmt.Errorf("privileged: true is not allowed: a graded service gets no host access")
	case cs.NetworkMode == "host", cs.Pid == "host":
		return Service{}, fmt.Errorf("host network or pid namespace is not allowed: a graded service gets no host access")
	case len(cs.Devices) > 0:
		return Service{}, fmt.Errorf("devices are not allowed: a graded service gets no host access")
	case len(cs.CapAdd) > 0:
		return Service{}, fmt.Errorf("cap_add is not allowed: graded services run with all capabilities dropped")
	}
	s := Service{Name: name, Image: cs.Image, Env: map[string]string{}}
	if err := cs.build(&s, dir); err != nil {
		return Service{}, err
	}
	if s.Image == "" && s.Context == "" {
		return Service{}, fmt.Errorf("neither image nor build is given")
	}
	env, err := environment(cs.Environment)
	if err != nil {
		return Service{}, err
	}
	s.Env = env
	for _, p := range append(cs.Ports, cs.Expose...) {
		if port := containerPort(p); port > 0 {
			s.Port = port
			break
		}
	}
	for _, v := range cs.Volumes {
		target, named, err := volumeTarget(v)
		if err != nil {
			return Service{}, err
		}
		s.Tmpfs = append(s.Tmpfs, target)
		if named {
			s.Volumes = append(s.Volumes, target)
		}
	}
	s.Tmpfs = append(s.Tmpfs, stringList(cs.Tmpfs)...)
	s.DependsOn = stringList(cs.DependsOn)
	return s, nil
}

func (cs composeService) build(s *Service, dir string) error {
	switch cs.Build.Kind {
	case 0:
		return nil
	case yaml.ScalarNode:
		s.Context = cs.Build.Value
	case yaml.MappingNode:
		var b struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		}
		if err := cs.Build.Decode(&b); err != nil {
			return fmt.Errorf("build: %w", err)
		}
		s.Context, s.Dockerfile = b.Context, b.Dockerfile
	default:
		return fmt.Errorf("build must be a path or a mapping")
	}
	if s.Context == "" {
		s.Context = "."
	}
	if !filepath.IsAbs(s.Context) {
		s.Context = filepath.Join(dir, s.Context)
	}
	if s.Dockerfile == "" {
		s.Dockerfile = "Dockerfile"
	}
	return nil
}

func environment(n yaml.Node) (map[string]string, error) {
	env := map[string]string{}
	switch n.Kind {
	case 0:
	case yaml.MappingNode:
		// Values are taken as written: decoded to numbers, REVISION: 1.10
		// would become "1.1".
		var m map[string]yaml.Node
		if err := n.Decode(&m); err != nil {
			return nil, fmt.Errorf("environment: %w", err)
		}
		for k, v := range m {
			if v.Kind == yaml.AliasNode {
				v = *v.Alias
			}
			switch {
			case v.Kind != yaml.ScalarNode:
				return nil, fmt.Errorf("environment: %s must be a single value", k)
			case v.ShortTag() == "!!null":
				continue // "NAME:" with no value passes the host's, which we never do
			}
			env[k] = v.Value
		}
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return nil, fmt.Errorf("environment: %w", err)
		}
		for _, kv := range l {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
	default:
		return nil, fmt.Errorf("environment must be a mapping or a list")
	}
	return env, nil
}

// containerPort reads "8001:8000", "127.0.0.1:8001:8000/tcp", "8000", 8000
// or {target: 8000}.
func containerPort(n yaml.Node) int {
	if n.Kind == yaml.MappingNode {
		var m struct {
			Target int `yaml:"target"`
		}
		if n.Decode(&m) == nil {
			return m.Target
		}
		return 0
	}
	v := n.Value
	v, _, _ = strings.Cut(v, "/")
	if i := strings.LastIndex(v, ":"); i >= 0 {
		v = v[i+1:]
	}
	p, err := strconv.Atoi(v)
	if err != nil {
		return 0
	}
	return p
}

// volumeTarget accepts named volumes ("cache:/cache") and anonymous ones
// ("/cache"), and tells which it is; a host folder ("./data:/data",
// "/srv:/data") is refused.
func volumeTarget(n yaml.Node) (target string, named bool, err error) {
	if n.Kind == yaml.MappingNode {
		var m struct {
			Type   string `yaml:"type"`
			Source string `yaml:"source"`
			Target string `yaml:"target"`
		}
		if err := n.Decode(&m); err != nil {
			return "", false, fmt.Errorf("volumes: %w", err)
		}
		if m.Type == "bind" {
			return "", false, fmt.Errorf("host folder mount %s is not allowed: a graded service gets no host access", m.Source)
		}
		return m.Target, m.Source != "" && (m.Type == "" || m.Type == "volume"), nil
	}
	parts := strings.Split(n.Value, ":")
	if len(parts) == 1 {
		return parts[0], false, nil
	}
	src := parts[0]
	if strings.HasPrefix(src, "/") || strings.HasPrefix(src, ".") || strings.HasPrefix(src, "~") {
		return "", false, fmt.Errorf("host folder mount %s is not allowed: a graded service gets no host access", src)
	}
	return parts[1], true, nil
}

// stringList reads a string, a list of strings, or the keys of a mapping.
func stringList(n yaml.Node) []string {
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}
	case yaml.SequenceNode:
		var l []string
		_ = n.Decode(&l)
		return l
	case yaml.MappingNode:
		var m map[string]any
		_ = n.Decode(&m)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	}
	return nil
}

// variable matches $$ too, so that one left-to-right pass reads "$${NAME}"
// as the literal "${NAME}", as compose does.
var variable = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}`)

// interpolate replaces ${NAME:-default} and ${NAME-default} by the default
// and ${NAME} by nothing, and $$ by $.
func interpolate(s string) string {
	return variable.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		return variable.FindStringSubmatch(m)[2]
	})
}
