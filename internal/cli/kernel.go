package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

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

func placeFlags(cmd *cobra.Command, p *kernel.SpecPlace) {
	cmd.Flags().BoolVar(&p.User, "user", false, "use the user's Jupyter data folder (the default)")
	cmd.Flags().BoolVar(&p.SysPrefix, "sys-prefix", false, "use the Python environment's prefix (sys.prefix)")
	cmd.Flags().StringVar(&p.Prefix, "prefix", "", "use DIR/share/jupyter/kernels")
	cmd.Flags().StringVar(&p.Name, "name", "fair", "kernelspec name")
}

func newKernelInstallCmd(io *iostreams.IOStreams) *cobra.Command {
	var p kernel.SpecPlace
	var display string
	var prepare bool
	cmd := &cobra.Command{
		Use:   "install [--user | --sys-prefix | --prefix DIR] [--name fair]",
		Short: "Install the kernelspec so Jupyter offers the \"Go (fair)\" kernel",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the fair executable: %w", err)
			}
			if self, err = filepath.EvalSymlinks(self); err != nil {
				return err
			}
			dir, err := kernel.InstallSpec(p, self, display)
			if err != nil {
				return err
			}
			fmt.Fprintf(io.Err, "installed kernelspec %s in %s\n", p.Name, dir)
			if shared := kernelShared(); prepare && shared != "" {
				// A failure costs the first kernel a link, not the install.
				start := time.Now()
				fmt.Fprintln(io.Err, "linking the kernel's Go host, once for this machine...")
				if err := kernel.Prepare(cmd.Context(), shared); err != nil {
					fmt.Fprintf(io.Err, "warning: the first kernel will link its host itself: %s\n", briefError(err))
				} else {
					fmt.Fprintf(io.Err, "kernel host ready in %s (%s)\n", time.Since(start).Round(100*time.Millisecond), shared)
				}
			}
			fmt.Fprintln(io.Err, "the fair panel for the classic Notebook and JupyterLab: fair notebook-ext install")
			return nil
		},
	}
	placeFlags(cmd, &p)
	cmd.Flags().StringVar(&display, "display-name", "Go (fair)", "name shown in Jupyter's kernel list")
	cmd.Flags().BoolVar(&prepare, "prepare", true, "link the kernel's Go host now, so the first notebook does not wait for it (needs Go)")
	return cmd
}

// briefError is an error's first line, and its last when that says more
// (go build's first line is only its exit status).
func briefError(err error) string {
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if len(lines) == 1 || last == "" || strings.HasPrefix(last, "#") {
		return lines[0]
	}
	return lines[0] + ": " + last
}

// kernelShared is the folder the kernels of all notebook folders share (a
// module's linked host): FAIR_KERNEL_SHARED, "off" for none.
func kernelShared() string {
	shared := os.Getenv("FAIR_KERNEL_SHARED")
	if cache, err := os.UserCacheDir(); err == nil && shared == "" {
		shared = filepath.Join(cache, "fair", "kernels-shared")
	}
	if shared == "off" {
		return ""
	}
	return shared
}

func newKernelUninstallCmd(io *iostreams.IOStreams) *cobra.Command {
	var p kernel.SpecPlace
	cmd := &cobra.Command{
		Use:   "uninstall [--user | --sys-prefix | --prefix DIR] [--name fair]",
		Short: "Remove the kernelspec",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := kernel.UninstallSpec(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(io.Err, "removed kernelspec %s from %s\n", p.Name, dir)
			return nil
		},
	}
	placeFlags(cmd, &p)
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
				// One module folder per notebook folder, reused by the next
				// kernel there (kernel.ClaimWorkDir says why).
				cache, err := os.UserCacheDir()
				if err != nil {
					return err
				}
				here, err := os.Getwd()
				if err != nil {
					return err
				}
				dir, release, err := kernel.ClaimWorkDir(filepath.Join(cache, "fair", "kernels"), here)
				if err != nil {
					return err
				}
				defer release()
				workDir = dir
			}
			var opts []kernel.ExecOption
			if shared := kernelShared(); shared != "" {
				opts = append(opts, kernel.WithSharedDir(shared))
			}
			ex, err := kernel.NewExecutor(workDir, opts...)
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
			ctx, orphaned := context.WithCancel(ctx)
			defer orphaned()
			go watchParent(ctx, orphaned, 2*time.Second)
			return kernel.New(conn, ex, kfMagicOption(cfg), kernel.WithVersion(version())).Run(ctx)
		},
	}
	cmd.Flags().StringVar(&connFile, "connection-file", "", "Jupyter connection file")
	cmd.Flags().StringVar(&workDir, "workdir", "", "notebook Go module folder (default: one per notebook folder in the user cache, kept for the next kernel there)")
	return cmd
}

// watchParent ends the kernel when the process that started it is gone,
// as ipykernel does: a Jupyter server or nbconvert killed with SIGKILL
// sends no shutdown request, and the kernel (with its Go process) would
// live on. Jupyter names its process in JPY_PARENT_PID; without it there
// is no parent to watch.
func watchParent(ctx context.Context, done context.CancelFunc, every time.Duration) {
	if os.Getenv("JPY_PARENT_PID") == "" {
		return
	}
	parent := os.Getppid()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if os.Getppid() != parent {
				fmt.Fprintln(os.Stderr, "fair kernel: the process that started it is gone; shutting down")
				done()
				return
			}
		}
	}
}
