package mlapi

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mlready/mlready/apis/httpapi"
	"github.com/mlready/mlready/apis/ml/batcher"
)

// metrics are the ML API's: the shared HTTP ones plus those of the model
// and its queue, named after text-embeddings-inference's te_queue_duration,
// te_inference_duration and te_batch_next_size and Triton's
// nv_inference_queue_duration_us.
type metrics struct {
	*httpapi.Metrics
	queue     prometheus.Histogram
	inference prometheus.Histogram
	batchSize prometheus.Histogram
}

// newMetrics registers the ML metrics of s; the gauges read s when scraped.
func newMetrics(s *ModelAPI) *metrics {
	m := &metrics{
		Metrics: httpapi.NewMetrics("ml"),
		queue: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: httpapi.MetricsNamespace, Name: "queue_duration_seconds", Buckets: httpapi.LatencyBuckets,
			Help: "Time a text waited in the inference queue before its batch started.",
		}),
		inference: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: httpapi.MetricsNamespace, Name: "inference_duration_seconds", Buckets: httpapi.LatencyBuckets,
			Help: "Time of one model call, for a whole batch.",
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: httpapi.MetricsNamespace, Name: "batch_size", Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
			Help: "Texts per model call.",
		}),
	}
	m.Registry.MustRegister(m.queue, m.inference, m.batchSize,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: httpapi.MetricsNamespace, Name: "queue_depth",
			Help: "Texts waiting in the inference queue.",
		}, func() float64 { return float64(s.queueDepth()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: httpapi.MetricsNamespace, Name: "held_requests",
			Help: "Requests held until the model is ready (HOLD_DURING_STARTUP).",
		}, func() float64 { return float64(s.held.Load()) }),
		phaseCollector{s.phases},
	)
	return m
}

// hooks feed the batcher's observations into the histograms.
func (m *metrics) hooks() batcher.Hooks {
	return batcher.Hooks{
		Waited: func(d time.Duration) { m.queue.Observe(d.Seconds()) },
		Ran: func(size int, took time.Duration) {
			m.batchSize.Observe(float64(size))
			m.inference.Observe(took.Seconds())
		},
	}
}

var (
	phaseDesc = prometheus.NewDesc(httpapi.MetricsNamespace+"_model_phase",
		"Start-up phase of the model: 1 for the current phase, 0 for the others.", []string{"phase"}, nil)
	loadSecondsDesc = prometheus.NewDesc(httpapi.MetricsNamespace+"_model_load_seconds",
		"Seconds each finished start-up phase took (downloading, loading, warming).", []string{"phase"}, nil)
)

// phaseCollector reads the phases when scraped, so that the metrics can
// never disagree with /health.
type phaseCollector struct{ p *phases }

func (c phaseCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- phaseDesc
	ch <- loadSecondsDesc
}

func (c phaseCollector) Collect(ch chan<- prometheus.Metric) {
	current, seconds := c.p.snapshot()
	for _, p := range allPhases {
		v := 0.0
		if p == current {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(phaseDesc, prometheus.GaugeValue, v, p)
	}
	for p, s := range seconds {
		ch <- prometheus.MustNewConstMetric(loadSecondsDesc, prometheus.GaugeValue, s, p)
	}
}
