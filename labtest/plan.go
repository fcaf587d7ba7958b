package labtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mlready/mlready/labtest/check"
	"github.com/mlready/mlready/labtest/report"
	"github.com/mlready/mlready/labtest/stack"
)

// Plan is a lab resolved for one tested folder: the grader's policy (or the
// defaults) with the folder's layout, each check with its points and
// threshold. A Session runs a Plan; nothing after planning reads a spec.
type Plan struct {
	Layout
	// Lab names the lab in reports.
	Lab string
	// Prebuild runs in the tested folder before images are built.
	Prebuild string
	// Env adds or overrides environment variables per compose service.
	Env map[string]map[string]string
	// The time limits: each service's start-up, each request a check
	// sends, the pre-build and each image build, each check.
	StartupTimeout, RequestTimeout, BuildTimeout, CheckTimeout time.Duration
	// Limits are the container limits, within stack.MaxLimits.
	Limits stack.Limits
	// Checks are the checks to run, in order.
	Checks []PlannedCheck
	// AllowOutsideContext and KeepImages are the policy's (see Policy).
	AllowOutsideContext bool
	KeepImages          int
}

// PlannedCheck is one check as this lab runs it.
type PlannedCheck struct {
	Check     check.Check
	Points    int
	Threshold report.Threshold
	// Routing is what the production checks' routers do (period, warm
	// pool).
	Routing check.Routing
	// Reviews are real-model's reviews from the policy; nil: its own.
	Reviews []check.Review
}

// plan resolves the lab for dir: specPath is the grader's lab file (empty:
// the defaults); dir's own SpecFile, if any, may change the layout only.
// An error is the grader's (a bad lab file); a *LayoutError is the folder's.
func plan(dir, specPath string, registry []check.Check) (Plan, error) {
	spec := DefaultSpec()
	if specPath != "" {
		var err error
		if spec, err = LoadSpec(specPath); err != nil {
			return Plan{}, err
		}
	}
	p, err := spec.resolve(registry)
	if err != nil {
		return Plan{}, err
	}
	own := filepath.Join(dir, SpecFile)
	if _, err := os.Stat(own); err == nil {
		l, err := LoadLayout(own, spec.Layout)
		if err != nil {
			return p, err
		}
		p.Layout = l
	}
	if p.Services.Traditional == "" || p.Services.ML == "" {
		return p, &LayoutError{File: SpecFile, Err: errors.New("services.traditional and services.ml must name compose services")}
	}
	return p, nil
}

// resolve checks the spec against the checks it may choose from and plans
// it, each check with its threshold.
func (spec Spec) resolve(registry []check.Check) (Plan, error) {
	pol := spec.Policy
	p := Plan{
		Layout: spec.Layout, Lab: pol.Lab, Prebuild: pol.Prebuild, Env: pol.Env,
		StartupTimeout: time.Duration(pol.StartupTimeout), RequestTimeout: time.Duration(pol.RequestTimeout),
		BuildTimeout: time.Duration(pol.BuildTimeout), CheckTimeout: time.Duration(pol.CheckTimeout),
		AllowOutsideContext: pol.AllowOutsideContext, KeepImages: pol.KeepImages,
	}
	if pol.KeepImages < 0 {
		return Plan{}, fmt.Errorf("lab spec: keep_images %d is not a number of images", pol.KeepImages)
	}
	if err := p.resolvePolicy(pol, registry); err != nil {
		return Plan{}, err
	}
	return p, nil
}

func (p *Plan) resolvePolicy(pol Policy, registry []check.Check) error {
	lim, err := pol.Limits.stack()
	if err != nil {
		return err
	}
	p.Limits = lim
	if p.Services.Traditional == "" || p.Services.ML == "" {
		return fmt.Errorf("lab spec: services.traditional and services.ml must name compose services")
	}
	for name, d := range map[string]time.Duration{
		"startup_timeout": p.StartupTimeout, "request_timeout": p.RequestTimeout,
		"build_timeout": p.BuildTimeout, "check_timeout": p.CheckTimeout,
	} {
		if d <= 0 {
			return fmt.Errorf("lab spec: %s must be positive", name)
		}
	}
	if len(pol.Checks) == 0 {
		return errors.New("lab spec: no checks: a lab must run at least one check")
	}
	seen := map[string]bool{}
	total := 0
	for _, cs := range pol.Checks {
		c, err := check.ByID(registry, cs.ID)
		if err != nil {
			return fmt.Errorf("lab spec: %w", err)
		}
		if seen[cs.ID] {
			return fmt.Errorf("lab spec: check %q is listed twice", cs.ID)
		}
		seen[cs.ID] = true
		if cs.Points < 0 {
			return fmt.Errorf("lab spec: check %q has negative points", cs.ID)
		}
		total += cs.Points
		th := c.Info().Threshold
		if cs.Threshold != nil {
			v := *cs.Threshold
			if v < th.Min || v > th.Max {
				return fmt.Errorf("lab spec: check %q: threshold %s %g is outside its sane range %g..%g %s",
					cs.ID, th.Name, v, th.Min, th.Max, th.Unit)
			}
			th.Value = v
		}
		if cs.WarmPool < 0 || cs.WarmPool > 1 {
			return fmt.Errorf("lab spec: check %q: warm_pool %d is outside 0..1", cs.ID, cs.WarmPool)
		}
		if d := time.Duration(cs.Period); d < 0 || d > time.Minute {
			return fmt.Errorf("lab spec: check %q: period %s is outside 0..1m", cs.ID, d)
		}
		pc := PlannedCheck{Check: c, Points: cs.Points, Threshold: th,
			Routing: check.Routing{Period: time.Duration(cs.Period), WarmPool: cs.WarmPool}}
		if cs.Reviews != "" {
			if cs.ID != (check.RealModel{}).Info().ID {
				return fmt.Errorf("lab spec: check %q: reviews is an option of real-model only", cs.ID)
			}
			if pc.Reviews, err = readReviews(cs.Reviews); err != nil {
				return fmt.Errorf("lab spec: check %q: reviews %s: %w", cs.ID, cs.Reviews, err)
			}
		}
		p.Checks = append(p.Checks, pc)
	}
	if total == 0 {
		return errors.New("lab spec: the checks are worth 0 points in all: a lab must be able to fail")
	}
	return nil
}

// readReviews reads a review file (check.ParseReviews).
func readReviews(path string) ([]check.Review, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return check.ParseReviews(f)
}

// check returns the planned check id.
func (p *Plan) check(id string) (PlannedCheck, bool) {
	for _, c := range p.Checks {
		if c.Check.Info().ID == id {
			return c, true
		}
	}
	return PlannedCheck{}, false
}
