package fair_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

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

// A notebook's work folder outlives its kernel and fair upgrades: WriteSDK
// removes what an earlier SDK had and leaves unchanged files untouched.
func TestWriteSDKOverAnEarlierOne(t *testing.T) {
	dir := filepath.Join(t.TempDir(), fair.SDKDir)
	if err := fair.WriteSDK(dir); err != nil {
		t.Fatal(err)
	}
	gomod := filepath.Join(dir, "go.mod")
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(gomod, old, old); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "kernel", "nb", "removed.go")
	if err := os.WriteFile(stale, []byte("package nb\n\nfunc Gone() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := fair.WriteSDK(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("an earlier SDK's file stayed: %v", err)
	}
	fi, err := os.Stat(gomod)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(old) {
		t.Errorf("an unchanged file was rewritten (mtime %v, want %v)", fi.ModTime(), old)
	}
}
