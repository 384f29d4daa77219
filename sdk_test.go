package fair_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fair-go/fair"
)

// The runtime fair writes out must build on its own: a package the
// runtime imports but the embed list lacks breaks every pipeline, model
// save and model pull.
func TestStepRuntimeSourceBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles the step runtime")
	}
	dir := t.TempDir()
	if err := fair.WriteStepRuntime(dir); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", os.DevNull, "./cmd/fair-step", "./cmd/fair-onnx", "./cmd/fair-modelcar")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in %s: %v\n%s", filepath.Base(dir), err, out)
	}
}
