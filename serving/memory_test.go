package serving

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// allocated is the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A declared Content-Length is not allocated before the bytes arrive.
func TestBodyNotAllocatedFromDeclaredLength(t *testing.T) {
	s := &Server{maxBody: 32 << 20}
	r := httptest.NewRequest(http.MethodPost, "/v2/models/m/infer", strings.NewReader(`{"inputs":[]}`))
	r.ContentLength = 30 << 20
	var buf []byte
	n := allocated(func() { _ = s.readBody(r, &buf) })
	if n > 2<<20 {
		t.Errorf("a 14-byte body declared as 30 MiB allocated %d bytes", n)
	}
}

// A shape far larger than the data does not reserve memory for it.
func TestShapeHintBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"inputs":[{"name":"x","datatype":"BYTES","shape":[1000000],"data":[`)
	long := strings.Repeat("a", 4000)
	for i := 0; i < 1000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + long + `"`)
	}
	b.WriteString(`]}]}`)
	body := []byte(b.String())
	var req Request
	n := allocated(func() { _ = decodeRequest(body, &req) })
	if n > 3*uint64(len(body)) {
		t.Errorf("a %d-byte BYTES request allocated %d bytes (%.1fx)", len(body), n, float64(n)/float64(len(body)))
	}
}

// No more than WithMaxConcurrent requests are served at once; the others
// wait and are then served.
func TestMaxConcurrent(t *testing.T) {
	var now, peak atomic.Int32
	release := make(chan struct{})
	slow := &predictFunc{md: Metadata{Name: "slow"}, f: func(ctx context.Context, r *Request) (*Response, error) {
		n := now.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		now.Add(-1)
		return &Response{}, nil
	}}
	_, base := startServer(t, WithModels(slow), WithMaxConcurrent(3))
	var wg sync.WaitGroup
	codes := make(chan int, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(base+"/v2/models/slow/infer", "application/json", bytes.NewReader([]byte(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}`)))
			if err != nil {
				codes <- 0
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if p := peak.Load(); p != 3 {
		t.Errorf("%d requests served at once, want 3", p)
	}
	close(release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a waiting request got %d", c)
		}
	}
}
