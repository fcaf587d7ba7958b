package classifier

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/knights-analytics/hugot/backends"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/apis/httpapi/httpapitest"
)

// modelDir is the committed sst2-mini fixture model (see
// httpapitest.FixtureModel, which skips a test when it is missing).
const modelDir = "../../../fixtures/models/sst2-mini"

// fixture holds the one Classifier the package's tests share: loading takes
// a fraction of a second, but there is no reason to pay for it per test.
var fixture struct {
	once sync.Once
	clf  *Classifier
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.clf != nil {
		if err := fixture.clf.Close(); err != nil {
			code = 1
		}
	}
	os.Exit(code)
}

// loaded returns the shared fixture Classifier, loading it on first use.
func loaded(t testing.TB) *Classifier {
	t.Helper()
	httpapitest.FixtureModel(t)
	httpapitest.SkipUnderRace(t, httpapitest.ModelRace)
	fixture.once.Do(func() { fixture.clf, fixture.err = Load(modelDir) })
	require.NoError(t, fixture.err, "load %s", modelDir)
	return fixture.clf
}

// review is one labelled line of the fixture's testdata/reviews.tsv.
type review struct{ label, text string }

func readReviews(t *testing.T) []review {
	t.Helper()
	f, err := os.Open(filepath.Join(modelDir, "testdata", "reviews.tsv"))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	require.True(t, sc.Scan(), "reviews.tsv is empty")
	require.Equal(t, "label\ttext", sc.Text(), "reviews.tsv header")
	var out []review
	for line := 2; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		label, text, ok := strings.Cut(sc.Text(), "\t")
		require.True(t, ok, "reviews.tsv line %d has no tab", line)
		require.Contains(t, []string{"POSITIVE", "NEGATIVE"}, label, "reviews.tsv line %d", line)
		out = append(out, review{label, text})
	}
	require.NoError(t, sc.Err())
	return out
}

func TestReviewsAccuracy(t *testing.T) {
	c := loaded(t)
	reviews := readReviews(t)
	require.GreaterOrEqual(t, len(reviews), 40, "reviews.tsv holds at least 40 reviews")

	right := 0
	for _, r := range reviews {
		// One text per call, as the API classifies them.
		preds, err := c.Classify([]string{r.text})
		require.NoError(t, err, r.text)
		require.Len(t, preds, 1)
		if preds[0].Label == r.label {
			right++
		} else {
			t.Logf("wrong: %s (%.3f) for %s review %q", preds[0].Label, preds[0].Score, r.label, r.text)
		}
	}
	acc := float64(right) / float64(len(reviews))
	t.Logf("accuracy %.3f (%d of %d)", acc, right, len(reviews))
	assert.GreaterOrEqual(t, acc, 0.9)
}

func TestKnownSentences(t *testing.T) {
	c := loaded(t)
	tests := []struct{ text, want string }{
		{"I love this amazing product!", "POSITIVE"},
		{"This is the worst service ever.", "NEGATIVE"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			preds, err := c.Classify([]string{tt.text})
			require.NoError(t, err)
			require.Len(t, preds, 1)
			assert.Equal(t, tt.want, preds[0].Label)
			assert.GreaterOrEqual(t, preds[0].Score, 0.5, "the top label of two has at least half the mass")
			assert.LessOrEqual(t, preds[0].Score, 1.0)
		})
	}
}

// TestSoftmaxScoresSumToOne runs the Classifier's own pipeline step by step,
// because its single-label output keeps only the top score: the scores of
// both labels must be a softmax (summing to 1), not per-logit sigmoids.
func TestSoftmaxScoresSumToOne(t *testing.T) {
	c := loaded(t)
	assert.Equal(t, map[int]string{0: "NEGATIVE", 1: "POSITIVE"}, c.pipeline.GetModel().IDLabelMap)

	texts := []string{"I love this amazing product!", "This is the worst service ever.", "It is a chair.", "meh"}
	batch := backends.NewBatch(len(texts))
	defer func() { assert.NoError(t, batch.Destroy()) }()
	require.NoError(t, c.pipeline.Preprocess(batch, texts))
	require.NoError(t, c.pipeline.Forward(batch))
	out, err := c.pipeline.Postprocess(batch)
	require.NoError(t, err)
	// Postprocess applies the aggregation in place.
	scores, ok := batch.OutputValues[0].([][]float32)
	require.True(t, ok, "output is %T", batch.OutputValues[0])
	require.Len(t, scores, len(texts))

	for i, s := range scores {
		require.Len(t, s, 2, texts[i])
		assert.InDelta(t, 1, float64(s[0])+float64(s[1]), 1e-5, "%q: %v", texts[i], s)
		assert.InDelta(t, max(s[0], s[1]), out.ClassificationOutputs[i][0].Score, 1e-7, "%q: top score", texts[i])
	}
}

// TestTokenizerMatchesHuggingFace checks the normalizer of tokenizer.json:
// the stock one maps accented words to [UNK] in the Go tokenizer.
func TestTokenizerMatchesHuggingFace(t *testing.T) {
	c := loaded(t)
	// bert-base-uncased in Hugging Face: tokenizer("Café naïve résumé")
	// gives [CLS] cafe naive resume [SEP]; each id is checked against the
	// vocabulary of tokenizer.json below.
	want := []struct {
		token string
		id    int
	}{{"[CLS]", 101}, {"cafe", 7668}, {"naive", 15743}, {"resume", 13746}, {"[SEP]", 102}}

	raw, err := os.ReadFile(filepath.Join(modelDir, "tokenizer.json"))
	require.NoError(t, err)
	var tj struct {
		Model struct {
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
	}
	require.NoError(t, json.Unmarshal(raw, &tj))
	wantIDs := make([]int, len(want))
	for i, w := range want {
		assert.Equal(t, w.id, tj.Model.Vocab[w.token], "vocab id of %q", w.token)
		wantIDs[i] = w.id
	}

	enc, err := c.tokenizer.EncodeSingle("Café naïve résumé", true)
	require.NoError(t, err)
	assert.Equal(t, wantIDs, enc.Ids, "tokens %v", enc.Tokens)
}

func TestClassifyEmptyBatchNeverReachesHugot(t *testing.T) {
	// A zero Classifier has no pipeline: touching hugot would panic.
	var c Classifier
	for _, texts := range [][]string{nil, {}} {
		preds, err := c.Classify(texts)
		assert.NoError(t, err)
		assert.Nil(t, preds)
	}
}

func TestClassifyRejectsEmptyTextsBeforeHugot(t *testing.T) {
	// A zero Classifier has no tokenizer and no pipeline: touching either
	// would panic.
	var c Classifier
	for _, text := range []string{"", "   ", "\t\n\r", "\x00\x01", "\xff\xfe", "\u0085\ufffd\u00a0", "\x7f \x1b"} {
		preds, err := c.Classify([]string{text})
		assert.ErrorIs(t, err, ErrEmptyText, "%q", text)
		assert.Nil(t, preds, "%q", text)
	}
}

func TestClassifyNamesTheEmptyText(t *testing.T) {
	c := loaded(t)
	preds, err := c.Classify([]string{"Lovely.", "\x00", "Awful."})
	require.ErrorIs(t, err, ErrEmptyText)
	assert.ErrorContains(t, err, "text 1")
	assert.Nil(t, preds)
}

// TestClassifyHostileInputs feeds texts that are legal for the API but odd
// for a tokenizer; none may panic or kill the process.
func TestClassifyHostileInputs(t *testing.T) {
	c := loaded(t)
	tests := []struct{ name, text string }{
		{"64 KiB of one letter", strings.Repeat("a", 64<<10)},
		{"64 KiB of words", strings.Repeat("good ", 64<<10/5)},
		{"emoji only", "😀😡👍🏽🇫🇷👨‍👩‍👧"},
		{"mixed scripts", "Great 很好 отлично ممتاز 素晴らしい 👍"},
		{"right-to-left", "المنتج رائع"},
		{"combining marks", "Ca\u0301fe\u0301 e\u0300\u0300\u0300\u0300"},
		{"control characters inside", "good\x00product\x07!"},
		{"invalid UTF-8 inside", "good \xff\xfe product"},
		{"zero-width joiners", "g\u200do\u200do\u200dd"},
		{"zero-width space only", "\u200b\u200b"},
		{"byte order mark only", "\ufeff"},
		{"punctuation only", "?!...;;;"},
		{"one character", "x"},
		{"digits", "1234567890"},
		{"long word", strings.Repeat("supercalifragilistic", 50)},
		{"special token text", "[CLS] [SEP] [PAD] [MASK] [UNK]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			preds, err := c.Classify([]string{tt.text})
			require.NoError(t, err)
			require.Len(t, preds, 1)
			assert.Contains(t, []string{"POSITIVE", "NEGATIVE"}, preds[0].Label)
			assert.False(t, math.IsNaN(preds[0].Score))
			assert.GreaterOrEqual(t, preds[0].Score, 0.5)
			assert.LessOrEqual(t, preds[0].Score, 1.0)
		})
	}
}

// TestLongTextIsTruncated checks that a text longer than the model's 128
// positions is cut, not rejected and not run in full: whatever follows the
// cut cannot change the answer.
func TestLongTextIsTruncated(t *testing.T) {
	c := loaded(t)
	head := strings.Repeat("great ", 200)
	long := head + strings.Repeat("awful ", 4800)
	require.Less(t, len(long), 64<<10)

	preds, err := c.Classify([]string{head, long})
	require.NoError(t, err)
	assert.Equal(t, preds[0], preds[1])
}

// TestBatchMatchesSingle checks that padding a text in a batch does not
// change its answer: the attention mask must hide the padding.
func TestBatchMatchesSingle(t *testing.T) {
	c := loaded(t)
	texts := []string{
		"I love this amazing product!",
		"This is the worst service ever.",
		"The room was small, the bed was hard and the staff ignored every request we made.",
		"Fine.",
	}
	batch, err := c.Classify(texts)
	require.NoError(t, err)
	require.Len(t, batch, len(texts))
	for i, text := range texts {
		single, err := c.Classify([]string{text})
		require.NoError(t, err)
		assert.Equal(t, single[0].Label, batch[i].Label, text)
		assert.InDelta(t, single[0].Score, batch[i].Score, 1e-4, text)
	}
}

func TestClassifyIsSafeForConcurrentUse(t *testing.T) {
	c := loaded(t)
	texts := []string{"I love this amazing product!", "This is the worst service ever.", "okay I guess", "Café naïve résumé"}
	want, err := c.Classify(texts)
	require.NoError(t, err)

	var wg sync.WaitGroup
	got := make([][]Prediction, 16)
	errs := make([]error, len(got))
	for i := range got {
		wg.Go(func() { got[i], errs[i] = c.Classify([]string{texts[i%len(texts)]}) })
	}
	wg.Wait()
	for i := range got {
		require.NoError(t, errs[i])
		assert.Equal(t, want[i%len(texts)].Label, got[i][0].Label, texts[i%len(texts)])
		assert.InDelta(t, want[i%len(texts)].Score, got[i][0].Score, 1e-4, texts[i%len(texts)])
	}
}

func TestLoadFailsWithACause(t *testing.T) {
	garbage := func(t *testing.T) string {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "model.onnx"), []byte("this is not an ONNX model"), 0o644))
		return dir
	}
	tests := []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{"missing folder", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }},
		{"empty folder", func(t *testing.T) string { return t.TempDir() }},
		{"garbage model.onnx alone", garbage},
		{"garbage model.onnx with real tokenizer and config", func(t *testing.T) string {
			httpapitest.FixtureModel(t)
			dir := garbage(t)
			for _, f := range []string{"tokenizer.json", "config.json"} {
				b, err := os.ReadFile(filepath.Join(modelDir, f))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
			}
			return dir
		}},
		{"real model with garbage tokenizer.json", func(t *testing.T) string {
			httpapitest.FixtureModel(t)
			dir := t.TempDir()
			for _, f := range []string{"model.onnx", "config.json"} {
				require.NoError(t, os.Symlink(filepath.Join(mustAbs(t, modelDir), f), filepath.Join(dir, f)))
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(`{"not": "a tokenizer"`), 0o644))
			return dir
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir(t)
			c, err := Load(dir)
			require.Error(t, err)
			assert.Nil(t, c)
			t.Log(err)
			assert.Contains(t, err.Error(), dir, "the error names the folder")
		})
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	require.NoError(t, err)
	return abs
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  hello  ", "hello"},
		{"good\x00product", "good product"},
		{"a\tb\nc", "a b c"},
		{"good \xff\xfe product", "good   product"},
		{"\ufffd", ""},
		{"\x1b[31mred\x1b[0m", "[31mred [0m"},
		{"café 👍 很好", "café 👍 很好"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Clean(tt.in), "Clean(%q)", tt.in)
	}
}

// BenchmarkClassify is the cost of one short sentence, the API's unit of work.
func BenchmarkClassify(b *testing.B) {
	c := loaded(b)
	texts := []string{"The staff were friendly but the room was not very clean."}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Classify(texts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad is the cost of loading the fixture model (the ML API's
// "loading" phase, without warm-up).
func BenchmarkLoad(b *testing.B) {
	httpapitest.FixtureModel(b)
	httpapitest.SkipUnderRace(b, httpapitest.ModelRace)
	for b.Loop() {
		c, err := Load(modelDir)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTokensIsWhatABatchIsPaddedTo: Tokens counts [CLS] and [SEP], stops
// at the model's 128 positions as hugot truncates, and refuses what
// Classify refuses.
func TestTokensIsWhatABatchIsPaddedTo(t *testing.T) {
	c := loaded(t)
	tests := []struct {
		text string
		want int
	}{
		{"good", 3},
		{"  good good \x00", 4},
		{"The staff were friendly.", 7},
		{strings.Repeat("good ", 500), 128},
	}
	for _, tt := range tests {
		n, err := c.Tokens(tt.text)
		require.NoError(t, err)
		assert.Equal(t, tt.want, n, "Tokens(%.30q)", tt.text)
	}
	_, err := c.Tokens(" \t ")
	assert.ErrorIs(t, err, ErrEmptyText)
}

func TestBatchBuckets(t *testing.T) {
	tests := []struct {
		max  int
		want []int
	}{
		{1, []int{1}},
		{2, []int{1, 2}},
		{10, []int{1, 2, 3, 4, 5, 6, 7, 8, 10}},
		{16, []int{1, 2, 3, 4, 5, 6, 7, 8, 12, 16}},
		{32, []int{1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24, 32}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, batchBuckets(tt.max), "batchBuckets(%d)", tt.max)
	}
}

// TestLengthsAreCappedByMaxBatch: BATCH_MAX=1 must turn batching off for
// every length.
func TestLengthsAreCappedByMaxBatch(t *testing.T) {
	httpapitest.FixtureModel(t)
	httpapitest.SkipUnderRace(t, httpapitest.ModelRace)
	c, err := Load(modelDir, WithMaxBatch(1))
	require.NoError(t, err)
	defer c.Close()
	for _, l := range c.Lengths() {
		assert.Equal(t, 1, l.MaxBatch, "at %d tokens", l.Tokens)
	}
	assert.Equal(t, []int{16, 32, 64, 128}, func() []int {
		var out []int
		for _, l := range c.Lengths() {
			out = append(out, l.Tokens)
		}
		return out
	}())
}

// BenchmarkShapes measures what the length buckets' batch sizes are chosen
// from: texts per second at each sequence bucket and batch size, with one
// call per core at once, as the API's workers run them.
//
//	go test ./apis/ml/classifier -run '^$' -bench Shapes -count 3
func BenchmarkShapes(b *testing.B) {
	c := loaded(b)
	for _, l := range c.Lengths() {
		text := strings.TrimSpace(strings.Repeat("good ", l.Tokens-2))
		for _, n := range []int{1, 2, 4, 8, 16, 32} {
			texts := make([]string, n)
			for i := range texts {
				texts[i] = text
			}
			b.Run(fmt.Sprintf("tokens=%d/batch=%d", l.Tokens, n), func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := c.Classify(texts); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "texts/s")
			})
		}
	}
}

func TestWithLengthsRefusesBucketsThatCannotHoldTheInput(t *testing.T) {
	httpapitest.FixtureModel(t)
	httpapitest.SkipUnderRace(t, httpapitest.ModelRace)
	tests := []struct {
		name    string
		lengths []Length
		wantErr string
	}{
		{"shorter than the model's input", []Length{{16, 4}, {64, 2}}, "the longest sequence bucket, 64 tokens, is shorter than the model's input of 128"},
		{"not ascending", []Length{{32, 4}, {16, 2}, {128, 1}}, "longer than the one before"},
		{"none", nil, "no sequence buckets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(modelDir, WithLengths(tt.lengths))
			if c != nil {
				_ = c.Close()
			}
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// BenchmarkTokens is what sorting a text into its length bucket costs the
// batcher: one tokenization, beside the model call that follows it.
func BenchmarkTokens(b *testing.B) {
	c := loaded(b)
	text := "The plumber showed up on time, explained the problem clearly and charged exactly what he quoted."
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Tokens(text); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClassify32 is one call on one 32-token review, the realistic
// set's most common length: the call profiled in the README, with
// Classify's tokenizer guard and without it (ClassifyAccepted, as the API
// runs it once Tokens has sorted the text into its bucket).
//
//	go test ./apis/ml/classifier -run '^$' -bench Classify32 -count 5 -cpuprofile cpu.prof
func BenchmarkClassify32(b *testing.B) {
	c := loaded(b)
	text := "Our guide was funny and knowledgeable, and the boat trip to the caves was the highlight of our holiday, really. We would go again next time"
	n, err := c.Tokens(text)
	require.NoError(b, err)
	require.Equal(b, 32, n)
	for _, tt := range []struct {
		name     string
		classify func([]string) ([]Prediction, error)
	}{{"guarded", c.Classify}, {"accepted", c.ClassifyAccepted}} {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tt.classify([]string{text}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestClassifyAcceptedMatchesClassify: skipping the guard changes nothing
// for texts Tokens accepts, and empty texts are still refused.
func TestClassifyAcceptedMatchesClassify(t *testing.T) {
	c := loaded(t)
	texts := []string{"The staff were friendly.", "  The room was dirty\x00 and cold. ", strings.Repeat("good ", 300)}
	for _, text := range texts {
		_, err := c.Tokens(text)
		require.NoError(t, err)
	}
	want, err := c.Classify(texts)
	require.NoError(t, err)
	got, err := c.ClassifyAccepted(texts)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	preds, err := c.ClassifyAccepted(nil)
	assert.NoError(t, err)
	assert.Empty(t, preds)
	_, err = c.ClassifyAccepted([]string{"fine", "\x00 "})
	assert.ErrorIs(t, err, ErrEmptyText)
}
