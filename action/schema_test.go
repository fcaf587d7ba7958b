package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/report"
)

// requireConforms checks a written report against the JSON Schema the
// repository publishes for it.
func requireConforms(t *testing.T, doc []byte) {
	t.Helper()
	path := filepath.Join("..", filepath.FromSlash(report.SchemaFile))
	c := jsonschema.NewCompiler()
	s, err := c.Compile(path)
	require.NoError(t, err)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	require.NoError(t, err)
	require.NoError(t, s.Validate(v), "the report conforms to %s", report.SchemaFile)
}
