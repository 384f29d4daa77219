package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/buildkitd"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
)

func newBuildKitCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "buildkit",
		Short: "Run a BuildKit daemon in the cluster for Dockerfile builds (up, down)",
		Long: `fair buildkit up starts a BuildKit daemon in your namespace (a Deployment of
one privileged pod), for Dockerfile projects where this machine has no
daemon; then build with --buildkit kube-pod://fair-buildkitd (or set
FAIR_BUILDKIT_ADDR / buildkit: in fair.yaml). fair reaches it through a
port-forward for each build and pushes the image itself, so neither kubectl
nor a Service is needed. fair buildkit down removes it.`,
	}
	var o buildkitd.Options
	var timeout time.Duration
	up := &cobra.Command{
		Use:   "up",
		Short: "Start (or update) the BuildKit daemon and wait until it is ready",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			o.Progress, o.Timeout = io.Err, timeout
			if err := buildkitd.Up(cmd.Context(), c, o); err != nil {
				return err
			}
			fmt.Fprintf(io.Out, "%s%s?namespace=%s\n", buildkitd.Scheme, o.Name, c.Namespace)
			return nil
		},
	}
	addClusterFlags(up, cfg)
	up.Flags().StringVar(&o.Name, "name", buildkitd.DefaultName, "name of the Deployment")
	up.Flags().StringVar(&o.Image, "image", buildkitd.DefaultImage, "BuildKit image (its buildkitd runs as root, privileged)")
	up.Flags().StringArrayVar(&o.InsecureRegistries, "insecure-registry", nil, "a registry the daemon reaches over plain HTTP, as pods address it (repeatable)")
	up.Flags().DurationVar(&timeout, "timeout", 3*time.Minute, "how long to wait until it is ready")

	var name string
	down := &cobra.Command{
		Use:   "down",
		Short: "Delete the BuildKit daemon",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			if err := buildkitd.Down(cmd.Context(), c, name, c.Namespace); err != nil {
				return err
			}
			fmt.Fprintf(io.Out, "deployment/%s deleted\n", name)
			return nil
		},
	}
	addClusterFlags(down, cfg)
	down.Flags().StringVar(&name, "name", buildkitd.DefaultName, "name of the Deployment")
	cmd.AddCommand(up, down)
	return cmd
}
