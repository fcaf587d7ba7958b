// Package stack builds and runs the services of a tested folder as Docker
// containers with testcontainers-go, on a network of their own, under the
// limits a grader needs for code it did not write, and removes everything it
// created when done, whatever happened.
package stack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Limits bound what one container may use.
type Limits struct {
	MemoryBytes int64
	PIDs        int64
	CPUs        float64
}

// DefaultLimits suit the lab's two APIs on a 2-core machine.
var DefaultLimits = Limits{MemoryBytes: 1 << 30, PIDs: 256, CPUs: 2}

// MaxLimits is the ceiling a lab spec may raise the limits to.
var MaxLimits = Limits{MemoryBytes: 4 << 30, PIDs: 1024, CPUs: 4}

// Within returns l with every limit set and none above MaxLimits, or an
// error naming the one that is too high.
func (l Limits) Within() (Limits, error) {
	if l.MemoryBytes == 0 {
		l.MemoryBytes = DefaultLimits.MemoryBytes
	}
	if l.PIDs == 0 {
		l.PIDs = DefaultLimits.PIDs
	}
	if l.CPUs == 0 {
		l.CPUs = DefaultLimits.CPUs
	}
	switch {
	case l.MemoryBytes < 0 || l.MemoryBytes > MaxLimits.MemoryBytes:
		return l, fmt.Errorf("memory limit %d MiB is outside 1..%d MiB", l.MemoryBytes>>20, MaxLimits.MemoryBytes>>20)
	case l.PIDs < 0 || l.PIDs > MaxLimits.PIDs:
		return l, fmt.Errorf("pids limit %d is outside 1..%d", l.PIDs, MaxLimits.PIDs)
	case l.CPUs < 0 || l.CPUs > MaxLimits.CPUs:
		return l, fmt.Errorf("cpu limit %g is outside 0..%g", l.CPUs, MaxLimits.CPUs)
	}
	return l, nil
}

// Stack is a set of running services. Create it with New, start services
// with Build and Start, and always call Close.
type Stack struct {
	provider *testcontainers.DockerProvider
	client   client.APIClient
	runID    string
	limits   Limits

	// watching ends the log watchers when the stack closes.
	watching context.Context
	endWatch context.CancelFunc

	keepImages int

	mu         sync.Mutex
	network    *labNetwork
	containers []*Running
	// relays are the relay containers, removed with the services.
	relays []testcontainers.Container
	// volumes and images are what the stack created, by name.
	volumes map[string]bool
	images  []string
	// tools are images the lab built for itself (relay, builder): always
	// removed.
	tools []string
	relay string
	// builder is the pre-build's image, built on first use.
	builder string
	// started counts the service containers started, for their names.
	started int
}

// Running is one started service.
type Running struct {
	Service
	// URL is the base URL of its HTTP port on this host.
	URL string
	// Started is when its container started.
	Started   time.Time
	container testcontainers.Container
	client    client.APIClient

	memoryLimit int64

	mu sync.Mutex
	// stoppedBy says why the stack stopped the container itself, if it did.
	stoppedBy string
}

// LogBudget is how many bytes of output one container may write: the size
// of the log Docker keeps for it. A service that writes more is flooding its
// log (as a debug dump on every request would) and is stopped, so that the
// flood neither fills the disk nor eats the CPU the checks measure with.
const LogBudget = 10 << 20

// LabelRun marks everything a run creates, so that it can be found and
// removed.
const LabelRun = "org.mlready.run"

// New connects to the Docker engine and fails at once, with a message saying
// so, when there is none.
func New(ctx context.Context, limits Limits, opts ...Option) (*Stack, error) {
	p, err := newProvider()
	if err != nil {
		return nil, fmt.Errorf("Docker engine is not reachable (is it installed and running?): %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.Health(pctx); err != nil {
		return nil, fmt.Errorf("Docker engine is not reachable (is it running?): %w", err)
	}
	id := make([]byte, 6)
	sum := sha256.Sum256([]byte(fmt.Sprint(time.Now().UnixNano())))
	copy(id, sum[:])
	watching, endWatch := context.WithCancel(context.Background())
	st := &Stack{provider: p, client: p.Client(), runID: hex.EncodeToString(id), limits: limits, watching: watching, endWatch: endWatch, volumes: map[string]bool{}}
	for _, o := range opts {
		o(st)
	}
	return st, nil
}

// newProvider is the lab's testcontainers provider, without the Ryuk reaper:
// the stack removes everything it creates itself, and the reaper's image
// cannot be pulled everywhere. testcontainers takes that setting only from
// the environment, and reads it once per process; it is set while the
// provider is made, unless the process set it itself, and then unset, so
// that nothing else in the process (a platform team's own tests) sees it.
// Where the process read testcontainers' settings earlier with the reaper
// on, the reaper runs for the lab too, which is harmless where it can be
// pulled.
func newProvider() (*testcontainers.DockerProvider, error) {
	const noReaper = "TESTCONTAINERS_RYUK_DISABLED"
	if _, set := os.LookupEnv(noReaper); !set {
		os.Setenv(noReaper, "true")
		defer os.Unsetenv(noReaper)
	}
	// testcontainers logs to stderr by default; a grader's stderr belongs to
	// errors only.
	tclog.SetDefault(tclog.NewNoopLogger())
	return testcontainers.NewDockerProvider(testcontainers.WithLogger(tclog.NewNoopLogger()))
}

// publishedHost is the host on which the engine publishes ports: this
// machine for a local engine (a Unix socket or named pipe), the engine's
// host for a remote one. testcontainers asks the same, but on a machine with
// a /.dockerenv it believes it runs inside a container and answers the
// bridge gateway, which this machine's published ports do not answer on.
func (st *Stack) publishedHost() (string, error) {
	u, err := url.Parse(st.client.DaemonHost())
	if err != nil {
		return "", fmt.Errorf("the Docker host %q: %w", st.client.DaemonHost(), err)
	}
	switch u.Scheme {
	case "unix", "npipe":
		return "localhost", nil
	default:
		return u.Hostname(), nil
	}
}

// RunID is the value of LabelRun on everything this stack creates.
func (st *Stack) RunID() string { return st.runID }

// ImageFor builds the image of s when it has a build section and returns the
// image to run. The build has no network, as a fork's code gets none.
// Built images are tagged by folder, so that a kept image speeds up the
// next build of the same folder, and removed when the stack closes unless
// it keeps images (WithKeepImages).
func (st *Stack) ImageFor(ctx context.Context, s Service, logs io.Writer) (string, error) {
	if s.Context == "" {
		return s.Image, nil
	}
	sum := sha256.Sum256([]byte(s.Context + "\x00" + s.Dockerfile + "\x00" + s.Target + "\x00" + fmt.Sprint(s.BuildArgs)))
	// The output is kept to find the images of a failed build's steps.
	var out bytes.Buffer
	if logs == nil {
		logs = io.Discard
	}
	req := testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		Context:        s.Context,
		Dockerfile:     s.Dockerfile,
		Repo:           "mlready-lab/" + sanitize(s.Name),
		Tag:            hex.EncodeToString(sum[:6]),
		KeepImage:      true,
		BuildLogWriter: io.MultiWriter(logs, &out),
		BuildArgs:      s.BuildArgs,
		BuildOptionsModifier: func(o *client.ImageBuildOptions) {
			o.Target = s.Target
			o.NetworkMode = "none"
			o.Remove = true
			o.ForceRemove = true
			if o.Labels == nil {
				o.Labels = map[string]string{}
			}
			o.Labels[LabelImage] = "fork"
			o.Labels[LabelRun] = st.runID
			// Docker's creation time has whole seconds: kept images are
			// ordered by this instead.
			o.Labels[labelBuilt] = strconv.FormatInt(time.Now().UnixNano(), 10)
		},
	}}
	tag, err := st.provider.BuildImage(ctx, &req)
	if err != nil {
		st.removeIntermediates(out.String())
		return "", fmt.Errorf("image for service %s does not build (%s in %s): %s", s.Name, s.Dockerfile, s.Context, buildCause(err))
	}
	st.mu.Lock()
	st.images = append(st.images, tag)
	st.mu.Unlock()
	return tag, nil
}

// stepImage is a line of the engine's build output that names the image a
// step made: " ---> 3332c3a9558b".
var stepImage = regexp.MustCompile(`(?m)^ ---> ([0-9a-f]{12})\s*$`)

// removeIntermediates removes the images that the steps of a failed build
// made (the builder keeps each step's image, and a failed build leaves them
// untagged, with none of the run's labels). An image that another image
// still builds on, such as a cached step of a kept one, stays.
func (st *Stack) removeIntermediates(buildOutput string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ids := stepImage.FindAllStringSubmatch(buildOutput, -1)
	for i := len(ids) - 1; i >= 0; i-- {
		_, _ = st.client.ImageRemove(ctx, ids[i][1], client.ImageRemoveOptions{PruneChildren: true})
	}
}

// Start creates and starts a container of s from image, on the stack's
// network under its service name, and returns as soon as it runs. The lab
// network has no route out, not even to this machine: the lab reaches a
// service's port through a relay container (see relay.go).
func (st *Stack) Start(ctx context.Context, s Service, image string) (*Running, error) {
	return st.start(ctx, s, image, nil)
}

// start is Start with volumes: each named volume's target in it gets the
// Docker volume it names instead of the run's volume of that name.
func (st *Stack) start(ctx context.Context, s Service, image string, volumes map[string]string) (*Running, error) {
	nw, err := st.ensureNetwork(ctx)
	if err != nil {
		return nil, err
	}
	// compose's user: replaces the image's.
	tmpfsOwner := st.imageUser(ctx, image, s.User)
	var mounts []mount.Mount
	for i, v := range s.Volumes {
		name, ok := volumes[v.Target]
		if !ok || v.Name == "" {
			if name, err = st.ensureVolume(ctx, s, i, v); err != nil {
				return nil, err
			}
		}
		mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: name, Target: v.Target, ReadOnly: v.ReadOnly})
	}
	// own is this container's name on the lab network: other services
	// reach it (or any replica) by the service's name, the lab's relay
	// reaches this one.
	st.mu.Lock()
	st.started++
	own := fmt.Sprintf("%s-mlready-%d", sanitize(s.Name), st.started)
	st.mu.Unlock()
	labels := map[string]string{}
	for k, v := range s.Labels {
		labels[k] = v
	}
	labels[LabelRun] = st.runID
	labels["org.mlready.service"] = s.Name
	req := testcontainers.ContainerRequest{
		Image:          image,
		Env:            s.Env,
		Labels:         labels,
		Networks:       []string{nw.Name},
		NetworkAliases: map[string][]string{nw.Name: {s.Name, own}},
		ConfigModifier: func(c *container.Config) {
			// compose's command and entrypoint replace the image's; an
			// empty one clears it.
			if s.Entrypoint != nil {
				c.Entrypoint = s.Entrypoint
			}
			if s.Command != nil {
				c.Cmd = s.Command
			}
			if s.WorkingDir != "" {
				c.WorkingDir = s.WorkingDir
			}
			if s.User != "" {
				c.User = s.User
			}
			if s.Hostname != "" {
				c.Hostname = s.Hostname
			}
			if h := s.Healthcheck; h != nil {
				c.Healthcheck = &container.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
					StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
				if h.Disabled {
					c.Healthcheck = &container.HealthConfig{Test: []string{"NONE"}}
				}
			}
		},
		HostConfigModifier: func(hc *container.HostConfig) {
			st.limit(hc)
			hc.Init = s.Init
			hc.ExtraHosts = s.ExtraHosts
			hc.Mounts = mounts
			hc.Tmpfs = map[string]string{"/tmp": "rw,size=64m"}
			for _, t := range s.Tmpfs {
				hc.Tmpfs[t] = "rw,size=512m" + tmpfsOwner
			}
		},
	}
	// The relay comes first: the lab watches a service from the moment its
	// container starts, and must have a way in by then.
	var url string
	if s.Port > 0 {
		if url, err = st.relayTo(ctx, s, own, nw.Name); err != nil {
			return nil, err
		}
	}
	c, err := st.provider.CreateContainer(ctx, req)
	if c != nil {
		st.track(&Running{Service: s, container: c, client: st.client, memoryLimit: st.limits.MemoryBytes})
	}
	if err != nil {
		return nil, fmt.Errorf("create container for service %s: %w", s.Name, err)
	}
	r := st.containers[len(st.containers)-1]
	if err := c.Start(ctx); err != nil {
		return nil, fmt.Errorf("start container for service %s: %w", s.Name, err)
	}
	r.Started = time.Now()
	go r.watchLog(st.watching)
	r.URL = url
	return r, nil
}

// limit applies the grader's limits and hardening to a container that runs
// a fork's code: a service, or its pre-build.
func (st *Stack) limit(hc *container.HostConfig) {
	hc.Memory = st.limits.MemoryBytes
	hc.MemorySwap = st.limits.MemoryBytes
	pids := st.limits.PIDs
	hc.PidsLimit = &pids
	hc.NanoCPUs = int64(st.limits.CPUs * 1e9)
	hc.ReadonlyRootfs = true
	hc.CapDrop = []string{"ALL"}
	hc.SecurityOpt = []string{"no-new-privileges:true"}
	hc.Privileged = false
	// A service that floods its log must not fill the disk; the log
	// watcher stops it once it has written LogBudget.
	hc.LogConfig = container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": strconv.Itoa(LogBudget>>20) + "m", "max-file": "1"}}
}

// imageUser returns tmpfs options that give a writable folder to the user
// the container runs as (user, else the image's): a tmpfs mounted over a folder of the image takes that
// folder's owner and mode, whatever mode it is given.
func (st *Stack) imageUser(ctx context.Context, image, user string) string {
	if user == "" {
		res, err := st.client.ImageInspect(ctx, image)
		if err != nil || res.Config == nil {
			return ",mode=1777"
		}
		user = res.Config.User
	}
	uid, gid, _ := strings.Cut(user, ":")
	if _, err := strconv.Atoi(uid); err != nil {
		return ",mode=1777"
	}
	if _, err := strconv.Atoi(gid); err != nil {
		gid = uid
	}
	return ",uid=" + uid + ",gid=" + gid
}

func (st *Stack) track(r *Running) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.containers = append(st.containers, r)
}

// labNetwork is the network the services of a run share.
type labNetwork struct{ Name, ID string }

func (st *Stack) ensureNetwork(ctx context.Context) (*labNetwork, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.network != nil {
		return st.network, nil
	}
	// Internal: no route out. Without an address on the bridge, the grader's
	// machine is not reachable from it either: an internal network still
	// gives its containers a route to the bridge's address, and so to every
	// port this machine listens on (measured on Docker 20.10). The engine
	// is asked directly: testcontainers drops driver options.
	name := "mlready-lab-" + st.runID
	res, err := st.client.NetworkCreate(ctx, name, client.NetworkCreateOptions{
		Driver:   "bridge",
		Internal: true,
		Labels:   map[string]string{LabelRun: st.runID},
		Options:  map[string]string{"com.docker.network.bridge.inhibit_ipv4": "true"},
	})
	if err != nil {
		return nil, fmt.Errorf("create network: %w", err)
	}
	st.network = &labNetwork{Name: name, ID: res.ID}
	return st.network, nil
}

// Close removes every container, volume and network the stack created, and
// the images it built (but the newest kept ones, see WithKeepImages). It
// uses its own deadline, not ctx's, so that it still cleans up after a
// cancelled run.
func (st *Stack) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st.endWatch()
	st.mu.Lock()
	defer st.mu.Unlock()
	var errs []error
	for _, c := range st.relays {
		if err := c.Terminate(ctx, testcontainers.StopTimeout(0)); err != nil {
			errs = append(errs, fmt.Errorf("remove relay container: %w", err))
		}
	}
	st.relays = nil
	for _, r := range st.containers {
		if err := r.container.Terminate(ctx, testcontainers.StopTimeout(2*time.Second), testcontainers.RemoveVolumes()); err != nil {
			errs = append(errs, fmt.Errorf("remove container of %s: %w", r.Name, err))
		}
	}
	st.containers = nil
	for name := range st.volumes {
		if _, err := st.client.VolumeRemove(ctx, name, client.VolumeRemoveOptions{Force: true}); err != nil {
			errs = append(errs, fmt.Errorf("remove volume %s: %w", name, err))
		}
	}
	st.volumes = map[string]bool{}
	if st.network != nil {
		if _, err := st.client.NetworkRemove(ctx, st.network.ID, client.NetworkRemoveOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("remove network: %w", err))
		}
		st.network = nil
	}
	errs = append(errs, st.removeImages(ctx))
	return errors.Join(errs...)
}

// Exited describes why the container is no longer running, with the end of
// its log, or returns "" while it runs.
func (r *Running) Exited(ctx context.Context) string {
	state, err := r.container.State(ctx)
	if err != nil {
		return ""
	}
	if state.Running {
		return ""
	}
	why := fmt.Sprintf("container of %s exited with code %d", r.Name, state.ExitCode)
	r.mu.Lock()
	stoppedBy := r.stoppedBy
	r.mu.Unlock()
	// When the cause is known, the log adds nothing to it.
	switch {
	case state.OOMKilled:
		return why + " (killed: out of memory; the limit is " + strconv.FormatInt(r.memoryLimit>>20, 10) + " MiB)"
	case stoppedBy != "":
		return why + " (" + stoppedBy + ")"
	}
	if tail := r.LogTail(ctx, 5); tail != "" {
		why += "; its last log lines: " + tail + offline(tail)
	}
	return why
}

// offline explains a log that shows a service trying to reach outside the
// lab network, so that a fork that needs the internet at run time is told
// why it cannot have it.
func offline(log string) string {
	for _, sign := range []string{"no route to host", "network is unreachable", "i/o timeout", "no such host", "server misbehaving", "Temporary failure in name resolution"} {
		if strings.Contains(log, sign) {
			return " (the lab network has no route out: a graded service cannot reach the internet or the grader's machine; ship what it needs in its image, or serve it from a service of the compose file)"
		}
	}
	return ""
}

// LogTail returns the last n lines of the container's output, joined.
func (r *Running) LogTail(ctx context.Context, n int) string {
	rc, err := r.container.Logs(ctx)
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, 1<<20))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if len(l) > maxTailLine {
			lines[i] = strings.ToValidUTF8(l[:maxTailLine], "") + "…"
		}
	}
	return strings.Join(lines, " | ")
}

// errLogBudget ends a log watch: the container wrote more than LogBudget.
var errLogBudget = errors.New("log budget spent")

// logBudget counts down what a container writes.
type logBudget struct{ left int64 }

func (b *logBudget) Write(p []byte) (int, error) {
	b.left -= int64(len(p))
	if b.left < 0 {
		return len(p), errLogBudget
	}
	return len(p), nil
}

// maxTailLine keeps a message readable when a service logs huge lines.
const maxTailLine = 200

// ExitedBy is Exited after waiting until deadline for a container that is
// on its way out: a request that failed because the container died can end
// a moment before the engine has recorded the exit.
func (r *Running) ExitedBy(ctx context.Context, deadline time.Time) string {
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	res := r.client.ContainerWait(wctx, r.container.GetContainerID(), client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case <-res.Result:
	case <-res.Error:
	case <-wctx.Done():
	}
	return r.Exited(ctx)
}

// watchLog follows the container's output and stops the container once it
// has written more than LogBudget bytes. It ends with the container or when
// ctx is done.
func (r *Running) watchLog(ctx context.Context) {
	rc, err := r.client.ContainerLogs(ctx, r.container.GetContainerID(), client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		return
	}
	defer rc.Close()
	// The stream interleaves stdout and stderr in frames; StdCopy takes the
	// frames' headers off so that only what the service wrote counts.
	left := &logBudget{left: LogBudget}
	if _, err := stdcopy.StdCopy(left, left, rc); !errors.Is(err, errLogBudget) {
		return
	}
	r.mu.Lock()
	r.stoppedBy = fmt.Sprintf("stopped by the lab: it wrote more than %d MiB to its log; a service must not flood its log", LogBudget>>20)
	r.mu.Unlock()
	kctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = r.client.ContainerKill(kctx, r.container.GetContainerID(), client.ContainerKillOptions{})
}

func (r *Running) memoryStats(ctx context.Context) (container.MemoryStats, error) {
	res, err := r.client.ContainerStats(ctx, r.container.GetContainerID(), client.ContainerStatsOptions{})
	if err != nil {
		return container.MemoryStats{}, fmt.Errorf("stats of %s: %w", r.Name, err)
	}
	defer res.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		return container.MemoryStats{}, fmt.Errorf("decode stats of %s: %w", r.Name, err)
	}
	return s.MemoryStats, nil
}

// PrivateMemoryBytes is the container's anonymous memory (heap, stacks):
// what its processes allocated, without any page cache. Unlike MemoryBytes
// it does not jump when the kernel moves a binary's pages between its
// cache lists, so it shows growth over time faithfully.
func (r *Running) PrivateMemoryBytes(ctx context.Context) (int64, error) {
	s, err := r.memoryStats(ctx)
	if err != nil {
		return 0, err
	}
	for _, k := range []string{"anon", "total_rss", "rss"} {
		if v, ok := s.Stats[k]; ok && v > 0 {
			return int64(v), nil
		}
	}
	return 0, fmt.Errorf("stats of %s: no anonymous memory reported", r.Name)
}

// MemoryBytes is the container's memory as `docker stats` shows it: usage
// less the inactive page cache.
func (r *Running) MemoryBytes(ctx context.Context) (int64, error) {
	s, err := r.memoryStats(ctx)
	if err != nil {
		return 0, err
	}
	used := int64(s.Usage)
	for _, k := range []string{"inactive_file", "total_inactive_file"} {
		if v, ok := s.Stats[k]; ok && int64(v) < used {
			used -= int64(v)
			break
		}
	}
	if used <= 0 {
		return 0, fmt.Errorf("stats of %s: no memory usage reported", r.Name)
	}
	return used, nil
}

// WaitListening waits until the service's port accepts connections, the
// container exits, or timeout passes.
func (r *Running) WaitListening(ctx context.Context, timeout time.Duration) error {
	if r.URL == "" {
		return nil
	}
	addr := strings.TrimPrefix(r.URL, "http://")
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if why := r.Exited(ctx); why != "" {
			return errors.New(why)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("service %s never opened port %d within %s", r.Name, r.Port, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, name)
}

// buildCause keeps the part of a build error that a learner can act on.
func buildCause(err error) string {
	msg := err.Error()
	for _, p := range []string{"build image: ", "Error response from daemon: "} {
		if i := strings.LastIndex(msg, p); i >= 0 {
			msg = msg[i+len(p):]
		}
	}
	return strings.TrimSpace(msg)
}

// DockerfileIn returns s's Dockerfile relative to dir, for pointing a learner
// at it; "" when s has no build.
func (s Service) DockerfileIn(dir string) string {
	if s.Context == "" {
		return ""
	}
	rel, err := filepath.Rel(dir, filepath.Join(s.Context, s.Dockerfile))
	if err != nil {
		return ""
	}
	return rel
}
