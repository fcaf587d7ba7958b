package labtest_test

import (
	"context"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest"
	"github.com/mlready/mlready/labtest/report"
	"github.com/mlready/mlready/labtest/stack"
)

// leftBehind lists what the run with this id left on the Docker engine:
// images, containers, volumes and networks carrying its label.
func leftBehind(t *testing.T, runID string) []string {
	t.Helper()
	require.NotEmpty(t, runID)
	c, err := client.New(client.FromEnv)
	require.NoError(t, err)
	defer c.Close()
	ctx := context.Background()
	f := make(client.Filters).Add("label", stack.LabelRun+"="+runID)
	var left []string
	images, err := c.ImageList(ctx, client.ImageListOptions{All: true, Filters: f})
	require.NoError(t, err)
	for _, i := range images.Items {
		left = append(left, "image "+strings.Join(i.RepoTags, ","))
	}
	containers, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	require.NoError(t, err)
	for _, x := range containers.Items {
		left = append(left, "container "+x.ID)
	}
	volumes, err := c.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	require.NoError(t, err)
	for _, v := range volumes.Items {
		left = append(left, "volume "+v.Name)
	}
	networks, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	require.NoError(t, err)
	for _, n := range networks.Items {
		left = append(left, "network "+n.Name)
	}
	return left
}

// grade runs every check of the lab (lab: a policy file, "" for the
// defaults) on dir, closes the session and returns the report and the
// run's id.
func grade(ctx context.Context, t *testing.T, dir, lab string) (*report.Report, string) {
	s, err := labtest.Open(ctx, labtest.Options{Dir: dir, SpecPath: lab, Logger: testLogger(t)})
	require.NoError(t, err)
	for _, id := range s.Checks() {
		s.RunCheck(ctx, id)
	}
	rep, runID := s.Report(), s.RunID()
	require.NoError(t, s.Close())
	return rep, runID
}

// TestHostilePrebuild grades a fork whose Makefile tries to write outside
// its folder, read the grader's home folder and reach the grader's machine
// over the network. None of it may happen on this machine, and the grade
// says why the build failed.
func TestHostilePrebuild(t *testing.T) {
	if testing.Short() {
		t.Skip("the pre-build runs in a container; skipped with -short")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	parent := t.TempDir()
	fork := filepath.Join(parent, "fork")
	require.NoError(t, os.CopyFS(fork, os.DirFS(filepath.Join("..", "fixtures", "forks", "escapes-prebuild"))))

	// The grader's home folder, with a secret in it.
	home := filepath.Join(parent, "home")
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".ssh"), 0o700))
	const secret = "the grader's private key"
	secretPath := filepath.Join(home, ".ssh", "id_rsa")
	require.NoError(t, os.WriteFile(secretPath, []byte(secret), 0o600))
	t.Setenv("HOME", home)

	// A port on every address of this machine that the fork may dial.
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
	port := ln.Addr().(*net.TCPAddr).Port
	targets := []string{secretPath}
	addrs, err := net.InterfaceAddrs()
	require.NoError(t, err)
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
			targets = append(targets, net.JoinHostPort(ipn.IP.String(), strconv.Itoa(port)))
		}
	}
	targets = append(targets, "host.docker.internal:"+strconv.Itoa(port), "1.1.1.1:53")
	require.NoError(t, os.WriteFile(filepath.Join(fork, "target.txt"), []byte(strings.Join(targets, " ")), 0o644))
	rep, runID := grade(ctx, t, fork, "")

	t.Log(rep.Error)
	assert.Contains(t, rep.Error, `pre-build "make binaries" failed`)
	assert.Contains(t, rep.Error, "no network", "the grade says the pre-build had no network")
	assert.Contains(t, rep.Error, "escape attempts done", "the grade shows the end of the pre-build's output")
	assert.Zero(t, rep.Score)
	for _, p := range []string{
		filepath.Join(parent, "escaped-by-make"), filepath.Join(parent, "escaped-by-go"),
		filepath.Join(home, "escaped-by-go"), "/escaped-by-go",
	} {
		assert.NoFileExists(t, p, "a write outside the folder reached this machine")
	}
	for _, p := range []string{"leaked.txt", "stolen-key.txt"} {
		b, _ := os.ReadFile(filepath.Join(fork, p))
		assert.NotContains(t, string(b), secret, "the pre-build read the grader's home folder")
	}
	assert.Zero(t, dialled.Load(), "the pre-build reached this machine over the network")
	assert.Empty(t, leftBehind(t, runID), "the run removes what it created")
}
