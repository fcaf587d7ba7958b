// Command bench measures the serving patterns of the ML API on this
// machine and prints a markdown table: requests per second and p50/p95/p99
// latency of POST /analyze at several concurrencies, for the traditional
// API, the ML API unbatched (BATCH_MAX=1) and the ML API batched, and, as
// the ceiling, the texts per second hugot itself reaches in-process on
// back-to-back full batches.
//
//	go run ./apis/ml/bench                       # defaults: the fixture model, 5 s per cell
//	go run ./apis/ml/bench -duration 10s -concurrency 1,4,8,16,32
//
// Each server runs in this process on a loopback port, one at a time, and
// the load generator runs beside it: on a small machine the clients' own
// CPU counts against the server, as it would with a sidecar.
package main

import (
	"bufio"
	"bytes"
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
	"github.com/mlready/mlready/apis/traditional/rulesapi"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	modelDir    string
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
	for f := range strings.SplitSeq(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-concurrency: %q is not a positive number", f)
		}
		o.concurrency = append(o.concurrency, n)
	}
	return o, nil
}

// server is one API under test.
type server struct {
	name, mode string
	// start returns the API's handler, ready to answer, and a clean-up.
	start func() (http.Handler, func(), error)
}

// row is one cell of the table.
type row struct {
	api, mode   string
	concurrency int
	rps         float64
	p50, p95    time.Duration
	p99         time.Duration
	errors      int
	meanBatch   float64 // 0 when the API does not batch
}

func run(args []string, out io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	texts, err := readTexts(filepath.Join(o.modelDir, "testdata", "reviews.tsv"))
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
			return rulesapi.New(logger).Handler(), func() {}, nil
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

	fmt.Fprintf(os.Stderr, "bench: %d CPUs, %s per cell, %d texts from %s\n", runtime.NumCPU(), o.duration, len(texts), o.modelDir)
	var rows []row
	for _, s := range servers {
		r, err := measureServer(s, o, texts)
		if err != nil {
			return fmt.Errorf("%s %s: %w", s.name, s.mode, err)
		}
		rows = append(rows, r...)
	}
	var ceilings []ceiling
	if o.ceiling {
		if ceilings, err = measureCeilings(o.modelDir, batched, o.duration, o.warmup, texts); err != nil {
			return fmt.Errorf("ceiling: %w", err)
		}
	}
	printTable(out, o, rows, ceilings)
	return nil
}

// measureServer serves s on a loopback port and loads it at each
// concurrency in turn.
func measureServer(s server, o options, texts []string) ([]row, error) {
	h, stop, err := s.start()
	if err != nil {
		return nil, err
	}
	defer stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: time.Minute}
	defer client.CloseIdleConnections()

	var rows []row
	for _, c := range o.concurrency {
		load(client, base, texts, c, o.warmup)
		before := scrapeBatches(client, base)
		lat, errs, took := load(client, base, texts, c, o.duration)
		after := scrapeBatches(client, base)
		r := row{api: s.name, mode: s.mode, concurrency: c, errors: errs,
			rps: float64(len(lat)) / took.Seconds(),
			p50: quantile(lat, .50), p95: quantile(lat, .95), p99: quantile(lat, .99)}
		if n := after.count - before.count; n > 0 {
			r.meanBatch = (after.sum - before.sum) / n
		}
		fmt.Fprintf(os.Stderr, "bench: %s %s c=%d: %.0f req/s p50 %s p95 %s p99 %s errors %d\n",
			r.api, r.mode, c, r.rps, r.p50, r.p95, r.p99, errs)
		rows = append(rows, r)
	}
	return rows, nil
}

// load runs c clients, each sending one request after the other, for d,
// and returns the latencies of the 200 answers and the number of others.
func load(client *http.Client, base string, texts []string, c int, d time.Duration) ([]time.Duration, int, time.Duration) {
	var (
		mu   sync.Mutex
		lat  []time.Duration
		errs atomic.Int64
		next atomic.Int64
		wg   sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for range c {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(deadline) {
				text := texts[int(next.Add(1))%len(texts)]
				body, _ := json.Marshal(map[string]string{"text": text})
				t0 := time.Now()
				resp, err := client.Post(base+"/analyze", "application/json", bytes.NewReader(body))
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
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return lat, int(errs.Load()), time.Since(start)
}

// batches is the batch-size histogram's running sum and count.
type batches struct{ sum, count float64 }

// scrapeBatches reads mlready_batch_size from /metrics; zero for an API
// that has none.
func scrapeBatches(client *http.Client, base string) batches {
	var b batches
	resp, err := client.Get(base + "/metrics")
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

// ceiling is hugot's own throughput on back-to-back full batches.
type ceiling struct {
	batch, goroutines int
	itemsPerSecond    float64
}

// measureCeilings runs the model in-process with no HTTP and no queue,
// batches back to back: single texts and half batches from one goroutine
// per CPU, full batches from one and from one per CPU.
func measureCeilings(modelDir string, cfg mlapi.Config, d, warmup time.Duration, texts []string) ([]ceiling, error) {
	cpus := runtime.NumCPU()
	shapes := []struct{ batch, goroutines int }{{1, cpus}, {cfg.BatchMax / 2, cpus}, {cfg.BatchMax, 1}, {cfg.BatchMax, cpus}}
	var out []ceiling
	for _, sh := range shapes {
		if sh.batch < 1 || slices.ContainsFunc(out, func(c ceiling) bool { return c.batch == sh.batch && c.goroutines == sh.goroutines }) {
			continue
		}
		c := cfg
		c.BatchMax, c.Workers = sh.batch, sh.goroutines
		ce, err := measureCeiling(modelDir, c, d, warmup, texts)
		if err != nil {
			return nil, err
		}
		out = append(out, ce)
	}
	return out, nil
}

// measureCeiling runs full batches back to back from cfg.Workers
// goroutines.
func measureCeiling(modelDir string, cfg mlapi.Config, d, warmup time.Duration, texts []string) (ceiling, error) {
	clf, err := classifier.Load(modelDir, classifier.WithMaxBatch(cfg.BatchMax))
	if err != nil {
		return ceiling{}, err
	}
	defer clf.Close()
	if err := clf.WarmUp(mlapi.DefaultWorkers); err != nil {
		return ceiling{}, err
	}
	batchOf := func(i int) []string {
		b := make([]string, cfg.BatchMax)
		for j := range b {
			b[j] = texts[(i*cfg.BatchMax+j)%len(texts)]
		}
		return b
	}
	runFor := func(d time.Duration) (int64, time.Duration, error) {
		var n atomic.Int64
		var firstErr error
		var once sync.Once
		var wg sync.WaitGroup
		start := time.Now()
		for g := range cfg.Workers {
			wg.Go(func() {
				for i := g; time.Since(start) < d; i += cfg.Workers {
					if _, err := clf.Classify(batchOf(i)); err != nil {
						once.Do(func() { firstErr = err })
						return
					}
					n.Add(int64(cfg.BatchMax))
				}
			})
		}
		wg.Wait()
		return n.Load(), time.Since(start), firstErr
	}
	if _, _, err := runFor(warmup); err != nil {
		return ceiling{}, err
	}
	n, took, err := runFor(d)
	if err != nil {
		return ceiling{}, err
	}
	c := ceiling{batch: cfg.BatchMax, goroutines: cfg.Workers, itemsPerSecond: float64(n) / took.Seconds()}
	fmt.Fprintf(os.Stderr, "bench: ceiling, batches of %d from %d goroutine(s): %.0f texts/s\n", c.batch, c.goroutines, c.itemsPerSecond)
	return c, nil
}

func printTable(out io.Writer, o options, rows []row, ceilings []ceiling) {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) }
	fmt.Fprintf(out, "%d CPUs, %s per cell after %s of warm-up.\n\n", runtime.NumCPU(), o.duration, o.warmup)
	fmt.Fprintln(out, "| API | serving | clients | req/s | p50 ms | p95 ms | p99 ms | mean batch | errors |")
	fmt.Fprintln(out, "|---|---|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rows {
		batch := "–"
		if r.meanBatch > 0 {
			batch = strconv.FormatFloat(r.meanBatch, 'f', 1, 64)
		}
		fmt.Fprintf(out, "| %s | %s | %d | %.0f | %s | %s | %s | %s | %d |\n",
			r.api, r.mode, r.concurrency, r.rps, ms(r.p50), ms(r.p95), ms(r.p99), batch, r.errors)
	}
	var c ceiling // the best of them
	for _, ce := range ceilings {
		fmt.Fprintf(out, "| hugot in-process (ceiling) | batches of %d back to back, %d goroutine(s) | – | %.0f texts/s | | | | %d | |\n",
			ce.batch, ce.goroutines, ce.itemsPerSecond, ce.batch)
		if ce.itemsPerSecond > c.itemsPerSecond {
			c = ce
		}
	}
	fmt.Fprintln(out)

	for _, n := range slices.Compact([]int{16, slices.Max(o.concurrency)}) {
		var unbatched, batched row
		for _, r := range rows {
			if r.concurrency == n && strings.HasPrefix(r.mode, "unbatched") {
				unbatched = r
			}
			if r.concurrency == n && strings.HasPrefix(r.mode, "batched") {
				batched = r
			}
		}
		if unbatched.rps > 0 && batched.rps > 0 {
			fmt.Fprintf(out, "At %d clients: batched/unbatched throughput %.2fx, p95 %s ms batched vs %s ms unbatched.\n",
				n, batched.rps/unbatched.rps, ms(batched.p95), ms(unbatched.p95))
		}
		if batched.rps > 0 && c.itemsPerSecond > 0 {
			fmt.Fprintf(out, "At %d clients the batched server reaches %.0f%% of the best in-process ceiling (%.0f texts/s).\n",
				n, 100*batched.rps/c.itemsPerSecond, c.itemsPerSecond)
		}
	}
}

// quantile is the q-quantile of lat (nearest rank).
func quantile(lat []time.Duration, q float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
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
