// Command serve-go is an example model server: the mlp model behind the
// Open Inference Protocol, with dynamic batching. Deploy it with
// `fair serve ./examples/serve-go`, or run it locally and call it:
//
//	go run ./examples/serve-go &
//	curl -s localhost:8080/v2/models/risk/infer -d @examples/serve-go/input.json
package main

import (
	"log/slog"
	"os"
	"time"

	"github.com/fair-go/fair/examples/serve-go/mlp"
	"github.com/fair-go/fair/serving"
)

func main() {
	if os.Getenv("LOG_LEVEL") == "debug" {
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	if err := serving.Serve(model()); err != nil {
		slog.Error("serve", "err", err)
		os.Exit(1)
	}
}

// model is the served model: rows of mlp.Features values in, one
// probability per row out, concurrent requests merged into batches of up
// to 64 rows waiting at most 2ms.
func model() serving.Model {
	m := mlp.New()
	return serving.Func("risk", m.Predict,
		serving.Version("1"),
		serving.Inputs(serving.TensorMeta{Name: "input-0", Datatype: serving.FP32, Shape: []int64{-1, mlp.Features}}),
		serving.Outputs(serving.TensorMeta{Name: "output-0", Datatype: serving.FP32, Shape: []int64{-1}}),
		serving.Batching(64, 2*time.Millisecond),
	)
}
