package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/doctor"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/launch"
)

func newDoctorCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check what fair needs (Go, registry, cluster, rights, kinds, BuildKit, Jupyter) and how to fix it",
		Long: `Check, in one screen, what fair needs here: the Go toolchain, the registry
(reachable, and writable with your credentials), the kube context (reachable,
rights to create runs), the kinds the cluster serves, the BuildKit daemon,
the Jupyter kernelspec, the notebook panel and gpgv. Each problem comes with its fix. The exit
status is 1 when something fair needs fails (warnings about optional parts
do not count).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			rs := doctor.Check(cmd.Context(), cfg, doctor.Options{Connect: launch.Connect})
			if output != "" {
				if err := printStructured(io.Out, output, rs); err != nil {
					return err
				}
			} else {
				for _, r := range rs {
					fmt.Fprintf(io.Out, "%-4s  %-15s %s\n", r.Level, r.Name, r.Detail)
					if r.Fix != "" && r.Level != doctor.OK {
						fmt.Fprintf(io.Out, "      %-15s fix: %s\n", "", r.Fix)
					}
				}
			}
			if doctor.Failed(rs) {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("doctor found problems (see above)")}
			}
			return nil
		},
	}
	addClusterFlags(cmd, cfg)
	cfgFlag(cmd.Flags(), cfg, "registry", "registry", "", "string", "registry to check")
	cfgFlag(cmd.Flags(), cfg, "insecureRegistries", "insecure-registry", "", "strings", "registries reached over plain HTTP")
	cmd.Flags().StringVarP(&output, "output", "o", "", "json or yaml instead of lines")
	return cmd
}
