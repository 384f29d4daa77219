package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/bytesize"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/launch"
	"github.com/fair-go/fair/models"
)

func newModelsCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List, show and delete the models training runs saved (fair train --model NAME)",
		Long: `Models live in the registry as REGISTRY/models/NAME, tagged with the run that
trained them and latest. fair serve --model NAME[:TAG] serves one.`,
	}
	var output string
	ls := &cobra.Command{
		Use:   "ls [NAME]",
		Short: "List saved models, newest first: name:run, created, size, metrics",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "name"); err != nil {
				return err
			}
			if cfg.Registry == "" {
				return config.ErrNoRegistry
			}
			o := launch.ModelOptions(cfg, cfg.Registry)
			var list []models.Model
			var err error
			if len(args) == 1 {
				list, err = models.ListName(cmd.Context(), cfg.Registry, args[0], o)
			} else {
				list, err = models.List(cmd.Context(), cfg.Registry, o)
			}
			if err != nil {
				return err
			}
			if output == "name" {
				for _, m := range list {
					fmt.Fprintf(io.Out, "%s:%s\n", m.Name, m.Tag)
				}
				return nil
			}
			if output != "" {
				if list == nil {
					list = []models.Model{}
				}
				return printStructured(io.Out, output, list)
			}
			tw, flush := newTable(io.Out)
			fmt.Fprintln(tw, "MODEL\tCREATED\tSIZE\tDIGEST\tMETRICS")
			for _, m := range list {
				fmt.Fprintf(tw, "%s:%s\t%s\t%s\t%s\t%s\n", m.Name, m.Tag, age(m.Created), bytesize.Format(m.Size), m.Digest[:19], models.FormatMetrics(m.Metrics))
			}
			return flush()
		},
	}
	ls.Flags().StringVarP(&output, "output", "o", "", "json, yaml or name (NAME:TAG lines) instead of a table")
	show := &cobra.Command{
		Use:   "show NAME[:TAG]|REF",
		Short: "Show one model: run, image, git revision, metrics, size, digest",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			ref, err := models.Ref(cfg.Registry, args[0])
			if err != nil {
				return err
			}
			m, err := models.Get(cmd.Context(), ref, launch.ModelOptions(cfg, ref))
			if err != nil {
				return err
			}
			if output != "" {
				return printStructured(io.Out, output, m)
			}
			tw, flush := newTable(io.Out)
			for _, kv := range [][2]string{
				{"Model", m.Name + ":" + m.Tag}, {"Reference", m.Ref}, {"Size", bytesize.Format(m.Size)},
				{"Created", m.Created.Local().Format("2006-01-02 15:04:05") + " (" + age(m.Created) + " ago)"},
				{"Run", m.Run}, {"Image", m.Image}, {"Revision", m.Revision}, {"Metrics", models.FormatMetrics(m.Metrics)},
			} {
				if kv[1] != "" {
					fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
				}
			}
			return flush()
		},
	}
	show.Flags().StringVarP(&output, "output", "o", "", "json or yaml instead of lines")
	rm := &cobra.Command{
		Use:   "rm NAME[:TAG]|REF...",
		Short: "Delete models (every tag of the same model goes with it)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				ref, err := models.Ref(cfg.Registry, a)
				if err != nil {
					return err
				}
				m, err := models.Delete(cmd.Context(), ref, launch.ModelOptions(cfg, ref))
				if err != nil {
					return err
				}
				fmt.Fprintf(io.Out, "model %s deleted (%s)\n", a, m.Digest[:19])
			}
			return nil
		},
	}
	cmd.AddCommand(ls, show, rm)
	for _, c := range []*cobra.Command{ls, show, rm} {
		cfgFlag(c.Flags(), cfg, "registry", "registry", "", "string", "registry holding the models (models/NAME)")
	}
	return cmd
}
