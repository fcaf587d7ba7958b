package batcher_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlready/mlready/apis/ml/batcher"
	"github.com/mlready/mlready/apis/ml/classifier"
)

// fakeModel stands in for the model: it answers each text with the text
// itself as the label, so that a caller can tell its own answers from
// anyone else's, and records every batch it was called with.
type fakeModel struct {
	// gate, when set, holds every call until it is closed; only the calls
	// holding the text hold, when that is set.
	gate chan struct{}
	hold string
	// entered receives one value per call as it starts, when set.
	entered chan []string
	// fail makes a call that holds this text fail as a whole.
	fail string

	mu      sync.Mutex
	batches [][]string
}

func (m *fakeModel) classify(texts []string) ([]classifier.Prediction, error) {
	m.mu.Lock()
	m.batches = append(m.batches, slices.Clone(texts))
	m.mu.Unlock()
	if m.entered != nil {
		m.entered <- texts
	}
	if m.gate != nil && (m.hold == "" || slices.Contains(texts, m.hold)) {
		<-m.gate
	}
	if m.fail != "" && slices.Contains(texts, m.fail) {
		return nil, fmt.Errorf("model refuses %q", m.fail)
	}
	preds := make([]classifier.Prediction, len(texts))
	for i, t := range texts {
		preds[i] = classifier.Prediction{Label: t, Score: float64(len(t))}
	}
	return preds, nil
}

// calls returns every batch the model has run, in order.
func (m *fakeModel) calls() [][]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.batches)
}

// ran tells whether text reached the model.
func (m *fakeModel) ran(text string) bool {
	for _, b := range m.calls() {
		if slices.Contains(b, text) {
			return true
		}
	}
	return false
}

func newBatcher(t *testing.T, cfg batcher.Config, m *fakeModel) *batcher.Batcher {
	t.Helper()
	b := batcher.New(cfg, m.classify, batcher.Hooks{})
	t.Cleanup(b.Close)
	return b
}

// labels are the labels of preds, which the fake model sets to the texts.
func labels(preds []classifier.Prediction) []string {
	out := make([]string, len(preds))
	for i, p := range preds {
		out[i] = p.Label
	}
	return out
}

// TestEveryCallerGetsItsOwnAnswersInOrder submits from many goroutines at
// once, single texts and client-side batches of random sizes, and checks
// that each caller gets exactly its own texts' answers, in its order, and
// that the model saw batches bigger than one but never bigger than MaxBatch
// and never an empty one.
func TestEveryCallerGetsItsOwnAnswersInOrder(t *testing.T) {
	tests := []struct {
		name string
		cfg  batcher.Config
	}{
		{"unbatched", batcher.Config{MaxBatch: 1, Workers: 2, QueueMax: 10000}},
		{"batches of 8, no wait", batcher.Config{MaxBatch: 8, Workers: 2, QueueMax: 10000}},
		{"batches of 16, 2ms wait", batcher.Config{MaxBatch: 16, MaxWait: 2 * time.Millisecond, Workers: 2, QueueMax: 10000}},
		{"batches of 5, one worker", batcher.Config{MaxBatch: 5, MaxWait: time.Millisecond, Workers: 1, QueueMax: 10000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &fakeModel{}
			b := newBatcher(t, tt.cfg, m)
			const callers, rounds = 32, 20
			var wg sync.WaitGroup
			for c := range callers {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(c), 1))
					for r := range rounds {
						texts := make([]string, 1+rng.IntN(6))
						for i := range texts {
							texts[i] = fmt.Sprintf("caller %d round %d text %d", c, r, i)
						}
						preds, err := b.Submit(context.Background(), texts)
						if !assert.NoError(t, err) {
							return
						}
						assert.Equal(t, texts, labels(preds))
					}
				})
			}
			wg.Wait()

			largest := 0
			for _, batch := range m.calls() {
				require.NotEmpty(t, batch, "the model is never called with an empty batch")
				require.LessOrEqual(t, len(batch), tt.cfg.MaxBatch)
				largest = max(largest, len(batch))
			}
			if tt.cfg.MaxBatch > 1 {
				assert.Greater(t, largest, 1, "concurrent texts share model calls")
			}
			assert.Zero(t, b.Depth())
		})
	}
}

// TestFullQueueRefusesAtOnceAndLosesNothing fills the queue while the model
// is held, checks that the next request is refused at once with
// ErrQueueFull, then releases the model: every accepted request gets its
// own answers.
func TestFullQueueRefusesAtOnceAndLosesNothing(t *testing.T) {
	m := &fakeModel{gate: make(chan struct{}), entered: make(chan []string, 100)}
	b := newBatcher(t, batcher.Config{MaxBatch: 4, Workers: 1, QueueMax: 6}, m)

	type answer struct {
		texts []string
		preds []classifier.Prediction
		err   error
	}
	answers := make(chan answer, 10)
	submit := func(texts ...string) {
		go func() {
			preds, err := b.Submit(context.Background(), texts)
			answers <- answer{texts, preds, err}
		}()
	}
	// The first request occupies the one worker…
	submit("running")
	<-m.entered
	// …then six texts fill the queue: 2 + 3 + 1.
	submit("a1", "a2")
	submit("b1", "b2", "b3")
	submit("c1")
	require.Eventually(t, func() bool { return b.Depth() == 6 }, 5*time.Second, time.Millisecond)

	start := time.Now()
	_, err := b.Submit(context.Background(), []string{"one too many"})
	assert.ErrorIs(t, err, batcher.ErrQueueFull)
	assert.Less(t, time.Since(start), 100*time.Millisecond, "refused at once, not after waiting")
	_, err = b.Submit(context.Background(), []string{"x", "y"})
	assert.ErrorIs(t, err, batcher.ErrQueueFull, "a client batch is queued whole or not at all")

	close(m.gate)
	for range 4 {
		a := <-answers
		require.NoError(t, a.err)
		assert.Equal(t, a.texts, labels(a.preds))
	}
	assert.False(t, m.ran("one too many"))
	assert.False(t, m.ran("x"))
}

// TestExpiredRequestIsDroppedBeforeItRuns checks the per-request deadline:
// a request whose context ends while it is queued gets ErrExpired, and its
// text never reaches the model, while the others in the queue still run.
func TestExpiredRequestIsDroppedBeforeItRuns(t *testing.T) {
	m := &fakeModel{gate: make(chan struct{}), entered: make(chan []string, 100)}
	b := newBatcher(t, batcher.Config{MaxBatch: 8, Workers: 1, QueueMax: 100}, m)

	go func() { _, _ = b.Submit(context.Background(), []string{"running"}) }()
	<-m.entered
	kept := make(chan []classifier.Prediction, 1)
	go func() {
		preds, err := b.Submit(context.Background(), []string{"kept"})
		assert.NoError(t, err)
		kept <- preds
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := b.Submit(ctx, []string{"expired 1", "expired 2"})
	require.ErrorIs(t, err, batcher.ErrExpired)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	close(m.gate)
	assert.Equal(t, []string{"kept"}, labels(<-kept))
	assert.False(t, m.ran("expired 1"), "an expired text is never run")
	assert.False(t, m.ran("expired 2"))
	assert.Zero(t, b.Depth())
}

// TestExpiredWhileDispatcherSkipsIt covers the other order: the caller's
// deadline passes, and the dispatcher reaches its text before the caller
// withdraws it. The caller must still be answered, not left waiting.
func TestExpiredWhileDispatcherSkipsIt(t *testing.T) {
	for range 50 {
		m := &fakeModel{}
		b := batcher.New(batcher.Config{MaxBatch: 4, Workers: 1}, m.classify, batcher.Hooks{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := b.Submit(ctx, []string{"t"})
			done <- err
		}()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				assert.ErrorIs(t, err, batcher.ErrExpired)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Submit did not return after its context ended")
		}
		b.Close()
	}
}

// TestOneBadTextFailsOnlyItsOwnRequest: when a batch fails as a whole, the
// batcher runs its texts one by one, so that only the request holding the
// bad text gets an error.
func TestOneBadTextFailsOnlyItsOwnRequest(t *testing.T) {
	m := &fakeModel{fail: "poison", gate: make(chan struct{}), entered: make(chan []string, 100)}
	b := newBatcher(t, batcher.Config{MaxBatch: 8, Workers: 1, QueueMax: 100}, m)
	go func() { _, _ = b.Submit(context.Background(), []string{"running"}) }()
	<-m.entered

	type answer struct {
		texts []string
		preds []classifier.Prediction
		err   error
	}
	answers := make(chan answer, 3)
	for _, texts := range [][]string{{"good 1"}, {"good 2", "poison"}, {"good 3"}} {
		go func() {
			preds, err := b.Submit(context.Background(), texts)
			answers <- answer{texts, preds, err}
		}()
	}
	require.Eventually(t, func() bool { return b.Depth() == 4 }, 5*time.Second, time.Millisecond)
	close(m.gate)
	for range 3 {
		a := <-answers
		if slices.Contains(a.texts, "poison") {
			require.Error(t, a.err)
			assert.ErrorContains(t, a.err, "text 1: model refuses")
			continue
		}
		require.NoError(t, a.err, a.texts)
		assert.Equal(t, a.texts, labels(a.preds))
	}
	assert.ElementsMatch(t, []string{"good 1", "good 2", "poison", "good 3"}, m.calls()[1], "they were batched together first")
}

// prime runs one request of n texts, so that the batcher expects n texts
// to come together for the next while.
func prime(t *testing.T, b *batcher.Batcher, n int) {
	t.Helper()
	texts := make([]string, n)
	for i := range texts {
		texts[i] = fmt.Sprint("prime ", i)
	}
	_, err := b.Submit(context.Background(), texts)
	require.NoError(t, err)
}

// TestBatchWaitGathersRequests: when more texts are expected than are
// queued, the oldest waits up to MaxWait for them, so requests arriving a
// little apart share a call; without MaxWait, they do not wait.
func TestBatchWaitGathersRequests(t *testing.T) {
	// queued and called return once the batcher has the first request: waiting in
	// the queue when it waits for company, in a model call when it does not.
	queued := func(t *testing.T, b *batcher.Batcher, _ *fakeModel) {
		require.Eventually(t, func() bool { return b.Depth() == 1 }, 10*time.Second, time.Millisecond, "the first request is queued")
	}
	called := func(t *testing.T, _ *batcher.Batcher, m *fakeModel) {
		assert.Equal(t, []string{"first"}, <-m.entered, "the first request runs alone")
	}
	tests := []struct {
		name      string
		wait      time.Duration
		firstIsIn func(*testing.T, *batcher.Batcher, *fakeModel)
		wantCalls [][]string
	}{
		{"waits for the second request", 200 * time.Millisecond, queued, [][]string{{"first", "second"}}},
		{"no wait", 0, called, [][]string{{"first"}, {"second"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &fakeModel{entered: make(chan []string, 8)}
			b := newBatcher(t, batcher.Config{MaxBatch: 8, MaxWait: tt.wait, Workers: 1}, m)
			prime(t, b, 4)
			<-m.entered // the priming call
			var wg sync.WaitGroup
			wg.Go(func() { _, _ = b.Submit(context.Background(), []string{"first"}) })
			tt.firstIsIn(t, b, m)
			wg.Go(func() { _, _ = b.Submit(context.Background(), []string{"second"}) })
			wg.Wait()
			assert.Equal(t, tt.wantCalls, m.calls()[1:])
		})
	}
}

// TestBatchWaitEndsWhenTheExpectedTextsAreThere: after a batch of four,
// four requests arriving together run at once, not after MaxWait.
func TestBatchWaitEndsWhenTheExpectedTextsAreThere(t *testing.T) {
	m := &fakeModel{}
	b := newBatcher(t, batcher.Config{MaxBatch: 8, MaxWait: time.Minute, Workers: 1}, m)
	prime(t, b, 4)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { _, _ = b.Submit(context.Background(), []string{fmt.Sprint(i)}) })
	}
	wg.Wait()
	assert.Less(t, time.Since(start), 10*time.Second, "did not wait for a fifth")
	assert.Len(t, m.calls(), 2, "one call for the four: %v", m.calls())
}

// TestExpectedTextsAreSharedAmongIdleWorkers: with two idle workers, four
// expected texts make two batches of two, run side by side, rather than
// one of four.
func TestExpectedTextsAreSharedAmongIdleWorkers(t *testing.T) {
	m := &fakeModel{}
	b := newBatcher(t, batcher.Config{MaxBatch: 8, MaxWait: time.Minute, Workers: 2}, m)
	prime(t, b, 4)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { _, _ = b.Submit(context.Background(), []string{fmt.Sprint(i)}) })
	}
	wg.Wait()
	var sizes []int
	for _, c := range m.calls() {
		if !strings.HasPrefix(c[0], "prime") {
			sizes = append(sizes, len(c))
		}
	}
	assert.Equal(t, []int{2, 2}, sizes)
}

// TestLoneClientDoesNotWait: a client alone, one request after the other,
// is never kept waiting for company.
func TestLoneClientDoesNotWait(t *testing.T) {
	m := &fakeModel{}
	b := newBatcher(t, batcher.Config{MaxBatch: 8, MaxWait: time.Minute, Workers: 2}, m)
	start := time.Now()
	for i := range 5 {
		_, err := b.Submit(context.Background(), []string{fmt.Sprint(i)})
		require.NoError(t, err)
	}
	assert.Less(t, time.Since(start), 10*time.Second, "no request waited BATCH_WAIT")
}

// TestCloseRunsWhatIsQueued: Close answers everything already accepted,
// and refuses what comes after.
func TestCloseRunsWhatIsQueued(t *testing.T) {
	m := &fakeModel{gate: make(chan struct{}), entered: make(chan []string, 100)}
	b := batcher.New(batcher.Config{MaxBatch: 2, Workers: 1}, m.classify, batcher.Hooks{})
	answers := make(chan error, 5)
	go func() {
		_, err := b.Submit(context.Background(), []string{"running"})
		answers <- err
	}()
	<-m.entered
	for i := range 4 {
		go func() {
			preds, err := b.Submit(context.Background(), []string{fmt.Sprint("queued ", i)})
			if err == nil && preds[0].Label != fmt.Sprint("queued ", i) {
				err = errors.New("wrong answer")
			}
			answers <- err
		}()
	}
	require.Eventually(t, func() bool { return b.Depth() == 4 }, 5*time.Second, time.Millisecond)

	closed := make(chan struct{})
	go func() {
		b.Close()
		close(closed)
	}()
	require.Eventually(t, func() bool {
		// Until Close has begun, "late" is queued and expires unrun.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		_, err := b.Submit(ctx, []string{"late"})
		return errors.Is(err, batcher.ErrClosed)
	}, 5*time.Second, time.Millisecond)
	close(m.gate)
	<-closed
	for range 5 {
		assert.NoError(t, <-answers)
	}
	assert.False(t, m.ran("late"))
	b.Close() // twice is fine
}

func TestSubmitNothingRunsNothing(t *testing.T) {
	m := &fakeModel{}
	b := newBatcher(t, batcher.Config{MaxBatch: 4}, m)
	preds, err := b.Submit(context.Background(), nil)
	assert.NoError(t, err)
	assert.Empty(t, preds)
	assert.Empty(t, m.calls())
}

// TestModelBugsReachTheCaller: a panic or a short answer of the model is
// an error for the callers, never a hang.
func TestModelBugsReachTheCaller(t *testing.T) {
	tests := []struct {
		name     string
		classify batcher.Classify
		wantErr  string
	}{
		{"panic", func([]string) ([]classifier.Prediction, error) { panic("boom") }, "classify panicked: boom"},
		{"too few predictions", func([]string) ([]classifier.Prediction, error) { return nil, nil }, "0 predictions for 1 texts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := batcher.New(batcher.Config{MaxBatch: 4, Workers: 1}, tt.classify, batcher.Hooks{})
			defer b.Close()
			_, err := b.Submit(context.Background(), []string{"t"})
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// TestHooksSeeEveryBatch: the metrics hooks see each text's queue time and
// each call's size.
func TestHooksSeeEveryBatch(t *testing.T) {
	var mu sync.Mutex
	waited, sizes := 0, 0
	m := &fakeModel{}
	b := batcher.New(batcher.Config{MaxBatch: 4, Workers: 2}, m.classify, batcher.Hooks{
		Waited: func(time.Duration) { mu.Lock(); waited++; mu.Unlock() },
		Ran:    func(n int, _ time.Duration) { mu.Lock(); sizes += n; mu.Unlock() },
	})
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { _, _ = b.Submit(context.Background(), []string{fmt.Sprint(i), "x"}) })
	}
	wg.Wait()
	b.Close()
	assert.Equal(t, 20, waited)
	assert.Equal(t, 20, sizes)
}

// words is the length of a text for the tests' buckets; it refuses texts
// that say "refuse".
func words(text string) (int, error) {
	if strings.Contains(text, "refuse") {
		return 0, errors.New("refused by Length")
	}
	return len(strings.Fields(text)), nil
}

// TestBatchesNeverMixLengths submits short and long texts, alone and in
// client batches that mix them, from many goroutines: every caller gets
// its own answers in order, and every batch holds texts of one bucket
// only, at most that bucket's batch size, and never none.
func TestBatchesNeverMixLengths(t *testing.T) {
	cfg := batcher.Config{MaxBatch: 8, MaxWait: time.Millisecond, Workers: 2, QueueMax: 10000,
		Length:  words,
		Buckets: []batcher.Bucket{{MaxLength: 3, MaxBatch: 6}, {MaxLength: 6, MaxBatch: 20}, {MaxLength: 10, MaxBatch: 2}}}
	m := &fakeModel{}
	b := newBatcher(t, cfg, m)
	assert.Equal(t, []batcher.Bucket{{3, 6}, {6, 8}, {10, 2}}, b.Config().Buckets, "bucket sizes capped at MaxBatch")
	var wg sync.WaitGroup
	for c := range 32 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 2))
			for r := range 20 {
				texts := make([]string, 1+rng.IntN(4))
				for i := range texts {
					// 3 to 14 words: the longest go to the last bucket.
					texts[i] = fmt.Sprintf("c%d r%d t%d", c, r, i) + strings.Repeat(" w", rng.IntN(12))
				}
				preds, err := b.Submit(context.Background(), texts)
				if assert.NoError(t, err) {
					assert.Equal(t, texts, labels(preds))
				}
			}
		})
	}
	wg.Wait()
	bucketOf := func(text string) int {
		n, _ := words(text)
		for i, bk := range b.Config().Buckets {
			if n <= bk.MaxLength {
				return i
			}
		}
		return len(b.Config().Buckets) - 1
	}
	batched := 0
	for _, batch := range m.calls() {
		require.NotEmpty(t, batch, "the model is never called with an empty batch")
		bk := bucketOf(batch[0])
		for _, text := range batch {
			require.Equal(t, bk, bucketOf(text), "one bucket per batch: %q", batch)
		}
		require.LessOrEqual(t, len(batch), b.Config().Buckets[bk].MaxBatch, "bucket %d", bk)
		if len(batch) > 1 {
			batched++
		}
	}
	assert.Positive(t, batched, "texts of one length share model calls")
	assert.Zero(t, b.Depth())
}

// TestLanesRunOldestFirstAndApart: with one worker busy, a long text, a
// short one and another long one queue; the long ones share a batch, the
// short one runs alone, and the batch holding the oldest text goes first.
func TestLanesRunOldestFirstAndApart(t *testing.T) {
	m := &fakeModel{gate: make(chan struct{}), hold: "running", entered: make(chan []string, 100)}
	b := newBatcher(t, batcher.Config{MaxBatch: 4, Workers: 1, Length: words,
		Buckets: []batcher.Bucket{{MaxLength: 2}, {MaxLength: 10}}}, m)
	var wg sync.WaitGroup
	submit := func(text string) {
		wg.Go(func() {
			preds, err := b.Submit(context.Background(), []string{text})
			if assert.NoError(t, err) {
				assert.Equal(t, []string{text}, labels(preds))
			}
		})
	}
	submit("running")
	<-m.entered
	for i, text := range []string{"long one a b c", "short", "long two a b c"} {
		submit(text)
		require.Eventually(t, func() bool { return b.Depth() == i+1 }, 5*time.Second, time.Millisecond)
	}
	close(m.gate)
	wg.Wait()
	assert.Equal(t, [][]string{{"running"}, {"long one a b c", "long two a b c"}, {"short"}}, m.calls())
}

// TestWithoutLengthAllTextsShareOneBucket: Buckets without Length are
// ignored.
func TestWithoutLengthAllTextsShareOneBucket(t *testing.T) {
	b := newBatcher(t, batcher.Config{MaxBatch: 4, Buckets: []batcher.Bucket{{MaxLength: 1}}}, &fakeModel{})
	assert.Empty(t, b.Config().Buckets)
}

// TestTextThatLengthRefusesFailsOnlyItsRequest: a text Length refuses
// fails its own request at once, unqueued, and its neighbours run.
func TestTextThatLengthRefusesFailsOnlyItsRequest(t *testing.T) {
	m := &fakeModel{}
	b := newBatcher(t, batcher.Config{MaxBatch: 4, Workers: 1, Length: words,
		Buckets: []batcher.Bucket{{MaxLength: 3}}}, m)
	_, err := b.Submit(context.Background(), []string{"fine", "please refuse me"})
	assert.ErrorContains(t, err, "text 1: refused by Length")
	_, err = b.Submit(context.Background(), []string{"refuse"})
	assert.EqualError(t, err, "refused by Length")
	preds, err := b.Submit(context.Background(), []string{"fine"})
	require.NoError(t, err)
	assert.Equal(t, []string{"fine"}, labels(preds))
	assert.Equal(t, [][]string{{"fine"}}, m.calls(), "nothing of a refused request ran")
	assert.Zero(t, b.Depth())
}
