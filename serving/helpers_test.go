package serving

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// echo answers every input back as an output named "echo_"+name, and
// echoes request parameters.
type echo struct {
	name, version string
	inputs        []TensorMeta
}

func (e *echo) Metadata() Metadata {
	return Metadata{Name: e.name, Version: e.version, Platform: "test", Inputs: e.inputs}
}

func (e *echo) Predict(_ context.Context, req *Request) (*Response, error) {
	resp := &Response{Parameters: req.Parameters}
	for _, in := range req.Inputs {
		in.Name = "echo_" + in.Name
		resp.Outputs = append(resp.Outputs, in)
	}
	return resp, nil
}

// predictFunc adapts a function to Model for tests.
type predictFunc struct {
	md Metadata
	f  func(context.Context, *Request) (*Response, error)
}

func (p *predictFunc) Metadata() Metadata { return p.md }
func (p *predictFunc) Predict(ctx context.Context, r *Request) (*Response, error) {
	return p.f(ctx, r)
}

func startServer(t *testing.T, opts ...Option) (*Server, string) {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	return s, ts.URL
}

type reply struct {
	code int
	body []byte
	hdr  http.Header
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func do(t *testing.T, method, url, body string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, b, resp.Header}
}

// scrape reads /metrics into a map from "name{labels}" to value.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	r := do(t, "GET", base+"/metrics", "")
	if r.code != 200 {
		t.Fatalf("/metrics: %d %s", r.code, r.body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad metrics line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}
