// Command serve-trained serves the model examples/train-go trained: a
// logistic regression over two features whose weights it reads from the
// model folder (serving.ModelDir), behind the Open Inference Protocol.
//
//	fair train ./examples/train-go --model lr
//	fair serve ./examples/serve-trained --model lr --port-forward
//	curl -s localhost:PORT/v2/models/lr/infer \
//	    -d '{"inputs":[{"name":"input-0","datatype":"FP32","shape":[1,2],"data":[[1,-1]]}]}'
package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/fair-go/fair/serving"
)

func main() {
	m, err := load(serving.ModelDir())
	if err != nil {
		slog.Error("load the model", "err", err)
		os.Exit(1)
	}
	slog.Info("model loaded", "w0", m.W0, "w1", m.W1, "b", m.B)
	if err := serving.Serve(m.serve()); err != nil {
		slog.Error("serve", "err", err)
		os.Exit(1)
	}
}

type model struct{ W0, W1, B float64 }

func load(dir string) (model, error) {
	b, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		return model{}, fmt.Errorf("%v (train one with: fair train ./examples/train-go --model NAME)", err)
	}
	var v struct{ W0, W1, B *float64 }
	if err := json.Unmarshal(b, &v); err != nil || v.W0 == nil || v.W1 == nil || v.B == nil {
		return model{}, fmt.Errorf("%s: want {\"w0\":..,\"w1\":..,\"b\":..}", filepath.Join(dir, "model.json"))
	}
	return model{*v.W0, *v.W1, *v.B}, nil
}

// serve: two features per row in, the probability of class 1 out.
func (m model) serve() serving.Model {
	return serving.Func("lr", func(rows [][]float32) ([]float32, error) {
		out := make([]float32, len(rows))
		for i, r := range rows {
			if len(r) != 2 {
				return nil, fmt.Errorf("row %d has %d features, want 2", i, len(r))
			}
			out[i] = float32(1 / (1 + math.Exp(-(m.W0*float64(r[0]) + m.W1*float64(r[1]) + m.B))))
		}
		return out, nil
	},
		serving.Version("1"),
		serving.Inputs(serving.TensorMeta{Name: "input-0", Datatype: serving.FP32, Shape: []int64{-1, 2}}),
		serving.Outputs(serving.TensorMeta{Name: "output-0", Datatype: serving.FP32, Shape: []int64{-1}}),
		serving.Batching(64, 2*time.Millisecond),
	)
}
