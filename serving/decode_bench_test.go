package serving

import (
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkDecode compares the request decoder with encoding/json decoding
// the same body into typed structs (the floor's decoder).
func BenchmarkDecode(b *testing.B) {
	for _, n := range []int{64, 4096} {
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(i%97)/48.5 - 1.0001
		}
		body, _ := json.Marshal(map[string]any{"id": "x", "inputs": []any{map[string]any{
			"name": "input-0", "shape": []int{1, n}, "datatype": "FP32", "data": data,
		}}})
		b.Run(fmt.Sprintf("floats=%d/fair", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var req Request
				if err := decodeRequest(body, &req); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("floats=%d/encoding-json", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var req struct {
					ID     string
					Inputs []struct {
						Name, Datatype string
						Shape          []int64
						Data           []float32
					}
				}
				if err := json.Unmarshal(body, &req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncode compares the response encoder with encoding/json.
func BenchmarkEncode(b *testing.B) {
	data := make([]float32, 4096)
	for i := range data {
		data[i] = float32(i%97)/48.5 - 1.0001
	}
	resp := &Response{Outputs: []Tensor{{Name: "output-0", Datatype: FP32, Shape: []int64{4096}, Data: data}}}
	b.Run("fair", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = appendResponse(buf[:0], "m", "1", "x", resp); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(map[string]any{"model_name": "m", "model_version": "1", "id": "x", "outputs": []any{map[string]any{
				"name": "output-0", "datatype": "FP32", "shape": []int64{4096}, "data": data,
			}}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
