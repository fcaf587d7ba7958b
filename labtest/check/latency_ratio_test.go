package check_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/mlready/mlready/labtest/check"
	"github.com/mlready/mlready/labtest/internal/fakeapi"
)

func TestLatencyRatio(t *testing.T) {
	tests := []struct {
		name     string
		trad, ml *fakeapi.API
		pass     bool
		msg      []string
	}{
		{
			name: "a model costs 8 ms, a rule nothing",
			trad: &fakeapi.API{}, ml: &fakeapi.API{Cost: every(8 * time.Millisecond)},
			pass: true, msg: []string{"Median latency: ML", "at least 10x expected"},
		},
		{
			name: "an ML API as fast as a rule",
			trad: &fakeapi.API{}, ml: &fakeapi.API{},
			msg: []string{"only", "expected at least 10x", "Is it really running a model?"},
		},
		{
			name: "an ML API that fails",
			trad: &fakeapi.API{}, ml: &fakeapi.API{Status: http.StatusInternalServerError},
			msg: []string{"Warm-up failed", "ML API answered /analyze with 500", "model exploded"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := httpEnv(t, tt.trad, tt.ml)

			out := check.LatencyRatio{}.Run(t.Context(), env, check.LatencyRatio{}.Info().Threshold.Value)

			assert.Equal(t, tt.pass, out.Passed, out.Message)
			for _, s := range tt.msg {
				assert.Contains(t, out.Message, s)
			}
			if tt.ml.Status != 0 {
				return
			}
			assert.Equal(t, mlFile, out.File)
			assert.Equal(t, 200.0, measured(t, out.Measured, "samples_each"), "warm-up rounds are not counted")
			assert.EqualValues(t, 220, tt.ml.Analyzes(), "warm-up and measured rounds reach the ML API")
			assert.EqualValues(t, 220, tt.trad.Analyzes(), "and the traditional API alike")
			ratio := measured(t, out.Measured, "median_ratio")
			if tt.pass {
				assert.GreaterOrEqual(t, measured(t, out.Measured, "ml_p50"), 8.0)
				assert.GreaterOrEqual(t, ratio, 10.0)
			} else {
				assert.Less(t, ratio, 10.0)
			}
		})
	}
}
