package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// NewClient returns the HTTP client that probes use: keep-alive connections
// enough for parallel load, and a timeout per request so that a service that
// hangs is seen as hanging rather than hanging the probe.
func NewClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	tr.Proxy = nil
	return &http.Client{Timeout: timeout, Transport: tr}
}

// Answer is what one probe saw.
type Answer struct {
	// Status is the HTTP status, 0 when no answer came.
	Status int
	// RetryAfter is the Retry-After header of the answer.
	RetryAfter string
	// Body is the start of the answer's body.
	Body []byte
	// Latency is the time from sending to the end of the body.
	Latency time.Duration
	// Err is why no answer came (connection refused, timeout).
	Err error
	// TimedOut is true when the request ran into the client's timeout:
	// the service accepted it and never answered.
	TimedOut bool
}

// Get probes GET url.
func Get(ctx context.Context, c *http.Client, url string) Answer {
	return do(ctx, c, http.MethodGet, url, nil)
}

// Analyze probes POST url/analyze with {"text": text}.
func Analyze(ctx context.Context, c *http.Client, baseURL, text string) Answer {
	body, _ := json.Marshal(map[string]string{"text": text})
	return do(ctx, c, http.MethodPost, baseURL+"/analyze", body)
}

func do(ctx context.Context, c *http.Client, method, url string, body []byte) Answer {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return Answer{Err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		var te interface{ Timeout() bool }
		return Answer{Err: err, Latency: time.Since(start), TimedOut: errors.As(err, &te) && te.Timeout() && ctx.Err() == nil}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err == nil {
		// Drain the rest so that the connection is reused.
		_, err = io.Copy(io.Discard, resp.Body)
	}
	a := Answer{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After"), Body: b, Latency: time.Since(start)}
	if err != nil {
		a.Err = fmt.Errorf("read answer: %w", err)
	}
	return a
}
