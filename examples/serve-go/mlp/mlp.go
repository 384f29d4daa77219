// Package mlp is the example model that examples/serve-go serves: a small
// two-layer perceptron (64 features, 128 hidden ReLU units, one logistic
// output) with fixed pseudo-random weights. Its cost is about 8k
// multiply-adds per row; it takes rows in batches, so the server can merge
// requests into one call.
package mlp

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Sizes of the model.
const (
	Features = 64
	Hidden   = 128
)

// Model holds the weights.
type Model struct {
	w1 []float32 // Hidden x Features, row-major
	b1 []float32
	w2 []float32
	b2 float32
}

// New returns the model with weights drawn from a fixed seed, so every
// build answers the same numbers.
func New() *Model {
	r := rand.New(rand.NewPCG(1, 2))
	m := &Model{
		w1: make([]float32, Hidden*Features),
		b1: make([]float32, Hidden),
		w2: make([]float32, Hidden),
	}
	scale := float32(1 / math.Sqrt(Features))
	for i := range m.w1 {
		m.w1[i] = (r.Float32()*2 - 1) * scale
	}
	for i := range m.b1 {
		m.b1[i] = (r.Float32()*2 - 1) * 0.1
	}
	for i := range m.w2 {
		m.w2[i] = (r.Float32()*2 - 1) / float32(math.Sqrt(Hidden))
	}
	m.b2 = 0.05
	return m
}

// Predict returns the probability for each row of Features values.
func (m *Model) Predict(rows [][]float32) ([]float32, error) {
	for i, r := range rows {
		if len(r) != Features {
			return nil, fmt.Errorf("row %d has %d features, want %d", i, len(r), Features)
		}
	}
	out := make([]float32, len(rows))
	for i, r := range rows {
		out[i] = m.one(r)
	}
	return out, nil
}

func sigmoid(z float32) float32 { return float32(1 / (1 + math.Exp(-float64(z)))) }

// one scores a row; four partial sums per dot product keep the adders
// busy instead of waiting on one chain of additions.
func (m *Model) one(x []float32) float32 {
	xa := (*[Features]float32)(x)
	z := m.b2
	for h := range Hidden {
		w := (*[Features]float32)(m.w1[h*Features:])
		var a0, a1, a2, a3 float32
		for j := 0; j < Features; j += 4 {
			a0 += w[j] * xa[j]
			a1 += w[j+1] * xa[j+1]
			a2 += w[j+2] * xa[j+2]
			a3 += w[j+3] * xa[j+3]
		}
		if a := a0 + a1 + a2 + a3 + m.b1[h]; a > 0 {
			z += a * m.w2[h]
		}
	}
	return sigmoid(z)
}
