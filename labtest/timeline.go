package labtest

import (
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mlready/mlready/labtest/check"
	"github.com/mlready/mlready/labtest/observe"
	"github.com/mlready/mlready/labtest/report"
)

// StepBuildingImage is the progress message logged as each image starts to
// build; a run that fails right after it failed to build.
const StepBuildingImage = "building image"

// timelines turns the start-up watch of each service under test into the
// report's timeline, the ML API first; nil when no service was started.
func timelines(env *check.Env) []report.ServiceTimeline {
	if env == nil {
		return nil
	}
	var out []report.ServiceTimeline
	for _, s := range []struct {
		role string
		svc  *check.API
	}{{"ml", env.ML}, {"traditional", env.Traditional}} {
		if s.svc == nil || s.svc.Startup == nil {
			continue
		}
		out = append(out, timelineOf(s.role, s.svc.Name, s.svc.Startup))
	}
	return out
}

// timelineOf describes one start-up: each round of probes, and the phases
// they show, a phase lasting from its first round to the next phase's.
func timelineOf(role, name string, tl *observe.Timeline) report.ServiceTimeline {
	st := report.ServiceTimeline{Role: role, Service: name, Stopped: tl.Stopped, Phases: []report.Phase{}, Probes: []report.Probe{}}
	if tl.Ready() {
		v := seconds(tl.ReadyAt)
		st.ReadySeconds = &v
	}
	for i, s := range tl.Samples {
		at := seconds(s.At)
		st.Probes = append(st.Probes, report.Probe{
			AtSeconds: at, Ready: s.Ready, Analyze: s.Analyze, Live: s.Live, Health: s.Health, Phase: s.Phase, Hung: s.Hung,
		})
		name := PhaseOf(s)
		if n := len(st.Phases); n > 0 && st.Phases[n-1].Name == name {
			st.Phases[n-1].EndSeconds = at
			continue
		}
		if n := len(st.Phases); n > 0 {
			st.Phases[n-1].EndSeconds = at
		}
		start := at
		if i == 0 {
			// Nothing is known before the first round: it stands for the
			// time since the container started.
			start = 0
		}
		st.Phases = append(st.Phases, report.Phase{Name: name, StartSeconds: start, EndSeconds: at})
	}
	return st
}

// PhaseOf names the phase one round of probes shows: what /health says
// when it names one, else "not listening" with no answer at all, "ready"
// once /ready says 200, else "starting".
func PhaseOf(s observe.Sample) string {
	switch {
	case s.Phase != "":
		return s.Phase
	case s.Ready == 0 && s.Health == 0 && !s.Hung:
		return "not listening"
	case s.Ready == 0 && s.Hung:
		return "hanging"
	case s.Ready == http.StatusOK:
		return "ready"
	default:
		return "starting"
	}
}

// phaseLogger returns a StartupWatch.Seen that logs a line each time the
// service's phase changes, so that a person sees the start-up as it goes.
func phaseLogger(logger *slog.Logger, service string) func(observe.Sample) {
	last := ""
	return func(s observe.Sample) {
		if p := PhaseOf(s); p != last {
			last = p
			logger.Info("start-up phase", "service", service, "phase", p, "after", s.At.Round(time.Millisecond))
		}
	}
}

// reportTarget is dir as the report names it: relative to the working
// directory when below it, so that a report reads the same on every
// machine.
func reportTarget(dir string) string {
	wd, err := os.Getwd()
	if err != nil {
		return filepath.ToSlash(dir)
	}
	rel, err := filepath.Rel(wd, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(dir)
	}
	return filepath.ToSlash(rel)
}

func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }
