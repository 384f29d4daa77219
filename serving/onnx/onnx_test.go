package onnx_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fair-go/fair/serving"
	"github.com/fair-go/fair/serving/onnx"
	"github.com/fair-go/fair/serving/onnx/onnxtest"
)

func serve(t testing.TB, models ...serving.Model) string {
	s, err := serving.New(serving.WithModels(models...))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	return ts.URL
}

func infer(t testing.TB, url, model string, rows [][]float32) ([]float64, []int64) {
	var flat []float32
	for _, r := range rows {
		flat = append(flat, r...)
	}
	body, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{
		"name": "x", "datatype": "FP32", "shape": []int{len(rows), len(rows[0])}, "data": flat}}})
	resp, err := http.Post(url+"/v2/models/"+model+"/infer", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Outputs []struct {
			Name  string
			Shape []int64
			Data  []float64
		}
		Error string
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || len(out.Outputs) != 1 || out.Outputs[0].Name != "y" {
		t.Fatalf("infer: %d %v %+v", resp.StatusCode, err, out)
	}
	return out.Outputs[0].Data, out.Outputs[0].Shape
}

// An MLP written here (Gemm, Relu, Gemm, Sigmoid) answers what the
// reference computation gives, to 1e-5, alone and in concurrent batches;
// its metadata comes from the graph.
func TestMLPMatchesReference(t *testing.T) {
	mlp := onnxtest.NewMLP(4, 8, 2, 7)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mlp.onnx"), mlp.ONNX(""), 0o644); err != nil {
		t.Fatal(err)
	}
	models, err := onnx.Dir(dir, "risk")
	if err != nil {
		t.Fatal(err)
	}
	md := models[0].Metadata()
	if md.Name != "risk" || md.Platform != "onnx" || len(md.Inputs) != 1 || md.Inputs[0].Name != "x" ||
		fmt.Sprint(md.Inputs[0].Shape) != "[-1 4]" || md.Inputs[0].Datatype != serving.FP32 || fmt.Sprint(md.Outputs[0].Shape) != "[-1 2]" {
		t.Errorf("metadata = %+v", md)
	}
	url := serve(t, models...)
	rows := [][]float32{{0.5, -1, 2, 0}, {1, 1, 1, 1}, {-3, 0.25, 0, 7}}
	got, shape := infer(t, url, "risk", rows)
	want := mlp.Predict(rows)
	if fmt.Sprint(shape) != "[3 2]" {
		t.Fatalf("shape %v", shape)
	}
	for r := range rows {
		for k := 0; k < 2; k++ {
			if d := math.Abs(got[r*2+k] - want[r][k]); d > 1e-5 {
				t.Errorf("row %d out %d: %v, want %v", r, k, got[r*2+k], want[r][k])
			}
		}
	}
	// Concurrent single rows are batched by the server and split back.
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			row := []float32{float32(i) / 8, -1, float32(i % 3), 0.5}
			got, _ := infer(t, url, "risk", [][]float32{row})
			w := mlp.Predict([][]float32{row})[0]
			if math.Abs(got[0]-w[0]) > 1e-5 || math.Abs(got[1]-w[1]) > 1e-5 {
				t.Errorf("request %d: %v, want %v", i, got, w)
			}
		}(i)
	}
	wg.Wait()
}

func TestRefusesWhatItCannotRun(t *testing.T) {
	mlp := onnxtest.NewMLP(2, 3, 1, 1)
	// An operator the runtime lacks: refused at load, by name.
	if _, err := onnx.FromBytes("m", mlp.ONNX("Erf")); err == nil || !strings.Contains(err.Error(), "operator Erf is not supported") {
		t.Errorf("Erf: %v", err)
	}
	if _, err := onnx.FromBytes("m", []byte("not a model")); err == nil {
		t.Error("garbage: no error")
	}
	if _, err := onnx.Dir(t.TempDir(), "m"); err == nil || !strings.Contains(err.Error(), "no .onnx file") {
		t.Errorf("empty folder: %v", err)
	}
}
