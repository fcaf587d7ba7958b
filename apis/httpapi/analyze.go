package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// MaxBodyBytes is the largest /analyze body either API accepts.
const MaxBodyBytes = 64 << 10

// Sentiment labels shared by both APIs.
const (
	Positive = "POSITIVE"
	Negative = "NEGATIVE"
	Neutral  = "NEUTRAL"
)

// AnalyzeResponse is the 200 answer of POST /analyze.
type AnalyzeResponse struct {
	Sentiment        string  `json:"sentiment"`
	Confidence       float64 `json:"confidence"`
	Method           string  `json:"method"`
	ProcessingTimeMS float64 `json:"processing_time_ms"`
	Model            string  `json:"model,omitempty"`
	// Degraded marks an answer of the ML API given by the rule-based scorer
	// while its model loads.
	Degraded bool `json:"degraded,omitempty"`
}

// DefaultMaxClientBatch is the most texts one {"texts": [...]} request may
// carry unless an API says otherwise.
const DefaultMaxClientBatch = 32

// AnalyzeRequest is a decoded POST /analyze body.
type AnalyzeRequest struct {
	// Texts holds the one text of {"text": "..."}, or the texts of
	// {"texts": [...]} in order.
	Texts []string
	// Batch is true for {"texts": [...]}, which is answered with a JSON
	// list in the same order.
	Batch bool
}

// RequestError is a client mistake in an /analyze request: the status to
// answer with and a message that names the problem.
type RequestError struct {
	Status  int
	Message string
}

func (e *RequestError) Error() string { return e.Message }

// Write answers the request with this error.
func (e *RequestError) Write(w http.ResponseWriter) { WriteError(w, e.Status, e.Message) }

// decodeObject reads a JSON object body of at most MaxBodyBytes.
func decodeObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, *RequestError) {
	if err := requireJSON(r); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &RequestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", MaxBodyBytes)}
		}
		return nil, &RequestError{http.StatusBadRequest, "could not read request body: " + err.Error()}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, &RequestError{http.StatusBadRequest, "request body is not a JSON object: " + err.Error()}
	}
	return fields, nil
}

func textField(fields map[string]json.RawMessage) (string, *RequestError) {
	raw, ok := fields["text"]
	if !ok {
		return "", &RequestError{http.StatusBadRequest, `field "text" is missing: send {"text": "..."}`}
	}
	return validText(raw, `"text"`)
}

// validText decodes one non-empty string; name is how errors call it.
func validText(raw json.RawMessage, name string) (string, *RequestError) {
	// A pointer, because JSON null unmarshals into a string as a silent no-op
	// and would be reported as an empty text rather than a non-string one.
	var ptr *string
	if err := json.Unmarshal(raw, &ptr); err != nil || ptr == nil {
		return "", &RequestError{http.StatusBadRequest, "field " + name + " must be a string"}
	}
	text := strings.ToValidUTF8(*ptr, "\uFFFD")
	if strings.TrimSpace(text) == "" {
		return "", &RequestError{http.StatusBadRequest, "field " + name + " must not be empty"}
	}
	return text, nil
}

// DecodeAnalyze reads the body of POST /analyze: {"text": "..."}, or a
// client-side batch {"texts": ["...", ...]} of 1 to maxTexts non-empty
// strings. Anything else is a *RequestError naming the problem: 415 for a
// content type other than JSON, 413 for a body over MaxBodyBytes or more
// than maxTexts texts, 400 for malformed JSON, a missing, empty or
// non-string text, or both fields at once. Invalid UTF-8 is replaced, never
// passed on, so that no model tokenizer ever sees it.
func DecodeAnalyze(w http.ResponseWriter, r *http.Request, maxTexts int) (AnalyzeRequest, *RequestError) {
	fields, rerr := decodeObject(w, r)
	if rerr != nil {
		return AnalyzeRequest{}, rerr
	}
	_, hasText := fields["text"]
	raw, hasTexts := fields["texts"]
	switch {
	case hasText && hasTexts:
		return AnalyzeRequest{}, &RequestError{http.StatusBadRequest, `send either "text" or "texts", not both`}
	case !hasTexts:
		text, rerr := textField(fields)
		if rerr != nil {
			return AnalyzeRequest{}, rerr
		}
		return AnalyzeRequest{Texts: []string{text}}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		return AnalyzeRequest{}, &RequestError{http.StatusBadRequest, `field "texts" must be a list of strings`}
	}
	switch {
	case len(items) == 0:
		return AnalyzeRequest{}, &RequestError{http.StatusBadRequest, `field "texts" must not be empty`}
	case len(items) > maxTexts:
		return AnalyzeRequest{}, &RequestError{http.StatusRequestEntityTooLarge, fmt.Sprintf(`field "texts" holds %d texts, more than the %d allowed per request`, len(items), maxTexts)}
	}
	texts := make([]string, len(items))
	for i, item := range items {
		text, rerr := validText(item, fmt.Sprintf(`"texts[%d]"`, i))
		if rerr != nil {
			return AnalyzeRequest{}, rerr
		}
		texts[i] = text
	}
	return AnalyzeRequest{Texts: texts, Batch: true}, nil
}

func requireJSON(r *http.Request) *RequestError {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return &RequestError{http.StatusUnsupportedMediaType, "Content-Type is missing: send application/json"}
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return &RequestError{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not supported: send application/json", ct)}
	}
	return nil
}
