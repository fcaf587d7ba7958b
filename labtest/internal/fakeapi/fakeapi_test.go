package fakeapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/labtest/internal/fakeapi"
)

// call sends one request and decodes the JSON object it answers; status 0
// means no answer before the client gave up.
func call(t *testing.T, c *http.Client, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var got map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	return resp.StatusCode, got
}

func TestSpeaksTheContract(t *testing.T) {
	url := (&fakeapi.API{}).Start(t)
	status, got := call(t, http.DefaultClient, http.MethodPost, url+"/analyze", `{"text":"great"}`)
	require.Equal(t, http.StatusOK, status)
	for _, field := range []string{"sentiment", "confidence", "method", "processing_time_ms"} {
		assert.Contains(t, got, field)
	}
	status, _ = call(t, http.DefaultClient, http.MethodGet, url+"/ready", "")
	assert.Equal(t, http.StatusOK, status, "ready at once")
}

func TestMisbehaves(t *testing.T) {
	t.Run("late ready", func(t *testing.T) {
		api := &fakeapi.API{ReadyAfter: 2}
		url := api.Start(t)
		for i := range 2 {
			status, _ := call(t, http.DefaultClient, http.MethodGet, url+"/ready", "")
			assert.Equal(t, http.StatusServiceUnavailable, status, "probe %d", i+1)
			status, _ = call(t, http.DefaultClient, http.MethodPost, url+"/analyze", `{"text":"x"}`)
			assert.Equal(t, http.StatusServiceUnavailable, status, "loading")
		}
		status, _ := call(t, http.DefaultClient, http.MethodGet, url+"/ready", "")
		assert.Equal(t, http.StatusOK, status, "third probe")
		assert.Equal(t, []string{"x", "x"}, api.Texts())
	})
	t.Run("500s", func(t *testing.T) {
		url := (&fakeapi.API{Status: http.StatusInternalServerError}).Start(t)
		status, got := call(t, http.DefaultClient, http.MethodPost, url+"/analyze", `{"text":"x"}`)
		assert.Equal(t, http.StatusInternalServerError, status)
		assert.Contains(t, got, "error")
	})
	t.Run("hangs", func(t *testing.T) {
		url := (&fakeapi.API{HangWhenReady: true}).Start(t)
		status, _ := call(t, &http.Client{Timeout: 50 * time.Millisecond}, http.MethodPost, url+"/analyze", `{"text":"x"}`)
		assert.Zero(t, status, "no answer before the client gives up")
	})
}
