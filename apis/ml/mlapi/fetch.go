package mlapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/knights-analytics/hugot"
)

// requiredFiles must all be present for a cached model to count as complete.
var requiredFiles = []string{"model.onnx", "tokenizer.json", "config.json"}

// fetch returns the folder of model id under cacheDir, downloading it from
// the hub at endpoint with hugot's downloader when it is not there yet.
// A download lands in a temporary folder first and is renamed into place
// only once complete, so an interrupted one is never taken for a cached model.
func fetch(ctx context.Context, endpoint, id, cacheDir string) (dir string, downloaded bool, err error) {
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

	if err := pointHugotAt(endpoint, filepath.Join(tmp, "hf")); err != nil {
		return "", false, fmt.Errorf("download %s: %w", id, err)
	}
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
		return "", false, fmt.Errorf("download %s from %s: %w", id, endpoint, res.err)
	}
	if !complete(res.path) {
		return "", false, fmt.Errorf("download %s: model folder lacks one of %v", id, requiredFiles)
	}
	if err := verify(ctx, endpoint, id, res.path); err != nil {
		return "", false, fmt.Errorf("download %s from %s: %w", id, endpoint, err)
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

// pointHugotAt is the one place the ML API writes the process's
// environment, because hugot's downloader (go-huggingface's hub.New) reads
// its settings from there and takes no others: HF_ENDPOINT, the hub, from
// the API's own settings (so that an injected getenv is what counts), and
// XDG_CACHE_HOME, the downloader's own cache. That cache keeps a copy of
// every file and takes a file it finds there for complete, even one cut
// short by a dropped connection; pointing it into the download's temporary
// folder means every download starts clean and leaves nothing behind. The
// process downloads one model, once, so nothing else reads them meanwhile.
func pointHugotAt(endpoint, cacheHome string) error {
	if err := os.Setenv("HF_ENDPOINT", endpoint); err != nil {
		return fmt.Errorf("point the downloader at %s: %w", endpoint, err)
	}
	if err := os.Setenv("XDG_CACHE_HOME", cacheHome); err != nil {
		return fmt.Errorf("point the downloader's cache at %s: %w", cacheHome, err)
	}
	return nil
}

// verify checks each required file of a download against the size and, for
// files stored in LFS, the sha256 that the hub gives when asked with HEAD
// (as huggingface_hub does). hugot's downloader takes a file cut short by a
// dropped connection for complete; this is what catches it.
func verify(ctx context.Context, endpoint, id, dir string) error {
	c := &http.Client{
		Timeout: 30 * time.Second,
		// The real hub redirects LFS files to a CDN and gives their size
		// and hash on the redirect itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, name := range requiredFiles {
		want, err := hubFile(ctx, c, endpoint, id, name)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, name)
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		if want.size >= 0 && st.Size() != want.size {
			return fmt.Errorf("%s is %d bytes, the hub says %d: the download was cut short", name, st.Size(), want.size)
		}
		if want.sha256 == "" {
			continue
		}
		got, err := sha256Of(path)
		if err != nil {
			return err
		}
		if got != want.sha256 {
			return fmt.Errorf("%s has sha256 %s, the hub says %s: the download is corrupt", name, got, want.sha256)
		}
	}
	return nil
}

// fileInfo is what the hub says of one file; size is -1 and sha256 empty
// when it does not say.
type fileInfo struct {
	size   int64
	sha256 string
}

func hubFile(ctx context.Context, c *http.Client, endpoint, id, name string) (fileInfo, error) {
	url := strings.TrimRight(endpoint, "/") + "/" + id + "/resolve/main/" + name
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return fileInfo{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return fileInfo{}, fmt.Errorf("check %s: %w", name, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fileInfo{}, fmt.Errorf("check %s: the hub answered HEAD %s with %s", name, url, resp.Status)
	}
	info := fileInfo{size: -1}
	size := resp.Header.Get("X-Linked-Size")
	if size == "" && resp.StatusCode == http.StatusOK {
		size = resp.Header.Get("Content-Length")
	}
	if n, err := strconv.ParseInt(size, 10, 64); err == nil {
		info.size = n
	}
	etag := resp.Header.Get("X-Linked-Etag")
	if etag == "" {
		etag = resp.Header.Get("ETag")
	}
	// A 64-hex ETag is the sha256 of an LFS file; a git blob's is 40 hex.
	etag = strings.Trim(strings.TrimPrefix(etag, "W/"), `"`)
	if b, err := hex.DecodeString(etag); err == nil && len(b) == sha256.Size {
		info.sha256 = strings.ToLower(etag)
	}
	return info, nil
}

func sha256Of(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
