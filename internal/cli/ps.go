package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
)

func newPsCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var output string
	var all bool
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List fair's runs: name, kind, status, replicas ready, GPUs, age",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			list, err := c.List(cmd.Context(), all)
			if err != nil {
				return err
			}
			if output != "" {
				return printStructured(io.Out, output, list)
			}
			tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
			if all {
				fmt.Fprint(tw, "NAMESPACE\t")
			}
			fmt.Fprintln(tw, "NAME\tKIND\tSTATUS\tREADY\tGPUS\tAGE")
			for _, s := range list {
				if all {
					fmt.Fprintf(tw, "%s\t", s.Namespace)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%d\t%s\n", s.Name, s.Kind, s.Phase, s.Ready, s.Total, s.GPUs, age(s.Created))
			}
			return tw.Flush()
		},
	}
	addClusterFlags(cmd, cfg)
	cmd.Flags().StringVarP(&output, "output", "o", "", "json or yaml instead of a table")
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list runs in every namespace")
	return cmd
}

func checkOutput(o string) error {
	if o != "" && o != "json" && o != "yaml" {
		return fmt.Errorf("-o %s: want json or yaml", o)
	}
	return nil
}

func printStructured(w io.Writer, format string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if format == "yaml" {
		if b, err = yaml.JSONToYAML(b); err != nil {
			return err
		}
	} else {
		b = append(b, '\n')
	}
	_, err = w.Write(b)
	return err
}

// age prints how long ago t was as kubectl does (45s, 12m, 3h4m, 2d).
func age(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return duration.HumanDuration(time.Since(t))
}
