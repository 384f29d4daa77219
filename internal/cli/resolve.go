package cli

import (
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/iostreams"
)

func newResolveCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var mf manifestFlags
	cmd := &cobra.Command{
		Use:   "resolve -f FILE [-f FILE...]",
		Short: "Build the fair:// images a YAML names and print the resolved YAML",
		Long: `Like fair deploy, but print the resolved and labelled YAML on stdout instead
of applying it (for kubectl apply -f -, GitOps repositories, or review).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			objs, err := resolveFiles(cmd.Context(), io, cfg, mf.files)
			if err != nil {
				return err
			}
			return printObjects(io, objs)
		},
	}
	addManifestFlags(cmd, cfg, &mf)
	cfgFlag(cmd.Flags(), cfg, "namespace", "namespace", "n", "string", "namespace for objects that name none")
	return cmd
}

// printObjects writes objects as one YAML stream on stdout.
func printObjects(io *iostreams.IOStreams, objs []*unstructured.Unstructured) error {
	out, err := deployer.EncodeYAML(objs)
	if err != nil {
		return err
	}
	_, err = io.Out.Write(out)
	return err
}
