package serving_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fair-go/fair/examples/serve-go/mlp"
	"github.com/fair-go/fair/serving"
)

// BenchmarkLoad drives a real server on loopback with a Go load generator:
// c client goroutines on keep-alive connections send one-row requests for
// the example model. Each case reports throughput and p50/p99 latency for
//
//	floor:  a minimal net/http handler decoding and encoding the same JSON
//	        with encoding/json and calling the same model;
//	fair:   this package, no batching;
//	batch:  this package with dynamic batching (64 rows, 1ms).
//
// Two models: "mlp" is the example model (CPU, cost linear in rows), and
// "device" is the same model behind one simulated accelerator: every call
// costs a fixed 200µs launch latency and calls are serialized, as on one
// GPU. Run with -benchtime=Nx to bound the request count; hack/bench-serving.sh
// runs the full matrix and prints ratios.
func BenchmarkLoad(b *testing.B) {
	m := mlp.New()
	dev := &device{predict: m.Predict, latency: 200 * time.Microsecond}
	models := []struct {
		name    string
		predict func([][]float32) ([]float32, error)
		opts    []serving.ModelOption // fair without batching
	}{
		{"mlp", m.Predict, nil},
		{"device", dev.Predict, nil},
	}
	for _, md := range models {
		for _, c := range []int{1, 8, 64} {
			for _, srv := range []string{"floor", "fair", "batch"} {
				b.Run(fmt.Sprintf("model=%s/c=%d/server=%s", md.name, c, srv), func(b *testing.B) {
					var h http.Handler
					switch srv {
					case "floor":
						h = floor(md.predict)
					case "fair", "batch":
						var opts []serving.ModelOption
						if srv == "batch" {
							opts = append(opts, serving.Batching(64, time.Millisecond))
							if md.name == "device" {
								opts = append(opts, serving.Instances(1)) // one device
							}
						}
						s, err := serving.New(serving.WithModels(serving.Func("m", md.predict, opts...)))
						if err != nil {
							b.Fatal(err)
						}
						defer s.Close()
						h = s
					}
					load(b, h, c)
				})
			}
		}
	}
}

// device serializes calls and adds a fixed per-call latency, the cost
// structure of an accelerator that dynamic batching exists for.
type device struct {
	mu      sync.Mutex
	predict func([][]float32) ([]float32, error)
	latency time.Duration
}

func (d *device) Predict(rows [][]float32) ([]float32, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for start := time.Now(); time.Since(start) < d.latency; {
		time.Sleep(d.latency / 4)
	}
	return d.predict(rows)
}

// bodies are one-row requests with different values.
func bodies() [][]byte {
	out := make([][]byte, 16)
	for i := range out {
		row := make([]float32, mlp.Features)
		for j := range row {
			row[j] = float32((i*31+j*17)%97)/48.5 - 1
		}
		b, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{
			"name": "input-0", "shape": []int{1, mlp.Features}, "datatype": "FP32", "data": row,
		}}})
		out[i] = b
	}
	return out
}

func load(b *testing.B, h http.Handler, c int) {
	ts := httptest.NewServer(h)
	defer ts.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	url := ts.URL + "/v2/models/m/infer"
	reqs := bodies()

	run := func(n int) [][]time.Duration {
		var next atomic.Int64
		lat := make([][]time.Duration, c)
		var wg sync.WaitGroup
		var failed atomic.Value
		for g := range c {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 0, 512)
				for {
					i := next.Add(1) - 1
					if i >= int64(n) || failed.Load() != nil {
						return
					}
					t0 := time.Now()
					resp, err := client.Post(url, "application/json", bytes.NewReader(reqs[i%int64(len(reqs))]))
					if err != nil {
						failed.Store(err)
						return
					}
					buf, err = readAll(resp.Body, buf[:0])
					resp.Body.Close()
					if err != nil || resp.StatusCode != 200 || !bytes.Contains(buf, []byte(`"data":[`)) {
						failed.Store(fmt.Errorf("status %d %v: %s", resp.StatusCode, err, buf))
						return
					}
					lat[g] = append(lat[g], time.Since(t0))
				}
			}()
		}
		wg.Wait()
		if err := failed.Load(); err != nil {
			b.Fatal(err)
		}
		return lat
	}
	run(4 * c) // warm connections and pools
	b.ResetTimer()
	lat := run(b.N)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	q := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) }
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}

func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// floor is the least a Go server can do: encoding/json in and out, no
// validation beyond what decoding gives, no metrics.
func floor(predict func([][]float32) ([]float32, error)) http.Handler {
	type tensor struct {
		Name     string    `json:"name"`
		Shape    []int64   `json:"shape"`
		Datatype string    `json:"datatype"`
		Data     []float32 `json:"data"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     string   `json:"id,omitempty"`
			Inputs []tensor `json:"inputs"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Inputs) == 0 || len(req.Inputs[0].Shape) == 0 {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		in := req.Inputs[0]
		n := int(in.Shape[0])
		width := len(in.Data) / max(n, 1)
		rows := make([][]float32, n)
		for i := range rows {
			rows[i] = in.Data[i*width : (i+1)*width]
		}
		ys, err := predict(rows)
		if err != nil {
			http.Error(w, `{"error":`+strconv.Quote(err.Error())+`}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"model_name": "m", "id": req.ID,
			"outputs": []tensor{{Name: "output-0", Shape: []int64{int64(n)}, Datatype: "FP32", Data: ys}},
		})
	})
}
