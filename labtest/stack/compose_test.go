package stack_test

import (
	"os"
	"path/filepath"
	"testing"

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

	services, err := stack.LoadCompose(filepath.Join(root, "docker-compose.yml"))
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
	assert.Contains(t, ml.Tmpfs, "/cache", "the named model cache is an empty folder")
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
			name: "mapping environment: values as written, no host passthrough",
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
					"PORT": "8000", "DEBUG": "true", "RATE": "0.50", "REVISION": "1.10", "QUOTED": "x y", "EMPTY": "",
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
			name: "named and anonymous volumes and tmpfs become empty folders",
			service: `build: .
    volumes:
      - cache:/cache
      - /scratch
      - models:/models:ro
      - {type: volume, source: data, target: /data}
    tmpfs: [/tmp, /run]`,
			check: func(t *testing.T, _ string, s stack.Service) {
				assert.Equal(t, []string{"/cache", "/scratch", "/models", "/data", "/tmp", "/run"}, s.Tmpfs)
				assert.Equal(t, []string{"/cache", "/models", "/data"}, s.Volumes, "named volumes, which outlive a container")
			},
		},
		{
			name:    "tmpfs as a string",
			service: "build: .\n    tmpfs: /tmp",
			check:   func(t *testing.T, _ string, s stack.Service) { assert.Equal(t, []string{"/tmp"}, s.Tmpfs) },
		},
		{
			name:    "depends_on as a list",
			service: "build: .\n    depends_on: [hub, db]",
			check:   func(t *testing.T, _ string, s stack.Service) { assert.Equal(t, []string{"hub", "db"}, s.DependsOn) },
		},
		{
			name:    "depends_on as a mapping, sorted",
			service: "build: .\n    depends_on: {hub: {condition: service_healthy}, db: {condition: service_started}}",
			check:   func(t *testing.T, _ string, s stack.Service) { assert.Equal(t, []string{"db", "hub"}, s.DependsOn) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FROM_HOST", "leaked from the grader")
			path := writeCompose(t, "services:\n  api:\n    "+tt.service+"\n")

			services, err := stack.LoadCompose(path)

			require.NoError(t, err)
			require.Contains(t, services, "api")
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
		{name: "privileged", service: "build: .\n    privileged: true", want: []string{"privileged: true is not allowed"}},
		{name: "host network", service: "build: .\n    network_mode: host", want: []string{"host network or pid namespace is not allowed"}},
		{name: "host pid", service: "build: .\n    pid: host", want: []string{"host network or pid namespace is not allowed"}},
		{name: "added capabilities", service: "build: .\n    cap_add: [SYS_ADMIN]", want: []string{"cap_add is not allowed"}},
		{name: "devices", service: "build: .\n    devices: [\"/dev/kvm:/dev/kvm\"]", want: []string{"devices are not allowed"}},
		{name: "relative bind mount", service: "build: .\n    volumes: [\"./data:/data\"]", want: []string{"host folder mount ./data is not allowed"}},
		{name: "absolute bind mount", service: "build: .\n    volumes: [\"/etc:/etc\"]", want: []string{"host folder mount /etc is not allowed"}},
		{name: "home bind mount", service: "build: .\n    volumes: [\"~/.ssh:/root/.ssh:ro\"]", want: []string{"host folder mount ~/.ssh is not allowed"}},
		{
			name:    "long-form bind mount",
			service: "build: .\n    volumes: [{type: bind, source: /var/run/docker.sock, target: /var/run/docker.sock}]",
			want:    []string{"host folder mount /var/run/docker.sock is not allowed"},
		},
		{name: "neither image nor build", service: "ports: [\"8000\"]", want: []string{"neither image nor build"}},
		{name: "build as a list", service: "build: [a, b]", want: []string{"build must be a path or a mapping"}},
		{name: "environment as a string", service: "build: .\n    environment: PORT=8000", want: []string{"environment must be a mapping or a list"}},
		{name: "environment value that is a list", service: "build: .\n    environment: {HOSTS: [a, b]}", want: []string{"environment: HOSTS must be a single value"}},
		{name: "no services", file: "version: \"2.4\"\n", want: []string{"has no services"}},
		{name: "not YAML", file: "services: [\n", want: []string{"parse compose file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content := tt.file
			if content == "" {
				content = "services:\n  ok:\n    image: nginx\n  api:\n    " + tt.service + "\n"
			}

			services, err := stack.LoadCompose(writeCompose(t, content))

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

	t.Run("missing file", func(t *testing.T) {
		_, err := stack.LoadCompose(filepath.Join(t.TempDir(), "docker-compose.yml"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "read compose file")
	})
}
