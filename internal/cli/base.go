package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/build"
	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
)

func newBaseCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "base",
		Short: "Work with base images",
	}
	push := &cobra.Command{
		Use:   "push REPO",
		Short: "Publish the base image (default: the built-in static base) to REPO",
		Long: `Publish the configured base image unchanged, e.g. to mirror the built-in
static base into a registry so that other tools can build on it:

  fair base push 127.0.0.1:5000/static --tag latest`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, _, err := build.NewBuilder(cfg, io.Err, false)
			if err != nil {
				return err
			}
			if args[0] == "" {
				return errors.New("REPO is empty")
			}
			art, err := b.Build(cmd.Context(), builder.BaseSource{})
			if err != nil {
				return err
			}
			res, err := (&builder.Registry{Tag: cfg.Tag, Insecure: cfg.InsecureRegistries, Progress: io.Err, TTY: io.ErrTTY}).Publish(cmd.Context(), art, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(io.Err, res.Summary())
			fmt.Fprintln(io.Out, res.Ref)
			return nil
		},
	}
	f := push.Flags()
	cfgFlag(f, cfg, "base", "base", "", "string", "base image: static, a registry reference, or oci:PATH[@DIGEST]")
	cfgFlag(f, cfg, "tag", "tag", "t", "string", "tag to push besides the digest")
	cfgFlag(f, cfg, "platforms", "platform", "", "strings", "platforms, e.g. linux/amd64,linux/arm64")
	cfgFlag(f, cfg, "insecureRegistries", "insecure-registry", "", "strings", "registries reached over plain HTTP")
	cmd.AddCommand(push)
	return cmd
}
