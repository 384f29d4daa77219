// Command fair-onnx is the stock model server fair builds for a model that
// holds .onnx files (fair serve --model NAME with no source): it serves
// every .onnx file in serving.ModelDir() behind the Open Inference
// Protocol, named $FAIR_MODEL_NAME when there is one file, else after each
// file. No user code: see package github.com/fair-go/fair/serving/onnx.
package main

import (
	"log/slog"
	"os"

	"github.com/fair-go/fair/serving"
	"github.com/fair-go/fair/serving/onnx"
)

func main() {
	models, err := onnx.Dir(serving.ModelDir(), os.Getenv("FAIR_MODEL_NAME"))
	if err != nil {
		slog.Error("load the model", "err", err)
		os.Exit(1)
	}
	for _, m := range models {
		md := m.Metadata()
		slog.Info("serving an ONNX model", "name", md.Name, "inputs", len(md.Inputs), "outputs", len(md.Outputs))
	}
	if err := serving.Serve(models...); err != nil {
		slog.Error("serve", "err", err)
		os.Exit(1)
	}
}
