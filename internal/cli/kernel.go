package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/kernel"
)

func newKernelCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kernel",
		Short: "The Go Jupyter kernel: install its kernelspec or run it",
	}
	cmd.AddCommand(newKernelInstallCmd(io), newKernelUninstallCmd(io), newKernelRunCmd(io, cfg))
	return cmd
}

type specDest struct {
	user, sysPrefix bool
	prefix, name    string
}

func (d *specDest) flags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&d.user, "user", false, "use the user's Jupyter data folder (the default)")
	cmd.Flags().BoolVar(&d.sysPrefix, "sys-prefix", false, "use the Python environment's prefix (sys.prefix)")
	cmd.Flags().StringVar(&d.prefix, "prefix", "", "use DIR/share/jupyter/kernels")
	cmd.Flags().StringVar(&d.name, "name", "fair", "kernelspec name")
}

func (d *specDest) dir() (string, error) {
	n := 0
	for _, b := range []bool{d.user, d.sysPrefix, d.prefix != ""} {
		if b {
			n++
		}
	}
	if n > 1 {
		return "", errors.New("choose one of --user, --sys-prefix and --prefix")
	}
	if d.name == "" || strings.ContainsAny(d.name, `/\ `) {
		return "", fmt.Errorf("invalid kernelspec name %q", d.name)
	}
	var base string
	switch {
	case d.prefix != "":
		base = filepath.Join(d.prefix, "share", "jupyter")
	case d.sysPrefix:
		out, err := exec.Command("python3", "-c", "import sys; print(sys.prefix)").Output()
		if err != nil {
			return "", fmt.Errorf("find sys.prefix with python3: %v", err)
		}
		base = filepath.Join(strings.TrimSpace(string(out)), "share", "jupyter")
	default:
		if v := os.Getenv("JUPYTER_DATA_DIR"); v != "" {
			base = v
		} else if v := os.Getenv("XDG_DATA_HOME"); v != "" {
			base = filepath.Join(v, "jupyter")
		} else {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", err
			}
			base = filepath.Join(home, ".local", "share", "jupyter")
		}
	}
	return filepath.Join(base, "kernels", d.name), nil
}

func newKernelInstallCmd(io *iostreams.IOStreams) *cobra.Command {
	var d specDest
	var display string
	cmd := &cobra.Command{
		Use:   "install [--user | --sys-prefix | --prefix DIR] [--name fair]",
		Short: "Install the kernelspec so Jupyter offers the \"Go (fair)\" kernel",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := d.dir()
			if err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the fair executable: %w", err)
			}
			if self, err = filepath.EvalSymlinks(self); err != nil {
				return err
			}
			spec := map[string]any{
				"argv":           []string{self, "kernel", "run", "--connection-file", "{connection_file}"},
				"display_name":   display,
				"language":       "go",
				"interrupt_mode": "message",
				"metadata":       map[string]any{"debugger": false},
			}
			b, _ := json.MarshalIndent(spec, "", "  ")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("create %s: %w", dir, err)
			}
			if err := os.WriteFile(filepath.Join(dir, "kernel.json"), append(b, '\n'), 0o644); err != nil {
				return err
			}
			for _, size := range []int{32, 64} {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("logo-%dx%d.png", size, size)), logo(size), 0o644); err != nil {
					return err
				}
			}
			fmt.Fprintf(io.Err, "installed kernelspec %s in %s\n", d.name, dir)
			return nil
		},
	}
	d.flags(cmd)
	cmd.Flags().StringVar(&display, "display-name", "Go (fair)", "name shown in Jupyter's kernel list")
	return cmd
}

func newKernelUninstallCmd(io *iostreams.IOStreams) *cobra.Command {
	var d specDest
	cmd := &cobra.Command{
		Use:   "uninstall [--user | --sys-prefix | --prefix DIR] [--name fair]",
		Short: "Remove the kernelspec",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := d.dir()
			if err != nil {
				return err
			}
			if _, err := os.Stat(filepath.Join(dir, "kernel.json")); err != nil {
				return fmt.Errorf("no kernelspec %s in %s", d.name, filepath.Dir(dir))
			}
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			fmt.Fprintf(io.Err, "removed kernelspec %s from %s\n", d.name, dir)
			return nil
		},
	}
	d.flags(cmd)
	return cmd
}

func newKernelRunCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var connFile, workDir string
	cmd := &cobra.Command{
		Use:   "run --connection-file FILE",
		Short: "Run the kernel (Jupyter starts it from the kernelspec)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if connFile == "" {
				return errors.New("--connection-file is required")
			}
			conn, err := kernel.ReadConnection(connFile)
			if err != nil {
				return err
			}
			if workDir == "" {
				workDir = os.Getenv("FAIR_KERNEL_WORKDIR")
			}
			if workDir == "" {
				cache, err := os.UserCacheDir()
				if err != nil {
					return err
				}
				id := strings.TrimSuffix(filepath.Base(connFile), filepath.Ext(connFile))
				workDir = filepath.Join(cache, "fair", "kernels", id)
			}
			registerMagics(cfg)
			ex, err := kernel.NewExecutor(workDir)
			if err != nil {
				return err
			}
			// Go tooling (goimports, go doc) runs in the notebook module;
			// cells and !commands keep the notebook's folder.
			if err := os.Chdir(ex.Dir()); err != nil {
				return err
			}
			// Interrupts arrive as messages; a stray SIGINT must not kill the
			// kernel and its state.
			signal.Ignore(os.Interrupt)
			ctx, stop := signal.NotifyContext(context.WithoutCancel(cmd.Context()), syscall.SIGTERM)
			defer stop()
			kernel.Version = version()
			return kernel.New(conn, ex).Run(ctx)
		},
	}
	cmd.Flags().StringVar(&connFile, "connection-file", "", "Jupyter connection file")
	cmd.Flags().StringVar(&workDir, "workdir", "", "notebook Go module folder (default: a per-kernel folder in the user cache)")
	return cmd
}

// logo draws the kernel's logo: a gopher-blue disc.
func logo(size int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	c := float64(size) / 2
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			dx, dy := float64(x)+0.5-c, float64(y)+0.5-c
			if dx*dx+dy*dy <= c*c {
				img.Set(x, y, color.NRGBA{0x00, 0xAD, 0xD8, 0xFF})
			}
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}
