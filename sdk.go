// Package fair holds the parts of fair that are copied into a notebook's Go
// module: the cell runtime (kernel/nb), the display package and the serving
// runtime. A notebook imports them as github.com/fair-go/fair, replaced by a
// local copy, so cells and programs built from a notebook compile offline and
// against exactly the runtime of the fair binary that runs them.
package fair

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

//go:embed kernel/nb/*.go kernel/nb/render/*.go kernel/display/*.go kernel/eval/*.go serving/*.go
var notebookSDK embed.FS

// SDKDir is where a notebook module keeps its copy of the runtime; its
// go.mod replaces github.com/fair-go/fair with it.
const SDKDir = "_fair"

// WriteSDK writes the runtime module into dir. Files whose content is
// unchanged keep their modification time, so the go build cache stays warm.
func WriteSDK(dir string) error {
	files := map[string][]byte{"go.mod": []byte("module github.com/fair-go/fair\n\ngo 1.26\n")}
	err := fs.WalkDir(notebookSDK, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := notebookSDK.ReadFile(p)
		files[p] = b
		return err
	})
	if err != nil {
		return err
	}
	// A work folder outlives a kernel (and a fair upgrade): a file an
	// earlier SDK had and this one has not would still be compiled.
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return fs.SkipAll
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if _, ok := files[filepath.ToSlash(rel)]; !ok {
			return os.Remove(p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write the notebook runtime: %w", err)
	}
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, b) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write the notebook runtime: %w", err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return fmt.Errorf("write the notebook runtime: %w", err)
		}
	}
	return nil
}

// NotebookGoMod is the go.mod of a new notebook module.
func NotebookGoMod(module string) string {
	return "module " + module + "\n\ngo 1.26\n\nrequire github.com/fair-go/fair v0.0.0\n\nreplace github.com/fair-go/fair => ./" + SDKDir + "\n"
}

//go:embed go.mod go.sum cmd/fair-step/*.go pipeline/step/*.go pipeline/artifact/*.go internal/untar/*.go models/*.go internal/bytesize/*.go internal/pushretry/*.go cmd/fair-onnx/*.go cmd/fair-modelcar/*.go cmd/fair-sh/*.go serving/*.go serving/onnx/*.go
var stepSource embed.FS

// WriteStepRuntime writes the source of fair's pipeline step runtime
// (cmd/fair-step and the packages it uses, with fair's go.mod and go.sum)
// into dir, so that fair builds the runtime image wherever it runs, not
// only in a checkout; the go command fetches its dependencies as for any
// module. Unchanged files keep their modification time.
func WriteStepRuntime(dir string) error {
	return fs.WalkDir(stepSource, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := stepSource.ReadFile(p)
		if err != nil {
			return err
		}
		full := filepath.Join(dir, filepath.FromSlash(p))
		if old, err := os.ReadFile(full); err == nil && bytes.Equal(old, b) {
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		return os.WriteFile(full, b, 0o644)
	})
}

// StepRuntimeHash identifies the embedded runtime source: fair writes it
// into a folder of that name, so that two versions of fair on one machine
// never build from each other's files.
func StepRuntimeHash() string { return treeHash(stepSource) }

// SDKHash identifies the notebook runtime WriteSDK writes.
func SDKHash() string { return treeHash(notebookSDK) }

func treeHash(fsys embed.FS) string {
	h := sha256.New()
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fsys.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", p, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:16]
}
