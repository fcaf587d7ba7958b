package check_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mlready/mlready/labtest/check"
	"github.com/mlready/mlready/labtest/internal/fakeapi"
)

func TestMemoryRatio(t *testing.T) {
	tests := []struct {
		name      string
		trad, ml  func(context.Context) (int64, error)
		mlStatus  int
		threshold float64 // 0: the check's default
		pass      bool
		msg       []string
		want      map[string]float64
	}{
		{
			name: "8 MiB against 120 MiB",
			trad: memory(8), ml: memory(120), pass: true,
			msg: []string{"ML 120.0 MiB, traditional 8.0 MiB, 15.0x", "at least 10x"},
			want: map[string]float64{
				"traditional_private_memory": 8, "ml_private_memory": 120, "memory_ratio": 15,
				// docker stats adds page cache: 2 and 30 MiB here.
				"traditional_memory": 10, "ml_memory": 150, "docker_stats_ratio": 15,
			},
		},
		{
			name: "8 MiB against 40 MiB",
			trad: memory(8), ml: memory(40),
			msg:  []string{"40.0 MiB", "only 5.0x", "8.0 MiB", "expected at least 10x", "Is the model really loaded"},
			want: map[string]float64{"memory_ratio": 5},
		},
		{
			name: "the median of three readings: one spike does not decide",
			trad: memory(8, 300, 8.5), ml: memory(119, 121, 120), pass: true,
			want: map[string]float64{"traditional_private_memory": 8.5, "ml_private_memory": 120},
		},
		{
			name: "the lab spec's threshold is used",
			trad: memory(8), ml: memory(120), threshold: 20,
			msg: []string{"expected at least 20x"},
		},
		{
			name: "memory cannot be read",
			trad: memory(8), ml: func(context.Context) (int64, error) {
				return 0, errors.New("stats of ml-api: no memory usage reported")
			},
			msg: []string{"Reading the ML API's memory failed", "no memory usage reported"},
		},
		{
			name: "traffic fails",
			trad: memory(8), ml: memory(120), mlStatus: http.StatusInternalServerError,
			msg: []string{"Sending traffic failed", "ML API answered /analyze with 500"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ml := &fakeapi.API{Status: tt.mlStatus}
			env := httpEnv(t, &fakeapi.API{}, ml)
			var servedBeforeReading int64 = -1
			env.Traditional.PrivateMemory = func(ctx context.Context) (int64, error) {
				if servedBeforeReading < 0 {
					servedBeforeReading = ml.Analyzes()
				}
				return tt.trad(ctx)
			}
			env.ML.PrivateMemory = tt.ml
			// The docker stats figure: private memory and some page cache,
			// which the check reports and does not judge.
			env.Traditional.Memory = plus(tt.trad, 2<<20)
			env.ML.Memory = plus(tt.ml, 30<<20)
			th := tt.threshold
			if th == 0 {
				th = check.MemoryRatio{}.Info().Threshold.Value
			}

			out := check.MemoryRatio{}.Run(t.Context(), env, th)

			assert.Equal(t, tt.pass, out.Passed, out.Message)
			for _, s := range tt.msg {
				assert.Contains(t, out.Message, s)
			}
			for name, v := range tt.want {
				assert.Equal(t, v, measured(t, out.Measured, name), name)
			}
			if tt.mlStatus == 0 {
				assert.EqualValues(t, 50, servedBeforeReading, "memory is read after the services served traffic")
			}
		})
	}
}

// plus adds extra bytes to what read reads.
func plus(read func(context.Context) (int64, error), extra int64) func(context.Context) (int64, error) {
	return func(ctx context.Context) (int64, error) {
		v, err := read(ctx)
		return v + extra, err
	}
}

func TestMemoryRatioJudgesPrivateMemory(t *testing.T) {
	// 30 MiB of model file in the page cache (a tmpfs volume, say) must not
	// turn a fail into a pass.
	env := httpEnv(t, &fakeapi.API{}, &fakeapi.API{})
	env.Traditional.PrivateMemory, env.Traditional.Memory = memory(8), memory(8)
	env.ML.PrivateMemory, env.ML.Memory = memory(70), memory(100)
	out := check.MemoryRatio{}.Run(t.Context(), env, 10)
	assert.False(t, out.Passed, out.Message)
	assert.Equal(t, 12.5, measured(t, out.Measured, "docker_stats_ratio"))
	assert.Equal(t, 8.75, measured(t, out.Measured, "memory_ratio"))
}
