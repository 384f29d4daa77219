package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/launch"
)

type manifestFlags struct {
	files  []string
	dryRun bool
}

func newDeployCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var mf manifestFlags
	cmd := &cobra.Command{
		Use:   "deploy -f FILE [-f FILE...]",
		Short: "Build the fair:// images a YAML names, then server-side apply it",
		Long: `Read Kubernetes YAML, build every distinct fair://./path/to/source image
reference once (paths are relative to the working directory), put the image
reference by digest in its place, label every object as fair's, and apply the
result with server-side apply (field manager "fair"). If an object is
rejected, the objects this command created are deleted again. -f - reads stdin.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			objs, err := resolveFiles(cmd.Context(), io, cfg, mf.files)
			if err != nil {
				return err
			}
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			applied, err := c.Apply(cmd.Context(), objs, deployer.ApplyOptions{DryRun: mf.dryRun})
			if err != nil {
				return err
			}
			suffix := "applied"
			if mf.dryRun {
				suffix = "valid (server dry run)"
			}
			for _, u := range applied {
				fmt.Fprintf(io.Out, "%s/%s %s\n", strings.ToLower(u.GetKind()), u.GetName(), suffix)
			}
			return nil
		},
	}
	addManifestFlags(cmd, cfg, &mf)
	addClusterFlags(cmd, cfg)
	cmd.Flags().BoolVar(&mf.dryRun, "dry-run", false, "have the API server validate the objects without storing them")
	return cmd
}

func addManifestFlags(cmd *cobra.Command, cfg *config.Config, mf *manifestFlags) {
	addBuildFlags(cmd, cfg)
	f := cmd.Flags()
	f.StringArrayVarP(&mf.files, "filename", "f", nil, "YAML file, directory of .yaml/.yml/.json files, or - for stdin (repeatable)")
	cfgFlag(f, cfg, "name", "name", "", "string", "value of the fair.dev/run label (default: the first file's name)")
	_ = cmd.MarkFlagRequired("filename")
}

// resolveFiles reads the manifests, builds their fair:// references (each
// once) and labels the objects.
func resolveFiles(ctx context.Context, io *iostreams.IOStreams, cfg *config.Config, files []string) ([]*unstructured.Unstructured, error) {
	return launch.Manifests(ctx, launch.Options{Config: cfg, Progress: io.Err, TTY: io.ErrTTY}, files, io.In)
}
