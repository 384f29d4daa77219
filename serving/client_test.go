package serving

import (
	"context"
	"strings"
	"testing"
)

func TestClient(t *testing.T) {
	ctx := context.Background()
	_, one := startServer(t, WithModels(Func("double", func(rows [][]float32) ([]float32, error) {
		out := make([]float32, len(rows))
		for i, r := range rows {
			out[i] = 2 * r[0]
		}
		return out, nil
	})))
	c := &Client{URL: one}
	model, err := c.OnlyModel(ctx)
	if err != nil || model != "double" {
		t.Fatalf("only model: %q %v", model, err)
	}
	out, err := c.Infer(ctx, model, "", []byte(`{"inputs":[{"name":"input-0","datatype":"FP32","shape":[2,1],"data":[1.5,4]}]}`))
	if err != nil || !strings.Contains(string(out), "[3,8]") {
		t.Fatalf("infer: %s %v", out, err)
	}
	// A KServe v1 body goes to :predict.
	out, err = c.Infer(ctx, model, "", []byte(`{"instances":[[1.5],[4]]}`))
	if err != nil || !strings.Contains(string(out), `"predictions":[3,8]`) {
		t.Fatalf("v1 predict: %s %v", out, err)
	}
	if _, err := c.Infer(ctx, model, "2", []byte(`{"instances":[[1]]}`)); err == nil || !strings.Contains(err.Error(), "names no model version") {
		t.Errorf("v1 with a version: %v", err)
	}
	if _, err := c.Infer(ctx, "nosuch", "", []byte(`{"inputs":[]}`)); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("unknown model: %v", err)
	}

	_, two := startServer(t, WithModels(&echo{name: "a"}, &echo{name: "b"}))
	if _, err := (&Client{URL: two}).OnlyModel(ctx); err == nil || !strings.Contains(err.Error(), "2 models (a, b); pass --model") {
		t.Errorf("two models: %v", err)
	}
	if _, err := (&Client{URL: "http://127.0.0.1:1"}).OnlyModel(ctx); err == nil {
		t.Error("no server: no error")
	}
}
