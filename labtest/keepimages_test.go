package labtest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/stack"
)

// TestKeepImages grades (builds the image of) three forks one after the
// other with -keep-images 2: the two newest images stay, the oldest goes.
// It holds the machine's lab lock, since kept images are counted machine
// wide.
func TestKeepImages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds images; skipped with -short")
	}
	ctx := context.Background()
	lock, err := lockMachine(ctx, nil)
	require.NoError(t, err)
	defer lock.release()
	c, err := client.New(client.FromEnv)
	require.NoError(t, err)
	defer c.Close()
	forkImages := func() []string {
		res, err := c.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("label", stack.LabelImage+"=fork")})
		require.NoError(t, err)
		var tags []string
		for _, i := range res.Items {
			tags = append(tags, i.RepoTags...)
		}
		return tags
	}
	require.Empty(t, forkImages(), "no kept fork image before the test")

	var built []string
	for i, name := range []string{"first", "second", "third"} {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY x /x\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "x"), []byte(name), 0o644))
		st, err := stack.New(ctx, stack.Limits{}, stack.WithKeepImages(2))
		require.NoError(t, err)
		tag, err := st.ImageFor(ctx, stack.Service{Name: "keep-" + name, Context: dir, Dockerfile: "Dockerfile"}, io.Discard)
		require.NoError(t, err, "build %d", i)
		built = append(built, tag)
		require.NoError(t, st.Close())
	}
	t.Cleanup(func() {
		for _, tag := range built {
			_, _ = c.ImageRemove(context.Background(), tag, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		}
	})

	assert.ElementsMatch(t, built[1:], forkImages(), "the two newest are kept")
}
