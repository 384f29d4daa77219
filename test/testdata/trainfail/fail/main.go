// Command fail writes a model, prints a metric and exits 3 on every rank:
// a training run that must save nothing.
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if dir := os.Getenv("FAIR_MODEL_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "model.json"), []byte(`{"w0":1,"w1":1,"b":0}`), 0o644)
	}
	fmt.Println("rank", os.Getenv("RANK"), "loss=9.9 and giving up")
	os.Exit(3)
}
