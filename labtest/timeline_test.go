package labtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/observe"
	"github.com/mlready/mlready/labtest/report"
)

func TestTimelineOf(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tl := &observe.Timeline{ReadyAt: ms(900), Samples: []observe.Sample{
		{At: ms(100)},
		{At: ms(300), Ready: 503, Live: 200, Health: 200, Analyze: 503, Phase: "downloading"},
		{At: ms(500), Ready: 503, Live: 200, Health: 200, Analyze: 503, Phase: "loading"},
		{At: ms(700), Ready: 503, Live: 200, Health: 200, Analyze: 503, Phase: "loading"},
		{At: ms(900), Ready: 200, Live: 200, Health: 200, Analyze: 200, Phase: "ready"},
		{At: ms(950), Ready: 200, Live: 200, Health: 200, Analyze: 200, Phase: "ready"},
	}}

	got := timelineOf("ml", "ml-api", tl)

	require.NotNil(t, got.ReadySeconds)
	assert.InDelta(t, 0.9, *got.ReadySeconds, 1e-9)
	assert.Equal(t, []report.Phase{
		{Name: "not listening", StartSeconds: 0, EndSeconds: 0.3},
		{Name: "downloading", StartSeconds: 0.3, EndSeconds: 0.5},
		{Name: "loading", StartSeconds: 0.5, EndSeconds: 0.9},
		{Name: "ready", StartSeconds: 0.9, EndSeconds: 0.95},
	}, got.Phases)
	assert.Len(t, got.Probes, 6)
	assert.Equal(t, report.Probe{AtSeconds: 0.5, Ready: 503, Analyze: 503, Live: 200, Health: 200, Phase: "loading"}, got.Probes[2])
}

func TestTimelineOfNeverReady(t *testing.T) {
	tl := &observe.Timeline{ReadyAt: -1, Stopped: "the container exited with code 2", Samples: []observe.Sample{{At: time.Second, Ready: 503}}}

	got := timelineOf("traditional", "web", tl)

	assert.Nil(t, got.ReadySeconds)
	assert.Equal(t, "the container exited with code 2", got.Stopped)
	assert.Equal(t, []report.Phase{{Name: "starting", StartSeconds: 0, EndSeconds: 1}}, got.Phases)
}

func TestPhaseOf(t *testing.T) {
	tests := []struct {
		s    observe.Sample
		want string
	}{
		{observe.Sample{}, "not listening"},
		{observe.Sample{Hung: true}, "hanging"},
		{observe.Sample{Ready: 503, Health: 200}, "starting"},
		{observe.Sample{Ready: 200, Health: 200}, "ready"},
		{observe.Sample{Ready: 503, Health: 200, Phase: "warming"}, "warming"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, PhaseOf(tt.s), "%+v", tt.s)
	}
}

func TestReportTarget(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	assert.Equal(t, "forks/good", reportTarget(wd+"/forks/good"))
	assert.Equal(t, ".", reportTarget(wd))
	assert.Equal(t, "/elsewhere/fork", reportTarget("/elsewhere/fork"))
}
