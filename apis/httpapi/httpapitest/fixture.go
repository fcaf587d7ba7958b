package httpapitest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FixtureModelPath is the committed sst2-mini model, from the module root.
const FixtureModelPath = "fixtures/models/sst2-mini"

// FixtureModel returns the absolute path of the fixture model, found from
// the test's working folder up to the module root, and skips the test when
// the model is not there yet.
func FixtureModel(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err, "find the fixture model")
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "find the fixture model: no go.mod above the test's folder")
		dir = parent
	}
	model := filepath.Join(dir, FixtureModelPath)
	if _, err := os.Stat(filepath.Join(model, "model.onnx")); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("fixture model missing: %s/model.onnx does not exist (train it with %s/train.py)", FixtureModelPath, FixtureModelPath)
	}
	return model
}
