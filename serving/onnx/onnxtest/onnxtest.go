// Package onnxtest writes small ONNX models for tests and benchmarks, and
// computes what they must answer, without any ONNX tooling.
package onnxtest

import (
	"math"

	onnxpb "github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// MLP is a two-layer perceptron: y = sigmoid(relu(x W1 + B1) W2 + B2),
// x of shape [N, In], y of shape [N, Out].
type MLP struct {
	In, Hidden, Out int
	W1, B1, W2, B2  []float32 // row-major
}

// NewMLP makes an MLP with deterministic weights from seed.
func NewMLP(in, hidden, out int, seed uint32) MLP {
	s := seed
	rnd := func() float32 { // xorshift: reproducible, no math/rand state
		s ^= s << 13
		s ^= s >> 17
		s ^= s << 5
		return float32(s%2000)/1000 - 1
	}
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = rnd()
		}
		return v
	}
	return MLP{In: in, Hidden: hidden, Out: out, W1: fill(in * hidden), B1: fill(hidden), W2: fill(hidden * out), B2: fill(out)}
}

// Predict is the reference computation, in float64.
func (m MLP) Predict(rows [][]float32) [][]float64 {
	out := make([][]float64, len(rows))
	for r, x := range rows {
		h := make([]float64, m.Hidden)
		for j := range h {
			z := float64(m.B1[j])
			for i := 0; i < m.In; i++ {
				z += float64(x[i]) * float64(m.W1[i*m.Hidden+j])
			}
			h[j] = math.Max(0, z)
		}
		y := make([]float64, m.Out)
		for k := range y {
			z := float64(m.B2[k])
			for j := range h {
				z += h[j] * float64(m.W2[j*m.Out+k])
			}
			y[k] = 1 / (1 + math.Exp(-z))
		}
		out[r] = y
	}
	return out
}

// ONNX encodes the MLP as an ONNX model (opset 13): input "x" [N, In],
// output "y" [N, Out], nodes Gemm, Relu, Gemm, Sigmoid. extraOp, when
// set, is applied to y last (to build a model with an operator the
// runtime lacks).
func (m MLP) ONNX(extraOp string) []byte {
	init := func(name string, dims []int64, v []float32) *onnxpb.TensorProto {
		return &onnxpb.TensorProto{Name: name, Dims: dims, DataType: int32(onnxpb.TensorProto_FLOAT), FloatData: v}
	}
	vi := func(name string, cols int64) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: name, Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: int32(onnxpb.TensorProto_FLOAT),
			Shape: &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{
				{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}},
				{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: cols}},
			}},
		}}}}
	}
	last := "y"
	if extraOp != "" {
		last = "pre"
	}
	nodes := []*onnxpb.NodeProto{
		{OpType: "Gemm", Input: []string{"x", "w1", "b1"}, Output: []string{"h"}, Name: "gemm1"},
		{OpType: "Relu", Input: []string{"h"}, Output: []string{"hr"}, Name: "relu"},
		{OpType: "Gemm", Input: []string{"hr", "w2", "b2"}, Output: []string{"z"}, Name: "gemm2"},
		{OpType: "Sigmoid", Input: []string{"z"}, Output: []string{last}, Name: "sigmoid"},
	}
	if extraOp != "" {
		nodes = append(nodes, &onnxpb.NodeProto{OpType: extraOp, Input: []string{"pre"}, Output: []string{"y"}, Name: "extra"})
	}
	mp := &onnxpb.ModelProto{
		IrVersion:    7,
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Version: 13}},
		ProducerName: "fair onnxtest",
		Graph: &onnxpb.GraphProto{
			Name: "mlp",
			Node: nodes,
			Initializer: []*onnxpb.TensorProto{
				init("w1", []int64{int64(m.In), int64(m.Hidden)}, m.W1),
				init("b1", []int64{int64(m.Hidden)}, m.B1),
				init("w2", []int64{int64(m.Hidden), int64(m.Out)}, m.W2),
				init("b2", []int64{int64(m.Out)}, m.B2),
			},
			Input:  []*onnxpb.ValueInfoProto{vi("x", int64(m.In))},
			Output: []*onnxpb.ValueInfoProto{vi("y", int64(m.Out))},
		},
	}
	b, err := proto.Marshal(mp)
	if err != nil {
		panic(err)
	}
	return b
}
