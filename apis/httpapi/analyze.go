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

// DecodeText reads the body of POST /analyze, {"text": "..."}, and returns
// the text. Anything else is a *RequestError: 415 for a content type other
// than JSON, 413 for a body over MaxBodyBytes, 400 for malformed JSON or a
// missing, empty or non-string text. Invalid UTF-8 is replaced, never passed
// on, so that no model tokenizer ever sees it.
func DecodeText(w http.ResponseWriter, r *http.Request) (string, *RequestError) {
	if err := requireJSON(r); err != nil {
		return "", err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return "", &RequestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", MaxBodyBytes)}
		}
		return "", &RequestError{http.StatusBadRequest, "could not read request body: " + err.Error()}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return "", &RequestError{http.StatusBadRequest, "request body is not a JSON object: " + err.Error()}
	}
	raw, ok := fields["text"]
	if !ok {
		return "", &RequestError{http.StatusBadRequest, `field "text" is missing: send {"text": "..."}`}
	}
	// A pointer, because JSON null unmarshals into a string as a silent no-op
	// and would be reported as an empty text rather than a non-string one.
	var ptr *string
	if err := json.Unmarshal(raw, &ptr); err != nil || ptr == nil {
		return "", &RequestError{http.StatusBadRequest, `field "text" must be a string`}
	}
	text := strings.ToValidUTF8(*ptr, "\uFFFD")
	if strings.TrimSpace(text) == "" {
		return "", &RequestError{http.StatusBadRequest, `field "text" must not be empty`}
	}
	return text, nil
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
