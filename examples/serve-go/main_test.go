package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/fair-go/fair/examples/serve-go/mlp"
	"github.com/fair-go/fair/serving"
)

// TestServeExample posts input.json (the file the docs and `fair predict`
// use) to the example server and checks the numbers against the model.
func TestServeExample(t *testing.T) {
	s, err := serving.New(serving.WithModels(model()))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close()

	f, err := os.Open("input.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var in struct {
		Inputs []struct{ Data [][]float32 }
	}
	if err := json.NewDecoder(f).Decode(&in); err != nil {
		t.Fatal(err)
	}
	f.Seek(0, 0)
	resp, err := http.Post(ts.URL+"/v2/models/risk/infer", "application/json", f)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ID      string
		Outputs []struct {
			Name  string
			Shape []int64
			Data  []float32
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	want, _ := mlp.New().Predict(in.Inputs[0].Data)
	if out.ID != "example" || len(out.Outputs) != 1 || len(out.Outputs[0].Data) != len(want) {
		t.Fatalf("response %+v", out)
	}
	for i, w := range want {
		if out.Outputs[0].Data[i] != w {
			t.Errorf("row %d = %v, want %v", i, out.Outputs[0].Data[i], w)
		}
	}
}
