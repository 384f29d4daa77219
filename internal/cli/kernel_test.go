package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/kernel"
	"github.com/fair-go/fair/launch"
	"github.com/fair-go/fair/notebook"
)

func TestKernelInstallUninstall(t *testing.T) {
	prefix, shared := t.TempDir(), t.TempDir()
	t.Setenv("FAIR_KERNEL_SHARED", shared)
	io, _, _, errOut := iostreams.Test()
	root := NewRoot(io)
	root.SetArgs([]string{"kernel", "install", "--prefix", prefix, "--name", "fairtest"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(prefix, "share", "jupyter", "kernels", "fairtest")
	b, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Argv          []string `json:"argv"`
		Language      string   `json:"language"`
		InterruptMode string   `json:"interrupt_mode"`
		DisplayName   string   `json:"display_name"`
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	if len(spec.Argv) != 5 || strings.Join(spec.Argv[1:], " ") != "kernel run --connection-file {connection_file}" ||
		spec.Language != "go" || spec.InterruptMode != "message" || spec.DisplayName != "Go (fair)" {
		t.Errorf("kernel.json: %s", b)
	}
	for _, logo := range []string{"logo-32x32.png", "logo-64x64.png"} {
		if fi, err := os.Stat(filepath.Join(dir, logo)); err != nil || fi.Size() == 0 {
			t.Errorf("%s missing", logo)
		}
	}
	if !strings.Contains(errOut.String(), "installed kernelspec fairtest") {
		t.Errorf("stderr: %q", errOut.String())
	}
	// The install linked the kernel's host for the first notebook.
	if _, err := exec.LookPath("gcc"); err == nil {
		hosts, _ := filepath.Glob(filepath.Join(shared, "modules", "*", "host-*"))
		exports, _ := filepath.Glob(filepath.Join(shared, "modules", "*", "exports.json"))
		if len(hosts) != 1 || len(exports) != 1 || !strings.Contains(errOut.String(), "kernel host ready") {
			t.Errorf("prepared: hosts %v, exports %v\n%s", hosts, exports, errOut)
		}
	}

	root = NewRoot(io)
	root.SetArgs([]string{"kernel", "uninstall", "--prefix", prefix, "--name", "fairtest"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("kernelspec still there: %v", err)
	}
	root = NewRoot(io)
	root.SetArgs([]string{"kernel", "uninstall", "--prefix", prefix, "--name", "fairtest"})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "no kernelspec fairtest") {
		t.Errorf("second uninstall: %v", err)
	}
}

func TestKernelFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"kernel", "install", "--user", "--prefix", "/tmp/x"},
		{"kernel", "install", "--name", "a/b", "--prefix", "/tmp/x"},
		{"kernel", "run"},
		{"kernel", "run", "--connection-file", "/does/not/exist.json"},
	} {
		io, _, _, _ := iostreams.Test()
		root := NewRoot(io)
		root.SetArgs(args)
		err := root.Execute()
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: want a one-line error, got %v", args, err)
		}
	}
}

// %kf config shows environment variables by name: its output is saved in
// the notebook.
func TestConfigShowsEnvNamesOnly(t *testing.T) {
	if got := shown("env", "TOKEN=s3cret,MODE=fast"); got != "TOKEN=…,MODE=…" {
		t.Errorf("env shown as %q", got)
	}
	if got := shown("registry", "r.example/team"); got != "r.example/team" {
		t.Errorf("registry shown as %q", got)
	}
}

// TestMagicErrorInterrupt: a %kf command the user interrupted ends the
// cell as an interrupt, with the notebook's way back; other errors are
// the magic's.
func TestMagicErrorInterrupt(t *testing.T) {
	env := &kernel.MagicEnv{Magic: notebook.Magic{Name: "kf"}}
	detached := fmt.Errorf("%w: job/x keeps running; re-attach with: fair logs x -f -n ns", launch.ErrDetached)
	var ce *kernel.CellError
	if err := magicError(env, detached); !errors.As(err, &ce) || ce.Name != "KeyboardInterrupt" || !strings.Contains(ce.Value, "%kf logs x -f") {
		t.Errorf("detached: %#v", err)
	}
	if err := magicError(env, fmt.Errorf("job x %w", launch.ErrCancelled)); !errors.As(err, &ce) || ce.Name != "KeyboardInterrupt" {
		t.Errorf("cancelled: %#v", err)
	}
	if err := magicError(env, errors.New("no such run")); !errors.As(err, &ce) || ce.Name != "MagicError" {
		t.Errorf("an error: %#v", err)
	}
}
