package check_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/mlready/mlready/labtest/check"
	"github.com/mlready/mlready/labtest/observe"
)

func TestReadinessDelay(t *testing.T) {
	tests := []struct {
		name      string
		trad, ml  *observe.Timeline
		change    func(trad, ml *observe.Timeline)
		threshold float64 // 0: the check's default
		pass      bool
		msg       []string
		file      string
	}{
		{
			name: "traditional ready at once, ML after loading",
			trad: tradStartup(100 * time.Millisecond), ml: mlStartup(19, 3),
			pass: true, msg: []string{"0.10 s", "503 19 times", "2.00 s", "1.90 s later"},
		},
		{
			name: "ML ready at its first answer",
			trad: tradStartup(100 * time.Millisecond), ml: mlStartup(19, 3),
			// It listens only once its model is loaded: never seen loading.
			change: func(_, ml *observe.Timeline) {
				whileLoading(ml, 0, func(s *observe.Sample) { *s = observe.Sample{At: s.At} })
			},
			msg: []string{"first answer", "2.00 s", "503"}, file: mlFile,
		},
		{
			name: "ML answers /ready 500 while loading",
			trad: tradStartup(100 * time.Millisecond), ml: mlStartup(19, 3),
			change: func(_, ml *observe.Timeline) {
				whileLoading(ml, 0, func(s *observe.Sample) { s.Ready = http.StatusInternalServerError })
			},
			msg: []string{"answering /ready with 503 only 0 times", "first answer: 500"}, file: mlFile,
		},
		{
			name: "/live not 200 while loading",
			trad: tradStartup(100 * time.Millisecond), ml: mlStartup(19, 3),
			change: func(_, ml *observe.Timeline) {
				whileLoading(ml, 0, func(s *observe.Sample) { s.Live = http.StatusServiceUnavailable })
			},
			msg: []string{"/live answered 503", "(19 times)", "restarts it"}, file: mlFile,
		},
		{
			name: "/live 503 for part of the loading",
			trad: tradStartup(100 * time.Millisecond), ml: mlStartup(19, 3),
			// Liveness that follows readiness during the download would
			// get the pod killed before the model ever loads.
			change: func(_, ml *observe.Timeline) {
				whileLoading(ml, 10, func(s *observe.Sample) { s.Live = http.StatusServiceUnavailable })
			},
			msg: []string{"/live answered 503", "(10 times)"}, file: mlFile,
		},
		{
			name: "/live unanswered in one round is not held against it",
			trad: tradStartup(100 * time.Millisecond), ml: mlStartup(19, 3),
			change: func(_, ml *observe.Timeline) {
				whileLoading(ml, 1, func(s *observe.Sample) { s.Live, s.Hung = 0, true })
			},
			pass: true,
		},
		{
			name: "no minimum gap by default: a model baked into the image may load at once",
			trad: tradStartup(100 * time.Millisecond), ml: mlStartup(4, 3),
			pass: true, msg: []string{"503 4 times", "0.50 s", "0.40 s later"},
		},
		{
			name: "a policy's minimum gap is used",
			trad: tradStartup(1500 * time.Millisecond), ml: mlStartup(19, 3), threshold: 1,
			msg: []string{"0.50 s after the traditional one", "at least 1.00 s"}, file: mlFile,
		},
		{
			name: "too few not-ready answers to see a loading phase",
			trad: tradStartup(100 * time.Millisecond), ml: mlStartup(2, 3),
			msg: []string{"only 2 times", "at least 3"}, file: mlFile,
		},
		{
			name: "/ready says 200 while /analyze still answers 503",
			trad: tradStartup(100 * time.Millisecond), ml: mlStartup(19, 3),
			change: func(_, ml *observe.Timeline) {
				for i := range ml.Samples {
					if ml.Samples[i].At >= 5*tick {
						ml.Samples[i].Ready = http.StatusOK
					}
				}
				ml.ReadyAt = 5 * tick
			},
			msg: []string{"/ready said 200 at 0.50 s", "answered 503 at 0.60 s", "(14 answers after ready"}, file: mlFile,
		},
		{
			name: "/analyze hangs after ready",
			trad: tradStartup(100 * time.Millisecond), ml: mlStartup(19, 4),
			change: func(_, ml *observe.Timeline) {
				s := &ml.Samples[len(ml.Samples)-1]
				s.Analyze, s.Hung = 0, true
			},
			msg: []string{"answered nothing (it hung) at 2.30 s"}, file: mlFile,
		},
		{
			name: "/live fails after ready",
			trad: tradStartup(100 * time.Millisecond), ml: mlStartup(19, 3),
			change: func(_, ml *observe.Timeline) { ml.Samples[len(ml.Samples)-1].Live = http.StatusInternalServerError },
			msg:    []string{"/live answered 500"}, file: mlFile,
		},
		{
			name: "the lab spec's threshold is used",
			trad: tradStartup(100 * time.Millisecond), ml: mlStartup(19, 3), threshold: 5,
			msg: []string{"1.90 s after the traditional one", "at least 5.00 s"}, file: mlFile,
		},
		{
			name: "traditional API slower than 3 s",
			trad: tradStartup(3500 * time.Millisecond), ml: mlStartup(59, 3),
			msg: []string{"3.50 s", "within 3s"}, file: tradFile,
		},
		{
			name: "traditional API never ready",
			trad: &observe.Timeline{ReadyAt: -1, Stopped: "container of traditional-api exited with code 2"}, ml: mlStartup(19, 3),
			msg: []string{"traditional API never reported ready", "exited with code 2"},
		},
		{
			name: "ML API never ready",
			trad: tradStartup(100 * time.Millisecond), ml: mlStartup(19, 0),
			change: func(_, ml *observe.Timeline) {
				ml.ReadyAt, ml.Stopped = -1, "/health reports status failed: model file is corrupt"
			},
			msg: []string{"ML API never reported ready", "model file is corrupt"}, file: mlFile,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.change != nil {
				tt.change(tt.trad, tt.ml)
			}
			th := tt.threshold
			if th == 0 {
				th = check.ReadinessDelay{}.Info().Threshold.Value
			}

			out := check.ReadinessDelay{}.Run(t.Context(), startupEnv(tt.trad, tt.ml), th)

			assert.Equal(t, tt.pass, out.Passed, out.Message)
			for _, s := range tt.msg {
				assert.Contains(t, out.Message, s)
			}
			if !tt.pass {
				assert.Equal(t, tt.file, out.File, "the file a learner should look at")
			}
			if tt.pass {
				assert.InDelta(t, tt.ml.ReadyAt.Seconds()-tt.trad.ReadyAt.Seconds(), measured(t, out.Measured, "ready_gap"), 1e-9)
				assert.Equal(t, tt.ml.ReadyAt.Seconds(), measured(t, out.Measured, "ml_ready"))
				assert.Equal(t, tt.trad.ReadyAt.Seconds(), measured(t, out.Measured, "traditional_ready"))
				assert.Positive(t, measured(t, out.Measured, "ml_not_ready_answers"))
			}
		})
	}
}

func TestReadinessDelayNegativeGap(t *testing.T) {
	// An ML API ready before the traditional one: the report must show the
	// gap as it was, rounded like any other number.
	trad := tradStartup(1234 * time.Millisecond)
	ml := mlStartup(6, 3)
	ml.ReadyAt = 683600 * time.Microsecond
	out := check.ReadinessDelay{}.Run(t.Context(), startupEnv(trad, ml), 1)
	assert.False(t, out.Passed, "a policy that asks for a 1 s gap")
	assert.Equal(t, -0.55, measured(t, out.Measured, "ready_gap"))
}
