package report_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/report"
)

// publishedSchema compiles the JSON Schema the repository publishes for
// reports.
func publishedSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path := filepath.Join("..", "..", filepath.FromSlash(report.SchemaFile))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource(path, doc))
	s, err := c.Compile(path)
	require.NoError(t, err)
	return s
}

// asJSON is v as a generic JSON value, the way a consumer decodes it.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var doc any
	require.NoError(t, json.Unmarshal(b, &doc))
	return doc
}

func sampleReport() *report.Report {
	ready := 2.25
	r := &report.Report{
		Schema: report.Schema, Lab: "ml-service-readiness", Target: "fixtures/forks/good", DurationSeconds: 61.5,
		Checks: []report.CheckResult{
			passed("readiness-delay", 20),
			func() report.CheckResult {
				c := failed("cold-start", 20)
				c.File = "ml/Dockerfile"
				c.Measured = []report.Measure{report.Measure{Name: "not_ready_answers", Value: 0, Unit: "count"}.Of(report.ML),
					{Name: "failed_after_serving", Value: 0, Unit: "count"}}
				c.Threshold = report.Threshold{Name: "min_not_ready_answers", Value: 3, Unit: "count", Direction: report.AtLeast, Min: 1, Max: 100}
				return c
			}(),
		},
		Timeline: []report.ServiceTimeline{{
			Role: "ml", Service: "ml-api", ReadySeconds: &ready,
			Phases: []report.Phase{{Name: "not listening", StartSeconds: 0, EndSeconds: 0.1}, {Name: "loading", StartSeconds: 0.1, EndSeconds: 2.25}, {Name: "ready", StartSeconds: 2.25, EndSeconds: 2.4}},
			Probes: []report.Probe{{AtSeconds: 0.05}, {AtSeconds: 0.1, Ready: 503, Analyze: 503, Live: 200, Health: 200, Phase: "loading"}, {AtSeconds: 2.25, Ready: 200, Analyze: 200, Live: 200, Health: 200, Phase: "ready"}},
		}, {
			Role: "traditional", Service: "traditional-api", Stopped: "the container exited with code 1",
			Phases: []report.Phase{}, Probes: []report.Probe{},
		}},
	}
	for i := range r.Checks {
		r.Checks[i].Measured = append([]report.Measure{}, r.Checks[i].Measured...)
	}
	r.Tally()
	return r
}

// TestReportsConformToPublishedSchema: what Go writes is what the published
// schema promises, for a report with and without a timeline or an error.
func TestReportsConformToPublishedSchema(t *testing.T) {
	s := publishedSchema(t)
	full := sampleReport()
	couldNotRun := &report.Report{Schema: report.Schema, Lab: "x", Target: "/abs/fork", Error: "image for service ml-api does not build",
		Checks: []report.CheckResult{func() report.CheckResult { c := failed("cold-start", 20); c.Measured = []report.Measure{}; return c }()}}
	couldNotRun.Tally()
	for name, r := range map[string]*report.Report{"full": full, "could not run": couldNotRun} {
		t.Run(name, func(t *testing.T) {
			assert.NoError(t, s.Validate(asJSON(t, r)))
		})
	}
}

// TestPublishedSchemaRejects: the schema is strict enough to catch a
// report that a consumer would misread.
func TestPublishedSchemaRejects(t *testing.T) {
	s := publishedSchema(t)
	tests := []struct {
		name   string
		change func(m map[string]any)
	}{
		{"no schema version", func(m map[string]any) { delete(m, "schema") }},
		{"another schema version", func(m map[string]any) { m["schema"] = "mlready/report/v2" }},
		{"an unknown top-level field", func(m map[string]any) { m["grade"] = "A" }},
		{"a fractional score", func(m map[string]any) { m["score"] = 20.5 }},
		{"a check without an id", func(m map[string]any) { delete(m["checks"].([]any)[0].(map[string]any), "id") }},
		{"a probe status out of range", func(m map[string]any) {
			m["timeline"].([]any)[0].(map[string]any)["probes"].([]any)[0].(map[string]any)["ready"] = 42
		}},
		{"a threshold without a direction", func(m map[string]any) {
			delete(m["checks"].([]any)[1].(map[string]any)["threshold"].(map[string]any), "direction")
		}},
		{"an unknown role", func(m map[string]any) { m["timeline"].([]any)[0].(map[string]any)["role"] = "gpu" }},
		{"a measure of an unknown API", func(m map[string]any) { measure(m, 0)["api"] = "gpu" }},
		{"a measure of an API without its quantity", func(m map[string]any) { delete(measure(m, 0), "quantity") }},
		{"a quantity without its API", func(m map[string]any) { measure(m, 1)["quantity"] = "p50" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := asJSON(t, sampleReport()).(map[string]any)
			tt.change(m)
			assert.Error(t, s.Validate(m))
		})
	}
}

// measure is the i-th measure of the sample report's second check.
func measure(m map[string]any, i int) map[string]any {
	return m["checks"].([]any)[1].(map[string]any)["measured"].([]any)[i].(map[string]any)
}
