package check_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/check"
	"github.com/mlready/mlready/labtest/observe"
	"github.com/mlready/mlready/labtest/report"
)

func TestAll(t *testing.T) {
	var lab []string
	for _, c := range check.Lab() {
		lab = append(lab, c.Info().ID)
	}
	// Reports, lab specs and `go test -run TestLab/<id>` name checks by
	// these ids: they must not change.
	assert.Equal(t, []string{"readiness-delay", "cold-start", "latency-ratio", "memory-ratio", "load-variance", "real-model"}, lab)

	seen := map[string]bool{}
	var all []string
	for _, c := range check.All() {
		info := c.Info()
		assert.False(t, seen[info.ID], "id %q is used twice", info.ID)
		seen[info.ID] = true
		all = append(all, info.ID)
		assert.NotEmpty(t, info.Title, info.ID)
		assert.NotEmpty(t, info.Lesson, info.ID)
		th := info.Threshold
		assert.NotEmpty(t, th.Name, info.ID)
		assert.NotEmpty(t, th.Unit, info.ID)
		assert.Contains(t, []report.Direction{report.AtLeast, report.AtMost}, th.Direction, info.ID)
		assert.GreaterOrEqual(t, th.Value, th.Min, "%s: the default lies in the sane range", info.ID)
		assert.LessOrEqual(t, th.Value, th.Max, "%s: the default lies in the sane range", info.ID)
		assert.Less(t, th.Min, th.Max, info.ID)
		assert.Equal(t, info, c.Info(), "%s: Info is constant", info.ID)
	}
	require.GreaterOrEqual(t, len(all), len(lab))
	assert.Equal(t, lab, all[:len(lab)], "the lab's six come first, in order")
	assert.Contains(t, all, "soak", "a spec may choose the soak check")
	var production []string
	for _, c := range check.Production() {
		production = append(production, c.Info().ID)
	}
	assert.Equal(t, []string{"scale-out", "rolling-update", "restart", "health-layers"}, production, "the production lab's ids are fixed")
	assert.Subset(t, all, production, "a spec may choose the production checks")
}

func TestByID(t *testing.T) {
	tests := []struct {
		id      string
		wantErr bool
	}{
		{id: "readiness-delay"},
		{id: "cold-start"},
		{id: "latency-ratio"},
		{id: "memory-ratio"},
		{id: "load-variance"},
		{id: "soak"},
		{id: "latency", wantErr: true},
		{id: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			c, err := check.ByID(check.All(), tt.id)
			if tt.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), `"`+tt.id+`"`)
				assert.Nil(t, c)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.id, c.Info().ID)
		})
	}
}

// measured returns the value of the measure called name, failing the test
// when there is none.
func measured(t *testing.T, ms []report.Measure, name string) float64 {
	t.Helper()
	for _, m := range ms {
		if m.Name == name {
			return m.Value
		}
	}
	t.Fatalf("no measure %q in %v", name, ms)
	return 0
}

const (
	tradFile = "apis/traditional/Dockerfile"
	mlFile   = "apis/ml/Dockerfile"
)

// tick is the time between two rounds of start-up probes.
const tick = 100 * time.Millisecond

// mlStartup is a well-behaved ML API's start-up: no answer in the first
// round (not listening yet), then loading rounds of /ready 503, /live 200
// and /analyze 503 with Retry-After, then ready and served rounds.
func mlStartup(loading, served int) *observe.Timeline {
	tl := &observe.Timeline{Samples: []observe.Sample{{At: 0}}}
	for i := 1; i <= loading; i++ {
		tl.Samples = append(tl.Samples, observe.Sample{
			At: time.Duration(i) * tick, Ready: http.StatusServiceUnavailable, Live: http.StatusOK,
			Health: http.StatusOK, Analyze: http.StatusServiceUnavailable, RetryAfter: "1",
		})
	}
	tl.ReadyAt = time.Duration(loading+1) * tick
	for i := 0; i < served; i++ {
		tl.Samples = append(tl.Samples, observe.Sample{
			At: tl.ReadyAt + time.Duration(i)*tick, Ready: http.StatusOK, Live: http.StatusOK,
			Health: http.StatusOK, Analyze: http.StatusOK,
		})
	}
	return tl
}

// tradStartup is a traditional API ready at readyAt.
func tradStartup(readyAt time.Duration) *observe.Timeline {
	tl := &observe.Timeline{ReadyAt: readyAt}
	for i := 0; i < 3; i++ {
		tl.Samples = append(tl.Samples, observe.Sample{
			At: readyAt + time.Duration(i)*tick, Ready: http.StatusOK, Live: http.StatusOK, Health: http.StatusOK, Analyze: http.StatusOK,
		})
	}
	return tl
}

// whileLoading changes the samples taken before ready that got an answer;
// the first n of them when n > 0, else all.
func whileLoading(tl *observe.Timeline, n int, change func(*observe.Sample)) {
	for i := range tl.Samples {
		s := &tl.Samples[i]
		if s.Ready == 0 || (tl.Ready() && s.At >= tl.ReadyAt) {
			continue
		}
		change(s)
		if n--; n == 0 {
			return
		}
	}
}

// startupEnv is the Env of two services that have started, with no HTTP:
// start-up checks judge the timelines only.
func startupEnv(trad, ml *observe.Timeline) *check.Env {
	return &check.Env{
		Traditional: &check.API{Name: "traditional-api", File: tradFile, Startup: trad},
		ML:          &check.API{Name: "ml-api", File: mlFile, Startup: ml},
		Texts:       check.DefaultTexts,
	}
}
