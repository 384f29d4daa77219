package onnx_test

import (
	"context"
	"math"
	"testing"

	"github.com/fair-go/fair/serving"
	"github.com/fair-go/fair/serving/onnx"
	"github.com/fair-go/fair/serving/onnx/onnxtest"
)

// The ONNX runtime against the same MLP written by hand as a
// serving.Func: one Predict of a 64-row batch each, as the server calls a
// model after batching (hack/bench.sh reports the ratio).
func benchRows() [][]float32 {
	rows := make([][]float32, 64)
	for i := range rows {
		rows[i] = []float32{float32(i) / 64, -1, 0.5, float32(i % 5), 1, 0, -0.25, 2}
	}
	return rows
}

func BenchmarkMLPONNX(b *testing.B) {
	mlp := onnxtest.NewMLP(8, 64, 1, 5)
	m, err := onnx.FromBytes("mlp", mlp.ONNX(""))
	if err != nil {
		b.Fatal(err)
	}
	rows := benchRows()
	flat := make([]float32, 0, 64*8)
	for _, r := range rows {
		flat = append(flat, r...)
	}
	req := &serving.Request{Inputs: []serving.Tensor{serving.NewTensor("x", []int64{64, 8}, flat)}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := m.Predict(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMLPFunc(b *testing.B) {
	mlp := onnxtest.NewMLP(8, 64, 1, 5)
	m := serving.Func("mlp", func(rows [][]float32) ([]float32, error) {
		out := make([]float32, len(rows))
		h := make([]float32, mlp.Hidden)
		for r, x := range rows {
			for j := range h {
				z := mlp.B1[j]
				for i := 0; i < mlp.In; i++ {
					z += x[i] * mlp.W1[i*mlp.Hidden+j]
				}
				h[j] = max(z, 0)
			}
			z := mlp.B2[0]
			for j := range h {
				z += h[j] * mlp.W2[j]
			}
			out[r] = float32(1 / (1 + math.Exp(-float64(z))))
		}
		return out, nil
	})
	rows := benchRows()
	flat := make([]float32, 0, 64*8)
	for _, r := range rows {
		flat = append(flat, r...)
	}
	req := &serving.Request{Inputs: []serving.Tensor{serving.NewTensor("input-0", []int64{64, 8}, flat)}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := m.Predict(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
