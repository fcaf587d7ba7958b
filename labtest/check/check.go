// Package check holds the lab's checks: one small interface, one file per
// observation. A check judges two running services, a traditional API and an
// ML API, from the outside (HTTP and container memory) and says what it
// measured against what it expected.
package check

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/mlready/mlready/labtest/observe"
	"github.com/mlready/mlready/labtest/report"
)

// Check is one lab observation turned into pass or fail.
type Check interface {
	// Info says what the check is: constant data, the same on every call.
	Info() Info
	// Run measures and judges, against threshold.
	Run(ctx context.Context, env *Env, threshold float64) Outcome
}

// Info is what a check is, for people and for lab specs.
type Info struct {
	// ID is the check's fixed name, e.g. "latency-ratio".
	ID string
	// Title says what the check looks at, for people.
	Title string
	// Lesson is the lab lesson behind the check, in one line.
	Lesson string
	// Threshold is the default threshold; a lab policy may change its Value
	// within its range.
	Threshold report.Threshold
}

// Outcome is what a check found.
type Outcome struct {
	Passed   bool
	Measured []report.Measure
	// Message says what was measured against what was expected, in words a
	// learner understands.
	Message string
	// File is the file a learner should look at when it fails, if known.
	File string
}

// API is one running API as checks see it.
type API struct {
	// Name is its compose service name.
	Name string
	// URL is its base URL.
	URL string
	// Startup is what it did from container start until ready.
	Startup *observe.Timeline
	// Memory reads its container's memory in bytes, as `docker stats` does.
	Memory func(context.Context) (int64, error)
	// PrivateMemory reads its container's anonymous memory in bytes (no
	// page cache): the steadier measure of growth over time.
	PrivateMemory func(context.Context) (int64, error)
	// File is the file that builds it (its Dockerfile), for hints.
	File string
}

// Env is what every check gets: the two services and a client to reach them.
type Env struct {
	Traditional *API
	ML          *API
	Client      *http.Client
	// Texts are the sentences sent to /analyze.
	Texts []string
	// Replicas starts and stops more ML replicas, for the production
	// checks; nil when the lab cannot.
	Replicas Orchestrator
	// Routing configures the production checks' routers.
	Routing Routing
	// Reviews are the labelled reviews real-model sends; nil sends its own
	// (RealModelReviews).
	Reviews []Review
	// StartupTimeout bounds a replica's start-up.
	StartupTimeout time.Duration
}

// All returns every check a lab spec may choose, the lab's six first, in
// the order they run. To add a check for a new lab, write a file with a type
// that implements Check and add it here.
func All() []Check {
	return append(append(Lab(), Soak{}), Production()...)
}

// Production returns the checks of the production lab
// (specs/production.yaml): what happens to the ML service when it is
// scaled out, updated, restarted and probed layer by layer.
func Production() []Check {
	return []Check{ScaleOut{}, RollingUpdate{}, Restart{}, HealthLayers{}}
}

// Lab returns the checks of this repository's lab: its four observations,
// the cold start that follows from them, and the proof that a model runs.
func Lab() []Check {
	return []Check{ReadinessDelay{}, ColdStart{}, LatencyRatio{}, MemoryRatio{}, LoadVariance{}, RealModel{}}
}

// ByID finds a check in checks.
func ByID(checks []Check, id string) (Check, error) {
	for _, c := range checks {
		if c.Info().ID == id {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no check %q", id)
}

func failed(msg string, measured ...report.Measure) Outcome {
	return Outcome{Passed: false, Message: msg, Measured: measured}
}

func ms(name string, v float64) report.Measure {
	return report.Measure{Name: name, Value: round(v, 3), Unit: "ms"}
}
func sec(name string, v float64) report.Measure {
	return report.Measure{Name: name, Value: round(v, 3), Unit: "s"}
}
func mib(name string, v float64) report.Measure {
	return report.Measure{Name: name, Value: round(v, 1), Unit: "MiB"}
}
func times(name string, v float64) report.Measure {
	return report.Measure{Name: name, Value: round(v, 2), Unit: "x"}
}
func ratio(name string, v float64) report.Measure {
	return report.Measure{Name: name, Value: round(v, 3), Unit: "ratio"}
}
func count(name string, v int) report.Measure {
	return report.Measure{Name: name, Value: float64(v), Unit: "count"}
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
