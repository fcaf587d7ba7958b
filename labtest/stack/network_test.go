package stack_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/stack"
)

// probeSource dials each address of $TARGETS once, then serves what
// happened on :8000.
const probeSource = `package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	var report strings.Builder
	for _, addr := range strings.Split(os.Getenv("TARGETS"), ",") {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err == nil {
			c.Close()
			fmt.Fprintf(&report, "%s connected\n", addr)
			continue
		}
		fmt.Fprintf(&report, "%s failed: %v\n", addr, err)
	}
	http.ListenAndServe(":8000", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, report.String())
	}))
}
`

// TestLabNetworkHasNoRouteOut starts two services on a lab network: one
// reaches the other by its service name, and neither this machine (on any
// of its addresses) nor the internet. The lab still reaches both through
// their relays, and Close leaves nothing behind.
func TestLabNetworkHasNoRouteOut(t *testing.T) {
	if testing.Short() {
		t.Skip("starts containers; skipped with -short")
	}
	ctx := context.Background()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(probeSource), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module probe\n\ngo 1.24\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY probe /probe\nENTRYPOINT [\"/probe\"]\n"), 0o644))
	build := exec.Command("go", "build", "-o", "probe", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOWORK=off")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	// A port on every address of this machine.
	ln, err := net.Listen("tcp", ":0")
	require.NoError(t, err)
	defer ln.Close()
	var dialled atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dialled.Add(1)
			c.Close()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	var outside []string
	addrs, err := net.InterfaceAddrs()
	require.NoError(t, err)
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
			outside = append(outside, net.JoinHostPort(ipn.IP.String(), port))
		}
	}
	outside = append(outside, "host.docker.internal:"+port, "1.1.1.1:53", "8.8.8.8:443")

	st, err := stack.New(ctx, stack.Limits{MemoryBytes: 256 << 20, PIDs: 64, CPUs: 1})
	require.NoError(t, err)
	runID := st.RunID()
	closed := false
	defer func() {
		if !closed {
			st.Close()
		}
	}()
	img, err := st.ImageFor(ctx, stack.Service{Name: "probe", Context: dir, Dockerfile: "Dockerfile"}, io.Discard)
	require.NoError(t, err)
	peer, err := st.Start(ctx, stack.Service{Name: "peer", Port: 8000, Env: map[string]string{"TARGETS": "127.0.0.1:1"}}, img)
	require.NoError(t, err)
	require.NoError(t, peer.WaitListening(ctx, 30*time.Second))
	probe, err := st.Start(ctx, stack.Service{Name: "probe", Port: 8000, Env: map[string]string{"TARGETS": strings.Join(append([]string{"peer:8000"}, outside...), ",")}}, img)
	require.NoError(t, err)

	report := get(t, probe.URL)
	t.Log("\n" + report)
	assert.Contains(t, report, "peer:8000 connected", "services reach each other by service name")
	for _, addr := range outside {
		assert.Contains(t, report, addr+" failed", "a service reached %s, outside the lab network", addr)
	}
	assert.Zero(t, dialled.Load(), "a service reached this machine")

	closed = true
	require.NoError(t, st.Close())
	c, err := client.New(client.FromEnv)
	require.NoError(t, err)
	defer c.Close()
	f := make(client.Filters).Add("label", stack.LabelRun+"="+runID)
	images, err := c.ImageList(ctx, client.ImageListOptions{All: true, Filters: f})
	require.NoError(t, err)
	assert.Empty(t, images.Items, "images left behind")
	containers, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	require.NoError(t, err)
	assert.Empty(t, containers.Items, "containers left behind")
	networks, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	require.NoError(t, err)
	assert.Empty(t, networks.Items, "networks left behind")
}

// get returns the body of url once the service answers, within 30 s.
func get(t *testing.T, url string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(url)
		if err == nil {
			b, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err == nil && res.StatusCode == http.StatusOK {
				return string(b)
			}
		}
		require.True(t, time.Now().Before(deadline), "no answer from %s: %v", url, err)
		time.Sleep(100 * time.Millisecond)
	}
}
