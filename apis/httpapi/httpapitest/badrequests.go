// Package httpapitest is the test kit of the lab APIs: the contract's
// matrix of bad requests, requests through a handler (Do, Analyze), the
// fixture model (FixtureModel) and the race detector's switch
// (SkipUnderRace).
package httpapitest

import "strings"

// BadRequest is a request that must get WantStatus with a JSON error that
// contains WantMsg, and leave the service serving.
type BadRequest struct {
	Name, Method, Path, ContentType, Body string
	WantStatus                            int
	WantMsg                               string
}

// BadRequests is the contract's matrix of bad requests, the same for both
// APIs.
func BadRequests() []BadRequest {
	return []BadRequest{
		{"malformed JSON", "POST", "/analyze", "application/json", `{"text": "oops`, 400, "not a JSON object"},
		{"array", "POST", "/analyze", "application/json", `[1]`, 400, "not a JSON object"},
		{"bare string", "POST", "/analyze", "application/json", `"x"`, 400, "not a JSON object"},
		{"missing text", "POST", "/analyze", "application/json", `{"txt":"hi"}`, 400, `"text" is missing`},
		{"empty text", "POST", "/analyze", "application/json", `{"text":""}`, 400, `"text" must not be empty`},
		{"white space text", "POST", "/analyze", "application/json", `{"text":"  \n\t "}`, 400, `"text" must not be empty`},
		{"number text", "POST", "/analyze", "application/json", `{"text":5}`, 400, `"text" must be a string`},
		{"null text", "POST", "/analyze", "application/json", `{"text":null}`, 400, `"text" must be a string`},
		{"object text", "POST", "/analyze", "application/json", `{"text":{"a":1}}`, 400, `"text" must be a string`},
		{"body over 64 KiB", "POST", "/analyze", "application/json", `{"text":"` + strings.Repeat("a", 64<<10) + `"}`, 413, "larger than 65536 bytes"},
		{"GET /analyze", "GET", "/analyze", "", "", 405, "method GET is not allowed"},
		{"text/plain", "POST", "/analyze", "text/plain", `{"text":"hi"}`, 415, "not supported"},
		{"missing content type", "POST", "/analyze", "", `{"text":"hi"}`, 415, "Content-Type is missing"},
		{"unknown path", "GET", "/nope", "", "", 404, "no such endpoint: /nope"},
	}
}
