package check_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlready/mlready/labtest/check"
	"github.com/mlready/mlready/labtest/internal/fakeapi"
	"github.com/mlready/mlready/labtest/observe"
)

// every is a constant model cost.
func every(d time.Duration) func(int64) time.Duration {
	return func(int64) time.Duration { return d }
}

// tail is a model whose every tenth request is slow, like requests that
// queued behind others for the same CPU.
func tail(fast, slow time.Duration) func(int64) time.Duration {
	return func(n int64) time.Duration {
		if n%10 == 0 {
			return slow
		}
		return fast
	}
}

// memory reads the values in turn, over and over.
func memory(mib ...float64) func(context.Context) (int64, error) {
	var i atomic.Int64
	return func(context.Context) (int64, error) {
		v := mib[int(i.Add(1)-1)%len(mib)]
		return int64(v * (1 << 20)), nil
	}
}

// httpEnv is the Env of two running fake APIs.
func httpEnv(t *testing.T, trad, ml *fakeapi.API) *check.Env {
	return &check.Env{
		Traditional: &check.API{Name: "traditional-api", URL: trad.Start(t), File: tradFile, Memory: memory(8)},
		ML:          &check.API{Name: "ml-api", URL: ml.Start(t), File: mlFile, Memory: memory(120)},
		Client:      observe.NewClient(2 * time.Second),
		Texts:       check.DefaultTexts,
	}
}
