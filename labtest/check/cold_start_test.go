package check_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/mlready/mlready/labtest/check"
	"github.com/mlready/mlready/labtest/observe"
)

func TestColdStart(t *testing.T) {
	tests := []struct {
		name      string
		ml        *observe.Timeline
		change    func(ml *observe.Timeline)
		threshold float64 // 0: the check's default
		pass      bool
		msg       []string
		want      map[string]float64 // measures
	}{
		{
			name: "503 with Retry-After while loading, 200 once ready",
			ml:   mlStartup(19, 3), pass: true,
			msg: []string{"503 with Retry-After 19 times"},
			want: map[string]float64{
				"not_ready_503": 19, "with_retry_after": 19, "server_errors": 0, "hung_requests": 0, "served_after_ready": 3,
			},
		},
		{
			name: "500 while loading",
			ml:   mlStartup(19, 3),
			change: func(ml *observe.Timeline) {
				whileLoading(ml, 0, func(s *observe.Sample) { s.Analyze, s.RetryAfter = http.StatusInternalServerError, "" })
			},
			msg:  []string{"answered 500 while loading (19 times)", "not a server error"},
			want: map[string]float64{"server_errors": 19, "not_ready_503": 0},
		},
		{
			name: "one 500 among the 503s",
			ml:   mlStartup(19, 3),
			change: func(ml *observe.Timeline) {
				whileLoading(ml, 1, func(s *observe.Sample) { s.Analyze, s.RetryAfter = http.StatusBadGateway, "" })
			},
			msg:  []string{"answered 502 while loading (1 times)"},
			want: map[string]float64{"server_errors": 1, "not_ready_503": 18},
		},
		{
			name: "503 without Retry-After",
			ml:   mlStartup(19, 3),
			change: func(ml *observe.Timeline) {
				whileLoading(ml, 1, func(s *observe.Sample) { s.RetryAfter = "" })
			},
			msg:  []string{"1 of 19 answers of 503 lacked a Retry-After header"},
			want: map[string]float64{"not_ready_503": 19, "with_retry_after": 18},
		},
		{
			name: "requests hang while loading",
			ml:   mlStartup(19, 3),
			change: func(ml *observe.Timeline) {
				whileLoading(ml, 2, func(s *observe.Sample) { s.Analyze, s.RetryAfter, s.Hung = 0, "", true })
			},
			msg:  []string{"2 requests to the ML API hung while it was loading"},
			want: map[string]float64{"hung_requests": 2},
		},
		{
			name: "a hang after the first model answer is an outage",
			ml:   mlStartup(19, 4),
			change: func(ml *observe.Timeline) {
				s := &ml.Samples[len(ml.Samples)-2]
				s.Analyze, s.Hung = 0, true
			},
			msg:  []string{"first served at 2.00 s", "answered nothing (it hung) at 2.20 s (1 times)"},
			want: map[string]float64{"hung_requests": 0, "served_after_ready": 3, "failed_after_serving": 1},
		},
		{
			name: "a 503 after the first model answer is an outage",
			ml:   mlStartup(19, 4),
			change: func(ml *observe.Timeline) {
				s := &ml.Samples[len(ml.Samples)-1]
				s.Analyze, s.RetryAfter = http.StatusServiceUnavailable, "1"
			},
			msg: []string{"answered 503 at 2.30 s"},
		},
		{
			name: "a /ready that says 200 too early is not this check's lesson",
			ml:   mlStartup(19, 3),
			// /ready turns 200 at 1.0 s; /analyze still answers 503 with
			// Retry-After until its model serves at 2.0 s: what clients
			// of /analyze saw is a proper cold start (readiness-delay
			// fails this one).
			change: func(ml *observe.Timeline) {
				for i := range ml.Samples {
					if ml.Samples[i].At >= 10*tick {
						ml.Samples[i].Ready = http.StatusOK
					}
				}
				ml.ReadyAt = 10 * tick
			},
			pass: true,
			want: map[string]float64{"not_ready_503": 19, "first_model_answer": 2},
		},
		{
			name: "a degraded fallback while loading is an honest answer",
			ml:   mlStartup(19, 3),
			change: func(ml *observe.Timeline) {
				whileLoading(ml, 10, func(s *observe.Sample) { s.Analyze, s.RetryAfter, s.Degraded = http.StatusOK, "", true })
			},
			pass: true,
			msg:  []string{"degraded fallback 10 times"},
			want: map[string]float64{"not_ready_503": 9, "degraded_answers": 10},
		},
		{
			name: "another status while loading",
			ml:   mlStartup(19, 3),
			change: func(ml *observe.Timeline) {
				whileLoading(ml, 0, func(s *observe.Sample) { s.Analyze, s.RetryAfter = http.StatusNotFound, "" })
			},
			msg: []string{"answered 404 to /analyze while loading (19 times)", "expected 503 with Retry-After"},
		},
		{
			name: "loading too short to be seen",
			ml:   mlStartup(2, 3),
			msg:  []string{"Only 2 answers of 503", "at least 3"},
		},
		{
			name: "the lab spec's threshold is used",
			ml:   mlStartup(19, 3), threshold: 20,
			msg: []string{"Only 19 answers of 503", "at least 20"},
		},
		{
			name: "ML API never ready",
			ml:   mlStartup(19, 0),
			change: func(ml *observe.Timeline) {
				ml.ReadyAt, ml.Stopped = -1, "not ready within 2m0s of the container starting"
			},
			msg:  []string{"never answered /analyze with 200", "not ready within 2m0s"},
			want: map[string]float64{"not_ready_503": 19, "served_after_ready": 0},
		},
		{
			name: "ready, but /analyze never 200",
			ml:   mlStartup(19, 3),
			change: func(ml *observe.Timeline) {
				for i := range ml.Samples {
					if ml.Samples[i].At >= ml.ReadyAt {
						ml.Samples[i].Analyze, ml.Samples[i].RetryAfter = http.StatusServiceUnavailable, "1"
					}
				}
				ml.Stopped = "ready after 2s, but /analyze answered 200 only 0 of 3 times within 2m0s of the container starting"
			},
			msg: []string{"never answered /analyze with 200", "only 0 of 3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.change != nil {
				tt.change(tt.ml)
			}
			th := tt.threshold
			if th == 0 {
				th = check.ColdStart{}.Info().Threshold.Value
			}

			out := check.ColdStart{}.Run(t.Context(), startupEnv(tradStartup(100*time.Millisecond), tt.ml), th)

			assert.Equal(t, tt.pass, out.Passed, out.Message)
			for _, s := range tt.msg {
				assert.Contains(t, out.Message, s)
			}
			for name, v := range tt.want {
				assert.Equal(t, v, measured(t, out.Measured, name), name)
			}
			assert.Equal(t, mlFile, out.File)
		})
	}
}
