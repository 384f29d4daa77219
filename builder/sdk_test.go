package builder_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"archive/tar"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fair-go/fair/builder"
)

// A program in a module of its own that imports fair's serving package,
// where the module proxy has no fair to give: fair builds it against the
// packages inside fair, and the user's go.mod stays as it was.
func TestGoProgramImportsFairOutsideFair(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("runs the linux/amd64 binary it builds")
	}
	for _, flags := range []string{"", "-mod=mod"} {
		t.Run("GOFLAGS="+flags, func(t *testing.T) { testImportsFair(t, flags) })
	}
}

func testImportsFair(t *testing.T, goflags string) {
	t.Setenv("GOFLAGS", goflags)
	t.Setenv("GOPROXY", "off") // fair is not fetched: it comes from fair
	dir := writeModule(t, `package main

import (
	"fmt"

	"github.com/fair-go/fair/serving"
)

func main() { fmt.Println("models at", serving.ModelDir()) }
`)
	before, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	src, err := builder.NewGo(dir)
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	img := build(t, src, builder.WithPlatforms(v1.Platform{OS: "linux", Architecture: "amd64"}), builder.WithProgress(&progress, false)).(v1.Image)
	if !strings.Contains(progress.String(), "your go.mod does not require github.com/fair-go/fair") {
		t.Errorf("progress does not say where fair's packages came from:\n%s", progress.String())
	}
	after, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	if !bytes.Equal(before, after) {
		t.Errorf("go.mod changed:\n%s", after)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.sum")); err == nil {
		t.Error("the build wrote a go.sum into the user's module")
	}
	bin := filepath.Join(t.TempDir(), "hello")
	walkLayers(t, img, func(h *tar.Header, r io.Reader) {
		if h.Name == "usr/local/bin/hello" {
			b, _ := io.ReadAll(r)
			if err := os.WriteFile(bin, b, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	})
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "models at /mnt/models" {
		t.Fatalf("the program printed %q (%v)", out, err)
	}

	// A package fair does not have is still the compiler's error.
	src, err = builder.NewGo(writeModule(t, "package main\n\nimport _ \"github.com/fair-go/fair/nosuch\"\n\nfunc main() {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := builder.New(builder.WithCacheDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Build(context.Background(), src)
	var ce *builder.CompileError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "github.com/fair-go/fair/nosuch") {
		t.Fatalf("want the go command's error about the missing package, got %v", err)
	}
}
