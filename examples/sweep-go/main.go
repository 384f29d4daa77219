// Command sweep-go is a training program to tune with fair sweep: its
// loss is a known function of two hyperparameters, the learning rate LR
// and the number of layers LAYERS, lowest at LR=0.01, LAYERS=3:
//
//	loss = (log10(LR) + 2)^2 + 0.1*(LAYERS - 3)^2 + 0.05
//
// It prints loss=VALUE once per epoch, falling to that value, as a real
// training loop would; Katib's StdOut collector reads those lines. With
// FAIL_ABOVE set, a learning rate above it fails the program (exit 3), to
// show that a failed trial is counted and the sweep goes on; with
// NAN_ABOVE, it ends well but its loss is NaN; EPOCH_SECONDS
// makes each epoch take that long (the sweep benchmark's trials).
//
//	fair sweep ./examples/sweep-go -p lr=0.001..0.1:log -p layers=1..5 --objective loss --trials 6 --parallel 2
package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	lr, err := strconv.ParseFloat(os.Getenv("LR"), 64)
	if err != nil || lr <= 0 {
		fmt.Fprintf(os.Stderr, "LR=%q: want a positive number\n", os.Getenv("LR"))
		os.Exit(2)
	}
	layers, err := strconv.Atoi(os.Getenv("LAYERS"))
	if err != nil {
		layers = 3
	}
	fmt.Printf("trial %s: lr=%g layers=%d\n", os.Getenv("FAIR_TRIAL"), lr, layers)
	if v, err := strconv.ParseFloat(os.Getenv("FAIL_ABOVE"), 64); err == nil && lr > v {
		fmt.Fprintf(os.Stderr, "diverged: lr %g is above %g\n", lr, v)
		os.Exit(3)
	}
	final := math.Pow(math.Log10(lr)+2, 2) + 0.1*math.Pow(float64(layers-3), 2) + 0.05
	if v, err := strconv.ParseFloat(os.Getenv("NAN_ABOVE"), 64); err == nil && lr > v {
		final = math.NaN() // diverged, and says so only by its loss, as training loops do
	}
	const epochs = 3
	pause, _ := strconv.ParseFloat(os.Getenv("EPOCH_SECONDS"), 64)
	for e := 1; e <= epochs; e++ {
		time.Sleep(time.Duration(pause * float64(time.Second)))
		fmt.Printf("epoch=%d loss=%.6f\n", e, final+float64(epochs-e)*0.5)
	}
	// With --model, what lands in FAIR_MODEL_DIR is saved as the trial's
	// model.
	if dir := os.Getenv("FAIR_MODEL_DIR"); dir != "" {
		b := fmt.Sprintf("{\"lr\": %g, \"layers\": %d}\n", lr, layers)
		if err := os.WriteFile(filepath.Join(dir, "model.json"), []byte(b), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "save the model:", err)
			os.Exit(1)
		}
	}
}
