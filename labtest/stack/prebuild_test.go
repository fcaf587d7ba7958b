package stack_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/stack"
)

// TestPrebuildMissingModule: a pre-build needs a module that is not in the
// grader's module cache; it cannot download it (no network, GOPROXY=off),
// and the error names the module.
func TestPrebuildMissingModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a container; skipped with -short")
	}
	ctx := context.Background()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"go.mod":  "module fork\n\ngo 1.24\n\nrequire example.com/nowhere v1.0.0\n",
		"main.go": "package main\n\nimport _ \"example.com/nowhere\"\n\nfunc main() {}\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	st, err := stack.New(ctx, stack.Limits{MemoryBytes: 1 << 30, PIDs: 256, CPUs: 2})
	require.NoError(t, err)
	defer st.Close()

	err = st.RunPrebuild(ctx, stack.Prebuild{Command: "go build -o bin/fork .", Root: dir, Dir: dir, Timeout: 2 * time.Minute}, io.Discard)

	require.Error(t, err)
	t.Log(err)
	assert.Contains(t, err.Error(), "it needs module example.com/nowhere@v1.0.0, which is not in the grader's Go module cache")
	assert.NoFileExists(t, filepath.Join(dir, "bin", "fork"))
}

// TestPrebuildTimeLimit: a pre-build that never ends is stopped at its time
// limit, every process of it, and the error says so.
func TestPrebuildTimeLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a container; skipped with -short")
	}
	ctx := context.Background()
	dir := t.TempDir()
	st, err := stack.New(ctx, stack.Limits{MemoryBytes: 256 << 20, PIDs: 64, CPUs: 1})
	require.NoError(t, err)
	defer st.Close()

	start := time.Now()
	err = st.RunPrebuild(ctx, stack.Prebuild{Command: "sleep 600 & sleep 600; echo never > done.txt", Root: dir, Dir: dir, Timeout: 3 * time.Second}, io.Discard)

	require.Error(t, err)
	assert.Contains(t, err.Error(), "did not finish within 3s: it was stopped")
	assert.Less(t, time.Since(start), time.Minute)
	assert.NoFileExists(t, filepath.Join(dir, "done.txt"))
}
