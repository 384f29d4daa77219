// Package onnx serves ONNX models with a pure-Go runtime
// (github.com/advancedclimatesystems/gonnx, ONNX opset 13): no cgo, no
// shared library, so a model server is one static binary like any other
// fair image. A model's metadata (input and output names, datatypes,
// shapes) comes from its graph; requests are batched over the first
// dimension when the graph leaves it dynamic.
//
// Operators the runtime lacks are refused when the model loads, by name,
// not at the first request. See docs/models.md for the list that works.
package onnx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/advancedclimatesystems/gonnx"
	onnxpb "github.com/advancedclimatesystems/gonnx/onnx"
	"gorgonia.org/tensor"

	"github.com/fair-go/fair/serving"
)

// Opset is the ONNX operator set version the runtime implements.
const Opset = 13

type model struct {
	name    string
	rt      *gonnx.Model
	inputs  []serving.TensorMeta
	outputs []serving.TensorMeta
}

// Load reads the ONNX model at path and serves it as name. opts add to
// (or override) the defaults: dynamic batching of up to 64 rows within
// 2 ms when every input's first dimension is dynamic.
func Load(name, path string, opts ...serving.ModelOption) (serving.Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return FromBytes(name, b, opts...)
}

// FromBytes is Load of a model already in memory.
func FromBytes(name string, b []byte, opts ...serving.ModelOption) (serving.Model, error) {
	mp, err := gonnx.ModelProtoFromBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%s: not an ONNX model: %v", name, err)
	}
	if mp.GetGraph() == nil {
		return nil, fmt.Errorf("%s: the ONNX model has no graph", name)
	}
	var opset int64
	for _, o := range mp.GetOpsetImport() {
		if (o.GetDomain() == "" || o.GetDomain() == "ai.onnx") && o.GetVersion() > opset {
			opset = o.GetVersion()
		}
	}
	if opset != Opset {
		return nil, fmt.Errorf("%s: ONNX opset %d; the Go runtime implements opset %d (export with opset_version=%d)", name, opset, Opset, Opset)
	}
	rt, err := gonnx.NewModel(mp)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	// Every node's operator, now rather than at the first request.
	var missing []string
	for _, n := range mp.GetGraph().GetNode() {
		if _, err := rt.GetOperator(n.GetOpType()); err != nil && !contains(missing, n.GetOpType()) {
			missing = append(missing, n.GetOpType())
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: ONNX operator %s is not supported by the Go runtime (opset %d)", name, strings.Join(missing, ", "), Opset)
	}
	m := &model{name: name, rt: rt}
	params := map[string]bool{}
	for _, p := range rt.ParamNames() {
		params[p] = true
	}
	batch := true
	for _, vi := range mp.GetGraph().GetInput() {
		if params[vi.GetName()] {
			continue // an initializer listed as an input (older exporters)
		}
		tm, err := meta(vi)
		if err != nil {
			return nil, fmt.Errorf("%s: input %s: %v", name, vi.GetName(), err)
		}
		batch = batch && len(tm.Shape) > 0 && tm.Shape[0] == -1
		m.inputs = append(m.inputs, tm)
	}
	for _, vi := range mp.GetGraph().GetOutput() {
		tm, err := meta(vi)
		if err != nil {
			return nil, fmt.Errorf("%s: output %s: %v", name, vi.GetName(), err)
		}
		m.outputs = append(m.outputs, tm)
	}
	if len(m.inputs) == 0 {
		return nil, fmt.Errorf("%s: the ONNX graph has no inputs", name)
	}
	def := []serving.ModelOption{serving.Platform("onnx")}
	if batch {
		def = append(def, serving.Batching(64, 2*time.Millisecond))
	}
	return serving.With(m, append(def, opts...)...), nil
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// meta describes a graph input or output as the server reports it.
func meta(vi *onnxpb.ValueInfoProto) (serving.TensorMeta, error) {
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		return serving.TensorMeta{}, errors.New("not a tensor")
	}
	dt, ok := datatypes[onnxpb.TensorProto_DataType(tt.GetElemType())]
	if !ok {
		return serving.TensorMeta{}, fmt.Errorf("element type %v is not served", onnxpb.TensorProto_DataType(tt.GetElemType()))
	}
	var shape []int64
	for _, d := range tt.GetShape().GetDim() {
		if v := d.GetDimValue(); v > 0 {
			shape = append(shape, v)
		} else {
			shape = append(shape, -1)
		}
	}
	return serving.TensorMeta{Name: vi.GetName(), Datatype: dt, Shape: shape}, nil
}

var datatypes = map[onnxpb.TensorProto_DataType]serving.Datatype{
	onnxpb.TensorProto_FLOAT:  serving.FP32,
	onnxpb.TensorProto_DOUBLE: serving.FP64,
	onnxpb.TensorProto_INT32:  serving.INT32,
	onnxpb.TensorProto_INT64:  serving.INT64,
}

func (m *model) Metadata() serving.Metadata {
	return serving.Metadata{Name: m.name, Platform: "onnx", Inputs: m.inputs, Outputs: m.outputs}
}

// Predict runs the graph. The server has checked the inputs against the
// metadata (names, datatypes, shapes), and merged batched requests.
func (m *model) Predict(_ context.Context, req *serving.Request) (*serving.Response, error) {
	in := gonnx.Tensors{}
	for _, im := range m.inputs {
		t := req.Input(im.Name)
		if t == nil {
			return nil, serving.Errorf(400, "missing input %q", im.Name)
		}
		shape := make([]int, len(t.Shape))
		for i, d := range t.Shape {
			shape[i] = int(d)
		}
		in[im.Name] = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(t.Data))
	}
	out, err := m.rt.Run(in)
	if err != nil {
		return nil, serving.Errorf(400, "%v", err)
	}
	resp := &serving.Response{}
	for _, om := range m.outputs {
		t, ok := out[om.Name]
		if !ok || t == nil {
			return nil, fmt.Errorf("the graph produced no output %q", om.Name)
		}
		dense, ok := t.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("output %q: unexpected tensor type %T", om.Name, t)
		}
		shape := make([]int64, len(dense.Shape()))
		for i, d := range dense.Shape() {
			shape[i] = int64(d)
		}
		if len(shape) == 0 { // a scalar
			shape = []int64{1}
		}
		resp.Outputs = append(resp.Outputs, serving.NewTensor(om.Name, shape, dense.Data()))
	}
	return resp, nil
}

// Dir loads every .onnx file in dir (a model's folder, serving.ModelDir),
// each served under its file name without the extension, or under name
// when there is one file.
func Dir(dir, name string, opts ...serving.ModelOption) ([]serving.Model, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.onnx"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return nil, fmt.Errorf("no .onnx file in %s (it holds: %s)", dir, strings.Join(names, ", "))
	}
	sort.Strings(files)
	var out []serving.Model
	for _, f := range files {
		n := strings.TrimSuffix(filepath.Base(f), ".onnx")
		if len(files) == 1 && name != "" {
			n = name
		}
		m, err := Load(n, f, opts...)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
