// Package classifier runs a text classification model with hugot's pure-Go
// backend. It owns the hugot session: Load creates it, Close destroys it,
// and in between Classify guards hugot against the inputs that crash it.
package classifier

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/knights-analytics/hugot"
	"github.com/knights-analytics/hugot/options"
	"github.com/knights-analytics/hugot/pipelines"
	"github.com/sugarme/tokenizer"
)

// Prediction is the top label of one text and its softmax score.
type Prediction struct {
	Label string
	Score float64
}

// Classifier is a loaded model, safe for concurrent use.
type Classifier struct {
	session   *hugot.Session
	pipeline  *pipelines.TextClassificationPipeline
	tokenizer *tokenizer.Tokenizer
	// batchBuckets are the batch sizes the backend compiles, ascending.
	batchBuckets []int
}

// ErrEmptyText is returned for a text with nothing but white space or
// control characters in it.
var ErrEmptyText = errors.New("text is empty")

// Sequence buckets bound the number of shapes the Go backend compiles; they
// stop at the model's 128 positions, beyond which hugot truncates.
var sequenceBuckets = []int{16, 32, 64, 128}

// DefaultMaxBatch is the largest batch a Classifier takes unless
// WithMaxBatch says otherwise.
const DefaultMaxBatch = 32

// Option configures Load.
type Option func(*loadOptions)

type loadOptions struct{ maxBatch int }

// WithMaxBatch sets the largest number of texts one Classify call may
// carry. Batches are padded up to a power of two (capped at n), so the
// backend compiles at most a handful of batch shapes per sequence bucket.
func WithMaxBatch(n int) Option {
	return func(o *loadOptions) { o.maxBatch = max(1, n) }
}

// batchBuckets is 1, 2, 4, … up to maxBatch, and maxBatch itself.
func batchBuckets(maxBatch int) []int {
	var b []int
	for n := 1; n < maxBatch; n *= 2 {
		b = append(b, n)
	}
	return append(b, maxBatch)
}

// Load loads the model folder dir (model.onnx, tokenizer.json, config.json).
func Load(dir string, opts ...Option) (*Classifier, error) {
	o := loadOptions{maxBatch: DefaultMaxBatch}
	for _, opt := range opts {
		opt(&o)
	}
	buckets := batchBuckets(o.maxBatch)
	session, err := hugot.NewGoSession(
		options.WithGoMLXSequenceBuckets(sequenceBuckets),
		options.WithGoMLXBatchBuckets(buckets),
	)
	if err != nil {
		return nil, fmt.Errorf("create hugot session: %w", err)
	}
	pipeline, err := hugot.NewPipeline(session, hugot.TextClassificationConfig{
		ModelPath: dir,
		Name:      "sentiment",
		Options:   []hugot.TextClassificationOption{pipelines.WithSoftmax()},
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("load model from %s: %w", dir, err), session.Destroy())
	}
	tk := pipeline.GetModel().Tokenizer
	if tk == nil || tk.GoTokenizer == nil {
		return nil, errors.Join(fmt.Errorf("load model from %s: no tokenizer for the Go backend", dir), session.Destroy())
	}
	return &Classifier{session: session, pipeline: pipeline, tokenizer: tk.GoTokenizer.Tokenizer, batchBuckets: buckets}, nil
}

// MaxBatch is the largest number of texts one Classify call may carry.
func (c *Classifier) MaxBatch() int { return c.batchBuckets[len(c.batchBuckets)-1] }

// WarmUp runs every shape a request can meet, each batch bucket at each
// sequence bucket, before the service reports ready: no request then pays for
// compiling a shape (10 to 20 ms each on the Go backend), and the largest
// batch of the longest texts has allocated its memory up front, as model
// servers do at warm-up, so that the memory a container shows once ready is
// the memory it needs under load. Last, workers goroutines run the largest
// shape at once, as that many inference workers do under full load.
func (c *Classifier) WarmUp(workers int) error {
	for _, seq := range sequenceBuckets {
		// One word-piece per "good", plus [CLS] and [SEP]: exactly seq
		// tokens with a BERT vocabulary.
		text := strings.TrimSpace(strings.Repeat("good ", seq-2))
		for _, n := range c.batchBuckets {
			texts := make([]string, n)
			for i := range texts {
				texts[i] = text
			}
			if _, err := c.Classify(texts); err != nil {
				return fmt.Errorf("warm up batch of %d at %d tokens: %w", n, seq, err)
			}
		}
	}
	longest := strings.TrimSpace(strings.Repeat("good ", sequenceBuckets[len(sequenceBuckets)-1]-2))
	full := make([]string, c.MaxBatch())
	for i := range full {
		full[i] = longest
	}
	errs := make(chan error, workers)
	for range workers {
		go func() {
			_, err := c.Classify(full)
			errs <- err
		}()
	}
	var err error
	for range workers {
		err = errors.Join(err, <-errs)
	}
	if err != nil {
		return fmt.Errorf("warm up %d workers at once: %w", workers, err)
	}
	return nil
}

// Close releases the hugot session.
func (c *Classifier) Close() error {
	if err := c.session.Destroy(); err != nil {
		return fmt.Errorf("destroy hugot session: %w", err)
	}
	return nil
}

// Classify returns one prediction per text, in order. Texts are cleaned and
// checked first: hugot panics on an empty batch and exits the process on a
// tokenizer error, so neither may ever reach it.
func (c *Classifier) Classify(texts []string) ([]Prediction, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	if len(c.batchBuckets) > 0 && len(texts) > c.MaxBatch() {
		return nil, fmt.Errorf("batch of %d texts is larger than the maximum of %d", len(texts), c.MaxBatch())
	}
	clean := make([]string, len(texts))
	for i, t := range texts {
		t = Clean(t)
		if t == "" {
			return nil, fmt.Errorf("text %d: %w", i, ErrEmptyText)
		}
		if _, err := c.tokenizer.EncodeSingle(t, true); err != nil {
			return nil, fmt.Errorf("tokenize text %d: %w", i, err)
		}
		clean[i] = t
	}
	out, err := c.pipeline.RunPipeline(clean)
	if err != nil {
		return nil, fmt.Errorf("run model: %w", err)
	}
	if len(out.ClassificationOutputs) != len(clean) {
		return nil, fmt.Errorf("run model: %d outputs for %d texts", len(out.ClassificationOutputs), len(clean))
	}
	preds := make([]Prediction, len(clean))
	for i, labels := range out.ClassificationOutputs {
		if len(labels) == 0 {
			return nil, fmt.Errorf("run model: no label for text %d", i)
		}
		best := labels[0]
		for _, l := range labels[1:] {
			if l.Score > best.Score {
				best = l
			}
		}
		preds[i] = Prediction{Label: best.Label, Score: float64(best.Score)}
	}
	return preds, nil
}

// Clean makes text safe for the tokenizer: invalid UTF-8 and control
// characters become spaces, and surrounding white space goes.
func Clean(text string) string {
	text = strings.ToValidUTF8(text, " ")
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, text)
	return strings.TrimSpace(text)
}
