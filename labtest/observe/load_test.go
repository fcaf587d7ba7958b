package observe_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/internal/fakeapi"
	"github.com/mlready/mlready/labtest/observe"
)

// traffic records which target got which text, in arrival order, across
// several fake APIs.
type traffic struct {
	mu  sync.Mutex
	log []string
}

func (tr *traffic) seen() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.log...)
}

// api serves the contract for the target called name: it records the
// text and answers status (200 if 0); hang holds every /analyze until the
// client gives up.
func (tr *traffic) api(t *testing.T, name string, status int, hang bool) *httptest.Server {
	srv := httptest.NewServer(&fakeapi.API{Status: status, HangWhenReady: hang, OnAnalyze: func(text string) {
		tr.mu.Lock()
		tr.log = append(tr.log, name+": "+text)
		tr.mu.Unlock()
	}})
	t.Cleanup(srv.Close)
	return srv
}

func TestInterleaved(t *testing.T) {
	texts := []string{"good", "bad"}
	tests := []struct {
		name     string
		mlStatus int
		mlHang   bool
		mlDown   bool
		rounds   int
		wantErr  []string
		wantSeen []string
	}{
		{
			name: "every round goes to each target in turn with the same text", rounds: 3,
			wantSeen: []string{"trad: good", "ml: good", "trad: bad", "ml: bad", "trad: good", "ml: good"},
		},
		{
			name: "a 500 stops the run and names the target", mlStatus: http.StatusInternalServerError, rounds: 3,
			wantErr:  []string{"ML API answered /analyze with 500", "model exploded"},
			wantSeen: []string{"trad: good", "ml: good"},
		},
		{
			name: "a 503 is not a latency either", mlStatus: http.StatusServiceUnavailable, rounds: 3,
			wantErr: []string{"ML API answered /analyze with 503"},
		},
		{
			name: "a hang is reported as one", mlHang: true, rounds: 3,
			wantErr: []string{"ML API did not answer /analyze within the request timeout"},
		},
		{
			name: "a target that does not listen", mlDown: true, rounds: 3,
			wantErr: []string{"ML API /analyze:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr traffic
			trad := tr.api(t, "trad", 0, false)
			ml := tr.api(t, "ml", tt.mlStatus, tt.mlHang)
			if tt.mlDown {
				ml.Close()
			}
			targets := []observe.Target{{Name: "traditional API", URL: trad.URL}, {Name: "ML API", URL: ml.URL}}

			lat, err := observe.Interleaved(t.Context(), observe.NewClient(100*time.Millisecond), targets, texts, tt.rounds)

			if tt.wantSeen != nil {
				assert.Equal(t, tt.wantSeen, tr.seen())
			}
			if tt.wantErr != nil {
				require.Error(t, err)
				for _, s := range tt.wantErr {
					assert.Contains(t, err.Error(), s)
				}
				assert.NotContains(t, err.Error(), "traditional API")
				assert.Nil(t, lat)
				return
			}
			require.NoError(t, err)
			require.Len(t, lat, 2, "one list per target, in target order")
			for i := range lat {
				assert.Len(t, lat[i], tt.rounds)
				for _, d := range lat[i] {
					assert.Positive(t, d)
				}
			}
		})
	}
}

func TestParallel(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		wantErr string
	}{
		{name: "every request is timed"},
		{name: "a 500 stops all clients and names the target", status: http.StatusInternalServerError, wantErr: "ML API answered /analyze with 500"},
	}
	const clients, perClient = 4, 5
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr traffic
			srv := tr.api(t, "ml", tt.status, false)

			lat, err := observe.Parallel(t.Context(), observe.NewClient(2*time.Second), observe.Target{Name: "ML API", URL: srv.URL},
				[]string{"a", "b", "c"}, clients, perClient)

			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.LessOrEqual(t, len(tr.seen()), clients, "each client stops at its first failure")
				return
			}
			require.NoError(t, err)
			assert.Len(t, lat, clients*perClient)
			assert.Len(t, tr.seen(), clients*perClient)
			for _, d := range lat {
				assert.Positive(t, d)
			}
		})
	}
}
