package serving

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Model is one servable model version. The server calls Predict from many
// goroutines at once unless Instances limits it.
type Model interface {
	Metadata() Metadata
	Predict(ctx context.Context, req *Request) (*Response, error)
}

// Loader is implemented by models that need work (reading weights, warming
// up) before they can answer. A model is ready once Load returns nil.
type Loader interface {
	Load(ctx context.Context) error
}

// Metadata describes a model as GET /v2/models/{name} reports it. Inputs
// and Outputs are optional; when Inputs is set the server rejects requests
// whose tensors do not match it. A -1 dimension matches any size.
type Metadata struct {
	Name     string
	Version  string
	Platform string
	Inputs   []TensorMeta
	Outputs  []TensorMeta
}

// TensorMeta describes one input or output tensor.
type TensorMeta struct {
	Name     string
	Datatype Datatype
	Shape    []int64
}

// Request is a decoded inference request.
type Request struct {
	ID         string
	Parameters Parameters
	Inputs     []Tensor
	// Outputs are the outputs the client asked for; empty means all. The
	// server drops unrequested outputs from the response itself, so models
	// may ignore this.
	Outputs []RequestedOutput
}

// Input returns the input tensor with the given name, or nil.
func (r *Request) Input(name string) *Tensor {
	for i := range r.Inputs {
		if r.Inputs[i].Name == name {
			return &r.Inputs[i]
		}
	}
	return nil
}

// RequestedOutput names one output the client wants.
type RequestedOutput struct {
	Name       string
	Parameters Parameters
}

// Response is what Predict returns. The server fills in the model name,
// version and request id.
type Response struct {
	Parameters Parameters
	Outputs    []Tensor
}

// Error is an error with an HTTP status. Return one from Predict (see
// Errorf) to answer with a 4xx instead of 500.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Errorf returns an *Error with the given HTTP status code.
func Errorf(code int, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) && e.Code >= 400 && e.Code <= 599 {
		return e.Code
	}
	return http.StatusInternalServerError
}

// modelConfig holds the serving policy of one model.
type modelConfig struct {
	version   string
	maxBatch  int
	maxDelay  time.Duration
	instances int
	maxQueue  int
	inputs    []TensorMeta
	outputs   []TensorMeta
	platform  string
}

// ModelOption sets how a model is served.
type ModelOption func(*modelConfig)

// Version sets the model's version (overriding Metadata().Version).
func Version(v string) ModelOption { return func(c *modelConfig) { c.version = v } }

// Batching turns on dynamic batching: requests that arrive within maxDelay
// of the first waiting one are merged along their first dimension, up to
// maxBatchSize rows, predicted in one call and split back. The model must
// answer with outputs whose first dimension is the merged batch size.
func Batching(maxBatchSize int, maxDelay time.Duration) ModelOption {
	return func(c *modelConfig) { c.maxBatch, c.maxDelay = maxBatchSize, maxDelay }
}

// Instances limits how many Predict calls of this model run at once.
// Without batching the default is no limit; with batching it is GOMAXPROCS.
func Instances(n int) ModelOption { return func(c *modelConfig) { c.instances = n } }

// MaxQueue bounds how many requests may wait for a free instance or a batch;
// beyond it the server answers 429. The default is 1024.
func MaxQueue(n int) ModelOption { return func(c *modelConfig) { c.maxQueue = n } }

// Inputs sets the input metadata (for Func and VecFunc models).
func Inputs(meta ...TensorMeta) ModelOption { return func(c *modelConfig) { c.inputs = meta } }

// Outputs sets the output metadata (for Func and VecFunc models).
func Outputs(meta ...TensorMeta) ModelOption { return func(c *modelConfig) { c.outputs = meta } }

// Platform sets the platform string reported in model metadata.
func Platform(p string) ModelOption { return func(c *modelConfig) { c.platform = p } }

// configured is a model with serving options attached.
type configured struct {
	Model
	cfg modelConfig
}

func (c *configured) Metadata() Metadata {
	md := c.Model.Metadata()
	if c.cfg.version != "" {
		md.Version = c.cfg.version
	}
	if c.cfg.platform != "" {
		md.Platform = c.cfg.platform
	}
	if c.cfg.inputs != nil {
		md.Inputs = c.cfg.inputs
	}
	if c.cfg.outputs != nil {
		md.Outputs = c.cfg.outputs
	}
	return md
}

// With attaches serving options (version, batching, instances) to a model.
func With(m Model, opts ...ModelOption) Model {
	c := &configured{Model: m}
	if prev, ok := m.(*configured); ok {
		c.Model, c.cfg = prev.Model, prev.cfg
	}
	for _, o := range opts {
		o(&c.cfg)
	}
	return c
}

func configOf(m Model) (Model, modelConfig) {
	if c, ok := m.(*configured); ok {
		return c, c.cfg
	}
	return m, modelConfig{}
}

// Func serves f as a model named name. f receives a batch of rows (the first
// input, FP32/FP16/BF16, first dimension is the batch) and returns one value
// per row. Rows alias the request's data; f must not keep them.
func Func(name string, f func(rows [][]float32) ([]float32, error), opts ...ModelOption) Model {
	return With(&funcModel{name: name, scalar: f}, opts...)
}

// VecFunc is Func for models that answer a vector per row (class
// probabilities, embeddings). All rows must have the same length.
func VecFunc(name string, f func(rows [][]float32) ([][]float32, error), opts ...ModelOption) Model {
	return With(&funcModel{name: name, vector: f}, opts...)
}

type funcModel struct {
	name   string
	scalar func([][]float32) ([]float32, error)
	vector func([][]float32) ([][]float32, error)
}

func (m *funcModel) Metadata() Metadata {
	out := TensorMeta{Name: "output-0", Datatype: FP32, Shape: []int64{-1}}
	if m.vector != nil {
		out.Shape = []int64{-1, -1}
	}
	return Metadata{
		Name:     m.name,
		Platform: "go",
		Inputs:   []TensorMeta{{Name: "input-0", Datatype: FP32, Shape: []int64{-1, -1}}},
		Outputs:  []TensorMeta{out},
	}
}

func (m *funcModel) Predict(_ context.Context, req *Request) (*Response, error) {
	if len(req.Inputs) != 1 {
		return nil, Errorf(http.StatusBadRequest, "model %s takes 1 input, got %d", m.name, len(req.Inputs))
	}
	in := &req.Inputs[0]
	data, ok := in.Data.([]float32)
	if !ok {
		return nil, Errorf(http.StatusBadRequest, "input %q: model %s takes FP32 data, got %s", in.Name, m.name, in.Datatype)
	}
	if len(in.Shape) == 0 {
		return nil, Errorf(http.StatusBadRequest, "input %q: shape needs a batch dimension", in.Name)
	}
	n := int(in.Shape[0])
	width := 1
	if n > 0 {
		width = len(data) / n
	}
	rows := make([][]float32, n)
	for i := range rows {
		rows[i] = data[i*width : (i+1)*width : (i+1)*width]
	}
	if m.scalar != nil {
		ys, err := m.scalar(rows)
		if err != nil {
			return nil, err
		}
		if len(ys) != n {
			return nil, fmt.Errorf("model %s returned %d values for %d rows", m.name, len(ys), n)
		}
		return &Response{Outputs: []Tensor{{Name: "output-0", Datatype: FP32, Shape: []int64{int64(n)}, Data: ys}}}, nil
	}
	ys, err := m.vector(rows)
	if err != nil {
		return nil, err
	}
	if len(ys) != n {
		return nil, fmt.Errorf("model %s returned %d rows for %d rows", m.name, len(ys), n)
	}
	k := 0
	if n > 0 {
		k = len(ys[0])
	}
	flat := make([]float32, 0, n*k)
	for _, y := range ys {
		if len(y) != k {
			return nil, fmt.Errorf("model %s returned rows of different lengths (%d and %d)", m.name, k, len(y))
		}
		flat = append(flat, y...)
	}
	return &Response{Outputs: []Tensor{{Name: "output-0", Datatype: FP32, Shape: []int64{int64(n), int64(k)}, Data: flat}}}, nil
}
