package serving

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/fair-go/fair/internal/iostreams"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestHealthAndMetadata(t *testing.T) {
	_, base := startServer(t, WithModels(
		&echo{name: "e", version: "1"},
		&echo{name: "e", version: "2", inputs: []TensorMeta{{Name: "x", Datatype: FP32, Shape: []int64{-1, 3}}}},
		Func("f", func(rows [][]float32) ([]float32, error) { return make([]float32, len(rows)), nil }),
	))
	for _, p := range []string{"/v2/health/live", "/v2/health/ready", "/v2/models/e/ready", "/v2/models/e/versions/1/ready", "/v2/models/f/ready", "/"} {
		if r := do(t, "GET", base+p, ""); r.code != 200 {
			t.Errorf("GET %s = %d, want 200", p, r.code)
		}
	}
	srv := do(t, "GET", base+"/v2", "").json(t)
	if srv["name"] != "fair" || srv["version"] == nil || srv["extensions"] == nil {
		t.Errorf("server metadata = %v", srv)
	}

	// Unversioned requests go to the highest numeric version.
	md := do(t, "GET", base+"/v2/models/e", "").json(t)
	want := map[string]any{
		"name": "e", "versions": []any{"1", "2"}, "platform": "test",
		"inputs":  []any{map[string]any{"name": "x", "datatype": "FP32", "shape": []any{-1.0, 3.0}}},
		"outputs": []any{},
	}
	if !reflect.DeepEqual(md, want) {
		t.Errorf("model metadata = %v\nwant %v", md, want)
	}
	md = do(t, "GET", base+"/v2/models/e/versions/1", "").json(t)
	if len(md["inputs"].([]any)) != 0 {
		t.Errorf("version 1 metadata = %v, want no inputs", md)
	}
	md = do(t, "GET", base+"/v2/models/f", "").json(t)
	if md["platform"] != "go" || md["inputs"].([]any)[0].(map[string]any)["name"] != "input-0" {
		t.Errorf("func metadata = %v", md)
	}
	if m := do(t, "GET", base+"/v1/models/f", "").json(t); m["ready"] != true || m["name"] != "f" {
		t.Errorf("v1 model = %v", m)
	}
	if m := do(t, "GET", base+"/v1/models", "").json(t); !reflect.DeepEqual(m["models"], []any{"e", "f"}) {
		t.Errorf("v1 models = %v", m)
	}
}

func TestInferVersionsIDParametersOutputs(t *testing.T) {
	_, base := startServer(t, WithModels(&echo{name: "e", version: "1"}, &echo{name: "e", version: "7"}))
	body := `{"id":"req-\"1\"","parameters":{"p":1.5,"q":"s"},"inputs":[
		{"name":"a","shape":[2],"datatype":"INT32","data":[1,2],"parameters":{"t":true}},
		{"name":"b","shape":[1],"datatype":"BYTES","data":["x"]}],
		"outputs":[{"name":"echo_b"}]}`
	r := do(t, "POST", base+"/v2/models/e/infer", body)
	if r.code != 200 {
		t.Fatalf("infer = %d %s", r.code, r.body)
	}
	if ct := r.hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	got := r.json(t)
	want := map[string]any{
		"model_name": "e", "model_version": "7", "id": `req-"1"`,
		"parameters": map[string]any{"p": 1.5, "q": "s"},
		"outputs":    []any{map[string]any{"name": "echo_b", "datatype": "BYTES", "shape": []any{1.0}, "data": []any{"x"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("response = %v\nwant %v", got, want)
	}
	r = do(t, "POST", base+"/v2/models/e/versions/1/infer", body)
	if m := r.json(t); m["model_version"] != "1" {
		t.Errorf("versioned infer answered by %v", m["model_version"])
	}
	// Tensor parameters reach the model; all outputs when none requested.
	r = do(t, "POST", base+"/v2/models/e/infer", `{"inputs":[{"name":"a","shape":[1],"datatype":"INT32","data":[5],"parameters":{"t":true}}]}`)
	out := r.json(t)["outputs"].([]any)[0].(map[string]any)
	if !reflect.DeepEqual(out["parameters"], map[string]any{"t": true}) || !reflect.DeepEqual(out["data"], []any{5.0}) {
		t.Errorf("output = %v", out)
	}
}

// TestDatatypes sends every datatype flat and nested and checks that the
// echoed data is exact.
func TestDatatypes(t *testing.T) {
	_, base := startServer(t, WithModels(&echo{name: "e"}))
	cases := []struct {
		dt         Datatype
		nested     string // shape [2,2]
		wantFlat   string
		wantGoType any
	}{
		{BOOL, `[[true,false],[false,true]]`, `[true,false,false,true]`, []bool{}},
		{UINT8, `[[0,255],[1,2]]`, `[0,255,1,2]`, []uint8{}},
		{UINT16, `[[0,65535],[1,2]]`, `[0,65535,1,2]`, []uint16{}},
		{UINT32, `[[0,4294967295],[1,2]]`, `[0,4294967295,1,2]`, []uint32{}},
		{UINT64, `[[0,18446744073709551615],[1,2]]`, `[0,18446744073709551615,1,2]`, []uint64{}},
		{INT8, `[[-128,127],[0,-1]]`, `[-128,127,0,-1]`, []int8{}},
		{INT16, `[[-32768,32767],[0,-1]]`, `[-32768,32767,0,-1]`, []int16{}},
		{INT32, `[[-2147483648,2147483647],[0,-1]]`, `[-2147483648,2147483647,0,-1]`, []int32{}},
		{INT64, `[[-9223372036854775808,9223372036854775807],[0,-1]]`, `[-9223372036854775808,9223372036854775807,0,-1]`, []int64{}},
		{FP16, `[[0.5,-65504],[1e-3,2]]`, `[0.5,-65504,0.001,2]`, []float32{}},
		{BF16, `[[0.5,-3.3e38],[1e-3,2]]`, `[0.5,-3.3e+38,0.001,2]`, []float32{}},
		{FP32, `[[0.1,-3.4028235e38],[1.5E-7,2]]`, `[0.1,-3.4028235e+38,1.5e-07,2]`, []float32{}},
		{FP64, `[[0.1,-1.7976931348623157e308],[5e-324,2]]`, `[0.1,-1.7976931348623157e+308,5e-324,2]`, []float64{}},
		{BYTES, `[["a","\u00e9\n"],["","\"q\""]]`, `["a","é\n","","\"q\""]`, [][]byte{}},
	}
	for _, c := range cases {
		flat := c.wantFlat
		for i, data := range []string{c.nested, flat, c.nested, flat} {
			body := fmt.Sprintf(`{"inputs":[{"name":"x","shape":[2,2],"datatype":%q,"data":%s}]}`, c.dt, data)
			if i >= 2 { // data before datatype and shape takes the two-pass path
				body = fmt.Sprintf(`{"inputs":[{"data":%s,"name":"x","datatype":%q,"shape":[2,2]}]}`, data, c.dt)
			}
			r := do(t, "POST", base+"/v2/models/e/infer", body)
			if r.code != 200 {
				t.Errorf("%s %s: %d %s", c.dt, data, r.code, r.body)
				continue
			}
			// Compare the raw data text so that integer precision is exact.
			var resp struct {
				Outputs []struct {
					Datatype string
					Shape    []int64
					Data     json.RawMessage
				}
			}
			if err := json.Unmarshal(r.body, &resp); err != nil {
				t.Fatal(err)
			}
			o := resp.Outputs[0]
			if o.Datatype != string(c.dt) || !reflect.DeepEqual(o.Shape, []int64{2, 2}) || string(o.Data) != c.wantFlat {
				t.Errorf("%s %s: got %s %v %s, want %s", c.dt, data, o.Datatype, o.Shape, o.Data, c.wantFlat)
			}
		}
	}
	// The Go types a model sees.
	for _, c := range cases {
		d, _, _, err := parseData([]byte(c.wantFlat), c.dt, 4)
		if err != nil || reflect.TypeOf(d) != reflect.TypeOf(c.wantGoType) {
			t.Errorf("%s decodes to %T (%v), want %T", c.dt, d, err, c.wantGoType)
		}
	}
}

func TestErrors(t *testing.T) {
	gate := make(chan struct{})
	defer close(gate)
	models := []Model{
		&echo{name: "e"},
		&echo{name: "typed", inputs: []TensorMeta{{Name: "x", Datatype: FP32, Shape: []int64{-1, 2}}}},
		Func("f", func(rows [][]float32) ([]float32, error) { return nil, errors.New("boom") }),
		Func("nan", func(rows [][]float32) ([]float32, error) { return []float32{float32(math.NaN())}, nil }),
		Func("panic", func(rows [][]float32) ([]float32, error) { panic("oops") }),
		Func("short", func(rows [][]float32) ([]float32, error) { return nil, nil }),
		&predictFunc{md: Metadata{Name: "client"}, f: func(context.Context, *Request) (*Response, error) {
			return nil, Errorf(http.StatusUnprocessableEntity, "x must be positive")
		}},
		&predictFunc{md: Metadata{Name: "badout"}, f: func(context.Context, *Request) (*Response, error) {
			return &Response{Outputs: []Tensor{{Name: "o", Datatype: FP32, Shape: []int64{3}, Data: []float32{1}}}}, nil
		}},
	}
	_, base := startServer(t, WithModels(models...), WithMaxBodyBytes(1000))
	in := func(dt, shape, data string) string {
		return fmt.Sprintf(`{"inputs":[{"name":"x","shape":%s,"datatype":%q,"data":%s}]}`, shape, dt, data)
	}
	f32 := in("FP32", "[1,2]", "[1,2]")
	cases := []struct {
		method, path, body string
		code               int
		msg                string
	}{
		{"POST", "/v2/models/e/infer", `{"inputs":[`, 400, "invalid JSON"},
		{"POST", "/v2/models/e/infer", `{"inputs":[]} x`, 400, "after top-level"},
		{"POST", "/v2/models/e/infer", ``, 400, "empty request body"},
		{"POST", "/v2/models/e/infer", `{"inputs":[]}`, 400, "no inputs"},
		{"POST", "/v2/models/e/infer", `{"id":1,"inputs":[]}`, 400, `"id" must be a string`},
		{"POST", "/v2/models/e/infer", `{"inputs":[{"shape":[1],"datatype":"FP32","data":[1]}]}`, 400, "without a name"},
		{"POST", "/v2/models/e/infer", `{"inputs":[{"name":"x","datatype":"FP32","data":[1]}]}`, 400, "missing shape"},
		{"POST", "/v2/models/e/infer", `{"inputs":[{"name":"x","shape":[1],"data":[1]}]}`, 400, "missing datatype"},
		{"POST", "/v2/models/e/infer", `{"inputs":[{"name":"x","shape":[1],"datatype":"FP32"}]}`, 400, "missing data"},
		{"POST", "/v2/models/e/infer", in("FP8", "[1]", "[1]"), 400, `unknown datatype "FP8"`},
		{"POST", "/v2/models/e/infer", in("FP32", "[-1]", "[1]"), 400, "non-negative integers"},
		{"POST", "/v2/models/e/infer", in("FP32", "[1.5]", "[1]"), 400, "non-negative integers"},
		{"POST", "/v2/models/e/infer", in("FP32", "[3]", "[1,2]"), 400, "holds 3 elements, data has 2"},
		{"POST", "/v2/models/e/infer", in("FP32", "[2,2]", "[[1,2],[3]]"), 400, "ragged"},
		{"POST", "/v2/models/e/infer", in("FP32", "[2,2]", "[[1,2],3,4]"), 400, "mixes arrays and values"},
		{"POST", "/v2/models/e/infer", in("FP32", "[2]", "[[],1]"), 400, "mixes arrays and values"},
		{"POST", "/v2/models/e/infer", in("FP32", "[3,1]", "[[1,2,3]]"), 400, "does not match shape"},
		{"POST", "/v2/models/e/infer", in("FP32", "[1]", "1"), 400, "must be an array"},
		{"POST", "/v2/models/e/infer", in("FP32", "[1]", `["1"]`), 400, "want number"},
		{"POST", "/v2/models/e/infer", in("FP32", "[1]", `[1e39]`), 400, "out of range for FP32"},
		{"POST", "/v2/models/e/infer", in("FP32", "[1]", `[NaN]`), 400, "want number"},
		{"POST", "/v2/models/e/infer", in("FP32", "[1]", `[01]`), 400, "want ','"},
		{"POST", "/v2/models/e/infer", in("FP16", "[1]", `[70000]`), 400, "out of range for FP16"},
		{"POST", "/v2/models/e/infer", in("BF16", "[1]", `[3.4e38]`), 400, "out of range for BF16"},
		{"POST", "/v2/models/e/infer", in("INT8", "[1]", `[128]`), 400, "is not an INT8"},
		{"POST", "/v2/models/e/infer", in("INT32", "[1]", `[1.0]`), 400, "is not an INT32"},
		{"POST", "/v2/models/e/infer", in("UINT8", "[1]", `[-1]`), 400, "is not a UINT8"},
		{"POST", "/v2/models/e/infer", in("UINT64", "[1]", `[18446744073709551616]`), 400, "is not a UINT64"},
		{"POST", "/v2/models/e/infer", in("BOOL", "[1]", `[1]`), 400, "true or false"},
		{"POST", "/v2/models/e/infer", in("BYTES", "[1]", `[1]`), 400, "must be strings"},
		{"POST", "/v2/models/e/infer", `{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]},{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}`, 400, "given twice"},
		{"POST", "/v2/models/e/infer", `{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}],"outputs":[{"name":"nope"}]}`, 500, `did not produce requested output "nope"`},
		{"POST", "/v2/models/typed/infer", in("FP64", "[1,2]", "[1,2]"), 400, "expects FP32"},
		{"POST", "/v2/models/typed/infer", in("FP32", "[2,1]", "[1,2]"), 400, "expects [-1 2]"},
		{"POST", "/v2/models/typed/infer", `{"inputs":[{"name":"y","shape":[1],"datatype":"FP32","data":[1]}]}`, 400, `no input "y"`},
		{"POST", "/v2/models/f/infer", `{"inputs":[{"name":"input-0","shape":[1,2],"datatype":"FP32","data":[1,2]}],"outputs":[{"name":"nope"}]}`, 400, `no output "nope"`},
		{"POST", "/v2/models/f/infer", `{"inputs":[{"name":"input-0","shape":[1,2],"datatype":"FP32","data":[1,2]}]}`, 500, "boom"},
		{"POST", "/v2/models/nan/infer", `{"inputs":[{"name":"input-0","shape":[1,2],"datatype":"FP32","data":[1,2]}]}`, 500, "NaN"},
		{"POST", "/v2/models/panic/infer", `{"inputs":[{"name":"input-0","shape":[1,2],"datatype":"FP32","data":[1,2]}]}`, 500, "panicked: oops"},
		{"POST", "/v2/models/short/infer", `{"inputs":[{"name":"input-0","shape":[1,2],"datatype":"FP32","data":[1,2]}]}`, 500, "returned 0 values for 1 rows"},
		{"POST", "/v2/models/client/infer", f32, 422, "x must be positive"},
		{"POST", "/v2/models/badout/infer", f32, 500, "holds 3 elements, data has 1"},
		{"POST", "/v2/models/e/infer", in("FP32", "[600]", "["+strings.Repeat("1,", 599)+"1]"), 413, "exceeds the limit"},
		{"POST", "/v2/models/nope/infer", f32, 404, `model "nope" not found`},
		{"POST", "/v2/models/e/versions/9/infer", f32, 404, `no version "9"`},
		{"GET", "/v2/models/nope", "", 404, "not found"},
		{"GET", "/v2/models/nope/ready", "", 404, "not found"},
		{"GET", "/v2/models/e/infer", "", 405, "use POST"},
		{"POST", "/v2/models/e", "", 405, "use GET"},
		{"POST", "/v2/health/live", "", 405, "use GET"},
		{"POST", "/metrics", "", 405, "use GET"},
		{"GET", "/v2/models/e/bogus", "", 404, "no such endpoint"},
		{"GET", "/v3", "", 404, "no such endpoint"},
		{"POST", "/v1/models/nope:predict", `{"instances":[1]}`, 404, "not found"},
		{"GET", "/v1/models/e:predict", "", 405, "use POST"},
		{"POST", "/v1/models/e:explain", "", 404, "no such endpoint"},
		{"POST", "/v1/models/e:predict", `{"inputs":[1]}`, 400, `no "instances"`},
		{"POST", "/v1/models/e:predict", `{"instances":[[1,2],[3]]}`, 400, "ragged"},
		{"POST", "/v1/models/e:predict", `{"instances":[{"a":1}]}`, 400, "want number"},
	}
	for _, c := range cases {
		r := do(t, c.method, base+c.path, c.body)
		var e struct{ Error string }
		err := json.Unmarshal(r.body, &e)
		if r.code != c.code || err != nil || !strings.Contains(e.Error, c.msg) {
			t.Errorf("%s %s %.60s\n got %d %s\nwant %d {\"error\": \"...%s...\"}", c.method, c.path, c.body, r.code, r.body, c.code, c.msg)
		}
	}
	// Failures are counted by status.
	m := scrape(t, base)
	if m[`serving_request_failures_total{model="e",version="",code="400"}`] < 20 {
		t.Errorf("400s not counted: %v", m)
	}
	if m[`serving_request_failures_total{model="client",version="",code="422"}`] != 1 {
		t.Errorf("422 not counted")
	}
}

func TestV1Predict(t *testing.T) {
	lin := Func("lin", func(rows [][]float32) ([]float32, error) {
		out := make([]float32, len(rows))
		for i, r := range rows {
			out[i] = 2*r[0] + r[1]
		}
		return out, nil
	})
	vec := VecFunc("vec", func(rows [][]float32) ([][]float32, error) {
		out := make([][]float32, len(rows))
		for i, r := range rows {
			out[i] = []float32{r[0], -r[0]}
		}
		return out, nil
	})
	_, base := startServer(t, WithModels(lin, vec, &echo{name: "e"}))
	for _, c := range []struct{ path, body, want string }{
		{"/v1/models/lin:predict", `{"instances":[[1,2],[3,4.5]]}`, `{"predictions":[4,10.5]}`},
		{"/v1/models/vec:predict", `{"instances":[[1,2]]}`, `{"predictions":[[1,-1]]}`},
		{"/v1/models/e:predict", `{"instances":[[[1],[2]]],"ignored":{}}`, `{"predictions":[[[1],[2]]]}`},
		{"/v1/models/e:predict", `{"instances":[]}`, `{"predictions":[]}`},
	} {
		r := do(t, "POST", base+c.path, c.body)
		if r.code != 200 || string(r.body) != c.want {
			t.Errorf("%s %s = %d %s, want %s", c.path, c.body, r.code, r.body, c.want)
		}
	}
	// The same model over v2.
	r := do(t, "POST", base+"/v2/models/lin/infer", `{"inputs":[{"name":"input-0","shape":[2,2],"datatype":"FP32","data":[1,2,3,4.5]}]}`)
	if want := `{"model_name":"lin","outputs":[{"name":"output-0","datatype":"FP32","shape":[2],"data":[4,10.5]}]}`; string(r.body) != want {
		t.Errorf("v2 = %s, want %s", r.body, want)
	}
}

func TestMetrics(t *testing.T) {
	_, base := startServer(t, WithModels(Func("m", func(rows [][]float32) ([]float32, error) {
		return make([]float32, len(rows)), nil
	}, Version("3"), Instances(2))))
	body := `{"inputs":[{"name":"input-0","shape":[3,1],"datatype":"FP32","data":[1,2,3]}]}`
	for range 5 {
		if r := do(t, "POST", base+"/v2/models/m/infer", body); r.code != 200 {
			t.Fatalf("%d %s", r.code, r.body)
		}
	}
	do(t, "POST", base+"/v2/models/m/infer", `{}`)
	r := do(t, "GET", base+"/metrics", "")
	if ct := r.hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q", ct)
	}
	m := scrape(t, base)
	l := `model="m",version="3"`
	for k, want := range map[string]float64{
		"serving_requests_total{" + l + "}":                            6,
		"serving_request_failures_total{" + l + `,code="400"}`:         1,
		"serving_inflight_requests{" + l + "}":                         0,
		"serving_busy_instances{" + l + "}":                            0,
		"serving_instances{" + l + "}":                                 2,
		"serving_request_duration_seconds_count{" + l + "}":            6,
		`serving_request_duration_seconds_bucket{` + l + `,le="+Inf"}`: 6,
		"serving_queue_duration_seconds_count{" + l + "}":              5,
		"serving_batch_size_count{" + l + "}":                          5,
		"serving_batch_size_sum{" + l + "}":                            15,
		`serving_batch_size_bucket{` + l + `,le="2"}`:                  0,
		`serving_batch_size_bucket{` + l + `,le="4"}`:                  5,
	} {
		if got, ok := m[k]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, want)
		}
	}
	if m["serving_request_duration_seconds_sum{"+l+"}"] <= 0 {
		t.Error("latency sum is zero")
	}
	// The process metrics Prometheus' clients export, with sane values.
	now := float64(time.Now().Unix())
	if st := m["process_start_time_seconds"]; st < now-3600 || st > now+1 {
		t.Errorf("process_start_time_seconds = %v, now %v", st, now)
	}
	for _, k := range []string{"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "go_memstats_heap_alloc_bytes", "go_goroutines"} {
		if m[k] <= 0 {
			t.Errorf("%s = %v, want > 0", k, m[k])
		}
	}
}

// blocker is a model whose Predict waits until released, to hold requests
// in flight.
func blocker(name string, release <-chan struct{}, opts ...ModelOption) Model {
	return Func(name, func(rows [][]float32) ([]float32, error) {
		<-release
		out := make([]float32, len(rows))
		for i, r := range rows {
			out[i] = r[0] * 10
		}
		return out, nil
	}, opts...)
}

func waitMetric(t *testing.T, base, key string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := scrape(t, base)[key]
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v", key, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func row(v float32) string {
	return fmt.Sprintf(`{"inputs":[{"name":"input-0","shape":[1,1],"datatype":"FP32","data":[%g]}]}`, v)
}

func TestConcurrencyLimitOverload(t *testing.T) {
	for _, batching := range []bool{false, true} {
		t.Run(fmt.Sprint("batching=", batching), func(t *testing.T) {
			release := make(chan struct{})
			opts := []ModelOption{Instances(1), MaxQueue(1)}
			if batching {
				// Batches of one row: the queued request cannot join the running one.
				opts = append(opts, Batching(1, time.Millisecond))
			}
			_, base := startServer(t, WithModels(blocker("b", release, opts...)))
			var wg sync.WaitGroup
			codes := make([]int, 2)
			for i := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i] = do(t, "POST", base+"/v2/models/b/infer", row(float32(i))).code
				}()
				// One running, then one queued.
				waitMetric(t, base, `serving_inflight_requests{model="b",version=""}`, float64(i+1))
			}
			waitMetric(t, base, `serving_busy_instances{model="b",version=""}`, 1)
			r := do(t, "POST", base+"/v2/models/b/infer", row(9))
			if r.code != http.StatusTooManyRequests || !strings.Contains(string(r.body), "overloaded") || r.hdr.Get("Retry-After") != "1" {
				t.Errorf("third request = %d %s, want 429", r.code, r.body)
			}
			close(release)
			wg.Wait()
			if codes[0] != 200 || codes[1] != 200 {
				t.Errorf("held requests answered %v, want 200s", codes)
			}
		})
	}
}

func TestLoaderReadiness(t *testing.T) {
	l := &loading{release: make(chan struct{})}
	s, base := startServer(t, WithModels(l))
	if r := do(t, "GET", base+"/v2/health/ready", ""); r.code != 503 {
		t.Errorf("ready before load = %d", r.code)
	}
	if r := do(t, "GET", base+"/v2/models/l/ready", ""); r.code != 503 {
		t.Errorf("model ready before load = %d", r.code)
	}
	if r := do(t, "POST", base+"/v2/models/l/infer", row(1)); r.code != 503 {
		t.Errorf("infer before load = %d %s", r.code, r.body)
	}
	if r := do(t, "GET", base+"/v2/health/live", ""); r.code != 200 {
		t.Errorf("live before load = %d", r.code)
	}
	close(l.release)
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := do(t, "GET", base+"/v2/health/ready", ""); r.code != 200 {
		t.Errorf("ready after load = %d", r.code)
	}
	s.Close() // draining
	if r := do(t, "GET", base+"/v2/health/ready", ""); r.code != 503 {
		t.Errorf("ready while draining = %d", r.code)
	}
	if r := do(t, "POST", base+"/v2/models/l/infer", row(1)); r.code != 503 || !strings.Contains(string(r.body), "shutting down") {
		t.Errorf("infer while draining = %d %s", r.code, r.body)
	}
}

type loading struct{ release chan struct{} }

func (l *loading) Metadata() Metadata { return Metadata{Name: "l"} }
func (l *loading) Load(ctx context.Context) error {
	<-l.release
	return nil
}
func (l *loading) Predict(context.Context, *Request) (*Response, error) { return &Response{}, nil }

func TestNewErrors(t *testing.T) {
	for _, c := range []struct {
		opts []Option
		msg  string
	}{
		{nil, "no models"},
		{[]Option{WithModels(&echo{name: ""})}, "without a name"},
		{[]Option{WithModels(&echo{name: "a"}, &echo{name: "a"})}, "added twice"},
		{[]Option{WithModels(&echo{name: "a", inputs: []TensorMeta{{Name: "x", Datatype: "F"}}})}, "unknown datatype"},
		{[]Option{WithModels(With(&echo{name: "a"}, Instances(-1)))}, "negative"},
	} {
		if _, err := New(c.opts...); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("New(%v) = %v, want %q", c.opts, err, c.msg)
		}
	}
}

func TestAddr(t *testing.T) {
	t.Setenv("PORT", "")
	os.Unsetenv("PORT")
	s, _ := New(WithModels(&echo{name: "a"}))
	if s.Addr() != ":8080" {
		t.Errorf("default addr = %q", s.Addr())
	}
	t.Setenv("PORT", "9123")
	s, _ = New(WithModels(&echo{name: "a"}))
	if s.Addr() != ":9123" {
		t.Errorf("PORT addr = %q", s.Addr())
	}
	s, _ = New(WithModels(&echo{name: "a"}), WithAddr("127.0.0.1:1"))
	if s.Addr() != "127.0.0.1:1" {
		t.Errorf("explicit addr = %q", s.Addr())
	}
}

// TestGracefulShutdown runs the real Serve entry point, sends SIGTERM while
// a request is in flight and checks that the request still succeeds.
func TestGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	t.Setenv("PORT", fmt.Sprint(port))
	base := fmt.Sprintf("http://127.0.0.1:%d", port)

	release := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- Serve(blocker("b", release)) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/v2/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never became ready: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	inflight := make(chan reply, 1)
	go func() { inflight <- do(t, "POST", base+"/v2/models/b/infer", row(4)) }()
	waitMetric(t, base, `serving_busy_instances{model="b",version=""}`, 1)

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Serve stops accepting while the request is held.
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatal("listener still open after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned before the in-flight request finished: %v", err)
	default:
	}
	close(release)
	r := <-inflight
	if r.code != 200 || !strings.Contains(string(r.body), `"data":[40]`) {
		t.Errorf("in-flight request = %d %s", r.code, r.body)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after draining")
	}
}

// TestRequestLogging: one line per request at debug level, none at info.
func TestRequestLogging(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		var buf iostreams.SyncBuffer
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))
		_, base := startServer(t, WithModels(&echo{name: "e"}), WithLogger(log))
		do(t, "POST", base+"/v2/models/e/infer", row(1))
		do(t, "POST", base+"/v2/models/e/infer", `{}`)
		lines := strings.Count(buf.String(), "msg=request")
		want := 0
		if level == slog.LevelDebug {
			want = 2
			if !strings.Contains(buf.String(), "status=400") || !strings.Contains(buf.String(), "path=/v2/models/e/infer") {
				t.Errorf("debug log lacks status or path: %s", buf.String())
			}
		}
		if lines != want {
			t.Errorf("level %v: %d request lines, want %d:\n%s", level, lines, want, buf.String())
		}
	}
}
