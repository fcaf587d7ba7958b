package kubernetes_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/mlready/mlready/apis/httpapi/httpapitest"
	"github.com/mlready/mlready/apis/ml/mlapi"
	"github.com/mlready/mlready/apis/traditional/traditionalapi"
)

// manifest is one file: its Deployment and its Service.
type manifest struct {
	deployment appsv1.Deployment
	service    corev1.Service
}

// load decodes a manifest strictly: a misspelt or misplaced field is an
// error, as `kubectl apply --validate=strict` makes it.
func load(t *testing.T, file string) manifest {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var m manifest
	kinds := map[string]int{}
	for _, doc := range bytes.Split(b, []byte("\n---\n")) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		require.NoError(t, yaml.Unmarshal(doc, &head))
		kinds[head.APIVersion+" "+head.Kind]++
		switch head.APIVersion + " " + head.Kind {
		case "apps/v1 Deployment":
			require.NoError(t, yaml.UnmarshalStrict(doc, &m.deployment), "%s: Deployment", file)
		case "v1 Service":
			require.NoError(t, yaml.UnmarshalStrict(doc, &m.service), "%s: Service", file)
		default:
			t.Fatalf("%s: unexpected %s %s", file, head.APIVersion, head.Kind)
		}
	}
	require.Equal(t, map[string]int{"apps/v1 Deployment": 1, "v1 Service": 1}, kinds, file)
	return m
}

// TestManifests checks each API's manifest against the API itself: the
// probes name paths the API serves on the port the container listens on
// (PORT), the readiness and startup probes say not ready until the model
// is loaded and 200 after, the Service reaches the Deployment's pods, and
// memory is requested and bounded.
func TestManifests(t *testing.T) {
	tests := []struct {
		file string
		// serve returns the API as the manifest's environment configures
		// it, and a function that makes it ready (nil when it is at once).
		serve func(t *testing.T, env map[string]string) (http.Handler, func())
	}{
		{"traditional-api.yaml", func(*testing.T, map[string]string) (http.Handler, func()) {
			return traditionalapi.New(slog.New(slog.DiscardHandler)).Handler(), nil
		}},
		{"ml-api.yaml", serveML},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := load(t, tt.file)
			d := m.deployment
			require.NotNil(t, d.Spec.Selector)
			assert.Equal(t, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels, "the Deployment selects its own pods")
			assert.Equal(t, d.Spec.Template.Labels, m.service.Spec.Selector, "the Service selects the Deployment's pods")
			require.Len(t, d.Spec.Template.Spec.Containers, 1)
			c := d.Spec.Template.Spec.Containers[0]
			env := map[string]string{}
			for _, e := range c.Env {
				env[e.Name] = e.Value
			}
			require.Len(t, c.Ports, 1)
			assert.Equal(t, strconv.Itoa(int(c.Ports[0].ContainerPort)), env["PORT"], "the container port is the one the API listens on")
			for _, p := range m.service.Spec.Ports {
				assert.True(t, p.TargetPort.String() == c.Ports[0].Name || int32(p.TargetPort.IntValue()) == c.Ports[0].ContainerPort,
					"Service port %s targets the container's port", p.Name)
			}
			mem, limit := c.Resources.Requests.Memory(), c.Resources.Limits.Memory()
			assert.False(t, mem.IsZero(), "memory request")
			assert.False(t, limit.IsZero(), "memory limit")
			assert.LessOrEqual(t, mem.Cmp(*limit), 0, "request within limit")

			probes := map[string]*corev1.Probe{"startupProbe": c.StartupProbe, "readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe}
			for name, p := range probes {
				require.NotNil(t, p, name)
				require.NotNil(t, p.HTTPGet, "%s is an httpGet", name)
				port := p.HTTPGet.Port
				assert.True(t, port.String() == c.Ports[0].Name || int32(port.IntValue()) == c.Ports[0].ContainerPort,
					"%s probes port %s, which the container does not expose", name, port.String())
			}
			h, start := tt.serve(t, env)
			if start != nil {
				for name, p := range probes {
					code := httpapitest.Get(t, h, p.HTTPGet.Path).Status
					assert.NotContains(t, []int{http.StatusNotFound, http.StatusMethodNotAllowed}, code, "%s %s is served while the model loads", name, p.HTTPGet.Path)
					if name != "livenessProbe" {
						assert.Equal(t, http.StatusServiceUnavailable, code, "%s %s is not 200 before the model is loaded", name, p.HTTPGet.Path)
					}
				}
				httpapitest.SkipUnderRace(t, httpapitest.ModelRace+"; the loaded probes are checked without -race")
				start()
			}
			for name, p := range probes {
				assert.Equal(t, http.StatusOK, httpapitest.Get(t, h, p.HTTPGet.Path).Status, "%s %s once ready", name, p.HTTPGet.Path)
			}
		})
	}
}

// serveML is the ML API configured from the manifest's environment, its
// model cache a folder that already holds the fixture model (the hub is
// not there), so that the model's name is the manifest's MODEL_ID.
func serveML(t *testing.T, env map[string]string) (http.Handler, func()) {
	settings, err := mlapi.ReadSettings(func(k string) string { return env[k] })
	require.NoError(t, err)
	cfg := settings.Model
	require.NotEmpty(t, cfg.ModelID)
	src := httpapitest.FixtureModel(t)
	cfg.CacheDir = t.TempDir()
	dst := filepath.Join(cfg.CacheDir, "mlready_sst2-mini")
	require.NoError(t, os.MkdirAll(dst, 0o755))
	for _, f := range []string{"model.onnx", "tokenizer.json", "config.json"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, f), b, 0o644))
	}
	svc := mlapi.New(cfg, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { assert.NoError(t, svc.Close()) })
	return svc.Handler(), func() { require.NoError(t, svc.Start(context.Background())) }
}
