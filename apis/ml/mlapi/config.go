package mlapi

import (
	"fmt"
	"time"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/ml/batcher"
)

// Config says where the model comes from and how it is served. Zero values
// take the defaults below.
type Config struct {
	// ModelDir is a local model folder; when set, nothing is downloaded.
	ModelDir string
	// ModelID is a Hugging Face model id, downloaded from $HF_ENDPOINT into
	// CacheDir unless CacheDir already holds it.
	ModelID string
	// CacheDir holds downloaded models between starts.
	CacheDir string
	// HubEndpoint is the Hugging Face hub to download from; empty means
	// DefaultHubEndpoint.
	HubEndpoint string
	// WarmupText is classified once before the API reports ready, so that
	// the first user request does not pay for the first compilation.
	WarmupText string
	// RetryAfter is the Retry-After, in seconds, of a 503 or 429.
	RetryAfter int

	// BatchMax is the most texts in one model call; 1 turns batching off.
	BatchMax int
	// BatchWait is how long the oldest queued text waits for others to join
	// its batch once a worker is free; negative means not at all.
	BatchWait time.Duration
	// QueueMax is the most texts waiting for the model; beyond it /analyze
	// answers 429 at once. It is at least MaxClientBatch.
	QueueMax int
	// RequestTimeout is how long a request may wait in the queue; after it
	// the request is answered 503 and its texts are not run.
	RequestTimeout time.Duration
	// Workers is how many model calls run at once.
	Workers int
	// HoldDuringStartup makes /analyze requests that arrive before the
	// model is ready wait for it (up to HoldMax, and at most QueueMax of
	// them) rather than get 503 at once.
	HoldDuringStartup bool
	// HoldMax is the longest a request is held during start-up.
	HoldMax time.Duration
	// DegradedFallback makes /analyze answer with the rule-based scorer,
	// marked "degraded": true, while the model is not loaded yet.
	DegradedFallback bool
	// MaxClientBatch is the most texts one {"texts": [...]} request may
	// carry.
	MaxClientBatch int
	// ProbeTimeout is how long the model-responding probe
	// (/v2/models/{name}/ready) waits for its tiny inference.
	ProbeTimeout time.Duration
	// WrapModel, when set, wraps the model call that serves /analyze and
	// the responding probe. It is not read from the environment: the
	// sample forks plant a model that stops answering with it.
	WrapModel func(Classify) Classify
}

// Classify is one model call: texts in, one prediction each out.
type Classify = batcher.Classify

// Serving defaults, chosen from the measurements in the README's "Serving
// patterns & benchmarks" on the sst2-mini fixture model and 2 cores.
const (
	// DefaultBatchMax: two batches of 16 at once reach 98% of what two
	// batches of 32 reach in-process, with half the padding and the wait.
	DefaultBatchMax = 16
	// DefaultBatchWait: the longest a text waits for company. The wait
	// ends as soon as the texts expected from the recent load are there,
	// so it is paid in full only when they do not come; at 8 and 16
	// clients 2 ms let batches break up, 5 ms did not, 10 ms gained nothing.
	DefaultBatchWait = 5 * time.Millisecond
	// DefaultQueueMax: under a second of work at the batched throughput,
	// so a queued request is answered well within DefaultRequestTimeout.
	DefaultQueueMax = 256
	// DefaultRequestTimeout bounds the time in the queue.
	DefaultRequestTimeout = 5 * time.Second
	// DefaultWorkers: one model call per core. A call of the Go backend
	// keeps little more than one core busy: two batches of 16 at once give
	// 1.4 times the texts/s of one, two single texts twice those of one;
	// more calls than cores gain nothing.
	DefaultWorkers = 2
	// DefaultHoldMax bounds how long a request waits for start-up.
	DefaultHoldMax = 30 * time.Second
	// DefaultHubEndpoint is the real Hugging Face hub.
	DefaultHubEndpoint = "https://huggingface.co"
	// DefaultProbeTimeout: about a hundred times a short text's inference
	// on this machine, so that only a model that stopped answering misses
	// it, not one that is busy under load.
	DefaultProbeTimeout = time.Second
)

// withDefaults fills in the zero values.
func (c Config) withDefaults() Config {
	if c.RetryAfter <= 0 {
		c.RetryAfter = 1
	}
	if c.WarmupText == "" {
		c.WarmupText = "This product works well and I am happy with it."
	}
	if c.BatchMax <= 0 {
		c.BatchMax = DefaultBatchMax
	}
	switch {
	case c.BatchWait == 0:
		c.BatchWait = DefaultBatchWait
	case c.BatchWait < 0:
		c.BatchWait = 0
	}
	if c.MaxClientBatch <= 0 {
		c.MaxClientBatch = httpapi.DefaultMaxClientBatch
	}
	if c.QueueMax <= 0 {
		c.QueueMax = DefaultQueueMax
	}
	c.QueueMax = max(c.QueueMax, c.MaxClientBatch)
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.HoldMax <= 0 {
		c.HoldMax = DefaultHoldMax
	}
	if c.ProbeTimeout <= 0 {
		c.ProbeTimeout = DefaultProbeTimeout
	}
	if c.HubEndpoint == "" {
		c.HubEndpoint = DefaultHubEndpoint
	}
	return c
}

// Settings are everything the ML API reads from the environment: the
// serving settings both APIs share and the model's.
type Settings struct {
	httpapi.Settings
	// Model is where the model comes from and how it is served.
	Model Config
}

// ReadSettings reads the settings from getenv: PORT, LOG_LEVEL and
// SHUTDOWN_GRACE (see httpapi.ReadSettings), then MODEL_DIR, MODEL_ID,
// MODEL_CACHE, HF_ENDPOINT, BATCH_MAX, BATCH_WAIT, QUEUE_MAX,
// REQUEST_TIMEOUT, INFERENCE_WORKERS, HOLD_DURING_STARTUP, HOLD_MAX,
// DEGRADED_FALLBACK, MAX_CLIENT_BATCH and PROBE_TIMEOUT. The error names
// every value that does not parse, of every group, at once.
func ReadSettings(getenv func(string) string) (Settings, error) {
	e := httpapi.Env{Getenv: getenv}
	s := Settings{Settings: httpapi.ReadSettings(&e), Model: Config{
		ModelDir:          getenv("MODEL_DIR"),
		ModelID:           getenv("MODEL_ID"),
		CacheDir:          getenv("MODEL_CACHE"),
		HubEndpoint:       e.String("HF_ENDPOINT", DefaultHubEndpoint),
		BatchMax:          e.Int("BATCH_MAX", DefaultBatchMax, 1),
		BatchWait:         e.Duration("BATCH_WAIT", DefaultBatchWait),
		QueueMax:          e.Int("QUEUE_MAX", DefaultQueueMax, 1),
		RequestTimeout:    e.Duration("REQUEST_TIMEOUT", DefaultRequestTimeout),
		Workers:           e.Int("INFERENCE_WORKERS", DefaultWorkers, 1),
		HoldDuringStartup: e.Bool("HOLD_DURING_STARTUP", false),
		HoldMax:           e.Duration("HOLD_MAX", DefaultHoldMax),
		DegradedFallback:  e.Bool("DEGRADED_FALLBACK", false),
		MaxClientBatch:    e.Int("MAX_CLIENT_BATCH", httpapi.DefaultMaxClientBatch, 1),
		ProbeTimeout:      e.Duration("PROBE_TIMEOUT", DefaultProbeTimeout),
	}}
	if s.Model.BatchWait == 0 {
		s.Model.BatchWait = -1 // BATCH_WAIT=0: do not wait, rather than the default
	}
	if err := e.Err(); err != nil {
		return s, fmt.Errorf("configuration: %w", err)
	}
	return s, nil
}
