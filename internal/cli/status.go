package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
)

func newStatusCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show a run's phase, replicas, GPUs and image (or a pipeline run's or sweep's status)",
		Args:  oneName("run", "fair ps"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			s, err := c.Status(cmd.Context(), args[0])
			if err != nil {
				return elsewhere(cmd, c, args[0], err, map[string]string{"output": output})
			}
			noteWorkloads(cmd, io, c, args[0], "status", s.Run)
			if output != "" {
				return printStructured(io.Out, output, s)
			}
			fmt.Fprintf(io.Out, "Name:      %s\nNamespace: %s\nKind:      %s\nStatus:    %s\nReady:     %d/%d\nGPUs:      %d\nImage:     %s\nAge:       %s\n",
				s.Name, s.Namespace, s.Kind, s.Phase, s.Ready, s.Total, s.GPUs, s.Image, age(s.Created))
			if s.Model != "" {
				fmt.Fprintf(io.Out, "Model:     %s\n", s.Model)
			}
			if s.Message != "" {
				fmt.Fprintf(io.Out, "Message:   %s\n", s.Message)
			}
			if len(s.StillRunning) > 0 {
				fmt.Fprintf(io.Out, "Warning:   %s still running after the run ended; they keep their resources until fair delete %s\n", strings.Join(s.StillRunning, ", "), s.Name)
			}
			if len(s.Replicas) > 0 {
				fmt.Fprintln(io.Out)
				tw, flush := newTable(io.Out)
				fmt.Fprintln(tw, "REPLICA\tPOD\tPHASE\tREADY\tRESTARTS\tEXIT\tREASON\tNODE")
				for _, r := range s.Replicas {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%d\t%d\t%s\t%s\n", r.Replica, r.Pod, r.Phase, r.Ready, r.Restarts, r.ExitCode, r.Cause(), r.Node)
				}
				return flush()
			}
			return nil
		},
	}
	addClusterFlags(cmd, cfg)
	cmd.Flags().StringVarP(&output, "output", "o", "", "json or yaml")
	return cmd
}
