// Package classifier runs a text classification model with hugot's pure-Go
// backend. It owns the hugot session: Load creates it, Close destroys it,
// and in between Classify guards hugot against the inputs that crash it.
package classifier

import (
	"errors"
	"fmt"
	"slices"
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
	// maxTokens is where hugot truncates a text (the model's positions).
	maxTokens int
	// batchBuckets are the batch sizes the backend compiles, ascending.
	batchBuckets []int
	// lengths are the sequence buckets with the most texts a batch of
	// each should carry, ascending.
	lengths []Length
}

// ErrEmptyText is returned for a text with nothing but white space or
// control characters in it.
var ErrEmptyText = errors.New("text is empty")

// Length is a sequence bucket: every text of up to Tokens tokens is padded
// to Tokens, and a batch of such texts pays off up to MaxBatch texts.
type Length struct {
	Tokens   int
	MaxBatch int
}

// DefaultLengths are the sequence buckets unless WithLengths says
// otherwise. They bound the number of shapes the Go backend compiles; they
// stop at the model's 128 positions, beyond which hugot truncates. Their
// batch sizes come from BenchmarkShapes (two calls at once, as the API's
// two workers run them) on the fixture model, 2 cores, best of the runs
// (texts/s for batches of 1, 2, 4, 8, 16, 32 texts): at 16 tokens 140,
// 190, 129, 304, 349, 275; at 32 tokens 86, 46, 115, 130, 151, 134; at
// 64 tokens 49, 63, 56, 45, 50, 65; at 128 tokens 19, 22, 19, 21, 16, 12.
// Batches pay off at 16 and 32 tokens, up to 16 texts; from 64 tokens on
// a single text already keeps the backend's blocked matrix kernel busy,
// batching gains little, and a big batch of long texts would only hold a
// worker longer. The machine is shared and noisy: rerun before changing.
func DefaultLengths() []Length {
	return []Length{{16, 16}, {32, 16}, {64, 2}, {128, 2}}
}

// DefaultMaxBatch is the largest batch a Classifier takes unless
// WithMaxBatch says otherwise.
const DefaultMaxBatch = 32

// Option configures Load.
type Option func(*loadOptions)

type loadOptions struct {
	maxBatch int
	lengths  []Length
}

// WithLengths sets the sequence buckets, ascending; the last must hold the
// model's longest input.
func WithLengths(lengths []Length) Option {
	return func(o *loadOptions) { o.lengths = slices.Clone(lengths) }
}

// WithMaxBatch sets the largest number of texts one Classify call may
// carry. Batches are padded up to the next batch bucket (capped at n), so
// the backend compiles a bounded set of batch shapes per sequence bucket.
func WithMaxBatch(n int) Option {
	return func(o *loadOptions) { o.maxBatch = max(1, n) }
}

// batchBuckets are every size up to 8, then a third or a half more at each
// step (12, 16, 24, 32, 48, …), up to maxBatch, and maxBatch itself: a
// batch is padded by at most a third of its texts, where powers of two
// padded a batch of 9 to 16, and the shapes stay few.
func batchBuckets(maxBatch int) []int {
	var b []int
	for n := 1; n < maxBatch; {
		b = append(b, n)
		switch {
		case n < 8:
			n++
		case n&(n-1) == 0: // a power of two: 8 → 12, 16 → 24
			n += n / 2
		default: // 12 → 16, 24 → 32
			n += n / 3
		}
	}
	return append(b, maxBatch)
}

// Load loads the model folder dir (model.onnx, tokenizer.json, config.json).
func Load(dir string, opts ...Option) (*Classifier, error) {
	o := loadOptions{maxBatch: DefaultMaxBatch, lengths: DefaultLengths()}
	for _, opt := range opts {
		opt(&o)
	}
	buckets := batchBuckets(o.maxBatch)
	sequenceBuckets := make([]int, len(o.lengths))
	for i, l := range o.lengths {
		if l.Tokens < 3 || (i > 0 && l.Tokens <= o.lengths[i-1].Tokens) {
			return nil, fmt.Errorf("sequence buckets %v: each must be at least 3 tokens and longer than the one before", o.lengths)
		}
		sequenceBuckets[i] = l.Tokens
	}
	if len(sequenceBuckets) == 0 {
		return nil, errors.New("no sequence buckets")
	}
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
	if longest := sequenceBuckets[len(sequenceBuckets)-1]; tk.MaxAllowedTokens > longest {
		return nil, errors.Join(fmt.Errorf("load model from %s: the longest sequence bucket, %d tokens, is shorter than the model's input of %d", dir, longest, tk.MaxAllowedTokens), session.Destroy())
	}
	lengths := make([]Length, len(o.lengths))
	for i, l := range o.lengths {
		lengths[i] = Length{Tokens: l.Tokens, MaxBatch: max(1, min(l.MaxBatch, o.maxBatch))}
	}
	return &Classifier{session: session, pipeline: pipeline, tokenizer: tk.GoTokenizer.Tokenizer,
		maxTokens: tk.MaxAllowedTokens, batchBuckets: buckets, lengths: lengths}, nil
}

// MaxBatch is the largest number of texts one Classify call may carry.
func (c *Classifier) MaxBatch() int { return c.batchBuckets[len(c.batchBuckets)-1] }

// Lengths are the sequence buckets, ascending, each with the most texts a
// batch of its texts should carry (at most MaxBatch): a batch of texts from
// one bucket is padded to that bucket's length and no further.
func (c *Classifier) Lengths() []Length { return slices.Clone(c.lengths) }

// Tokens is how many tokens the model sees for text, [CLS] and [SEP]
// included and truncation applied: with Lengths, it says which sequence
// bucket a batch holding text is padded to. A text that Classify would
// refuse is an error.
func (c *Classifier) Tokens(text string) (int, error) {
	text = Clean(text)
	if text == "" {
		return 0, ErrEmptyText
	}
	enc, err := c.tokenizer.EncodeSingle(text, true)
	if err != nil {
		return 0, fmt.Errorf("tokenize: %w", err)
	}
	// As hugot counts it: up to the last token the attention mask keeps.
	n := 0
	for i, m := range enc.AttentionMask {
		if m != 0 {
			n = i + 1
		}
	}
	if c.maxTokens > 0 {
		n = min(n, c.maxTokens)
	}
	return n, nil
}

// WarmUp runs every shape a request can meet, each sequence bucket with
// each batch size up to that bucket's MaxBatch, before the service reports
// ready: no request then pays for compiling a shape (10 to 20 ms each on
// the Go backend), and the batch with the most tokens has allocated its
// memory up front, as model servers do at warm-up, so that the memory a
// container shows once ready is the memory it needs under load. Last,
// workers goroutines run that largest batch at once, as that many
// inference workers do under full load.
func (c *Classifier) WarmUp(workers int) error {
	repeat := func(text string, n int) []string {
		texts := make([]string, n)
		for i := range texts {
			texts[i] = text
		}
		return texts
	}
	var largest []string
	for _, l := range c.lengths {
		// One word-piece per "good", plus [CLS] and [SEP]: exactly
		// l.Tokens tokens with a BERT vocabulary.
		text := strings.TrimSpace(strings.Repeat("good ", l.Tokens-2))
		for _, n := range c.batchBuckets {
			if n > l.MaxBatch {
				break
			}
			if _, err := c.Classify(repeat(text, n)); err != nil {
				return fmt.Errorf("warm up batch of %d at %d tokens: %w", n, l.Tokens, err)
			}
		}
		if l.Tokens*l.MaxBatch >= c.tokensOf(largest) {
			largest = repeat(text, l.MaxBatch)
		}
	}
	errs := make(chan error, workers)
	for range workers {
		go func() {
			_, err := c.Classify(largest)
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

// tokensOf is the number of tokens in a warm-up batch: its texts are
// "good" repeated, which WarmUp sizes to the bucket's length exactly.
func (c *Classifier) tokensOf(texts []string) int {
	if len(texts) == 0 {
		return 0
	}
	return len(texts) * (len(strings.Fields(texts[0])) + 2)
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
	return c.run(clean)
}

// ClassifyAccepted is Classify for texts that Tokens has accepted: it
// skips the tokenization that guards hugot, which Tokens has done already
// (a quarter of a millisecond and 3,000 allocations per text, a tenth of
// a 16-token text's share of a batch). The tokenizer is deterministic, so
// a text Tokens accepted cannot make hugot's own tokenization fail. Empty
// texts are still refused.
func (c *Classifier) ClassifyAccepted(texts []string) ([]Prediction, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	if len(texts) > c.MaxBatch() {
		return nil, fmt.Errorf("batch of %d texts is larger than the maximum of %d", len(texts), c.MaxBatch())
	}
	clean := make([]string, len(texts))
	for i, t := range texts {
		if clean[i] = Clean(t); clean[i] == "" {
			return nil, fmt.Errorf("text %d: %w", i, ErrEmptyText)
		}
	}
	return c.run(clean)
}

// run classifies clean, checked texts.
func (c *Classifier) run(clean []string) ([]Prediction, error) {
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
