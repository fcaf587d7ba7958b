package mlapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/knights-analytics/hugot"
)

// requiredFiles must all be present for a cached model to count as complete.
var requiredFiles = []string{"model.onnx", "tokenizer.json", "config.json"}

// fetch returns the folder of model id under cacheDir, downloading it with
// hugot's downloader (which honours HF_ENDPOINT) when it is not there yet.
// A download lands in a temporary folder first and is renamed into place
// only once complete, so an interrupted one is never taken for a cached model.
func fetch(ctx context.Context, id, cacheDir string) (dir string, downloaded bool, err error) {
	if cacheDir == "" {
		return "", false, errors.New("MODEL_CACHE is not set: a downloaded model needs a cache folder")
	}
	final := filepath.Join(cacheDir, strings.ReplaceAll(id, "/", "_"))
	if complete(final) {
		return final, false, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", false, fmt.Errorf("create model cache %s: %w", cacheDir, err)
	}
	tmp, err := os.MkdirTemp(cacheDir, ".partial-")
	if err != nil {
		return "", false, fmt.Errorf("create download folder in %s: %w", cacheDir, err)
	}
	defer os.RemoveAll(tmp)

	// hugot's downloader keeps its own copy under $XDG_CACHE_HOME and takes
	// a file it finds there for complete, even one cut short by a dropped
	// connection. Pointing it into the temporary folder means every download
	// starts clean and leaves nothing behind. It is the only way to set it.
	os.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "hf"))
	opts := hugot.NewDownloadOptions()
	opts.MaxRetries = 2
	opts.RetryInterval = 1
	type result struct {
		path string
		err  error
	}
	done := make(chan result, 1)
	// hugot's downloader takes no context; on cancellation it is left to
	// finish into the temporary folder, which is then removed.
	go func() {
		p, err := hugot.DownloadModel(id, tmp, opts)
		done <- result{p, err}
	}()
	var res result
	select {
	case <-ctx.Done():
		return "", false, fmt.Errorf("download %s: %w", id, ctx.Err())
	case res = <-done:
	}
	if res.err != nil {
		return "", false, fmt.Errorf("download %s from %s: %w", id, hubEndpoint(), res.err)
	}
	if !complete(res.path) {
		return "", false, fmt.Errorf("download %s: model folder lacks one of %v", id, requiredFiles)
	}
	// Anything at final is an incomplete copy (complete said so above), and
	// rename cannot replace a folder that is not empty: it goes first.
	if err := os.RemoveAll(final); err != nil {
		return "", false, fmt.Errorf("remove incomplete cached model %s: %w", final, err)
	}
	if err := os.Rename(res.path, final); err != nil {
		return "", false, fmt.Errorf("move downloaded model into cache: %w", err)
	}
	return final, true, nil
}

func complete(dir string) bool {
	for _, f := range requiredFiles {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			return false
		}
	}
	return true
}

func hubEndpoint() string {
	if e := os.Getenv("HF_ENDPOINT"); e != "" {
		return e
	}
	return "https://huggingface.co"
}
