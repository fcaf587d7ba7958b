package stack

import (
	"bytes"
	"context"
	"debug/elf"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Prebuild is a fork's pre-build command, run by RunPrebuild in a container
// rather than on the grader's machine.
type Prebuild struct {
	// Command runs with sh -c.
	Command string
	// Root is the folder mounted into the container, read-write, at its
	// own path: the graded folder, or a folder above it when the policy
	// lets build contexts lie outside it.
	Root string
	// Dir is where Command runs: the graded folder, within Root.
	Dir string
	// Timeout ends the build, killing every process in the container.
	Timeout time.Duration
}

// builderTools are the programs the builder image carries besides Go: a
// shell and make, for the default pre-build (make binaries), and the few
// programs Makefiles use most. They come from this machine with the
// libraries they load, since no image can be pulled; a missing one is
// left out.
var builderTools = []string{"sh", "make", "mkdir", "cp", "rm", "mv", "cat", "echo", "ls", "touch", "env", "test", "true", "false", "sed", "grep", "tr", "chmod", "ln", "dirname", "basename", "uname", "head", "tail", "install", "chown", "find", "xargs", "wc", "sort", "printf", "id", "pwd", "date", "sleep"}

// The folders inside the builder container. Go comes from this machine's
// GOROOT, mounted read-only rather than copied into the image (270 MB).
const (
	builderGoroot   = "/usr/local/go"
	builderModcache = "/gomodcache"
	builderGocache  = "/gocache"
	builderHome     = "/home/builder"
	builderSeed     = "/gocache-host"
)

// RunPrebuild runs p in a container: the folder mounted, no network, the
// module cache read-only with GOPROXY=off, the same limits as the services,
// as this machine's user, so that what it writes in the folder is the
// grader's. Nothing else of this machine is reachable: not its home folder,
// not its other files, not its Docker engine. It returns the command's
// output, and an error saying why it failed.
func (st *Stack) RunPrebuild(ctx context.Context, p Prebuild, logs io.Writer) error {
	goroot, modcache, gocache, err := hostGo(ctx)
	if err != nil {
		return err
	}
	image, err := st.builderImage(ctx)
	if err != nil {
		return err
	}
	cache, err := st.ensureVolume(ctx, Service{Name: "prebuild"}, 0, Volume{Name: "prebuild-gocache"})
	if err != nil {
		return err
	}
	env := []string{
		"PATH=" + builderGoroot + "/bin:/bin",
		"HOME=" + builderHome, "TMPDIR=/tmp",
		"GOROOT=" + builderGoroot, "GOMODCACHE=" + builderModcache, "GOCACHE=" + builderGocache,
		"GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOTOOLCHAIN=local", "GOTELEMETRY=off",
		"CGO_ENABLED=0", "GOOS=linux",
	}
	mounts := []mount.Mount{
		{Type: mount.TypeBind, Source: p.Root, Target: p.Root},
		{Type: mount.TypeBind, Source: goroot, Target: builderGoroot, ReadOnly: true},
		{Type: mount.TypeBind, Source: modcache, Target: builderModcache, ReadOnly: true},
		{Type: mount.TypeVolume, Source: cache, Target: builderGocache},
	}
	if gocache != "" {
		// The grader's build cache, read-only, behind a cache program
		// that writes new entries to the run's volume.
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: gocache, Target: builderSeed, ReadOnly: true})
		env = append(env, "GOCACHEPROG=/bin/gocacheprog "+builderSeed+" "+builderGocache+"/prog")
	}
	user := strconv.Itoa(os.Getuid()) + ":" + strconv.Itoa(os.Getgid())
	req := testcontainers.ContainerRequest{
		Image:      image,
		Entrypoint: []string{"/bin/sh", "-c", p.Command},
		Labels:     map[string]string{LabelRun: st.runID, "org.mlready.prebuild": "true"},
		ConfigModifier: func(c *container.Config) {
			c.Env = env
			c.WorkingDir = p.Dir
			c.User = user
		},
		HostConfigModifier: func(hc *container.HostConfig) {
			st.limit(hc)
			hc.NetworkMode = "none"
			hc.Mounts = mounts
			// exec: go run and go test run what they build from /tmp.
			hc.Tmpfs = map[string]string{"/tmp": "rw,exec,size=512m,mode=1777", builderHome: "rw,size=64m,mode=1777"}
		},
	}
	c, err := st.provider.CreateContainer(ctx, req)
	if c != nil {
		defer func() {
			tctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = c.Terminate(tctx, testcontainers.StopTimeout(0))
		}()
	}
	if err != nil {
		return fmt.Errorf("create the pre-build container: %w", err)
	}
	if err := st.chownVolume(ctx, image, cache, user); err != nil {
		return err
	}
	if err := c.Start(ctx); err != nil {
		return fmt.Errorf("start the pre-build container: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	res := st.client.ContainerWait(wctx, c.GetContainerID(), client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	var code int64 = -1
	var waitErr error
	select {
	case r := <-res.Result:
		code = r.StatusCode
	case waitErr = <-res.Error:
	case <-wctx.Done():
		waitErr = wctx.Err()
	}
	timedOut := errors.Is(wctx.Err(), context.DeadlineExceeded)
	if waitErr != nil {
		// Killing the container ends every process the build started.
		kctx, kcancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _ = st.client.ContainerKill(kctx, c.GetContainerID(), client.ContainerKillOptions{})
		kcancel()
	}
	out := st.output(c.GetContainerID())
	if logs != nil {
		_, _ = logs.Write(out)
	}
	switch {
	case timedOut:
		return fmt.Errorf("pre-build %q did not finish within %s: it was stopped: %s", p.Command, p.Timeout, lastLines(string(out), 8))
	case ctx.Err() != nil:
		return fmt.Errorf("pre-build cancelled: %w", ctx.Err())
	case waitErr != nil:
		return fmt.Errorf("pre-build %q: wait for its container: %w", p.Command, waitErr)
	case code != 0:
		return fmt.Errorf("pre-build %q failed (exit code %d; it runs in a container with no network, the folder %s mounted and nothing else of the grader's machine)%s: %s",
			p.Command, code, p.Root, missingModules(string(out)), lastLines(string(out), 8))
	}
	return nil
}

// output is what the container wrote, both streams, up to 1 MiB.
func (st *Stack) output(id string) []byte {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := st.client.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return nil
	}
	defer rc.Close()
	var b bytes.Buffer
	_, _ = stdcopy.StdCopy(&b, &b, io.LimitReader(rc, 1<<20))
	return b.Bytes()
}

// chownVolume gives the pre-build's cache volume, which the engine creates
// for root, to user, in a short-lived container of the builder image that
// runs nothing of the fork's.
func (st *Stack) chownVolume(ctx context.Context, image, volume, user string) error {
	uid, gid, _ := strings.Cut(user, ":")
	c, err := st.provider.CreateContainer(ctx, testcontainers.ContainerRequest{
		Image:      image,
		Entrypoint: []string{"/bin/sh", "-c", "chown " + uid + ":" + gid + " " + builderGocache},
		Labels:     map[string]string{LabelRun: st.runID},
		HostConfigModifier: func(hc *container.HostConfig) {
			hc.NetworkMode = "none"
			hc.CapDrop = []string{"ALL"}
			hc.CapAdd = []string{"CHOWN"}
			hc.ReadonlyRootfs = true
			hc.Mounts = []mount.Mount{{Type: mount.TypeVolume, Source: volume, Target: builderGocache}}
		},
	})
	if c != nil {
		defer func() { _ = c.Terminate(context.Background()) }()
	}
	if err != nil {
		return fmt.Errorf("prepare the pre-build's cache: %w", err)
	}
	if err := c.Start(ctx); err != nil {
		return fmt.Errorf("prepare the pre-build's cache: %w", err)
	}
	res := st.client.ContainerWait(ctx, c.GetContainerID(), client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case r := <-res.Result:
		if r.StatusCode != 0 {
			return fmt.Errorf("prepare the pre-build's cache: exit code %d: %s", r.StatusCode, lastLines(string(st.output(c.GetContainerID())), 3))
		}
	case err := <-res.Error:
		return fmt.Errorf("prepare the pre-build's cache: %w", err)
	}
	return nil
}

// missingModule matches how the go command says it lacks a module: with
// the module cache mounted read-only it announces the download, then fails
// to create the download folder.
var missingModule = regexp.MustCompile(`go: downloading (\S+) (v\S+)|([^\s:]+@[^\s:]+): module lookup disabled by GOPROXY=off|cannot find module providing package ([^\s:]+)`)

// missingModules names the modules a failed build could not find, with
// the reason: the pre-build has only the grader's module cache.
func missingModules(out string) string {
	var names []string
	seen := map[string]bool{}
	for _, m := range missingModule.FindAllStringSubmatch(out, -1) {
		n := m[3] + m[4]
		if m[1] != "" {
			n = m[1] + "@" + m[2]
		}
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return "; it needs module " + strings.Join(names, ", ") + ", which is not in the grader's Go module cache (the pre-build cannot download: no network, GOPROXY=off)"
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// hostGo finds this machine's Go toolchain, module cache and build cache.
func hostGo(ctx context.Context) (goroot, modcache, gocache string, err error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOROOT", "GOMODCACHE", "GOCACHE").Output()
	if err != nil {
		return "", "", "", fmt.Errorf("find Go for the pre-build (the lab needs Go on PATH): %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 || lines[0] == "" || lines[1] == "" {
		return "", "", "", fmt.Errorf("find Go for the pre-build: go env printed %q", out)
	}
	if err := os.MkdirAll(lines[1], 0o755); err != nil {
		return "", "", "", fmt.Errorf("find Go's module cache: %w", err)
	}
	if lines[2] == "off" || !filepath.IsAbs(lines[2]) {
		lines[2] = ""
	}
	return lines[0], lines[1], lines[2], nil
}

// builderImage builds, once per stack, a FROM scratch image with a shell,
// make and a few tools copied from this machine with the libraries they
// load. Go is not in it: RunPrebuild mounts this machine's GOROOT, whose
// go command is static.
func (st *Stack) builderImage(ctx context.Context) (string, error) {
	st.mu.Lock()
	img := st.builder
	st.mu.Unlock()
	if img != "" {
		return img, nil
	}
	dir, err := os.MkdirTemp("", "mlready-builder-")
	if err != nil {
		return "", fmt.Errorf("build the pre-build image: %w", err)
	}
	defer os.RemoveAll(dir)
	root := filepath.Join(dir, "root")
	copied := map[string]bool{}
	var haveShell bool
	for _, tool := range builderTools {
		path, err := exec.LookPath(tool)
		if err != nil {
			continue
		}
		if err := copyWithLibs(root, path, "/bin/"+tool, copied); err != nil {
			return "", fmt.Errorf("build the pre-build image: copy %s: %w", tool, err)
		}
		haveShell = haveShell || tool == "sh"
	}
	if !haveShell {
		return "", fmt.Errorf("build the pre-build image: this machine has no sh to copy into it")
	}
	if err := goBuildStatic(ctx, cacheprogSource, filepath.Join(root, "bin", "gocacheprog")); err != nil {
		return "", fmt.Errorf("build the pre-build image: gocacheprog: %w", err)
	}
	for name, content := range map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nbuilder:x:" + strconv.Itoa(os.Getuid()) + ":" + strconv.Itoa(os.Getgid()) + ":builder:" + builderHome + ":/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
		"etc/group":  "root:x:0:\nbuilder:x:" + strconv.Itoa(os.Getgid()) + ":\n",
		"tmp/.keep":  "",
	} {
		if err := writeFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			return "", fmt.Errorf("build the pre-build image: %w", err)
		}
	}
	for _, d := range []string{builderGoroot, builderModcache, builderGocache, builderHome, builderSeed} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return "", fmt.Errorf("build the pre-build image: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY root/ /\n"), 0o644); err != nil {
		return "", fmt.Errorf("build the pre-build image: %w", err)
	}
	tag, err := st.buildTool(ctx, dir, "builder")
	if err != nil {
		return "", err
	}
	st.mu.Lock()
	st.builder = tag
	st.mu.Unlock()
	return tag, nil
}

//go:embed cacheprog/main.go
var cacheprogSource []byte

// libDirs are where copyWithLibs looks for the libraries a program loads.
var libDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}

// copyWithLibs copies the program at path to dest under root, and the
// dynamic loader and libraries it needs, each at the path it is loaded
// from.
func copyWithLibs(root, path, dest string, copied map[string]bool) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(real)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(root, dest), b, 0o755); err != nil {
		return err
	}
	copied[dest] = true
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil // a script: it brings no libraries
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			interp := make([]byte, p.Filesz)
			if _, err := p.ReadAt(interp, 0); err == nil {
				ld := strings.TrimRight(string(interp), "\x00")
				if !copied[ld] {
					if err := copyWithLibs(root, ld, ld, copied); err != nil {
						return fmt.Errorf("loader %s: %w", ld, err)
					}
				}
			}
		}
	}
	libs, _ := f.ImportedLibraries()
	for _, lib := range libs {
		found := ""
		for _, d := range libDirs {
			if _, err := os.Stat(filepath.Join(d, lib)); err == nil {
				found = filepath.Join(d, lib)
				break
			}
		}
		if found == "" {
			return fmt.Errorf("library %s not found", lib)
		}
		if copied[found] {
			continue
		}
		if err := copyWithLibs(root, found, found, copied); err != nil {
			return fmt.Errorf("library %s: %w", lib, err)
		}
	}
	return nil
}

func writeFile(path string, b []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, mode)
}
