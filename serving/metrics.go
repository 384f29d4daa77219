package serving

import (
	"io"
	"runtime"
	rtmetrics "runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics are written in the Prometheus text format by hand: a dozen
// counters do not justify linking a metrics library into every image.

// histogram counts int64 observations (nanoseconds or rows) into fixed
// buckets with atomics only.
type histogram struct {
	bounds []int64 // upper bounds, inclusive
	counts []atomic.Uint64
	sum    atomic.Int64
	scale  float64 // multiplies bounds and sum on export
}

func newHistogram(bounds []int64, scale float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1), scale: scale}
}

func (h *histogram) observe(v int64) {
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(v)
}

// Latency buckets in nanoseconds: 100µs to 10s.
var durationBounds = []int64{
	100e3, 250e3, 500e3, 1e6, 2.5e6, 5e6, 10e6, 25e6, 50e6, 100e6, 250e6, 500e6, 1e9, 2.5e9, 5e9, 10e9,
}

var batchBounds = []int64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}

type modelStats struct {
	labels   string // model="m",version="v"
	requests atomic.Uint64
	inflight atomic.Int64
	busy     atomic.Int64 // Predict calls running
	latency  *histogram
	queue    *histogram
	batch    *histogram

	mu       sync.Mutex
	failures map[int]uint64 // by HTTP status
}

func newModelStats(name, version string) *modelStats {
	return &modelStats{
		labels:   `model="` + escapeLabel(name) + `",version="` + escapeLabel(version) + `"`,
		latency:  newHistogram(durationBounds, 1e-9),
		queue:    newHistogram(durationBounds, 1e-9),
		batch:    newHistogram(batchBounds, 1),
		failures: map[int]uint64{},
	}
}

func (m *modelStats) fail(code int) {
	m.mu.Lock()
	m.failures[code]++
	m.mu.Unlock()
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// writeMetrics writes every model's metrics in the text exposition format.
func writeMetrics(w io.Writer, models []*entry) {
	var b []byte
	family := func(name, typ, help string) {
		b = append(b, "# HELP "+name+" "+help+"\n# TYPE "+name+" "+typ+"\n"...)
	}
	sample := func(name, labels string, v float64) {
		b = append(b, name...)
		if labels != "" {
			b = append(b, '{')
			b = append(b, labels...)
			b = append(b, '}')
		}
		b = append(b, ' ')
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
		b = append(b, '\n')
	}
	hist := func(name string, get func(*modelStats) *histogram) {
		for _, e := range models {
			h := get(e.stats)
			var cum uint64
			for i := range h.counts {
				cum += h.counts[i].Load()
				le := "+Inf"
				if i < len(h.bounds) {
					le = fmtFloat(float64(h.bounds[i]) * h.scale)
				}
				sample(name+"_bucket", e.stats.labels+`,le="`+le+`"`, float64(cum))
			}
			sample(name+"_sum", e.stats.labels, float64(h.sum.Load())*h.scale)
			sample(name+"_count", e.stats.labels, float64(cum))
		}
	}

	family("serving_requests_total", "counter", "Inference requests received, by model.")
	for _, e := range models {
		sample("serving_requests_total", e.stats.labels, float64(e.stats.requests.Load()))
	}
	family("serving_request_failures_total", "counter", "Inference requests that failed, by model and HTTP status.")
	for _, e := range models {
		e.stats.mu.Lock()
		codes := make([]int, 0, len(e.stats.failures))
		for c := range e.stats.failures {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		for _, c := range codes {
			sample("serving_request_failures_total", e.stats.labels+`,code="`+strconv.Itoa(c)+`"`, float64(e.stats.failures[c]))
		}
		e.stats.mu.Unlock()
	}
	family("serving_inflight_requests", "gauge", "Inference requests being handled now.")
	for _, e := range models {
		sample("serving_inflight_requests", e.stats.labels, float64(e.stats.inflight.Load()))
	}
	family("serving_busy_instances", "gauge", "Predict calls running now.")
	for _, e := range models {
		sample("serving_busy_instances", e.stats.labels, float64(e.stats.busy.Load()))
	}
	family("serving_instances", "gauge", "Concurrent Predict calls allowed (0: no limit).")
	for _, e := range models {
		sample("serving_instances", e.stats.labels, float64(e.instances))
	}
	family("serving_request_duration_seconds", "histogram", "Time from request read to response written, by model.")
	hist("serving_request_duration_seconds", func(m *modelStats) *histogram { return m.latency })
	family("serving_queue_duration_seconds", "histogram", "Time requests waited for an instance or a batch.")
	hist("serving_queue_duration_seconds", func(m *modelStats) *histogram { return m.queue })
	family("serving_batch_size", "histogram", "Rows per Predict call (above 1 when dynamic batching merged requests).")
	hist("serving_batch_size", func(m *modelStats) *histogram { return m.batch })
	family("go_goroutines", "gauge", "Number of goroutines.")
	sample("go_goroutines", "", float64(runtime.NumGoroutine()))
	heap := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(heap)
	if heap[0].Value.Kind() == rtmetrics.KindUint64 {
		family("go_memstats_heap_alloc_bytes", "gauge", "Bytes of allocated heap objects.")
		sample("go_memstats_heap_alloc_bytes", "", float64(heap[0].Value.Uint64()))
	}
	// The process metrics Prometheus' own clients export, where the
	// system tells them.
	family("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.")
	sample("process_start_time_seconds", "", float64(processStart.UnixNano())/1e9)
	for _, m := range processMetrics() {
		family(m.name, m.typ, m.help)
		sample(m.name, "", m.value)
	}
	w.Write(b)
}

func since(t time.Time) int64 { return int64(time.Since(t)) }

var processStart = time.Now()

type processMetric struct {
	name, typ, help string
	value           float64
}
