package serving

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ServerName and ServerVersion are reported by GET /v2.
var (
	ServerName    = "fair"
	ServerVersion = "dev"
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 4<<20 { // let rare huge buffers go
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

func writeJSON(w http.ResponseWriter, code int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	w.WriteHeader(code)
	w.Write(body)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, appendError(nil, msg))
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s, use %s", r.Method, r.URL.Path, allow))
}

// ServeHTTP routes the v2, v1 and metrics endpoints. Routing is by hand
// because KServe's ":predict" suffix is not a ServeMux path segment and
// every miss must still answer {"error": ...}.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/v2/models/"):
		s.v2Model(w, r, p[len("/v2/models/"):])
	case strings.HasPrefix(p, "/v1/models/"):
		s.v1Model(w, r, p[len("/v1/models/"):])
	case p == "/v2/health/live" || p == "/v2/health/ready" || p == "/":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, r, "GET")
			return
		}
		if p == "/v2/health/ready" && !s.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	case p == "/v2":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r, "GET")
			return
		}
		b := append([]byte(`{"name":`), appendString(nil, ServerName)...)
		b = append(b, `,"version":`...)
		b = appendString(b, ServerVersion)
		b = append(b, `,"extensions":[]}`...)
		writeJSON(w, http.StatusOK, b)
	case p == "/v1/models":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r, "GET")
			return
		}
		b := []byte(`{"models":[`)
		i := 0
		for _, e := range s.entries {
			if e.group.def != e {
				continue
			}
			if i > 0 {
				b = append(b, ',')
			}
			i++
			b = appendString(b, e.md.Name)
		}
		writeJSON(w, http.StatusOK, append(b, "]}"...))
	case p == "/metrics":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r, "GET")
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		writeMetrics(w, s.entries)
	default:
		writeError(w, http.StatusNotFound, "no such endpoint: "+p)
	}
}

// lookup finds a model by name and (optional) version.
func (s *Server) lookup(name, version string, versioned bool) (*entry, error) {
	g := s.byName[name]
	if g == nil {
		return nil, fmt.Errorf("model %q not found", name)
	}
	if !versioned {
		return g.def, nil
	}
	if e := g.byVer[version]; e != nil {
		return e, nil
	}
	return nil, fmt.Errorf("model %q has no version %q", name, version)
}

// v2Model handles /v2/models/{m}[/versions/{v}][/ready|/infer].
func (s *Server) v2Model(w http.ResponseWriter, r *http.Request, rest string) {
	name, rest, _ := strings.Cut(rest, "/")
	version, versioned := "", false
	if v, ok := strings.CutPrefix(rest, "versions/"); ok {
		version, rest, _ = strings.Cut(v, "/")
		versioned = true
	} else if rest == "versions" {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
		return
	}
	e, err := s.lookup(name, version, versioned)
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	switch rest {
	case "infer":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, r, "POST")
			return
		}
		s.infer(w, r, e, false)
	case "ready":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, r, "GET")
			return
		}
		if !e.ready.Load() || s.draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	case "":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r, "GET")
			return
		}
		writeJSON(w, http.StatusOK, appendModelMetadata(nil, e))
	default:
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	}
}

// v1Model handles KServe v1: GET /v1/models/{m} and POST /v1/models/{m}:predict.
func (s *Server) v1Model(w http.ResponseWriter, r *http.Request, rest string) {
	name, verb, hasVerb := strings.Cut(rest, ":")
	e, err := s.lookup(name, "", false)
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	switch {
	case hasVerb && verb == "predict":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, r, "POST")
			return
		}
		s.infer(w, r, e, true)
	case !hasVerb:
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r, "GET")
			return
		}
		b := append([]byte(`{"name":`), appendString(nil, name)...)
		if e.ready.Load() && !s.draining.Load() {
			b = append(b, `,"ready":true}`...)
		} else {
			b = append(b, `,"ready":false}`...)
		}
		writeJSON(w, http.StatusOK, b)
	default:
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	}
}

func appendModelMetadata(b []byte, e *entry) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, e.md.Name)
	b = append(b, `,"versions":[`...)
	n := 0
	for _, v := range e.group.versions {
		if v == "" {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendString(b, v)
	}
	b = append(b, `],"platform":`...)
	b = appendString(b, e.md.Platform)
	meta := func(ts []TensorMeta) {
		b = append(b, '[')
		for i, t := range ts {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendString(b, t.Name)
			b = append(b, `,"datatype":`...)
			b = appendString(b, string(t.Datatype))
			b = append(b, `,"shape":`...)
			b = appendShape(b, t.Shape)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"inputs":`...)
	meta(e.md.Inputs)
	b = append(b, `,"outputs":`...)
	meta(e.md.Outputs)
	return append(b, '}')
}

// readBody reads the request body into a pooled buffer, answering 413 past
// the limit.
func (s *Server) readBody(r *http.Request, buf *[]byte) error {
	if r.ContentLength > s.maxBody {
		return Errorf(http.StatusRequestEntityTooLarge, "request body of %d bytes exceeds the limit of %d", r.ContentLength, s.maxBody)
	}
	b := (*buf)[:0]
	// The declared length is a hint, not a promise: reserve at most 1 MiB
	// before the bytes arrive, then grow with what comes.
	if want := min(r.ContentLength, 1<<20); want > 0 && int64(cap(b)) < want {
		b = make([]byte, 0, want)
	}
	rd := io.LimitReader(r.Body, s.maxBody+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			*buf = b
			return Errorf(http.StatusBadRequest, "reading request body: %v", err)
		}
	}
	*buf = b
	if int64(len(b)) > s.maxBody {
		return Errorf(http.StatusRequestEntityTooLarge, "request body exceeds the limit of %d bytes", s.maxBody)
	}
	return nil
}

// infer handles v2 infer and v1 predict.
func (s *Server) infer(w http.ResponseWriter, r *http.Request, e *entry, v1 bool) {
	start := time.Now()
	st := e.stats
	st.requests.Add(1)
	st.inflight.Add(1)
	in, out := getBuf(), getBuf()
	code, err := s.inferBody(r, e, v1, in, out)
	if err != nil {
		st.fail(code)
		*out = appendError((*out)[:0], err.Error())
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
	}
	writeJSON(w, code, *out)
	putBuf(in)
	putBuf(out)
	st.inflight.Add(-1)
	st.latency.observe(since(start))
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", code), slog.Duration("duration", time.Since(start)))
	}
}

func (s *Server) inferBody(r *http.Request, e *entry, v1 bool, in, out *[]byte) (int, error) {
	if s.draining.Load() {
		return http.StatusServiceUnavailable, errDraining
	}
	if !e.ready.Load() {
		return http.StatusServiceUnavailable, fmt.Errorf("model %s is not ready", e.md.Name)
	}
	// At most maxConcurrent requests read and decode at once, so the
	// server's memory is bounded by that many bodies; the others wait here
	// holding only their connection.
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-r.Context().Done():
		return http.StatusServiceUnavailable, fmt.Errorf("client went away while the server was busy")
	}
	if e.queue != nil {
		// A batched request counts as arriving from here until enqueue
		// queues it, so batch workers know a merge partner is on its way.
		e.arriving.Add(1)
		handed := false
		defer func() {
			if !handed {
				e.arriving.Add(-1)
			}
		}()
		return s.run(r, e, v1, in, out, &handed)
	}
	return s.run(r, e, v1, in, out, nil)
}

func (s *Server) run(r *http.Request, e *entry, v1 bool, in, out *[]byte, handed *bool) (int, error) {
	if err := s.readBody(r, in); err != nil {
		return statusOf(err), err
	}

	if len(bytes.TrimSpace(*in)) == 0 {
		return http.StatusBadRequest, errors.New("empty request body")
	}
	req := &Request{}
	if v1 {
		name, dt := "input-0", FP32
		if len(e.md.Inputs) > 0 {
			name, dt = e.md.Inputs[0].Name, e.md.Inputs[0].Datatype
		}
		t, err := decodeInstances(*in, name, dt)
		if err != nil {
			return http.StatusBadRequest, err
		}
		req.Inputs = []Tensor{t}
	} else if err := decodeRequest(*in, req); err != nil {
		return http.StatusBadRequest, err
	}
	if err := e.checkRequest(req); err != nil {
		return http.StatusBadRequest, err
	}
	if handed != nil {
		*handed = true
	}
	resp, err := e.infer(r.Context(), req)
	if err != nil {
		return statusOf(err), err
	}
	outputs, err := e.selectOutputs(req, resp)
	if err != nil {
		return http.StatusInternalServerError, err
	}
	if v1 {
		*out, err = appendPredictions((*out)[:0], outputs)
	} else {
		r := *resp
		r.Outputs = outputs
		*out, err = appendResponse((*out)[:0], e.md.Name, e.md.Version, req.ID, &r)
	}
	if err != nil {
		return http.StatusInternalServerError, fmt.Errorf("model %s: %v", e.md.Name, err)
	}
	return http.StatusOK, nil
}

// checkRequest validates a request against the model's metadata.
func (e *entry) checkRequest(req *Request) error {
	seen := make(map[string]bool, len(req.Inputs))
	for i := range req.Inputs {
		t := &req.Inputs[i]
		if seen[t.Name] {
			return fmt.Errorf("input %q given twice", t.Name)
		}
		seen[t.Name] = true
		if len(e.md.Inputs) == 0 {
			continue
		}
		m := findMeta(e.md.Inputs, t.Name)
		if m == nil {
			return fmt.Errorf("model %s has no input %q (inputs: %s)", e.md.Name, t.Name, metaNames(e.md.Inputs))
		}
		if t.Datatype != m.Datatype {
			return fmt.Errorf("input %q: datatype %s, model %s expects %s", t.Name, t.Datatype, e.md.Name, m.Datatype)
		}
		if !shapeMatches(m.Shape, t.Shape) {
			return fmt.Errorf("input %q: shape %v, model %s expects %v", t.Name, t.Shape, e.md.Name, m.Shape)
		}
	}
	for _, m := range e.md.Inputs {
		if !seen[m.Name] {
			return fmt.Errorf("missing input %q", m.Name)
		}
	}
	if len(e.md.Outputs) > 0 {
		for _, o := range req.Outputs {
			if findMeta(e.md.Outputs, o.Name) == nil {
				return fmt.Errorf("model %s has no output %q (outputs: %s)", e.md.Name, o.Name, metaNames(e.md.Outputs))
			}
		}
	}
	return nil
}

func findMeta(ms []TensorMeta, name string) *TensorMeta {
	for i := range ms {
		if ms[i].Name == name {
			return &ms[i]
		}
	}
	return nil
}

func metaNames(ms []TensorMeta) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return strings.Join(names, ", ")
}

// shapeMatches compares a shape with a metadata shape in which -1 matches
// any size. An empty metadata shape matches anything.
func shapeMatches(want, got []int64) bool {
	if len(want) == 0 {
		return true
	}
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if want[i] != -1 && want[i] != got[i] {
			return false
		}
	}
	return true
}

// selectOutputs checks the model's outputs and keeps the requested ones.
func (e *entry) selectOutputs(req *Request, resp *Response) ([]Tensor, error) {
	for i := range resp.Outputs {
		if err := resp.Outputs[i].check(); err != nil {
			return nil, fmt.Errorf("model %s: %v", e.md.Name, err)
		}
	}
	if len(req.Outputs) == 0 {
		return resp.Outputs, nil
	}
	out := make([]Tensor, 0, len(req.Outputs))
	for _, o := range req.Outputs {
		found := false
		for i := range resp.Outputs {
			if resp.Outputs[i].Name == o.Name {
				out = append(out, resp.Outputs[i])
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("model %s did not produce requested output %q", e.md.Name, o.Name)
		}
	}
	return out, nil
}

// appendPredictions writes the first output as KServe v1 {"predictions"},
// nested by its shape.
func appendPredictions(b []byte, outputs []Tensor) ([]byte, error) {
	if len(outputs) == 0 {
		return b, errors.New("model produced no outputs")
	}
	t := &outputs[0]
	b = append(b, `{"predictions":`...)
	var err error
	if len(t.Shape) == 0 {
		b = append(b, '[')
		b, _, err = appendNested(b, t.Data, nil, 0)
		b = append(b, ']')
	} else {
		b, _, err = appendNested(b, t.Data, t.Shape, 0)
	}
	return append(b, '}'), err
}
