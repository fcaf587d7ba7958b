package stack

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// LabelImage marks images the lab built: "fork" for a graded fork's,
// "tool" for the lab's own (relay, builder).
const LabelImage = "org.mlready.image"

// labelBuilt orders kept images: when the lab built each, in nanoseconds.
const labelBuilt = "org.mlready.built"

// Option changes how a Stack treats what it creates.
type Option func(*Stack)

// WithKeepImages keeps the images built for graded forks after the run, at
// most n of them on the machine, the oldest removed first. 0 (the default)
// removes every image a run built.
func WithKeepImages(n int) Option {
	return func(st *Stack) { st.keepImages = n }
}

// ensureVolume creates the Docker volume for the i-th volume of s: one per
// compose volume name for the whole run, so that services naming the same
// volume share it, as in compose; an anonymous volume is the service's own.
func (st *Stack) ensureVolume(ctx context.Context, s Service, i int, v Volume) (string, error) {
	name := "mlready-" + st.runID + "-" + sanitize(v.Name)
	if v.Name == "" {
		name = "mlready-" + st.runID + "-" + sanitize(s.Name) + "-anon" + strconv.Itoa(i)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.volumes[name] {
		return name, nil
	}
	if _, err := st.client.VolumeCreate(ctx, client.VolumeCreateOptions{Name: name, Labels: map[string]string{LabelRun: st.runID}}); err != nil {
		return "", fmt.Errorf("create volume %s for service %s: %w", v.Name, s.Name, err)
	}
	st.volumes[name] = true
	return name, nil
}

//go:embed relay/main.go
var relaySource []byte

// relayTo starts a relay container that forwards a published port on this
// machine to s's port on the lab network, and returns the URL the lab
// reaches s by. The relay is on the engine's default bridge, whose ports
// Docker publishes, and on the lab network, which has no route out: the
// service cannot use it to reach anything but itself. It finds s's
// container by its own name on the lab network (host), not the service's,
// which all replicas share; per connection, so it can start before s does:
// until s listens, a connection is accepted and closed at once, as Docker's
// own port proxy does.
func (st *Stack) relayTo(ctx context.Context, s Service, host, labNetwork string) (string, error) {
	image, err := st.relayImage(ctx)
	if err != nil {
		return "", err
	}
	target := net.JoinHostPort(host, strconv.Itoa(s.Port))
	port := strconv.Itoa(s.Port) + "/tcp"
	req := testcontainers.ContainerRequest{
		Image:        image,
		Cmd:          []string{strconv.Itoa(s.Port), target},
		ExposedPorts: []string{port},
		Labels:       map[string]string{LabelRun: st.runID, "org.mlready.relay": s.Name},
		Networks:     []string{"bridge", labNetwork},
		HostConfigModifier: func(hc *container.HostConfig) {
			hc.Memory = 64 << 20
			pids := int64(64)
			hc.PidsLimit = &pids
			hc.ReadonlyRootfs = true
			hc.CapDrop = []string{"ALL"}
			hc.SecurityOpt = []string{"no-new-privileges:true"}
		},
	}
	c, err := st.provider.CreateContainer(ctx, req)
	if c != nil {
		st.mu.Lock()
		st.relays = append(st.relays, c)
		st.mu.Unlock()
	}
	if err != nil {
		return "", fmt.Errorf("create relay for service %s: %w", s.Name, err)
	}
	if err := c.Start(ctx); err != nil {
		return "", fmt.Errorf("start relay for service %s: %w", s.Name, err)
	}
	relayHost, err := st.publishedHost()
	if err != nil {
		return "", fmt.Errorf("relay for service %s: %w", s.Name, err)
	}
	p, err := c.MappedPort(ctx, port)
	if err != nil {
		return "", fmt.Errorf("relay for service %s: find the host port of container port %d: %w", s.Name, s.Port, err)
	}
	return "http://" + net.JoinHostPort(relayHost, strconv.Itoa(int(p.Num()))), nil
}

// Prepare makes, ahead of the first Start, what every service's start
// needs: the lab network and the relay's image. A lab calls it while the
// services' images build, so that the first Start does not wait for them.
func (st *Stack) Prepare(ctx context.Context) error {
	if _, err := st.ensureNetwork(ctx); err != nil {
		return err
	}
	_, err := st.relayImage(ctx)
	return err
}

// relayImage builds the relay's image once per stack: a static binary of
// relay/main.go, the lab's own code, built with this machine's Go.
func (st *Stack) relayImage(ctx context.Context) (string, error) {
	st.mu.Lock()
	img := st.relay
	st.mu.Unlock()
	if img != "" {
		return img, nil
	}
	dir, err := os.MkdirTemp("", "mlready-relay-")
	if err != nil {
		return "", fmt.Errorf("build relay: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := goBuildStatic(ctx, relaySource, filepath.Join(dir, "relay")); err != nil {
		return "", fmt.Errorf("build relay: %w", err)
	}
	dockerfile := "FROM scratch\nCOPY relay /relay\nUSER 65534:65534\nENTRYPOINT [\"/relay\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return "", fmt.Errorf("build relay: %w", err)
	}
	tag, err := st.buildTool(ctx, dir, "relay")
	if err != nil {
		return "", err
	}
	st.mu.Lock()
	st.relay = tag
	st.mu.Unlock()
	return tag, nil
}

// goBuildStatic builds a one-file, standard-library-only program of the
// lab's own into a static Linux binary at out, with this machine's Go.
func goBuildStatic(ctx context.Context, source []byte, out string) error {
	dir, err := os.MkdirTemp("", "mlready-src-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for name, content := range map[string][]byte{"main.go": source, "go.mod": []byte("module mlreadytool\n\ngo 1.24\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			return err
		}
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOWORK=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build (the lab needs Go on PATH): %v: %s", err, strings.TrimSpace(string(b)))
	}
	return nil
}

// buildTool builds an image of the lab's own from dir and records it for
// removal when the stack closes.
func (st *Stack) buildTool(ctx context.Context, dir, name string) (string, error) {
	req := testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		Context: dir, Repo: "mlready-lab/" + name, Tag: st.runID, KeepImage: true, BuildLogWriter: io.Discard,
		BuildOptionsModifier: func(o *client.ImageBuildOptions) {
			o.NetworkMode = "none"
			o.Remove = true
			o.ForceRemove = true
			o.Labels = map[string]string{LabelImage: "tool", LabelRun: st.runID}
		},
	}}
	tag, err := st.provider.BuildImage(ctx, &req)
	if err != nil {
		return "", fmt.Errorf("build the lab's %s image: %s", name, buildCause(err))
	}
	st.mu.Lock()
	st.tools = append(st.tools, tag)
	st.mu.Unlock()
	return tag, nil
}

// removeImages removes the lab's tool images and the fork images of this
// run, or, when images are kept, the oldest fork images beyond the number
// kept. The caller holds st.mu.
func (st *Stack) removeImages(ctx context.Context) error {
	var errs []error
	remove := func(ref string) {
		_, err := st.client.ImageRemove(ctx, ref, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		if err != nil && !strings.Contains(err.Error(), "No such image") {
			errs = append(errs, fmt.Errorf("remove image %s: %w", ref, err))
		}
	}
	for _, t := range st.tools {
		remove(t)
	}
	st.tools, st.relay = nil, ""
	if st.keepImages <= 0 {
		for _, t := range st.images {
			remove(t)
		}
		st.images = nil
		return errors.Join(errs...)
	}
	st.images = nil
	res, err := st.client.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("label", LabelImage+"=fork")})
	if err != nil {
		return fmt.Errorf("list kept images: %w", err)
	}
	kept := res.Items
	built := func(i int) int64 {
		n, err := strconv.ParseInt(kept[i].Labels[labelBuilt], 10, 64)
		if err != nil {
			return kept[i].Created * 1e9
		}
		return n
	}
	sort.SliceStable(kept, func(i, j int) bool { return built(i) > built(j) })
	for i := st.keepImages; i < len(kept); i++ {
		remove(kept[i].ID)
	}
	return errors.Join(errs...)
}
