package kernel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/fair-go/fair"
)

// The notebook module: its go.mod, the SDK next to it, and the go command
// run in it.

func (e *Executor) writeModule() error {
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return fmt.Errorf("create kernel work folder: %w", err)
	}
	gomod := filepath.Join(e.dir, "go.mod")
	if _, err := os.Stat(gomod); errors.Is(err, fs.ErrNotExist) {
		mod := fair.NotebookGoMod(Module)
		if err := os.WriteFile(gomod, []byte(mod), 0o644); err != nil {
			return fmt.Errorf("write notebook go.mod: %w", err)
		}
	}
	if err := fair.WriteSDK(filepath.Join(e.dir, fair.SDKDir)); err != nil {
		return err
	}
	host, err := hostFS.ReadFile("host/main.go")
	if err != nil {
		return err
	}
	p := filepath.Join(e.dir, "host", "main.go")
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, host) {
		return nil // keep mtimes, so the build cache stays warm
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, host, 0o644); err != nil {
		return fmt.Errorf("write the kernel host: %w", err)
	}
	return nil
}

// goCmd runs the go command in the notebook module.
func (e *Executor) goCmd(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, e.goBin, args...)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOWORK=off")
	return cmd.CombinedOutput()
}

// Go runs a go subcommand (e.g. "get", "mod tidy") in the notebook module.
func (e *Executor) Go(ctx context.Context, w io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, e.goBin, args...)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOWORK=off")
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}
