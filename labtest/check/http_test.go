package check_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlready/mlready/labtest/check"
	"github.com/mlready/mlready/labtest/observe"
)

// fakeAPI answers POST /analyze. cost is the simulated model's time for
// the n-th request (from 1); status, when not 0, is every answer's status.
type fakeAPI struct {
	cost   func(n int64) time.Duration
	status int
	// answer, when set, gives the answer to a text; else every text is
	// POSITIVE from a transformer.
	answer func(text string) map[string]any
	served atomic.Int64
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/analyze" {
		http.NotFound(w, r)
		return
	}
	n := f.served.Add(1)
	if f.cost != nil {
		time.Sleep(f.cost(n))
	}
	w.Header().Set("Content-Type", "application/json")
	if f.status != 0 {
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(`{"error":"model exploded"}`))
		return
	}
	if f.answer == nil {
		_, _ = w.Write([]byte(`{"sentiment":"POSITIVE","confidence":0.98,"method":"transformer-ml","model":"fake","processing_time_ms":1}`))
		return
	}
	var req struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_ = json.NewEncoder(w).Encode(f.answer(req.Text))
}

func (f *fakeAPI) start(t *testing.T) string {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL
}

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
func httpEnv(t *testing.T, trad, ml *fakeAPI) *check.Env {
	return &check.Env{
		Traditional: &check.API{Name: "traditional-api", URL: trad.start(t), File: tradFile, Memory: memory(8)},
		ML:          &check.API{Name: "ml-api", URL: ml.start(t), File: mlFile, Memory: memory(120)},
		Client:      observe.NewClient(2 * time.Second),
		Texts:       check.DefaultTexts,
	}
}
