package cli

import (
	"github.com/spf13/cobra"

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
			out, err := deployer.EncodeYAML(objs)
			if err != nil {
				return err
			}
			_, err = io.Out.Write(out)
			return err
		},
	}
	addManifestFlags(cmd, cfg, &mf)
	cfgFlag(cmd.Flags(), cfg, "namespace", "namespace", "n", "string", "namespace for objects that name none")
	return cmd
}
