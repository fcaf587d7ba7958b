// Package batcher gathers texts from concurrent requests into batches for
// one model call each (dynamic micro-batching), and answers every caller
// with its own results. Texts are batched by length: each length bucket has
// its own queue and its own batch size, so a short text never shares a
// batch with a long one, never pads up to it and never queues behind it.
// The queue is bounded: when it is full a caller is refused at once rather
// than made to wait, and an item whose caller gave up while it was queued
// is dropped before its batch runs.
package batcher

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mlready/mlready/apis/ml/classifier"
)

// Errors of Submit.
var (
	// ErrQueueFull: the queue has no room for the request's texts.
	ErrQueueFull = errors.New("inference queue is full")
	// ErrExpired: the caller's context ended while its texts were queued;
	// they were dropped without being run.
	ErrExpired = errors.New("request expired in the inference queue")
	// ErrClosed: the batcher is closed and takes no more work.
	ErrClosed = errors.New("inference queue is closed")
)

// Classify runs the model on a batch of texts and returns one prediction
// per text, in order. The batcher never calls it with an empty batch.
type Classify func(texts []string) ([]classifier.Prediction, error)

// Bucket is a range of text lengths batched together.
type Bucket struct {
	// MaxLength is the longest text, as Config.Length measures it, that
	// the bucket takes.
	MaxLength int
	// MaxBatch is the most texts in one batch of the bucket (at most
	// Config.MaxBatch).
	MaxBatch int
}

// Config sizes a Batcher. Zero values take the defaults of New.
type Config struct {
	// MaxBatch is the most texts in one Classify call; 1 turns batching off.
	MaxBatch int
	// Length, when set, measures every text in Submit, outside any lock,
	// for Buckets (for a model, its tokens); a text it refuses fails its
	// request before anything is queued.
	Length func(text string) (int, error)
	// Buckets, ascending by MaxLength, are batched apart: a text joins the
	// first bucket long enough for it, or the last. Without Length or
	// Buckets all texts share one bucket of MaxBatch.
	Buckets []Bucket
	// MaxWait is how long the oldest text of a batch may wait in the queue
	// for more texts to join it, once a worker is free.
	MaxWait time.Duration
	// QueueMax is the most texts waiting; a request that does not fit is
	// refused with ErrQueueFull.
	QueueMax int
	// Workers is how many Classify calls run at once.
	Workers int
}

// Hooks let the owner observe the batcher (for metrics); any may be nil.
type Hooks struct {
	// Waited is called for each text as its batch starts, with the time it
	// spent in the queue.
	Waited func(time.Duration)
	// Ran is called after each Classify call with the batch size and how
	// long the call took.
	Ran func(size int, took time.Duration)
}

// Batcher is a bounded queue in front of a Classify function, served by a
// dispatcher that forms batches and a fixed number of workers that run them.
type Batcher struct {
	cfg      Config
	classify Classify
	hooks    Hooks

	mu      sync.Mutex
	lanes   []*lane // one per bucket, ascending by length
	live    int     // queued items not taken or dropped, in all lanes
	closed  bool
	batches int // batches being run

	notify chan struct{}  // an item was queued, or the batcher closed
	free   chan struct{}  // one token per idle worker
	work   chan []*item   // batches for the workers
	done   sync.WaitGroup // dispatcher and workers
	close  sync.Once
}

// state of an item; it changes under Batcher.mu only.
type state int

const (
	queued state = iota
	taken
	dropped
)

// request is one Submit call: its texts run as separate items, possibly in
// different batches, and it is answered once all of them are.
type request struct {
	ctx     context.Context
	preds   []classifier.Prediction
	errs    []error
	pending int // items not answered yet, under Batcher.mu
	done    chan struct{}
}

type item struct {
	req      *request
	lane     *lane
	index    int
	text     string
	enqueued time.Time
	state    state
}

// lane is the queue of one bucket, and what its batch wait expects: texts
// of the bucket in batches being run, texts queued or running, and the
// recent peak of the latter. Its fields change under Batcher.mu only.
type lane struct {
	Bucket
	queue    []*item // in arrival order; may hold dropped items until popped
	live     int     // queued items not taken or dropped
	running  int
	inSystem int
	peak     recentPeak
}

// head is the oldest queued item, popping the dropped ones before it; nil
// when none is queued.
func (l *lane) head() *item {
	for len(l.queue) > 0 && l.queue[0].state != queued {
		l.queue[0] = nil
		l.queue = l.queue[1:]
	}
	if len(l.queue) == 0 {
		return nil
	}
	return l.queue[0]
}

// New starts a batcher. Defaults: MaxBatch 1, MaxWait 0, QueueMax
// 64 × MaxBatch, Workers 1, one bucket. A bucket's MaxBatch is capped at
// MaxBatch, and defaults to it.
func New(cfg Config, classify Classify, hooks Hooks) *Batcher {
	cfg.MaxBatch = max(1, cfg.MaxBatch)
	cfg.MaxWait = max(0, cfg.MaxWait)
	if cfg.QueueMax <= 0 {
		cfg.QueueMax = 64 * cfg.MaxBatch
	}
	cfg.Workers = max(1, cfg.Workers)
	if cfg.Length == nil {
		cfg.Buckets = nil
	}
	buckets := make([]Bucket, len(cfg.Buckets))
	for i, bk := range cfg.Buckets {
		if bk.MaxBatch <= 0 {
			bk.MaxBatch = cfg.MaxBatch
		}
		buckets[i] = Bucket{MaxLength: bk.MaxLength, MaxBatch: min(bk.MaxBatch, cfg.MaxBatch)}
	}
	cfg.Buckets = buckets
	lanes := []*lane{{Bucket: Bucket{MaxBatch: cfg.MaxBatch}}}
	if len(buckets) > 0 {
		lanes = make([]*lane, len(buckets))
		for i, bk := range buckets {
			lanes[i] = &lane{Bucket: bk}
		}
	}
	b := &Batcher{
		lanes:    lanes,
		cfg:      cfg,
		classify: classify,
		hooks:    hooks,
		notify:   make(chan struct{}, 1),
		free:     make(chan struct{}, cfg.Workers),
		work:     make(chan []*item, cfg.Workers),
	}
	for range cfg.Workers {
		b.free <- struct{}{}
		b.done.Go(b.runWorker)
	}
	b.done.Go(b.dispatch)
	return b
}

// Config is the batcher's configuration, defaults filled in.
func (b *Batcher) Config() Config { return b.cfg }

// laneOf is the lane of the first bucket long enough for text, or the last.
func (b *Batcher) laneOf(text string) (*lane, error) {
	if b.cfg.Length == nil {
		return b.lanes[0], nil
	}
	n, err := b.cfg.Length(text)
	if err != nil {
		return nil, err
	}
	for _, l := range b.lanes[:len(b.lanes)-1] {
		if n <= l.MaxLength {
			return l, nil
		}
	}
	return b.lanes[len(b.lanes)-1], nil
}

// Depth is the number of texts waiting in the queue.
func (b *Batcher) Depth() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.live
}

// Submit queues texts and waits for their predictions, in order. It returns
// ErrQueueFull at once when the queue lacks room for all of them, ErrClosed
// after Close, and ErrExpired when ctx ends before they were taken into a
// batch (they are then never run). Once taken, they run to the end and
// Submit waits for them. A Classify error is returned for the texts it hit.
func (b *Batcher) Submit(ctx context.Context, texts []string) ([]classifier.Prediction, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrExpired, err)
	}
	req := &request{
		ctx:     ctx,
		preds:   make([]classifier.Prediction, len(texts)),
		errs:    make([]error, len(texts)),
		pending: len(texts),
		done:    make(chan struct{}),
	}
	items := make([]*item, len(texts))
	now := time.Now()
	for i, t := range texts {
		l, err := b.laneOf(t)
		if err != nil {
			if len(texts) > 1 {
				return nil, fmt.Errorf("text %d: %w", i, err)
			}
			return nil, err
		}
		items[i] = &item{req: req, lane: l, index: i, text: t, enqueued: now}
	}

	b.mu.Lock()
	switch {
	case b.closed:
		b.mu.Unlock()
		return nil, ErrClosed
	case b.live+len(items) > b.cfg.QueueMax:
		b.mu.Unlock()
		return nil, fmt.Errorf("%w: %d of %d places taken, %d asked for", ErrQueueFull, b.live, b.cfg.QueueMax, len(items))
	}
	for _, it := range items {
		l := it.lane
		b.compactLocked(l)
		l.queue = append(l.queue, it)
		l.live++
		l.inSystem++
		l.peak.note(l.inSystem, now)
	}
	b.live += len(items)
	b.mu.Unlock()
	b.wake()

	select {
	case <-req.done:
	case <-ctx.Done():
		if b.drop(items) > 0 {
			return nil, fmt.Errorf("%w: %w", ErrExpired, ctx.Err())
		}
		// Every text is in a batch already: its answer is moments away.
		<-req.done
	}
	if err := errors.Join(req.errs...); err != nil {
		return nil, err
	}
	return req.preds, nil
}

// drop takes the items that are still queued out of the running and
// returns how many of them will never run (the dispatcher may have dropped
// some already).
func (b *Batcher) drop(items []*item) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, it := range items {
		if it.state == queued {
			it.state = dropped
			b.live--
			it.lane.live--
			it.lane.inSystem--
		}
		if it.state == dropped {
			n++
		}
	}
	return n
}

// compactLocked removes dropped items from a lane's queue once they
// outnumber the live ones, so that a queue of expired requests cannot grow
// unbounded while every worker is busy.
func (b *Batcher) compactLocked(l *lane) {
	if len(l.queue) <= 2*b.cfg.QueueMax {
		return
	}
	kept := l.queue[:0]
	for _, it := range l.queue {
		if it.state == queued {
			kept = append(kept, it)
		}
	}
	clear(l.queue[len(kept):])
	l.queue = kept
}

func (b *Batcher) wake() {
	select {
	case b.notify <- struct{}{}:
	default:
	}
}

// Close stops taking requests, runs every text already queued, and returns
// once the workers are done. It is safe to call more than once.
func (b *Batcher) Close() {
	b.close.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		b.wake()
	})
	b.done.Wait()
}

// dispatch forms batches, one at a time, and only once a worker is free to
// run it: while every worker is busy the queue fills, and the next batch is
// taken from it at once, full, without waiting.
func (b *Batcher) dispatch() {
	defer close(b.work)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		<-b.free
		batch := b.collect(timer)
		if len(batch) == 0 {
			return
		}
		b.work <- batch
	}
}

// collect returns the next batch, once one is due; of the lanes whose
// batch is due, the one with the oldest text goes first. (Putting short
// batches first lowered the median but raised p95: the long texts, a
// tenth of real reviews, are the tail, and waited longer still.) A lane's batch is due when as many
// texts are queued in it as can be expected, or when its oldest has been
// queued for MaxWait; it takes at most the expected number. collect
// returns nil once the batcher is closed and every lane empty.
//
// Expected are the lane's texts that were in the system (queued or
// running) at the recent peak, less those running now, shared among the
// idle workers: with 16 clients of one length and two idle workers the
// wait ends as soon as 8 are there, and the other 8 go to the other
// worker, since two calls at once keep both cores busier than one; with a
// lone client the wait does not start at all. Stragglers beyond MaxWait
// join a later batch. A lane never waits for another lane's texts.
func (b *Batcher) collect(timer *time.Timer) []*item {
	for {
		b.mu.Lock()
		now := time.Now()
		// The dispatcher holds a free worker's token: idle >= 1.
		idle := b.cfg.Workers - b.batches
		var due *lane
		var dueHead *item
		var wake time.Time // earliest MaxWait deadline of a lane not due
		for _, l := range b.lanes {
			head := l.head()
			if head == nil {
				continue
			}
			limit := b.expectedLocked(l, idle, now)
			deadline := head.enqueued.Add(b.cfg.MaxWait)
			if !b.closed && l.live < limit && now.Before(deadline) {
				if wake.IsZero() || deadline.Before(wake) {
					wake = deadline
				}
				continue
			}
			if due == nil || head.enqueued.Before(dueHead.enqueued) {
				due, dueHead = l, head
			}
		}
		if due != nil {
			batch := b.takeLocked(due, b.expectedLocked(due, idle, now))
			if len(batch) > 0 {
				due.running += len(batch)
				b.batches++
			}
			b.mu.Unlock()
			if len(batch) > 0 {
				return batch
			}
			continue // every text taken had expired: look again
		}
		if b.closed && b.live == 0 {
			b.mu.Unlock()
			return nil
		}
		b.mu.Unlock()
		var deadline <-chan time.Time
		if !wake.IsZero() {
			timer.Reset(time.Until(wake))
			deadline = timer.C
		}
		select {
		case <-b.notify:
			timer.Stop()
		case <-deadline:
		}
	}
}

// expectedLocked is how many texts the next batch of l should carry, at
// least 1 and at most its MaxBatch; once closed, the queue drains in full
// batches.
func (b *Batcher) expectedLocked(l *lane, idle int, now time.Time) int {
	if b.closed {
		return l.MaxBatch
	}
	// The texts in the system now count as a peak too, so that a long
	// backlog is never taken for a small load.
	peak := max(l.peak.value(now), l.inSystem)
	return min(l.MaxBatch, max(1, (peak-l.running+idle-1)/idle))
}

// takeLocked moves queued items of l into a new batch, up to limit,
// skipping the dropped ones and dropping those whose caller has given up.
func (b *Batcher) takeLocked(l *lane, limit int) []*item {
	batch := make([]*item, 0, limit)
	n := 0
	for _, it := range l.queue {
		if len(batch) >= limit {
			break
		}
		n++
		if it.state != queued {
			continue
		}
		b.live--
		l.live--
		if it.req.ctx.Err() != nil {
			it.state = dropped
			l.inSystem--
			continue
		}
		it.state = taken
		batch = append(batch, it)
	}
	clear(l.queue[:n])
	l.queue = l.queue[n:]
	return batch
}

func (b *Batcher) runWorker() {
	for batch := range b.work {
		b.run(batch)
		l := batch[0].lane // a batch never mixes lanes
		b.mu.Lock()
		l.running -= len(batch)
		l.inSystem -= len(batch)
		b.batches--
		b.mu.Unlock()
		b.free <- struct{}{}
	}
}

// run classifies one batch and answers its items. When the batch as a
// whole fails, each text is run alone, so that one bad text fails its own
// request only and never its neighbours'.
func (b *Batcher) run(batch []*item) {
	start := time.Now()
	texts := make([]string, len(batch))
	for i, it := range batch {
		texts[i] = it.text
		if b.hooks.Waited != nil {
			b.hooks.Waited(start.Sub(it.enqueued))
		}
	}
	preds, err := b.call(texts)
	if b.hooks.Ran != nil {
		b.hooks.Ran(len(texts), time.Since(start))
	}
	if err != nil && len(batch) > 1 {
		for _, it := range batch {
			p, err := b.call([]string{it.text})
			b.answer(it, p, err)
		}
		return
	}
	for i, it := range batch {
		if err != nil {
			b.answer(it, nil, err)
		} else {
			b.answer(it, preds[i:i+1], nil)
		}
	}
}

// call runs Classify, turning a panic or a wrong number of results into an
// error so that a bug cannot leave callers waiting forever.
func (b *Batcher) call(texts []string) (preds []classifier.Prediction, err error) {
	defer func() {
		if v := recover(); v != nil {
			preds, err = nil, fmt.Errorf("classify panicked: %v", v)
		}
	}()
	preds, err = b.classify(texts)
	if err == nil && len(preds) != len(texts) {
		return nil, fmt.Errorf("classify returned %d predictions for %d texts", len(preds), len(texts))
	}
	return preds, err
}

// answer records the prediction (preds[0]) or error of one item and
// releases its caller once all of the request's items are answered.
func (b *Batcher) answer(it *item, preds []classifier.Prediction, err error) {
	req := it.req
	switch {
	case err != nil && len(req.errs) > 1:
		req.errs[it.index] = fmt.Errorf("text %d: %w", it.index, err)
	case err != nil:
		req.errs[it.index] = err
	default:
		req.preds[it.index] = preds[0]
	}
	b.mu.Lock()
	req.pending--
	last := req.pending == 0
	b.mu.Unlock()
	if last {
		close(req.done)
	}
}

// peakWindow is how long a peak of texts in the system is remembered: one
// to two windows. Long beside a model call, short beside a change of load.
const peakWindow = 500 * time.Millisecond

// recentPeak is the highest count noted over the current and the previous
// window.
type recentPeak struct {
	cur, prev int
	start     time.Time
}

func (p *recentPeak) note(n int, now time.Time) {
	if since := now.Sub(p.start); since >= peakWindow {
		p.prev = p.cur
		if since >= 2*peakWindow {
			p.prev = 0
		}
		p.cur, p.start = 0, now
	}
	p.cur = max(p.cur, n)
}

func (p *recentPeak) value(now time.Time) int {
	p.note(0, now)
	return max(p.cur, p.prev)
}
