package mlp

import (
	"fmt"
	"math"
	"testing"
)

func rows(n int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, Features)
		for j := range out[i] {
			out[i][j] = float32((i*7+j*3)%11)/10 - 0.5
		}
	}
	return out
}

// TestBatchMatchesOne: a row gets the same answer alone or in a batch,
// and answers are probabilities.
func TestBatchMatchesOne(t *testing.T) {
	m := New()
	in := rows(11)
	batch, err := m.Predict(in)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range in {
		one, _ := m.Predict([][]float32{r})
		if math.Abs(float64(one[0]-batch[i])) > 1e-5 {
			t.Errorf("row %d: batch %v, alone %v", i, batch[i], one[0])
		}
		if batch[i] <= 0 || batch[i] >= 1 {
			t.Errorf("row %d: %v is not a probability", i, batch[i])
		}
	}
	if _, err := m.Predict([][]float32{{1, 2}}); err == nil {
		t.Error("short row accepted")
	}
}

func BenchmarkPredict(b *testing.B) {
	m := New()
	for _, n := range []int{1, 4, 32} {
		in := rows(n)
		b.Run(fmt.Sprint("rows=", n), func(b *testing.B) {
			for b.Loop() {
				m.Predict(in)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
		})
	}
}
