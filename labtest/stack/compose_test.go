package stack_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/stack"
)

// writeCompose writes a compose file into a fresh folder and returns its path.
func writeCompose(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "docker-compose.yml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

// manyServices is n services, each an image.
func manyServices(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  s%d: {image: x}\n", i)
	}
	return b.String()
}

// TestLoadComposeRepo reads the lab's own compose file, the layout every
// fork starts from.
func TestLoadComposeRepo(t *testing.T) {
	// The grader's environment must not reach a graded service: these would
	// point the ML API at the real hub and another model.
	t.Setenv("MODEL_ID", "someone/else")
	t.Setenv("HF_ENDPOINT", "https://huggingface.co")
	t.Setenv("HUB_BANDWIDTH", "0")
	root, err := filepath.Abs("../..")
	require.NoError(t, err)

	services, err := stack.LoadCompose(context.Background(), filepath.Join(root, "docker-compose.yml"), stack.ComposeRules{})
	require.NoError(t, err)

	require.Len(t, services, 3)
	for _, name := range []string{"traditional-api", "ml-api", "hub"} {
		s, ok := services[name]
		require.True(t, ok, "service %s", name)
		assert.Equal(t, name, s.Name)
		assert.Equal(t, root, s.Context, "%s builds from the repository root", name)
		assert.Equal(t, "8000", s.Env["PORT"], name)
	}
	assert.Equal(t, 8000, services["traditional-api"].Port, "the container port, not the published 8001")
	assert.Equal(t, 8000, services["ml-api"].Port, "the container port, not the published 8002")
	assert.Zero(t, services["hub"].Port, "the hub publishes nothing")
	ml := services["ml-api"]
	assert.Equal(t, "mlready/ml-api:dev", ml.Image)
	assert.Equal(t, "apis/ml/Dockerfile", ml.Dockerfile)
	assert.Equal(t, "apis/traditional/Dockerfile", services["traditional-api"].Dockerfile)
	assert.Equal(t, []stack.Volume{{Name: "model-cache", Target: "/cache"}}, ml.Volumes, "the named model cache is a Docker volume")
	assert.Equal(t, map[string]string{"hub": "service_healthy"}, ml.Conditions)
	require.NotNil(t, ml.Healthcheck)
	assert.Equal(t, []string{"CMD", "/ml", "healthcheck"}, ml.Healthcheck.Test)
	assert.Equal(t, 120*time.Second, ml.Healthcheck.StartPeriod)
	assert.Equal(t, []string{"hub"}, ml.DependsOn)
	assert.Equal(t, "http://hub:8000", ml.Env["HF_ENDPOINT"])
	assert.Equal(t, "mlready/sst2-mini", ml.Env["MODEL_ID"])
	assert.Equal(t, "/cache", ml.Env["MODEL_CACHE"])
	assert.Equal(t, "4MB", services["hub"].Env["HUB_BANDWIDTH"])
	assert.Empty(t, services["hub"].DependsOn)
}

func TestLoadComposeReads(t *testing.T) {
	tests := []struct {
		name    string
		service string // the service "api"
		check   func(t *testing.T, dir string, s stack.Service)
	}{
		{
			name:    "image only",
			service: "image: nginx:1.27",
			check: func(t *testing.T, _ string, s stack.Service) {
				assert.Equal(t, "nginx:1.27", s.Image)
				assert.Empty(t, s.Context, "nothing to build")
			},
		},
		{
			name:    "build as a string",
			service: "build: ./api",
			check: func(t *testing.T, dir string, s stack.Service) {
				assert.Equal(t, filepath.Join(dir, "api"), s.Context)
				assert.Equal(t, "Dockerfile", s.Dockerfile)
			},
		},
		{
			name:    "build mapping without a context",
			service: "build: {dockerfile: ml/Dockerfile}",
			check: func(t *testing.T, dir string, s stack.Service) {
				assert.Equal(t, dir, s.Context)
				assert.Equal(t, "ml/Dockerfile", s.Dockerfile)
			},
		},
		{
			// As docker compose reads them: YAML numbers become numbers
			// first, so 1.10 is "1.1" there too.
			name: "mapping environment: values as compose reads them, no host passthrough",
			service: `build: .
    environment:
      PORT: 8000
      DEBUG: true
      RATE: 0.50
      REVISION: 1.10
      QUOTED: "x y"
      EMPTY: ""
      FROM_HOST:`,
			check: func(t *testing.T, _ string, s stack.Service) {
				assert.Equal(t, map[string]string{
					"PORT": "8000", "DEBUG": "true", "RATE": "0.5", "REVISION": "1.1", "QUOTED": "x y", "EMPTY": "",
				}, s.Env)
			},
		},
		{
			name: "environment shared with an anchor and a merge key",
			service: `build: .
    environment:
      <<: &common {LOG_LEVEL: info, PORT: 8000}
      PORT: 9000
      ALIAS: &v shared
      AGAIN: *v`,
			check: func(t *testing.T, _ string, s stack.Service) {
				assert.Equal(t, map[string]string{"LOG_LEVEL": "info", "PORT": "9000", "ALIAS": "shared", "AGAIN": "shared"}, s.Env)
			},
		},
		{
			name: "list-form environment",
			service: `build: .
    environment:
      - PORT=8000
      - URL=http://hub:8000/?a=b
      - EMPTY=
      - FROM_HOST`,
			check: func(t *testing.T, _ string, s stack.Service) {
				assert.Equal(t, map[string]string{"PORT": "8000", "URL": "http://hub:8000/?a=b", "EMPTY": ""}, s.Env)
			},
		},
		{
			name: "defaults of variables, never the host's values",
			service: `build: .
    environment:
      COLON_DASH: ${FROM_HOST:-default one}
      DASH: ${FROM_HOST-default two}
      QUOTED_BARE: "${FROM_HOST}"
      BARE: ${FROM_HOST}
      DOLLAR: pa$$word
      ESCAPED: $${FROM_HOST}`,
			check: func(t *testing.T, _ string, s stack.Service) {
				assert.NotContains(t, s.Env["BARE"], "leaked")
				delete(s.Env, "BARE") // compose sets it empty; absent is as good
				assert.Equal(t, map[string]string{
					"COLON_DASH": "default one", "DASH": "default two", "QUOTED_BARE": "", "DOLLAR": "pa$word", "ESCAPED": "${FROM_HOST}",
				}, s.Env)
			},
		},
		{
			name: "command, entrypoint, working_dir, user as compose applies them",
			service: `build: .
    entrypoint: /ml
    command: ["serve", "--port", "9000"]
    working_dir: /srv
    user: "1000:1000"`,
			check: func(t *testing.T, _ string, s stack.Service) {
				assert.Equal(t, []string{"/ml"}, s.Entrypoint)
				assert.Equal(t, []string{"serve", "--port", "9000"}, s.Command)
				assert.Equal(t, "/srv", s.WorkingDir)
				assert.Equal(t, "1000:1000", s.User)
			},
		},
		{
			name:    "a command as a string is split as compose splits it",
			service: "build: .\n    command: serve --name 'two words'",
			check: func(t *testing.T, _ string, s stack.Service) {
				assert.Equal(t, []string{"serve", "--name", "two words"}, s.Command)
				assert.Nil(t, s.Entrypoint, "the image's entrypoint stays")
			},
		},
		{
			name:    "env_file, overridden by environment",
			service: "build: .\n    env_file: [api.env]\n    environment: {B: from-environment}",
			check: func(t *testing.T, _ string, s stack.Service) {
				assert.Equal(t, map[string]string{"A": "from-file", "B": "from-environment", "PORT": "9000"}, s.Env)
			},
		},
		{
			name:    "build args and target",
			service: "build: {context: ., args: {MODEL: small, EMPTY: \"\"}, target: runtime}",
			check: func(t *testing.T, _ string, s stack.Service) {
				require.Contains(t, s.BuildArgs, "MODEL")
				assert.Equal(t, "small", *s.BuildArgs["MODEL"])
				assert.Equal(t, "runtime", s.Target)
			},
		},
		{
			name:    "healthcheck",
			service: "build: .\n    healthcheck: {test: [\"CMD\", \"/ml\", \"healthcheck\"], interval: 2s, retries: 3, start_period: 1m}",
			check: func(t *testing.T, _ string, s stack.Service) {
				require.NotNil(t, s.Healthcheck)
				assert.Equal(t, "CMD /ml healthcheck (interval 2s, start_period 1m0s, retries 3)", s.Healthcheck.String())
			},
		},
		{
			name:    "the folder's .env feeds interpolation, the grader's environment does not",
			service: "build: .\n    environment: {FROM_DOTENV: \"${DOTENV_VALUE}\", ALT: \"${DOTENV_VALUE:+set}\", TOKEN: \"${TOKEN:-none}\"}",
			check: func(t *testing.T, _ string, s stack.Service) {
				assert.Equal(t, "from .env", s.Env["FROM_DOTENV"])
				assert.Equal(t, "set", s.Env["ALT"])
				assert.Equal(t, "none", s.Env["TOKEN"])
			},
		},
		{
			name:    "extends a service of another file in the folder",
			service: "extends: {file: base.yml, service: base}\n    environment: {B: mine}",
			check: func(t *testing.T, _ string, s stack.Service) {
				assert.Equal(t, "base-image", s.Image)
				assert.Equal(t, map[string]string{"A": "base", "B": "mine"}, s.Env)
			},
		},
		{
			name:    "ports: published:container",
			service: "build: .\n    ports: [\"8001:8000\"]",
			check:   func(t *testing.T, _ string, s stack.Service) { assert.Equal(t, 8000, s.Port) },
		},
		{
			name:    "ports: ip:published:container/protocol",
			service: "build: .\n    ports: [\"127.0.0.1:8001:8000/tcp\"]",
			check:   func(t *testing.T, _ string, s stack.Service) { assert.Equal(t, 8000, s.Port) },
		},
		{
			name:    "ports: container only",
			service: "build: .\n    ports: [\"8000\"]",
			check:   func(t *testing.T, _ string, s stack.Service) { assert.Equal(t, 8000, s.Port) },
		},
		{
			name:    "ports: a number",
			service: "build: .\n    ports: [8080]",
			check:   func(t *testing.T, _ string, s stack.Service) { assert.Equal(t, 8080, s.Port) },
		},
		{
			name:    "ports: long form",
			service: "build: .\n    ports: [{target: 8000, published: 8001}]",
			check:   func(t *testing.T, _ string, s stack.Service) { assert.Equal(t, 8000, s.Port) },
		},
		{
			name:    "expose when nothing is published",
			service: "build: .\n    expose: [\"9000\"]",
			check:   func(t *testing.T, _ string, s stack.Service) { assert.Equal(t, 9000, s.Port) },
		},
		{
			name:    "no port",
			service: "build: .",
			check:   func(t *testing.T, _ string, s stack.Service) { assert.Zero(t, s.Port) },
		},
		{
			name: "named and anonymous volumes become Docker volumes, tmpfs in-memory folders",
			service: `build: .
    volumes:
      - cache:/cache
      - /scratch
      - models:/models:ro
      - {type: volume, source: data, target: /data}
      - {type: tmpfs, target: /fast}
    tmpfs: [/tmp, /run]
volumes: {cache: {}, models: {}, data: {}}`,
			check: func(t *testing.T, _ string, s stack.Service) {
				assert.Equal(t, []stack.Volume{{Name: "cache", Target: "/cache"}, {Target: "/scratch"}, {Name: "models", Target: "/models", ReadOnly: true}, {Name: "data", Target: "/data"}}, s.Volumes)
				assert.Equal(t, []string{"/fast", "/tmp", "/run"}, s.Tmpfs)
			},
		},
		{
			name:    "tmpfs as a string",
			service: "build: .\n    tmpfs: /tmp",
			check:   func(t *testing.T, _ string, s stack.Service) { assert.Equal(t, []string{"/tmp"}, s.Tmpfs) },
		},
		{
			name:    "depends_on as a list",
			service: "build: .\n    depends_on: [hub, db]\n  hub: {image: hub}\n  db: {image: db}",
			check:   func(t *testing.T, _ string, s stack.Service) { assert.Equal(t, []string{"db", "hub"}, s.DependsOn) },
		},
		{
			name:    "depends_on as a mapping, sorted",
			service: "build: .\n    depends_on: {hub: {condition: service_healthy}, db: {condition: service_started}}\n  hub: {image: hub}\n  db: {image: db}",
			check: func(t *testing.T, _ string, s stack.Service) {
				assert.Equal(t, []string{"db", "hub"}, s.DependsOn)
				assert.Equal(t, map[string]string{"db": "service_started", "hub": "service_healthy"}, s.Conditions)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FROM_HOST", "leaked from the grader")
			t.Setenv("TOKEN", "leaked from the grader")
			path := writeCompose(t, "services:\n  debug:\n    image: debug\n    profiles: [debug]\n  api:\n    "+tt.service+"\n")
			dir := filepath.Dir(path)
			for name, content := range map[string]string{
				"api.env":  "A=from-file\nB=from-file\nPORT=9000\n",
				".env":     "DOTENV_VALUE=from .env\n",
				"base.yml": "services:\n  base:\n    image: base-image\n    environment: {A: base, B: base}\n",
			} {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
			}

			services, err := stack.LoadCompose(context.Background(), path, stack.ComposeRules{})

			require.NoError(t, err)
			require.Contains(t, services, "api")
			assert.NotContains(t, services, "debug", "a service of a profile that is not active does not run")
			assert.Equal(t, "api", services["api"].Name)
			tt.check(t, filepath.Dir(path), services["api"])
		})
	}
}

func TestLoadComposeRefuses(t *testing.T) {
	tests := []struct {
		name    string
		service string // the service "api"; its errors name it
		file    string // a whole file instead
		want    []string
	}{
		{name: "privileged", service: "build: .\n    privileged: true", want: []string{"privileged is refused: a graded service gets no host access"}},
		{name: "host network", service: "build: .\n    network_mode: host", want: []string{"network_mode is refused"}},
		{name: "host pid", service: "build: .\n    pid: host", want: []string{"pid is refused"}},
		{name: "added capabilities", service: "build: .\n    cap_add: [SYS_ADMIN]", want: []string{"cap_add is refused"}},
		{name: "devices", service: "build: .\n    devices: [\"/dev/kvm:/dev/kvm\"]", want: []string{"devices is refused"}},
		{name: "relative bind mount", service: "build: .\n    volumes: [\"./data:/data\"]", want: []string{"host folder mount", "/data is refused"}},
		{name: "absolute bind mount", service: "build: .\n    volumes: [\"/etc:/etc\"]", want: []string{"host folder mount /etc is refused"}},
		{name: "home bind mount", service: "build: .\n    volumes: [\"~/.ssh:/root/.ssh:ro\"]", want: []string{"host folder mount", ".ssh is refused"}},
		{
			name:    "long-form bind mount",
			service: "build: .\n    volumes: [{type: bind, source: /var/run/docker.sock, target: /var/run/docker.sock}]",
			want:    []string{"host folder mount /var/run/docker.sock is refused"},
		},
		{name: "the Docker socket by another key", service: "build: .\n    use_api_socket: true", want: []string{"use_api_socket is refused: it hands the service the grader's Docker engine"}},
		{name: "a key the lab does not apply", service: "build: .\n    ulimits: {nofile: 10}", want: []string{"ulimits is refused"}},
		{name: "a build key the lab does not apply", service: "build: {context: ., ssh: [default]}", want: []string{"build.ssh is refused"}},
		{name: "build network", service: "build: {context: ., network: host}", want: []string{"build.network is refused"}},
		{name: "two replicas", service: "build: .\n    deploy: {replicas: 2}", want: []string{"deploy.replicas 2 is refused"}},
		{name: "host-gateway", service: "build: .\n    extra_hosts: [\"host.docker.internal:host-gateway\"]", want: []string{"host-gateway is refused"}},
		{name: "build context outside the folder", service: "build: ..", want: []string{"build.context", "is outside the graded folder", "allow_outside_context"}},
		{name: "env_file outside the folder", service: "build: .\n    env_file: /etc/hostname", want: []string{"env_file /etc/hostname is outside the graded folder"}},
	}
	loaderErrors := []struct {
		name string
		file string
		want []string
	}{
		{name: "neither image nor build", file: "services:\n  api:\n    ports: [\"8000\"]\n", want: []string{`service "api" has neither an image nor a build context`}},
		{name: "build as a list", file: "services:\n  api:\n    build: [a, b]\n", want: []string{"services.api.build must be a string"}},
		{name: "environment value that is a list", file: "services:\n  api:\n    build: .\n    environment: {HOSTS: [a, b]}\n", want: []string{"services.api.environment"}},
		{name: "a misspelt key", file: "services:\n  api:\n    build: .\n    comand: [x]\n", want: []string{"services.api", "comand"}},
		{name: "a required variable", file: "services:\n  api:\n    build: .\n    environment: {TOKEN: \"${TOKEN:?set TOKEN first}\"}\n", want: []string{"set TOKEN first"}},
		{name: "extends outside the folder", file: "services:\n  api:\n    extends: {file: /etc/compose.yml, service: x}\n", want: []string{"/etc/compose.yml"}},
		{name: "no services", file: "version: \"2.4\"\n", want: []string{"empty compose file"}},
		{name: "not YAML", file: "services: [\n", want: []string{"docker-compose.yml"}},
		{name: "too many services", file: "services:\n" + manyServices(9), want: []string{"has 9 services; the lab runs at most 8"}},
	}
	for _, tt := range loaderErrors {
		t.Run(tt.name, func(t *testing.T) {
			services, err := stack.LoadCompose(context.Background(), writeCompose(t, tt.file), stack.ComposeRules{})

			require.Error(t, err)
			assert.Nil(t, services)
			assert.Contains(t, err.Error(), "compose file docker-compose.yml", "the error names the file")
			for _, s := range tt.want {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content := tt.file
			if content == "" {
				content = "services:\n  ok:\n    image: nginx\n  api:\n    " + tt.service + "\n"
			}

			services, err := stack.LoadCompose(context.Background(), writeCompose(t, content), stack.ComposeRules{})

			require.Error(t, err)
			assert.Nil(t, services)
			for _, s := range tt.want {
				assert.Contains(t, err.Error(), s)
			}
			if tt.file == "" {
				assert.Contains(t, err.Error(), "docker-compose.yml, service api:", "the error names the file and service")
			}
		})
	}

	// Files outside the folder that the compose file makes the lab read:
	// each is refused, with its path.
	for name, content := range map[string]string{
		"extends": "services:\n  api:\n    extends: {file: ../outside.yml, service: base}\n",
		"include": "include: [../outside.yml]\nservices:\n  api:\n    image: x\n",
	} {
		t.Run(name+" outside the folder", func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "fork")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(parent, "outside.yml"), []byte("services:\n  base:\n    image: grader-secret\n"), 0o644))
			path := filepath.Join(dir, "docker-compose.yml")
			require.NoError(t, os.WriteFile(path, []byte(content), 0o644))

			_, err := stack.LoadCompose(context.Background(), path, stack.ComposeRules{})

			require.Error(t, err)
			assert.Contains(t, err.Error(), "reads "+filepath.Join(parent, "outside.yml")+", outside the graded folder")
		})
	}

	t.Run("build context outside the folder, allowed by the policy", func(t *testing.T) {
		path := writeCompose(t, "services:\n  api:\n    build: ..\n")
		services, err := stack.LoadCompose(context.Background(), path, stack.ComposeRules{AllowOutsideContext: true})
		require.NoError(t, err)
		assert.Equal(t, filepath.Dir(filepath.Dir(path)), services["api"].Context)
	})

	t.Run("missing file", func(t *testing.T) {
		_, err := stack.LoadCompose(context.Background(), filepath.Join(t.TempDir(), "docker-compose.yml"), stack.ComposeRules{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "read compose file")
	})
}
