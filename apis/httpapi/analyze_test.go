package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/apis/httpapi"
)

// echoText answers with the single text DecodeAnalyze accepted, or with
// its error.
func echoText(w http.ResponseWriter, r *http.Request) {
	req, rerr := httpapi.DecodeAnalyze(w, r, httpapi.DefaultMaxClientBatch)
	if rerr != nil {
		rerr.Write(w)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"text": req.Texts[0]})
}

// bodyOfSize is a valid {"text": "aaa..."} body of exactly n bytes.
func bodyOfSize(n int) string {
	const frame = len(`{"text":""}`)
	return `{"text":"` + strings.Repeat("a", n-frame) + `"}`
}

func TestDecodeAnalyzeSingleText(t *testing.T) {
	const jsonType = "application/json"
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantText    string // on 200
		wantMsg     string // on an error: part of the message that names the problem
	}{
		{name: "plain", contentType: jsonType, body: `{"text":"I love it"}`, wantStatus: 200, wantText: "I love it"},
		{name: "charset parameter", contentType: "application/json; charset=utf-8", body: `{"text":"ok"}`, wantStatus: 200, wantText: "ok"},
		{name: "media type is case-insensitive", contentType: "Application/JSON", body: `{"text":"ok"}`, wantStatus: 200, wantText: "ok"},
		{name: "extra fields are ignored", contentType: jsonType, body: `{"text":"ok","lang":"en"}`, wantStatus: 200, wantText: "ok"},
		{name: "unicode escapes", contentType: jsonType, body: `{"text":"caf\u00e9 \ud83d\udc4d"}`, wantStatus: 200, wantText: "café 👍"},
		{name: "body of exactly the limit", contentType: jsonType, body: bodyOfSize(httpapi.MaxBodyBytes), wantStatus: 200, wantText: strings.Repeat("a", httpapi.MaxBodyBytes-len(`{"text":""}`))},

		{name: "missing content type", contentType: "", body: `{"text":"ok"}`, wantStatus: 415, wantMsg: "Content-Type is missing"},
		{name: "text/plain", contentType: "text/plain", body: `{"text":"ok"}`, wantStatus: 415, wantMsg: `"text/plain" is not supported`},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: `text=ok`, wantStatus: 415, wantMsg: "not supported"},
		{name: "unparsable content type", contentType: "application/json;;", body: `{"text":"ok"}`, wantStatus: 415, wantMsg: "not supported"},

		{name: "body over the limit", contentType: jsonType, body: bodyOfSize(httpapi.MaxBodyBytes + 1), wantStatus: 413, wantMsg: "larger than 65536 bytes"},

		{name: "malformed JSON", contentType: jsonType, body: `{"text": "unterminated`, wantStatus: 400, wantMsg: "not a JSON object"},
		{name: "empty body", contentType: jsonType, body: ``, wantStatus: 400, wantMsg: "not a JSON object"},
		{name: "trailing garbage", contentType: jsonType, body: `{"text":"ok"} and more`, wantStatus: 400, wantMsg: "not a JSON object"},
		{name: "array", contentType: jsonType, body: `[1]`, wantStatus: 400, wantMsg: "not a JSON object"},
		{name: "string", contentType: jsonType, body: `"x"`, wantStatus: 400, wantMsg: "not a JSON object"},
		{name: "number", contentType: jsonType, body: `42`, wantStatus: 400, wantMsg: "not a JSON object"},
		{name: "empty object", contentType: jsonType, body: `{}`, wantStatus: 400, wantMsg: `"text" is missing`},
		{name: "JSON null body", contentType: jsonType, body: `null`, wantStatus: 400, wantMsg: `"text" is missing`},
		{name: "field name is case-sensitive", contentType: jsonType, body: `{"Text":"ok"}`, wantStatus: 400, wantMsg: `"text" is missing`},
		{name: "empty text", contentType: jsonType, body: `{"text":""}`, wantStatus: 400, wantMsg: `"text" must not be empty`},
		{name: "white space text", contentType: jsonType, body: `{"text":" \t\n\u00a0 "}`, wantStatus: 400, wantMsg: `"text" must not be empty`},
		{name: "number text", contentType: jsonType, body: `{"text":5}`, wantStatus: 400, wantMsg: `"text" must be a string`},
		{name: "null text", contentType: jsonType, body: `{"text":null}`, wantStatus: 400, wantMsg: `"text" must be a string`},
		{name: "null text with spaces", contentType: jsonType, body: `{"text": null }`, wantStatus: 400, wantMsg: `"text" must be a string`},
		{name: "object text", contentType: jsonType, body: `{"text":{"a":1}}`, wantStatus: 400, wantMsg: `"text" must be a string`},
		{name: "array text", contentType: jsonType, body: `{"text":["ok"]}`, wantStatus: 400, wantMsg: `"text" must be a string`},
		{name: "boolean text", contentType: jsonType, body: `{"text":true}`, wantStatus: 400, wantMsg: `"text" must be a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/analyze", strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			echoText(rec, req)

			require.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			if tt.wantStatus == http.StatusOK {
				var got map[string]string
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
				assert.Equal(t, tt.wantText, got["text"])
				return
			}
			var got httpapi.ErrorBody
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got), rec.Body.String())
			assert.Contains(t, got.Error, tt.wantMsg)
		})
	}
}

// TestDecodeAnalyzeNeverPassesInvalidUTF8 checks that raw invalid bytes in the
// body reach no model: they come out as replacement characters.
func TestDecodeAnalyzeNeverPassesInvalidUTF8(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "/analyze", strings.NewReader("{\"text\":\"good \xff\xfe product\"}"))
	req.Header.Set("Content-Type", "application/json")

	got, rerr := httpapi.DecodeAnalyze(httptest.NewRecorder(), req, httpapi.DefaultMaxClientBatch)

	require.Nil(t, rerr)
	require.Len(t, got.Texts, 1)
	assert.True(t, utf8.ValidString(got.Texts[0]))
	assert.Equal(t, "good \uFFFD\uFFFD product", got.Texts[0])
}

func TestRequestErrorIsAnError(t *testing.T) {
	var err error = &httpapi.RequestError{Status: http.StatusBadRequest, Message: "field missing"}
	assert.EqualError(t, err, "field missing")
}

func TestDecodeAnalyze(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantStatus int
		want       httpapi.AnalyzeRequest // on 200
		wantMsg    string                 // on an error
	}{
		{name: "one text", body: `{"text":"ok"}`, wantStatus: 200, want: httpapi.AnalyzeRequest{Texts: []string{"ok"}}},
		{name: "client batch", body: `{"texts":["a","b","c"]}`, wantStatus: 200, want: httpapi.AnalyzeRequest{Texts: []string{"a", "b", "c"}, Batch: true}},
		{name: "client batch of one", body: `{"texts":["a"]}`, wantStatus: 200, want: httpapi.AnalyzeRequest{Texts: []string{"a"}, Batch: true}},
		{name: "client batch at the limit", body: `{"texts":["1","2","3","4"]}`, wantStatus: 200, want: httpapi.AnalyzeRequest{Texts: []string{"1", "2", "3", "4"}, Batch: true}},
		{name: "invalid UTF-8 in a batch is replaced", body: "{\"texts\":[\"a\xff\"]}", wantStatus: 200, want: httpapi.AnalyzeRequest{Texts: []string{"a\uFFFD"}, Batch: true}},

		{name: "over the limit", body: `{"texts":["1","2","3","4","5"]}`, wantStatus: 413, wantMsg: `holds 5 texts, more than the 4 allowed`},
		{name: "empty list", body: `{"texts":[]}`, wantStatus: 400, wantMsg: `"texts" must not be empty`},
		{name: "null list", body: `{"texts":null}`, wantStatus: 400, wantMsg: `"texts" must be a list of strings`},
		{name: "string instead of list", body: `{"texts":"a"}`, wantStatus: 400, wantMsg: `"texts" must be a list of strings`},
		{name: "number in list", body: `{"texts":["a",5]}`, wantStatus: 400, wantMsg: `"texts[1]" must be a string`},
		{name: "null in list", body: `{"texts":[null]}`, wantStatus: 400, wantMsg: `"texts[0]" must be a string`},
		{name: "empty text in list", body: `{"texts":["a"," "]}`, wantStatus: 400, wantMsg: `"texts[1]" must not be empty`},
		{name: "both fields", body: `{"text":"a","texts":["b"]}`, wantStatus: 400, wantMsg: `either "text" or "texts"`},
		{name: "neither field", body: `{}`, wantStatus: 400, wantMsg: `"text" is missing`},
		{name: "single text rules still apply", body: `{"text":5}`, wantStatus: 400, wantMsg: `"text" must be a string`},
		{name: "not an object", body: `[]`, wantStatus: 400, wantMsg: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/analyze", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")

			got, rerr := httpapi.DecodeAnalyze(httptest.NewRecorder(), req, 4)

			if tt.wantStatus == http.StatusOK {
				require.Nil(t, rerr)
				assert.Equal(t, tt.want, got)
				return
			}
			require.NotNil(t, rerr)
			assert.Equal(t, tt.wantStatus, rerr.Status)
			assert.Contains(t, rerr.Message, tt.wantMsg)
		})
	}
}
