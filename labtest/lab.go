// Package labtest grades a folder with the lab's layout: it builds and
// starts its traditional and ML APIs as containers, watches them start, and
// runs the lab's checks against them, each a pass or fail with the numbers
// it measured. Run does it all and returns a report; Open and Session.Run
// let a test run each check as its own subtest.
package labtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mlready/mlready/labtest/check"
	"github.com/mlready/mlready/labtest/observe"
	"github.com/mlready/mlready/labtest/report"
	"github.com/mlready/mlready/labtest/stack"
)

// Options say what to grade and how.
type Options struct {
	// Dir is the tested folder.
	Dir string
	// SpecPath is a lab spec; empty means Dir's SpecFile or the defaults.
	SpecPath string
	// Checks are the checks a spec may choose from; nil means check.All().
	Checks []check.Check
	// Logger receives progress, one line per step; nil discards it.
	Logger *slog.Logger
	// BuildLog receives image build output; nil discards it.
	BuildLog io.Writer
	// KeepImages keeps at most this many images built for graded forks
	// after the run, the oldest removed first; 0 removes them all.
	KeepImages int
	// Timeout bounds the whole lab, from the pre-build to the last check;
	// 0 means DefaultLabTimeout.
	Timeout time.Duration
}

// DefaultLabTimeout bounds a whole lab: the length of a Classroom50
// grading job.
const DefaultLabTimeout = 15 * time.Minute

// Session is a lab whose services are running (or failed to start).
type Session struct {
	plan    Plan
	dir     string
	logger  *slog.Logger
	started time.Time
	// deadline ends the lab (Options.Timeout from when it got its turn).
	deadline time.Time
	stack    *stack.Stack
	running  []*stack.Running
	lock     *machineLock
	env      *check.Env
	// setupErr is why the services could not be brought up; every check
	// then fails with it.
	setupErr error

	mu      sync.Mutex
	results map[string]report.CheckResult
}

// Grade grades opts.Dir with every check of its lab and returns the report.
// It returns an error only when grading cannot happen at all (no Docker
// engine, a bad spec); a folder that does not build or start gets a report
// whose checks fail with the cause.
func Grade(ctx context.Context, opts Options) (*report.Report, error) {
	s, err := Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	for _, c := range s.plan.Checks {
		s.RunCheck(ctx, c.Check.Info().ID)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("grading cancelled: %w", ctx.Err())
	}
	return s.Report(), nil
}

// Open prepares a lab: reads the spec and compose file, runs the pre-build
// command, builds the images, starts the services and watches them until
// ready. Always Close the session.
func Open(ctx context.Context, opts Options) (*Session, error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("tested folder: %w", err)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("tested folder %s does not exist", dir)
	}
	registry := opts.Checks
	if registry == nil {
		registry = check.All()
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p, err := plan(dir, opts.SpecPath, registry)
	var layoutErr *LayoutError
	if err != nil && !errors.As(err, &layoutErr) {
		return nil, err
	}
	s := &Session{plan: p, dir: dir, logger: logger, started: time.Now(), results: map[string]report.CheckResult{}}
	if layoutErr != nil {
		// The folder's own layout file is refused: it is graded, every
		// check failing with the cause, and nothing of it is built.
		s.setupErr = layoutErr
		return s, nil
	}

	services, err := stack.LoadCompose(ctx, filepath.Join(dir, p.Compose), stack.ComposeRules{Within: dir, AllowOutsideContext: p.AllowOutsideContext})
	if err != nil {
		s.setupErr = err
		return s, nil
	}
	// A missing Docker engine is told at once, not after the wait for
	// another lab: New creates nothing yet.
	st, err := stack.New(ctx, p.Limits, stack.WithKeepImages(max(opts.KeepImages, p.KeepImages)))
	if err != nil {
		return nil, err
	}
	if s.lock, err = lockMachine(ctx, func() { logger.Info("waiting for another lab on this machine to finish") }); err != nil {
		return nil, errors.Join(err, st.Close())
	}
	// A lab's time is its own, not the wait for the one before it.
	s.started = time.Now()
	// The lab's own time limit, counted from here: the wait for another
	// lab is not this one's.
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultLabTimeout
	}
	s.deadline = s.started.Add(timeout)
	parent := ctx
	ctx, cancel := s.withinDeadline(ctx)
	defer cancel()
	s.stack = st
	if err := s.bringUp(ctx, services, opts.BuildLog); err != nil {
		switch {
		case parent.Err() != nil:
			s.Close()
			return nil, fmt.Errorf("grading cancelled: %w", parent.Err())
		case ctx.Err() != nil:
			// Out of the lab's own time: graded, the cause in every check.
			s.setupErr = context.Cause(ctx)
		default:
			s.setupErr = err
		}
	}
	return s, nil
}

func (s *Session) bringUp(ctx context.Context, services map[string]stack.Service, buildLog io.Writer) error {
	if buildLog == nil {
		buildLog = io.Discard
	}
	roles := map[string]*stack.Service{}
	for role, name := range map[string]string{"traditional": s.plan.Services.Traditional, "ml": s.plan.Services.ML} {
		svc, ok := services[name]
		if !ok {
			return fmt.Errorf("%s has no service %q (the lab's %s API)", s.plan.Compose, name, role)
		}
		roles[role] = &svc
	}
	if p := s.plan.Services.TraditionalPort; p > 0 {
		roles["traditional"].Port = p
	}
	if p := s.plan.Services.MLPort; p > 0 {
		roles["ml"].Port = p
	}
	for role, svc := range roles {
		if svc.Port == 0 {
			return fmt.Errorf("the %s API (service %s) publishes no port in %s; add ports: [\"8000:8000\"] or set services.%s_port in the lab spec", role, svc.Name, s.plan.Compose, role)
		}
	}
	for name, env := range s.plan.Env {
		if svc, ok := services[name]; ok {
			for k, v := range env {
				svc.Env[k] = v
			}
		}
	}

	if s.plan.Prebuild != "" {
		if err := s.prebuild(ctx, services, buildLog); err != nil {
			return err
		}
	}
	images, err := s.buildImages(ctx, services, buildLog)
	if err != nil {
		return err
	}

	// Supporting services (the hub stand-in) start first and must listen.
	for _, name := range startOrder(services) {
		if name == s.plan.Services.Traditional || name == s.plan.Services.ML {
			continue
		}
		s.logger.Info("starting", "service", name)
		r, err := s.stack.Start(ctx, services[name], images[name])
		if err != nil {
			return err
		}
		if err := r.WaitCondition(ctx, stack.ConditionOn(services, name), s.plan.StartupTimeout); err != nil {
			return fmt.Errorf("supporting service %s did not start: %w", name, err)
		}
	}

	timeout := s.plan.RequestTimeout
	client := observe.NewClient(timeout)
	env := &check.Env{Client: client, Texts: check.DefaultTexts, StartupTimeout: s.plan.StartupTimeout,
		Replicas: &mlReplicas{stack: s.stack, service: *roles["ml"], image: images[roles["ml"].Name]}}
	var wg sync.WaitGroup
	// The ML API starts first: it is the one whose start-up takes long.
	for _, role := range []string{"ml", "traditional"} {
		svc := *roles[role]
		s.logger.Info("starting", "service", svc.Name, "role", role)
		r, err := s.stack.Start(ctx, svc, images[svc.Name])
		if err != nil {
			return err
		}
		s.running = append(s.running, r)
		cs := &check.API{Name: svc.Name, URL: r.URL, Memory: r.MemoryBytes, PrivateMemory: r.PrivateMemoryBytes, File: svc.DockerfileIn(s.dir)}
		if role == "ml" {
			env.ML = cs
		} else {
			env.Traditional = cs
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs.Startup = observe.WatchStartup(ctx, observe.NewClient(2*time.Second), observe.StartupWatch{
				URL: r.URL, Started: r.Started, Every: 50 * time.Millisecond,
				Timeout: s.plan.StartupTimeout, Text: check.DefaultTexts[0], Exited: r.Exited,
				Seen: phaseLogger(s.logger, cs.Name),
			})
			s.logger.Info("start-up watched", "service", cs.Name, "ready", cs.Startup.Ready(), "ready_after", cs.Startup.ReadyAt, "stopped", cs.Startup.Stopped)
		}()
	}
	wg.Wait()
	s.env = env
	return ctx.Err()
}

// imageBuilds is how many images are built at once. A build of a small
// FROM scratch image spends most of its time in the engine (Docker 20.10's
// builder commits an intermediate container per instruction), not on the
// CPU: the good sample fork's three images took 10.6 s side by side, 26 s
// one after the other, on an engine without their layers cached.
const imageBuilds = 3

// buildImages builds every service's image, imageBuilds at a time, as
// docker compose builds them side by side, and returns each service's
// image. Each build's output goes to buildLog whole, once it ends, so that
// builds do not interleave there; when builds fail, the first in start
// order is the error.
func (s *Session) buildImages(ctx context.Context, services map[string]stack.Service, buildLog io.Writer) (map[string]string, error) {
	order := startOrder(services)
	images := make([]string, len(order))
	errs := make([]error, len(order))
	// The network and the relay's image, meanwhile.
	prepared := make(chan error, 1)
	go func() { prepared <- s.stack.Prepare(ctx) }()
	var logMu sync.Mutex
	var g errgroup.Group
	g.SetLimit(imageBuilds)
	for i, name := range order {
		g.Go(func() error {
			s.logger.Info(StepBuildingImage, "service", name)
			built := time.Now()
			var out bytes.Buffer
			bctx, cancel := context.WithTimeout(ctx, s.plan.BuildTimeout)
			img, err := s.stack.ImageFor(bctx, services[name], &out)
			timedOut := bctx.Err() == context.DeadlineExceeded
			cancel()
			logMu.Lock()
			_, _ = buildLog.Write(out.Bytes())
			logMu.Unlock()
			switch {
			case timedOut:
				errs[i] = fmt.Errorf("image for service %s did not build within %s", name, s.plan.BuildTimeout)
			case err != nil:
				errs[i] = err
			default:
				s.logger.Info("image built", "service", name, "took", time.Since(built).Round(time.Millisecond))
				images[i] = img
			}
			return nil
		})
	}
	_ = g.Wait()
	// A folder's own failed build first: it is the grade's cause.
	byName := map[string]string{}
	for i, name := range order {
		if errs[i] != nil {
			return nil, errs[i]
		}
		byName[name] = images[i]
	}
	if err := <-prepared; err != nil {
		return nil, err
	}
	return byName, nil
}

// startOrder lists services so that each comes after what it depends on.
func startOrder(services map[string]stack.Service) []string {
	var order []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, d := range services[n].DependsOn {
			if _, ok := services[d]; ok {
				visit(d)
			}
		}
		order = append(order, n)
	}
	names := make([]string, 0, len(services))
	for n := range services {
		names = append(names, n)
	}
	// Sorted first so that the order is the same on every run.
	sort.Strings(names)
	for _, n := range names {
		visit(n)
	}
	return order
}

// prebuild runs the spec's pre-build command in a container (see
// stack.RunPrebuild), never on this machine: it is the fork's code. The
// folder mounted is the graded one, or, when the policy lets build contexts
// lie outside it, the folder that holds it and all of them.
func (s *Session) prebuild(ctx context.Context, services map[string]stack.Service, buildLog io.Writer) error {
	s.logger.Info("pre-build", "command", s.plan.Prebuild)
	root := s.dir
	if s.plan.AllowOutsideContext {
		for _, svc := range services {
			if svc.Context != "" {
				root = commonDir(root, svc.Context)
			}
		}
	}
	start := time.Now()
	err := s.stack.RunPrebuild(ctx, stack.Prebuild{Command: s.plan.Prebuild, Root: root, Dir: s.dir, Timeout: s.plan.BuildTimeout}, buildLog)
	s.logger.Info("pre-build done", "seconds", time.Since(start).Seconds(), "ok", err == nil)
	return err
}

// commonDir is the deepest folder that holds both a and b.
func commonDir(a, b string) string {
	for {
		rel, err := filepath.Rel(a, b)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return a
		}
		parent := filepath.Dir(a)
		if parent == a {
			return a
		}
		a = parent
	}
}

// exits describes services under test whose containers are gone, so that a
// check that failed because of it says so, with the file that builds the
// first of them. A container that is dying as the check fails (killed out
// of memory, say) is given a moment, one for all of them, to be seen gone.
func (s *Session) exits(ctx context.Context) (msg, file string) {
	deadline := time.Now().Add(time.Second)
	for _, r := range s.running {
		if why := r.ExitedBy(ctx, deadline); why != "" {
			msg += " (" + why + ")"
			if file == "" {
				file = r.DockerfileIn(s.dir)
			}
		}
	}
	return msg, file
}

// withinDeadline bounds ctx by the lab's total time limit, once it runs.
func (s *Session) withinDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.deadline.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadlineCause(ctx, s.deadline, fmt.Errorf("the lab did not finish within its time limit (%s)", s.deadline.Sub(s.started).Round(time.Second)))
}

// RunID is the value of the stack.LabelRun label on everything this
// session created.
func (s *Session) RunID() string {
	if s.stack == nil {
		return ""
	}
	return s.stack.RunID()
}

// Checks lists the ids of the checks this lab runs, in order.
func (s *Session) Checks() []string {
	ids := make([]string, len(s.plan.Checks))
	for i, c := range s.plan.Checks {
		ids[i] = c.Check.Info().ID
	}
	return ids
}

// RunCheck runs one check of the lab (once: a second call returns the first
// result) and returns its result.
func (s *Session) RunCheck(ctx context.Context, id string) report.CheckResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := s.withinDeadline(ctx)
	defer cancel()
	if r, ok := s.results[id]; ok {
		return r
	}
	pc, ok := s.plan.check(id)
	if !ok {
		return report.CheckResult{ID: id, Message: fmt.Sprintf("this lab has no check %q", id)}
	}
	c, th := pc.Check, pc.Threshold
	start := time.Now()
	var out check.Outcome
	if s.setupErr != nil {
		out = check.Outcome{Message: "Not run: " + s.setupErr.Error()}
	} else {
		s.logger.Info("running check", "check", id)
		cctx, cancel := context.WithTimeout(ctx, s.plan.CheckTimeout)
		env := *s.env
		env.Routing, env.Reviews = pc.Routing, pc.Reviews
		out = c.Run(cctx, &env, th.Value)
		if cctx.Err() == context.DeadlineExceeded {
			out = check.Outcome{Measured: out.Measured, File: out.File, Message: fmt.Sprintf(
				"The check did not finish within %s (%s).", s.plan.CheckTimeout, out.Message)}
		}
		cancel()
		if !out.Passed {
			why, file := s.exits(ctx)
			out.Message += why
			if out.File == "" {
				out.File = file
			}
		}
	}
	info := c.Info()
	r := report.CheckResult{
		ID: id, Title: info.Title, Passed: out.Passed, MaxPoints: pc.Points,
		Measured: out.Measured, Threshold: th, Message: out.Message, Lesson: info.Lesson,
		File: out.File, DurationSeconds: time.Since(start).Seconds(),
	}
	if r.Measured == nil {
		r.Measured = []report.Measure{}
	}
	if r.Passed {
		r.Points = pc.Points
	}
	s.logger.Info("check done", "check", id, "passed", r.Passed, "took", time.Since(start).Round(time.Millisecond))
	s.results[id] = r
	return r
}

// Report returns the report of the checks run so far, in the lab's order.
func (s *Session) Report() *report.Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &report.Report{Schema: report.Schema, Lab: s.plan.Lab, Target: reportTarget(s.dir), Checks: []report.CheckResult{}, DurationSeconds: time.Since(s.started).Seconds()}
	r.Timeline = timelines(s.env)
	for _, c := range s.plan.Checks {
		if res, ok := s.results[c.Check.Info().ID]; ok {
			r.Checks = append(r.Checks, res)
		}
	}
	if s.setupErr != nil {
		r.Error = s.setupErr.Error()
	}
	r.Services = s.services()
	r.Tally()
	return r
}

// Close removes every container and network the session created.
func (s *Session) Close() error {
	defer s.lock.release()
	s.lock = nil
	if s.stack == nil {
		return nil
	}
	err := s.stack.Close()
	s.stack = nil
	if err != nil {
		return fmt.Errorf("clean up: %w", err)
	}
	return nil
}
