// Command ingest writes the dataset of the train-serve pipeline (examples/train-serve.yaml) to
// $FAIR_OUT_data: ROWS rows (default 4000) of x,y,label where the label is
// 1 when y > 2x, a rule unlike the one train-go makes up on its own, so the
// served model shows which data it was trained on.
package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
)

func main() {
	out := os.Getenv("FAIR_OUT_data")
	if out == "" {
		fmt.Fprintln(os.Stderr, "FAIR_OUT_data is not set: run me as a pipeline step")
		os.Exit(1)
	}
	rows := 4000
	if s := os.Getenv("ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "ROWS=%q: want a positive number\n", s)
			os.Exit(1)
		}
		rows = n
	}
	f, err := os.Create(out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(f)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < rows; i++ {
		x, y := rng.NormFloat64(), rng.NormFloat64()
		label := 0
		if y > 2*x {
			label = 1
		}
		fmt.Fprintf(w, "%.5f,%.5f,%d\n", x, y, label)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("wrote %d rows\n", rows)
}
