// Command savemodel writes a model file to $FAIR_MODEL_DIR, prints
// "score=SCORE", then exits with EXIT (default 0): a failing run that did
// write a model, to check that fair saves nothing for it.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	dir := os.Getenv("FAIR_MODEL_DIR")
	if dir == "" {
		fmt.Fprintln(os.Stderr, "FAIR_MODEL_DIR is not set")
		os.Exit(2)
	}
	if err := os.WriteFile(filepath.Join(dir, "weights.txt"), []byte(os.Getenv("WEIGHTS")+"\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("score=%s\n", os.Getenv("SCORE"))
	code, _ := strconv.Atoi(os.Getenv("EXIT"))
	os.Exit(code)
}
