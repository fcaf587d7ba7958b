package httpapi_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mlready/mlready/apis/httpapi"
)

// FuzzDecodeAnalyze feeds arbitrary bodies and content types to the
// /analyze decoder: it never panics, a rejection is a 4xx with a message,
// and an accepted request holds 1..max valid, non-blank UTF-8 texts.
// Run it longer with
//
//	go test -run=^$ -fuzz=FuzzDecodeAnalyze -fuzztime=60s ./apis/httpapi
func FuzzDecodeAnalyze(f *testing.F) {
	seeds := []struct {
		ct   string
		body string
	}{
		{"application/json", `{"text":"I love it"}`},
		{"application/json", `{"texts":["good","bad"]}`},
		{"application/json; charset=utf-8", `{"text":"caf\u00e9 na\u00efve"}`},
		{"application/json", "{\"text\":\"\xff\xfe invalid utf-8\"}"},
		{"application/json", `{"text":"nul \u0000 byte"}`},
		{"application/json", `{"text":1e999}`},
		{"application/json", `{"text":123456789012345678901234567890}`},
		{"application/json", strings.Repeat("[", 5000) + strings.Repeat("]", 5000)},
		{"application/json", `{"text":"` + strings.Repeat("a", 1000) + `"}`},
		{"application/json", `{"text":"😀🔥 مرحبا 你好 привет"}`},
		{"application/json", `{"text":null}`},
		{"application/json", `{"texts":[]}`},
		{"application/json", `{"texts":[1,2]}`},
		{"application/json", `{"text":"a","texts":["b"]}`},
		{"text/plain", `{"text":"x"}`},
		{"", `{"text":"x"}`},
		{"application/json", `{"text":`},
	}
	for _, s := range seeds {
		f.Add(s.ct, []byte(s.body))
	}
	const maxTexts = 8
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/analyze", bytes.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		got, rerr := httpapi.DecodeAnalyze(httptest.NewRecorder(), req, maxTexts)
		if rerr != nil {
			if rerr.Status < 400 || rerr.Status > 499 || rerr.Message == "" {
				t.Fatalf("rejection must be a 4xx with a message, got %d %q", rerr.Status, rerr.Message)
			}
			return
		}
		if len(got.Texts) < 1 || len(got.Texts) > maxTexts {
			t.Fatalf("accepted %d texts", len(got.Texts))
		}
		for _, text := range got.Texts {
			if !utf8.ValidString(text) || strings.TrimSpace(text) == "" {
				t.Fatalf("accepted text %q is blank or not valid UTF-8", text)
			}
		}
	})
}
