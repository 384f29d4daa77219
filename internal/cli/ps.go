package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/launch"
	"github.com/fair-go/fair/pipeline"
)

func newPsCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var output string
	var all bool
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List fair's runs, sweeps and pipeline runs: name, kind, status, replicas ready, GPUs, age",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "name", "wide"); err != nil {
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
			if output == "json" || output == "yaml" {
				return printStructured(io.Out, output, list)
			}
			// Sweeps (Katib Experiments) too: fair sweep ls -o json has
			// their details.
			ns := c.Namespace
			if all {
				ns = ""
			}
			sweeps, err := launch.ListSweeps(cmd.Context(), c, ns)
			if err != nil {
				return err
			}
			// And pipeline runs (Argo Workflows), in this namespace.
			var wfs []pipeline.RunStatus
			if !all {
				if wfs, err = pipeline.NewRuns(c).List(cmd.Context(), ""); err != nil {
					return err
				}
			}
			if output == "name" {
				for _, s := range list {
					fmt.Fprintf(io.Out, "%s/%s\n", s.Kind, s.Name)
				}
				for _, s := range sweeps {
					fmt.Fprintf(io.Out, "sweep/%s\n", s.Name)
				}
				for _, w := range wfs {
					fmt.Fprintf(io.Out, "pipeline/%s\n", w.Name)
				}
				return nil
			}
			wide := output == "wide"
			tw, flush := newTable(io.Out)
			if all {
				fmt.Fprint(tw, "NAMESPACE\t")
			}
			fmt.Fprint(tw, "NAME\tKIND\tSTATUS\tREADY\tGPUS\tAGE")
			if wide {
				fmt.Fprint(tw, "\tIMAGE\tMESSAGE")
			}
			fmt.Fprintln(tw)
			for _, s := range list {
				if all {
					fmt.Fprintf(tw, "%s\t", s.Namespace)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%d\t%s", s.Name, s.Kind, s.Phase, s.Ready, s.Total, s.GPUs, age(s.Created))
				if wide {
					fmt.Fprintf(tw, "\t%s\t%s", orDash(s.Image), orDash(firstLine(s.Message)))
				}
				fmt.Fprintln(tw)
			}
			for _, s := range sweeps {
				if all {
					fmt.Fprintf(tw, "%s\t", s.Namespace)
				}
				// READY of a sweep: its trials that ran to the end, of all.
				fmt.Fprintf(tw, "%s\tsweep\t%s\t%d/%d\t-\t%s", s.Name, s.Phase, s.Succeeded+s.FailedCount, s.MaxTrials, age(s.Created))
				if wide {
					fmt.Fprintf(tw, "\t-\t%s", orDash(firstLine(s.Summary())))
				}
				fmt.Fprintln(tw)
			}
			for _, w := range wfs {
				// READY of a pipeline run: its steps that succeeded, of all.
				fmt.Fprintf(tw, "%s\tpipeline\t%s\t%d/%d\t-\t%s", w.Name, phaseOr(w.Phase, "Pending"), w.Succeeded(), len(w.Steps), age(w.Created))
				if wide {
					fmt.Fprintf(tw, "\t-\t%s", orDash(firstLine(w.Message)))
				}
				fmt.Fprintln(tw)
			}
			return flush()
		},
	}
	addClusterFlags(cmd, cfg)
	cmd.Flags().StringVarP(&output, "output", "o", "", "json, yaml, name (kind/name lines) or wide (with image and message)")
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list runs in every namespace")
	return cmd
}

func checkOutput(o string, more ...string) error {
	if o == "" || o == "json" || o == "yaml" {
		return nil
	}
	for _, m := range more {
		if o == m {
			return nil
		}
	}
	return fmt.Errorf("-o %s: want %s", o, strings.Join(append([]string{"json", "yaml"}, more...), ", "))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
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

// newTable is a tabwriter whose flush writes the whole table at once: a
// notebook (%kf ps, %kf status) shows each write as a message of its own,
// and a table flushed cell by cell was dozens.
func newTable(out io.Writer) (*tabwriter.Writer, func() error) {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	return tw, func() error {
		if err := tw.Flush(); err != nil {
			return err
		}
		_, err := out.Write(buf.Bytes())
		return err
	}
}
