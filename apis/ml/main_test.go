package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/apis/httpapi/httpapitest"
)

// process is the ml binary running as a child process.
type process struct {
	cmd    *exec.Cmd
	base   string
	exited chan error
	mu     sync.Mutex
	logs   bytes.Buffer
}

func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.Write(b)
}

func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// startBinary builds this command into a temporary folder and runs it on a
// free port with the fixture model and the extra environment, until ready.
func startBinary(t *testing.T, env ...string) *process {
	t.Helper()
	model := httpapitest.FixtureModel(t)
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to build the binary with")
	}
	bin := filepath.Join(t.TempDir(), "ml")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	require.NoError(t, ln.Close())

	p := &process{base: "http://127.0.0.1:" + port, exited: make(chan error, 1)}
	p.cmd = exec.Command(bin)
	p.cmd.Env = append(os.Environ(), append([]string{"PORT=" + port, "MODEL_DIR=" + model}, env...)...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	require.NoError(t, p.cmd.Start())
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("ml's output:\n%s", p.log())
		}
	})

	require.Eventually(t, func() bool { return p.get("/ready") == http.StatusOK }, 60*time.Second, 20*time.Millisecond, "ready")
	return p
}

// get returns the status of GET path, or 0 when the connection fails.
func (p *process) get(path string) int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(p.base + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// queueDepth reads mlready_queue_depth from /metrics; -1 if unreadable.
func (p *process) queueDepth() float64 {
	resp, err := http.Get(p.base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "mlready_queue_depth "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}

// analyzeBatch posts {"texts": texts} and returns the status and the
// number of answers, or the transport error.
func (p *process) analyzeBatch(texts []string) (int, int, error) {
	body, _ := json.Marshal(map[string][]string{"texts": texts})
	resp, err := http.Post(p.base+"/analyze", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, 0, err
	}
	var list []map[string]any
	_ = json.Unmarshal(raw, &list)
	return resp.StatusCode, len(list), nil
}

// longTexts are 32 texts long enough for the model's largest sequence
// bucket, so that a few requests of them keep the model busy for a while.
func longTexts() []string {
	texts := make([]string, 32)
	for i := range texts {
		texts[i] = strings.Repeat("The room was clean, the staff friendly and the breakfast wonderful. ", 8) + strconv.Itoa(i)
	}
	return texts
}

type batchAnswer struct {
	status, n int
	err       error
}

// TestSIGTERMDrainsAndExits sends the real signal to the real binary while
// requests are in flight: /ready turns 503 at once, new requests are turned
// away, every request already accepted is answered in full, and the process
// exits 0 within SHUTDOWN_GRACE.
func TestSIGTERMDrainsAndExits(t *testing.T) {
	// The 128 long texts take one worker about 8 s on this machine when it
	// is moderately busy (batches of 2, the long bucket's size), and over
	// 20 s when other labs share it; the grace is the bound the test
	// asserts, not how long it takes.
	const grace = 45 * time.Second
	// REQUEST_TIMEOUT past the grace period: on a busy machine the queued
	// work may take longer than the default 5 s, and a request that expires
	// in the queue is a 503 of its own, not what this test is about.
	p := startBinary(t, "SHUTDOWN_GRACE="+grace.String(), "REQUEST_TIMEOUT=1m", "BATCH_MAX=16", "INFERENCE_WORKERS=1")

	const inFlight = 4
	answers := make(chan batchAnswer, inFlight)
	for range inFlight {
		go func() {
			status, n, err := p.analyzeBatch(longTexts())
			answers <- batchAnswer{status, n, err}
		}()
	}
	// One worker takes 16 texts at a time: more than (inFlight-1)×32
	// texts queued means every request has been accepted.
	require.Eventually(t, func() bool { return p.queueDepth() > (inFlight-1)*32 }, 10*time.Second, time.Millisecond,
		"all %d requests are queued", inFlight)

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	signalled := time.Now()

	// At once means milliseconds (logged below); the bound is loose for a
	// machine busy with other tests.
	require.Eventually(t, func() bool { return p.get("/ready") == http.StatusServiceUnavailable },
		3*time.Second, 2*time.Millisecond, "/ready turns 503 at once")
	t.Logf("/ready answered 503 %s after SIGTERM", time.Since(signalled))
	status, _, err := p.analyzeBatch([]string{"too late"})
	if err == nil {
		assert.Equal(t, http.StatusServiceUnavailable, status, "a new request after SIGTERM")
	}

	// Every request accepted before the signal is answered in full.
	for range inFlight {
		a := <-answers
		require.NoError(t, a.err, "a request is never cut off")
		assert.Equal(t, http.StatusOK, a.status)
		assert.Equal(t, 32, a.n, "answered in full")
	}
	select {
	case err := <-p.exited:
		require.NoError(t, err, "exit status 0")
		t.Logf("exited %s after SIGTERM", time.Since(signalled))
		assert.Less(t, time.Since(signalled), grace)
	case <-time.After(grace + 5*time.Second):
		t.Fatalf("still running %s after SIGTERM", grace+5*time.Second)
	}
	assert.Zero(t, p.get("/live"), "nothing listens any more")
	assert.Contains(t, p.log(), `"msg":"shut down"`)
}

// TestSIGTERMGivesUpAfterTheGracePeriod: with more work in flight than the
// grace period allows, the process does not wait for it: it exits 1 soon
// after SHUTDOWN_GRACE.
func TestSIGTERMGivesUpAfterTheGracePeriod(t *testing.T) {
	const grace = 200 * time.Millisecond
	p := startBinary(t, "SHUTDOWN_GRACE="+grace.String(), "BATCH_MAX=16", "INFERENCE_WORKERS=1")
	for range 8 {
		go func() { _, _, _ = p.analyzeBatch(longTexts()) }()
	}
	require.Eventually(t, func() bool { return p.queueDepth() > 32 }, 10*time.Second, time.Millisecond, "work is queued")

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	signalled := time.Now()

	select {
	case err := <-p.exited:
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, 1, exit.ExitCode())
		assert.Less(t, time.Since(signalled), grace+5*time.Second)
	case <-time.After(grace + 10*time.Second):
		t.Fatal("the grace period did not bound the shutdown")
	}
	assert.Contains(t, p.log(), "still in flight after the grace period")
}
