package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
)

func newDeleteCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete NAME [NAME...]",
		Short: "Delete runs and everything fair created for them (pipeline runs and sweeps too)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			for _, name := range args {
				deleted, err := c.Delete(cmd.Context(), name)
				for _, d := range deleted {
					fmt.Fprintf(io.Out, "%s deleted\n", d)
				}
				if err != nil {
					if err := elsewhere(cmd, c, name, err, nil); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
	addClusterFlags(cmd, cfg)
	return cmd
}
