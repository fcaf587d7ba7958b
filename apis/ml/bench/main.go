// Command bench measures the serving patterns of the ML API on this
// machine and prints a markdown table per text set: texts and tokens per
// second and p50/p95/p99 latency of POST /analyze at several
// concurrencies, for the traditional API, the ML API unbatched
// (BATCH_MAX=1) and the ML API batched, the mean batch size, and, as the
// ceiling, the texts per second hugot itself reaches in-process on
// back-to-back batches of the same texts.
//
//	go run ./apis/ml/bench                       # both sets, the fixture model, 5 s per cell
//	go run ./apis/ml/bench -texts my-reviews.tsv # any label<TAB>text file with a header
//	go run ./apis/ml/bench -runs 3 -concurrency 1,16 -servers unbatched,batched
//
// The default sets are the model's short test reviews
// (fixtures/models/sst2-mini/testdata/reviews.tsv, about 8 words each) and
// the project's realistic reviews (apis/ml/bench/testdata/realistic.tsv,
// about 20 words, 2 to 60). All servers run in this process, each on a
// loopback port, and are measured in turn at each concurrency, so that a
// batched cell and its unbatched neighbour share the machine's state, and
// the ceilings are measured after each run, so that they share it too;
// the load generator runs beside them: on a small machine the clients' own
// CPU counts against the server, as it would with a sidecar.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlready/mlready/apis/ml/classifier"
	"github.com/mlready/mlready/apis/ml/mlapi"
	"github.com/mlready/mlready/apis/traditional/traditionalapi"
	"github.com/mlready/mlready/internal/quantile"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	modelDir    string
	texts       []string // files; empty: the default sets
	runs        int
	duration    time.Duration
	warmup      time.Duration
	concurrency []int
	batchMax    int
	batchWait   time.Duration
	workers     int // 0: the API's default
	servers     []string
	ceiling     bool
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o options
	var conc string
	fs.StringVar(&o.modelDir, "model", "fixtures/models/sst2-mini", "model folder (model.onnx, tokenizer.json, config.json, testdata/reviews.tsv)")
	texts := fs.String("texts", "", "comma-separated label<TAB>text files with a header line to load the APIs with (default: the model's testdata/reviews.tsv and "+realisticSet+")")
	fs.IntVar(&o.runs, "runs", 1, "measure every cell this many times, interleaved, to show the spread; more than one adds a row of all runs pooled")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured time per cell")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load before each cell")
	fs.StringVar(&conc, "concurrency", "1,4,8,16,32", "comma-separated numbers of concurrent clients")
	fs.IntVar(&o.batchMax, "batch-max", mlapi.DefaultBatchMax, "BATCH_MAX of the batched ML API")
	fs.DurationVar(&o.batchWait, "batch-wait", mlapi.DefaultBatchWait, "BATCH_WAIT of the batched ML API")
	fs.IntVar(&o.workers, "workers", 0, "INFERENCE_WORKERS of both ML APIs (0: the API's default)")
	servers := fs.String("servers", "traditional,unbatched,batched", "comma-separated APIs to measure: traditional, unbatched, batched")
	fs.BoolVar(&o.ceiling, "ceiling", true, "measure hugot's in-process ceiling too")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.servers = strings.Split(*servers, ",")
	if *texts != "" {
		o.texts = strings.Split(*texts, ",")
	}
	if o.runs < 1 {
		return o, fmt.Errorf("-runs: %d is not a positive number", o.runs)
	}
	for f := range strings.SplitSeq(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-concurrency: %q is not a positive number", f)
		}
		o.concurrency = append(o.concurrency, n)
	}
	return o, nil
}

// realisticSet is the project's own set of real-length reviews.
const realisticSet = "apis/ml/bench/testdata/realistic.tsv"

// server is one API under test.
type server struct {
	name, mode string
	// start returns the API's handler, ready to answer, and a clean-up.
	start func() (http.Handler, func(), error)
}

// textSet is one file of texts to load the APIs with.
type textSet struct {
	path   string
	texts  []string
	tokens []int // per text, as the model counts them
}

// row is one cell of the table: one run, or all runs (run 0) pooled.
type row struct {
	api, mode        string
	concurrency, run int
	rps, tokensPerS  float64
	p50, p95, p99    time.Duration
	errors           int
	meanBatch        float64 // 0 when the API does not batch
	res              result
	batches          batches // the batch-size histogram's growth
}

// newRow sums up a load's result.
func newRow(t *target, c, run int, res result, b batches) row {
	r := row{api: t.name, mode: t.mode, concurrency: c, run: run, errors: res.errors, res: res, batches: b,
		rps: float64(len(res.lat)) / res.took.Seconds(), tokensPerS: float64(res.tokens) / res.took.Seconds(),
		p50: quantile.Durations(res.lat, .50), p95: quantile.Durations(res.lat, .95), p99: quantile.Durations(res.lat, .99)}
	if b.count > 0 {
		r.meanBatch = b.sum / b.count
	}
	return r
}

func run(args []string, out io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	paths := o.texts
	if len(paths) == 0 {
		paths = []string{filepath.Join(o.modelDir, "testdata", "reviews.tsv"), realisticSet}
	}
	sets, err := readSets(o.modelDir, paths)
	if err != nil {
		return err
	}
	logger := slog.New(slog.DiscardHandler)
	mlConfig := func(batchMax int, wait time.Duration) mlapi.Config {
		if wait == 0 {
			wait = -1 // no wait; a zero Config.BatchWait means the default
		}
		return mlapi.New(mlapi.Config{
			ModelDir: o.modelDir, BatchMax: batchMax, BatchWait: wait, Workers: o.workers,
			QueueMax: 4096, RequestTimeout: time.Minute,
		}, logger).Config()
	}
	ml := func(cfg mlapi.Config) func() (http.Handler, func(), error) {
		return func() (http.Handler, func(), error) {
			svc := mlapi.New(cfg, logger)
			if err := svc.Start(context.Background()); err != nil {
				return nil, nil, errors.Join(err, svc.Close())
			}
			return svc.Handler(), func() { _ = svc.Close() }, nil
		}
	}
	unbatched, batched := mlConfig(1, 0), mlConfig(o.batchMax, o.batchWait)
	known := map[string]server{
		"traditional": {"traditional", "rule-based", func() (http.Handler, func(), error) {
			return traditionalapi.New(logger).Handler(), func() {}, nil
		}},
		"unbatched": {"ml", fmt.Sprintf("unbatched: BATCH_MAX=1, %d workers", unbatched.Workers), ml(unbatched)},
		"batched": {"ml", fmt.Sprintf("batched: BATCH_MAX=%d, BATCH_WAIT=%s, %d worker(s)", batched.BatchMax, batched.BatchWait, batched.Workers),
			ml(batched)},
	}
	var servers []server
	for _, name := range o.servers {
		s, ok := known[strings.TrimSpace(name)]
		if !ok {
			return fmt.Errorf("-servers: no API called %q", name)
		}
		servers = append(servers, s)
	}

	fmt.Fprintf(os.Stderr, "bench: %d CPUs, %s per cell, %d run(s)\n", runtime.NumCPU(), o.duration, o.runs)
	var targets []*target
	defer func() {
		for _, t := range targets {
			t.stop()
		}
	}()
	for _, s := range servers {
		t, err := serve(s)
		if err != nil {
			return fmt.Errorf("%s %s: %w", s.name, s.mode, err)
		}
		targets = append(targets, t)
	}
	fmt.Fprintf(out, "%d CPUs, %s per cell after %s of warm-up, %d run(s) of every cell, interleaved.\n", runtime.NumCPU(), o.duration, o.warmup, o.runs)
	for _, set := range sets {
		between := func() error { return nil }
		var ce *ceilings
		if o.ceiling {
			if ce, err = newCeilings(o.modelDir, batched, set); err != nil {
				return fmt.Errorf("ceiling: %w", err)
			}
			between = func() error { return ce.measure(o.duration, o.warmup) }
		}
		rows, err := measureSet(targets, o, set, between)
		var results []ceiling
		if ce != nil {
			results = ce.results()
			err = errors.Join(err, ce.close())
		}
		if err != nil {
			return fmt.Errorf("%s: %w", set.path, err)
		}
		printTable(out, o, set, rows, results)
	}
	return nil
}

// readSets reads each file, and counts its texts' tokens with the model's
// tokenizer.
func readSets(modelDir string, paths []string) ([]textSet, error) {
	clf, err := classifier.Load(modelDir, classifier.WithMaxBatch(1))
	if err != nil {
		return nil, fmt.Errorf("load the tokenizer: %w", err)
	}
	defer clf.Close()
	var sets []textSet
	for _, p := range paths {
		texts, err := readTexts(p)
		if err != nil {
			return nil, err
		}
		set := textSet{path: p, texts: texts, tokens: make([]int, len(texts))}
		for i, t := range texts {
			if set.tokens[i], err = clf.Tokens(t); err != nil {
				return nil, fmt.Errorf("%s: text %d: %w", p, i+1, err)
			}
		}
		sets = append(sets, set)
	}
	return sets, nil
}

// target is a server listening on a loopback port.
type target struct {
	server
	base   string
	client *http.Client
	stop   func()
}

func serve(s server) (*target, error) {
	h, stop, err := s.start()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		stop()
		return nil, fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: time.Minute}
	return &target{server: s, base: "http://" + ln.Addr().String(), client: client, stop: func() {
		client.CloseIdleConnections()
		_ = srv.Close()
		stop()
	}}, nil
}

// measureSet loads every target at each concurrency in turn, o.runs times
// over, and calls between after each run: the cells of one concurrency
// are neighbours in time, and what between measures (the in-process
// ceilings) shares each run's share of the machine's noise.
func measureSet(targets []*target, o options, set textSet, between func() error) ([]row, error) {
	var rows []row
	for r := range o.runs {
		for _, c := range o.concurrency {
			for _, t := range targets {
				load(t, set, c, o.warmup)
				before := scrapeBatches(t)
				res := load(t, set, c, o.duration)
				after := scrapeBatches(t)
				row := newRow(t, c, r+1, res, batches{after.sum - before.sum, after.count - before.count})
				fmt.Fprintf(os.Stderr, "bench: %s: %s %s c=%d run %d: %.0f texts/s p50 %s p95 %s p99 %s batch %.1f errors %d\n",
					filepath.Base(set.path), row.api, row.mode, c, r+1, row.rps, row.p50, row.p95, row.p99, row.meanBatch, row.errors)
				rows = append(rows, row)
			}
		}
		if err := between(); err != nil {
			return nil, err
		}
	}
	if o.runs > 1 {
		for _, c := range o.concurrency {
			for _, t := range targets {
				var all result
				var b batches
				for _, r := range rows {
					if r.concurrency == c && r.mode == t.mode && r.run > 0 {
						all.lat = append(all.lat, r.res.lat...)
						all.tokens += r.res.tokens
						all.errors += r.res.errors
						all.took += r.res.took
						b.sum += r.batches.sum
						b.count += r.batches.count
					}
				}
				rows = append(rows, newRow(t, c, 0, all, b))
			}
		}
	}
	// By concurrency, then run (all runs pooled last), then target.
	slices.SortStableFunc(rows, func(a, b row) int {
		if a.concurrency != b.concurrency {
			return a.concurrency - b.concurrency
		}
		ra, rb := a.run, b.run
		if ra == 0 {
			ra = math.MaxInt
		}
		if rb == 0 {
			rb = math.MaxInt
		}
		return cmp.Compare(ra, rb)
	})
	return rows, nil
}

// result is what one load produced.
type result struct {
	lat    []time.Duration // of the 200 answers
	tokens int             // of the texts answered 200
	errors int
	took   time.Duration
}

// load runs c clients, each sending one request after the other, for d.
func load(t *target, set textSet, c int, d time.Duration) result {
	var (
		mu   sync.Mutex
		res  result
		errs atomic.Int64
		next atomic.Int64
		wg   sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for range c {
		wg.Go(func() {
			var mine []time.Duration
			tokens := 0
			for time.Now().Before(deadline) {
				i := int(next.Add(1)) % len(set.texts)
				body, _ := json.Marshal(map[string]string{"text": set.texts[i]})
				t0 := time.Now()
				resp, err := t.client.Post(t.base+"/analyze", "application/json", bytes.NewReader(body))
				if err != nil {
					errs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs.Add(1)
					continue
				}
				mine = append(mine, time.Since(t0))
				tokens += set.tokens[i]
			}
			mu.Lock()
			res.lat = append(res.lat, mine...)
			res.tokens += tokens
			mu.Unlock()
		})
	}
	wg.Wait()
	res.errors, res.took = int(errs.Load()), time.Since(start)
	return res
}

// batches is the batch-size histogram's running sum and count.
type batches struct{ sum, count float64 }

// scrapeBatches reads mlready_batch_size from /metrics; zero for an API
// that has none.
func scrapeBatches(t *target) batches {
	var b batches
	resp, err := t.client.Get(t.base + "/metrics")
	if err != nil {
		return b
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, _ := strconv.ParseFloat(value, 64)
		switch name {
		case "mlready_batch_size_sum":
			b.sum = v
		case "mlready_batch_size_count":
			b.count = v
		}
	}
	return b
}

// ceiling is hugot's own throughput on back-to-back batches.
type ceiling struct {
	shape          string
	goroutines     int
	itemsPerSecond float64
}

// ceilings runs the model in-process with no HTTP and no queue, batches
// back to back from one goroutine per CPU, in three shapes: single texts;
// batches of BATCH_MAX in the set's order, each padded to its longest
// text; and batches of one length bucket each, of the bucket's batch size,
// as the batched API forms them when its queues are full. Each measure
// runs every shape once; results pools them.
type ceilings struct {
	clf    *classifier.Classifier
	set    textSet
	shapes []shape
}

// shape is one way of batching a set, and what it has measured so far.
type shape struct {
	name    string
	batches [][]string
	texts   int64
	took    time.Duration
}

func newCeilings(modelDir string, cfg mlapi.Config, set textSet) (*ceilings, error) {
	clf, err := classifier.Load(modelDir, classifier.WithMaxBatch(cfg.BatchMax))
	if err != nil {
		return nil, err
	}
	if err := clf.WarmUp(runtime.NumCPU()); err != nil {
		return nil, errors.Join(err, clf.Close())
	}
	singles := make([][]string, len(set.texts))
	for i, t := range set.texts {
		singles[i] = []string{t}
	}
	var mixed [][]string
	for i := 0; i < len(set.texts); i += cfg.BatchMax {
		mixed = append(mixed, set.texts[i:min(i+cfg.BatchMax, len(set.texts))])
	}
	// One lap over the bucketed batches classifies every text once, so
	// they run in proportion to the set's lengths.
	var bucketed [][]string
	lengths := clf.Lengths()
	for li, l := range lengths {
		var batch []string
		for i, t := range set.texts {
			if set.tokens[i] <= l.Tokens && (li == 0 || set.tokens[i] > lengths[li-1].Tokens) {
				batch = append(batch, t)
				if len(batch) == l.MaxBatch {
					bucketed, batch = append(bucketed, batch), nil
				}
			}
		}
		if len(batch) > 0 {
			bucketed = append(bucketed, batch)
		}
	}
	return &ceilings{clf: clf, set: set, shapes: []shape{
		{name: "single texts", batches: singles},
		{name: fmt.Sprintf("batches of %d in the set's order, padded to the longest", cfg.BatchMax), batches: mixed},
		{name: "batches of one length bucket each (" + bucketSizes(lengths) + ")", batches: bucketed},
	}}, nil
}

func (c *ceilings) measure(d, warmup time.Duration) error {
	for i := range c.shapes {
		sh := &c.shapes[i]
		n, took, err := measureCeiling(c.clf, sh.batches, d, warmup)
		if err != nil {
			return fmt.Errorf("ceiling, %s: %w", sh.name, err)
		}
		sh.texts += n
		sh.took += took
		fmt.Fprintf(os.Stderr, "bench: %s: ceiling, %s: %.0f texts/s\n", filepath.Base(c.set.path), sh.name, float64(n)/took.Seconds())
	}
	return nil
}

func (c *ceilings) results() []ceiling {
	var out []ceiling
	for _, sh := range c.shapes {
		if sh.took > 0 {
			out = append(out, ceiling{shape: sh.name, goroutines: runtime.NumCPU(), itemsPerSecond: float64(sh.texts) / sh.took.Seconds()})
		}
	}
	return out
}

func (c *ceilings) close() error { return c.clf.Close() }

// bucketSizes describes the batch size of each length bucket.
func bucketSizes(lengths []classifier.Length) string {
	var parts []string
	for _, l := range lengths {
		parts = append(parts, fmt.Sprintf("%d tokens: %d", l.Tokens, l.MaxBatch))
	}
	return strings.Join(parts, ", ")
}

// measureCeiling runs batches back to back, round robin, from one
// goroutine per CPU, for warmup and then for d, and returns the texts
// classified in d and the time it took.
func measureCeiling(clf *classifier.Classifier, batches [][]string, d, warmup time.Duration) (int64, time.Duration, error) {
	workers := runtime.NumCPU()
	var next atomic.Int64
	runFor := func(d time.Duration) (int64, time.Duration, error) {
		var n atomic.Int64
		var firstErr error
		var once sync.Once
		var wg sync.WaitGroup
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for time.Since(start) < d {
					b := batches[int(next.Add(1))%len(batches)]
					if _, err := clf.ClassifyAccepted(b); err != nil {
						once.Do(func() { firstErr = err })
						return
					}
					n.Add(int64(len(b)))
				}
			})
		}
		wg.Wait()
		return n.Load(), time.Since(start), firstErr
	}
	if _, _, err := runFor(warmup); err != nil {
		return 0, 0, err
	}
	return runFor(d)
}

func printTable(out io.Writer, o options, set textSet, rows []row, ceilings []ceiling) {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) }
	words, tokens := 0, 0
	for i, t := range set.texts {
		words += len(strings.Fields(t))
		tokens += set.tokens[i]
	}
	fmt.Fprintf(out, "\n### %s: %d texts, mean %.1f words, mean %.1f tokens (%d to %d)\n\n", set.path, len(set.texts),
		float64(words)/float64(len(set.texts)), float64(tokens)/float64(len(set.texts)), slices.Min(set.tokens), slices.Max(set.tokens))
	fmt.Fprintln(out, "| API | serving | clients | run | texts/s | tokens/s | p50 ms | p95 ms | p99 ms | mean batch | errors |")
	fmt.Fprintln(out, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rows {
		batch := "–"
		if r.meanBatch > 0 {
			batch = strconv.FormatFloat(r.meanBatch, 'f', 1, 64)
		}
		run := strconv.Itoa(r.run)
		if r.run == 0 {
			run = "**all**"
		}
		fmt.Fprintf(out, "| %s | %s | %d | %s | %.0f | %.0f | %s | %s | %s | %s | %d |\n",
			r.api, r.mode, r.concurrency, run, r.rps, r.tokensPerS, ms(r.p50), ms(r.p95), ms(r.p99), batch, r.errors)
	}
	var best ceiling
	for _, ce := range ceilings {
		fmt.Fprintf(out, "| hugot in-process (ceiling) | %s, %d goroutines | – | | %.0f | | | | | | |\n",
			ce.shape, ce.goroutines, ce.itemsPerSecond)
		if ce.itemsPerSecond > best.itemsPerSecond {
			best = ce
		}
	}
	fmt.Fprintln(out)

	for _, n := range slices.Compact([]int{16, slices.Max(o.concurrency)}) {
		runs := []int{1}
		if o.runs > 1 {
			runs = []int{0}
			for r := 1; r <= o.runs; r++ {
				runs = append(runs, r)
			}
		}
		for _, r := range runs {
			var unbatched, batched row
			for _, x := range rows {
				if x.concurrency != n || x.run != r {
					continue
				}
				if strings.HasPrefix(x.mode, "unbatched") {
					unbatched = x
				}
				if strings.HasPrefix(x.mode, "batched") {
					batched = x
				}
			}
			var parts []string
			if unbatched.rps > 0 && batched.rps > 0 {
				parts = append(parts, fmt.Sprintf("batched/unbatched throughput %.2fx, p95 %s ms batched vs %s ms unbatched",
					batched.rps/unbatched.rps, ms(batched.p95), ms(unbatched.p95)))
			}
			if best.itemsPerSecond > 0 {
				for _, x := range []row{unbatched, batched} {
					if x.rps > 0 {
						parts = append(parts, fmt.Sprintf("%s %.0f%% of the in-process ceiling",
							strings.SplitN(x.mode, ":", 2)[0], 100*x.rps/best.itemsPerSecond))
					}
				}
			}
			if len(parts) > 0 {
				which := fmt.Sprintf("run %d", r)
				if r == 0 {
					which = "all runs pooled"
				}
				fmt.Fprintf(out, "At %d clients, %s: %s.\n", n, which, strings.Join(parts, "; "))
			}
		}
	}
	if best.itemsPerSecond > 0 {
		fmt.Fprintf(out, "In-process ceiling: %.0f texts/s (%s).\n", best.itemsPerSecond, best.shape)
	}
}

// readTexts reads the text column of a label<TAB>text file with a header.
func readTexts(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read texts: %w", err)
	}
	defer f.Close()
	var texts []string
	sc := bufio.NewScanner(f)
	for first := true; sc.Scan(); first = false {
		_, text, ok := strings.Cut(sc.Text(), "\t")
		if first || !ok || strings.TrimSpace(text) == "" {
			continue
		}
		texts = append(texts, text)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read texts: %w", err)
	}
	if len(texts) == 0 {
		return nil, fmt.Errorf("read texts: %s holds none", path)
	}
	return texts, nil
}
