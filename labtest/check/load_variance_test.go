package check_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/mlready/mlready/labtest/check"
	"github.com/mlready/mlready/labtest/internal/fakeapi"
)

func TestLoadVariance(t *testing.T) {
	tests := []struct {
		name     string
		trad, ml *fakeapi.API
		pass     bool
		msg      []string
	}{
		{
			// The slow tenth is far slower than the scheduler noise an
			// instant handler shows on a busy 2-core machine (up to ~15 ms
			// at p95 under -race).
			name: "ML tail grows under load, traditional stays flat",
			trad: &fakeapi.API{}, ml: &fakeapi.API{Cost: tail(time.Millisecond, 150*time.Millisecond)},
			pass: true, msg: []string{"With 8 parallel clients", "at least 5x expected"},
		},
		{
			name: "both spread alike",
			trad: &fakeapi.API{Cost: tail(time.Millisecond, 40*time.Millisecond)}, ml: &fakeapi.API{Cost: tail(time.Millisecond, 40*time.Millisecond)},
			msg: []string{"With 8 parallel clients", "expected at least 5x", "should spread under parallel load"},
		},
		{
			// A burst of noise from elsewhere on the machine during one
			// round makes the traditional API spread like the ML API in
			// that round only: the median round decides.
			name: "one noisy round does not decide",
			trad: &fakeapi.API{Cost: func(n int64) time.Duration {
				if n > 400 && n <= 720 && n%10 == 0 { // the second round after the warm-up
					return 150 * time.Millisecond
				}
				return 0
			}},
			ml:   &fakeapi.API{Cost: tail(time.Millisecond, 150*time.Millisecond)},
			pass: true, msg: []string{"median of 5 alternating rounds"},
		},
		{
			name: "ML fails under load",
			trad: &fakeapi.API{}, ml: &fakeapi.API{Status: http.StatusInternalServerError},
			msg: []string{"Warm-up under load failed", "ml-api answered /analyze with 500"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := httpEnv(t, tt.trad, tt.ml)

			out := check.LoadVariance{}.Run(t.Context(), env, check.LoadVariance{}.Info().Threshold.Value)

			assert.Equal(t, tt.pass, out.Passed, out.Message)
			for _, s := range tt.msg {
				assert.Contains(t, out.Message, s)
			}
			if tt.ml.Status != 0 {
				return
			}
			assert.Equal(t, mlFile, out.File)
			assert.Equal(t, 8.0, measured(t, out.Measured, "clients"))
			assert.Equal(t, 320.0, measured(t, out.Measured, "requests_ml"), "warm-up requests are not counted")
			assert.Equal(t, 1600.0, measured(t, out.Measured, "requests_traditional"))
			assert.Equal(t, 5.0, measured(t, out.Measured, "rounds"))
			for _, who := range []string{"traditional", "ml"} {
				p50, p95, p99, maxv := measured(t, out.Measured, who+"_p50"), measured(t, out.Measured, who+"_p95"),
					measured(t, out.Measured, who+"_p99"), measured(t, out.Measured, who+"_max")
				assert.True(t, p50 <= p95 && p95 <= p99 && p99 <= maxv, "%s: p50 %g <= p95 %g <= p99 %g <= max %g", who, p50, p95, p99, maxv)
			}
			ratio := measured(t, out.Measured, "spread_ratio")
			if tt.pass {
				assert.GreaterOrEqual(t, measured(t, out.Measured, "ml_p95"), 150.0, "the slow tenth shows at p95")
				assert.GreaterOrEqual(t, ratio, 5.0)
			} else {
				assert.Less(t, ratio, 5.0)
			}
		})
	}
}
