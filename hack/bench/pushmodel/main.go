// Command pushmodel saves a model of SIZE_MB megabytes of random weights
// plus the model.json examples/serve-trained reads, as models/NAME in
// REGISTRY: the model hack/bench-models.sh serves.
//
//	go run ./hack/bench/pushmodel REGISTRY NAME SIZE_MB
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/fair-go/fair/models"
	"github.com/fair-go/fair/pipeline/artifact"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: pushmodel REGISTRY NAME SIZE_MB")
		os.Exit(2)
	}
	mb, err := strconv.Atoi(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "pushmodel")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	w := make([]byte, mb<<20)
	_, _ = rand.Read(w)
	must(os.WriteFile(filepath.Join(dir, "weights.bin"), w, 0o644))
	must(os.WriteFile(filepath.Join(dir, "model.json"), []byte(`{"w0":1,"w1":-1,"b":0.5}`), 0o644))
	ref, err := models.Save(context.Background(), dir, models.Repo(os.Args[1], os.Args[2]), []string{"bench", "latest"}, models.Meta{Run: "bench"}, artifact.Options{})
	must(err)
	fmt.Println(ref)
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
