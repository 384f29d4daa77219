package serving

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDynamicBatchingMerges holds the only instance busy with one request,
// queues seven more, and checks that they are predicted as one batch of
// seven (batch-size metric) and that each caller gets its own answer.
func TestDynamicBatchingMerges(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var sizes []int
	m := Func("lin", func(rows [][]float32) ([]float32, error) {
		mu.Lock()
		sizes = append(sizes, len(rows))
		first := len(sizes) == 1
		mu.Unlock()
		if first {
			<-release
		}
		out := make([]float32, len(rows))
		for i, r := range rows {
			out[i] = 2*r[0] + r[1]
		}
		return out, nil
	}, Batching(16, time.Millisecond), Instances(1))
	_, base := startServer(t, WithModels(m))
	l := `model="lin",version=""`

	type answer struct {
		code int
		body string
	}
	answers := make([]answer, 8)
	var wg sync.WaitGroup
	send := func(i int) {
		defer wg.Done()
		// Request i has one row (i, 100) except request 5, which has two,
		// so the split must honour uneven row counts.
		body := fmt.Sprintf(`{"id":"r%d","inputs":[{"name":"input-0","shape":[1,2],"datatype":"FP32","data":[%d,100]}]}`, i, i)
		if i == 5 {
			body = `{"id":"r5","inputs":[{"name":"input-0","shape":[2,2],"datatype":"FP32","data":[[5,100],[6,1]]}]}`
		}
		r := do(t, "POST", base+"/v2/models/lin/infer", body)
		answers[i] = answer{r.code, string(r.body)}
	}
	wg.Add(1)
	go send(0)
	waitMetric(t, base, "serving_busy_instances{"+l+"}", 1)
	for i := 1; i < 8; i++ {
		wg.Add(1)
		go send(i)
	}
	waitMetric(t, base, "serving_inflight_requests{"+l+"}", 8)
	close(release)
	wg.Wait()

	for i, a := range answers {
		want := fmt.Sprintf(`{"model_name":"lin","id":"r%d","outputs":[{"name":"output-0","datatype":"FP32","shape":[1],"data":[%d]}]}`, i, 2*i+100)
		if i == 5 {
			want = `{"model_name":"lin","id":"r5","outputs":[{"name":"output-0","datatype":"FP32","shape":[2],"data":[110,13]}]}`
		}
		if a.code != 200 || a.body != want {
			t.Errorf("request %d = %d %s\nwant %s", i, a.code, a.body, want)
		}
	}
	mu.Lock()
	if fmt.Sprint(sizes) != "[1 8]" {
		t.Errorf("model saw batches %v, want [1 8]", sizes)
	}
	mu.Unlock()
	metrics := scrape(t, base)
	for k, want := range map[string]float64{
		"serving_batch_size_count{" + l + "}":             2, // Predict calls
		"serving_batch_size_sum{" + l + "}":               9, // rows
		`serving_batch_size_bucket{` + l + `,le="1"}`:     1,
		`serving_batch_size_bucket{` + l + `,le="4"}`:     1,
		`serving_batch_size_bucket{` + l + `,le="8"}`:     2,
		"serving_requests_total{" + l + "}":               8,
		"serving_queue_duration_seconds_count{" + l + "}": 8,
	} {
		if got := metrics[k]; got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
}

// TestDynamicBatchingDelay checks that a lone request is answered after the
// batching delay instead of waiting for a full batch, and that requests
// that cannot be merged (different row widths) are still answered right.
func TestDynamicBatchingDelay(t *testing.T) {
	sum := Func("sum", func(rows [][]float32) ([]float32, error) {
		out := make([]float32, len(rows))
		for i, r := range rows {
			for _, v := range r {
				out[i] += v
			}
		}
		return out, nil
	}, Batching(64, 20*time.Millisecond), Instances(1))
	_, base := startServer(t, WithModels(sum))
	start := time.Now()
	r := do(t, "POST", base+"/v2/models/sum/infer", row(3))
	if r.code != 200 || !strings.Contains(string(r.body), `"data":[3]`) {
		t.Fatalf("lone request = %d %s", r.code, r.body)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("lone request took %v with a 20ms batching delay", d)
	}
	var wg sync.WaitGroup
	for w := 1; w <= 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := strings.TrimSuffix(strings.Repeat("1,", w), ",")
			body := fmt.Sprintf(`{"inputs":[{"name":"input-0","shape":[1,%d],"datatype":"FP32","data":[%s]}]}`, w, data)
			r := do(t, "POST", base+"/v2/models/sum/infer", body)
			if want := fmt.Sprintf(`"data":[%d]`, w); r.code != 200 || !strings.Contains(string(r.body), want) {
				t.Errorf("width %d = %d %s", w, r.code, r.body)
			}
		}()
	}
	wg.Wait()
	// A request larger than the batch limit is refused.
	big := fmt.Sprintf(`{"inputs":[{"name":"input-0","shape":[65,1],"datatype":"FP32","data":[%s]}]}`, strings.TrimSuffix(strings.Repeat("1,", 65), ","))
	if r := do(t, "POST", base+"/v2/models/sum/infer", big); r.code != 400 || !strings.Contains(string(r.body), "maximum batch size 64") {
		t.Errorf("oversized batch = %d %s", r.code, r.body)
	}
}

// TestDynamicBatchingBadModel: a model that ignores the batch dimension
// fails every merged request with 500 rather than answering wrong rows.
func TestDynamicBatchingBadModel(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	bad := &predictFunc{md: Metadata{Name: "bad"}, f: func(_ context.Context, r *Request) (*Response, error) {
		once.Do(func() { <-release })
		return &Response{Outputs: []Tensor{{Name: "o", Datatype: FP32, Shape: []int64{1}, Data: []float32{0}}}}, nil
	}}
	_, base := startServer(t, WithModels(With(bad, Batching(8, time.Millisecond), Instances(1))))
	var wg sync.WaitGroup
	codes := make([]reply, 3)
	for i := range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); codes[i] = do(t, "POST", base+"/v2/models/bad/infer", row(1)) }()
		if i == 0 {
			waitMetric(t, base, `serving_busy_instances{model="bad",version=""}`, 1)
		}
	}
	waitMetric(t, base, `serving_inflight_requests{model="bad",version=""}`, 3)
	close(release)
	wg.Wait()
	if codes[0].code != 200 {
		t.Errorf("single request = %d %s", codes[0].code, codes[0].body)
	}
	for _, r := range codes[1:] {
		if r.code != 500 || !strings.Contains(string(r.body), "for a batch of 2 rows") {
			t.Errorf("merged request = %d %s", r.code, r.body)
		}
	}
}

// TestBodyLimitChunked checks the limit on bodies of unknown length.
func TestBodyLimitChunked(t *testing.T) {
	_, base := startServer(t, WithModels(&echo{name: "e"}), WithMaxBodyBytes(100))
	body := row(1) + strings.Repeat(" ", 100)
	req, _ := http.NewRequest("POST", base+"/v2/models/e/infer", io.MultiReader(strings.NewReader(body)))
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !strings.Contains(string(b), "exceeds the limit of 100") {
		t.Errorf("chunked oversized body = %d %s", resp.StatusCode, b)
	}
	req, _ = http.NewRequest("POST", base+"/v2/models/e/infer", io.MultiReader(strings.NewReader(row(1))))
	req.ContentLength = -1
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("chunked small body = %d", resp.StatusCode)
	}
}

// TestCloseWhileQueued: Close answers queued requests with 503 at once and
// lets the running batch finish.
func TestCloseWhileQueued(t *testing.T) {
	release := make(chan struct{})
	s, base := startServer(t, WithModels(blocker("b", release, Batching(1, time.Millisecond), Instances(1))))
	l := `model="b",version=""`
	first := make(chan reply, 1)
	go func() { first <- do(t, "POST", base+"/v2/models/b/infer", row(1)) }()
	waitMetric(t, base, "serving_busy_instances{"+l+"}", 1)
	second := make(chan reply, 1)
	go func() { second <- do(t, "POST", base+"/v2/models/b/infer", row(2)) }()
	waitMetric(t, base, "serving_inflight_requests{"+l+"}", 2)
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case r := <-second:
		if r.code != 503 || !strings.Contains(string(r.body), "shutting down") {
			t.Errorf("queued request = %d %s, want 503", r.code, r.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("queued request not answered after Close")
	}
	close(release)
	if r := <-first; r.code != 200 || !strings.Contains(string(r.body), `"data":[10]`) {
		t.Errorf("running request = %d %s", r.code, r.body)
	}
	<-closed
}
