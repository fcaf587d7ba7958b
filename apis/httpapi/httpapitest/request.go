package httpapitest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Reply is one answer of an API whose body is a JSON object.
type Reply struct {
	Status int
	Header http.Header
	Body   map[string]any
}

// Do serves one request through h, asserts that the answer is JSON and
// decodes the object it holds. contentType "" sends none.
func Do(t testing.TB, h http.Handler, method, path, contentType, body string) Reply {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"), "%s %s answers JSON", method, path)
	var got map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got), "%s %s answered %q", method, path, rec.Body.String())
	return Reply{rec.Code, rec.Header(), got}
}

// Get is Do for a GET.
func Get(t testing.TB, h http.Handler, path string) Reply {
	t.Helper()
	return Do(t, h, http.MethodGet, path, "", "")
}

// Analyze posts {"text": text} to /analyze through h.
func Analyze(t testing.TB, h http.Handler, text string) Reply {
	t.Helper()
	body, err := json.Marshal(map[string]string{"text": text})
	require.NoError(t, err)
	return Do(t, h, http.MethodPost, "/analyze", "application/json", string(body))
}
