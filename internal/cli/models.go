package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
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
	var force bool
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
				if !force {
					if err := modelInUse(cmd.Context(), io, cfg, ref); err != nil {
						return err
					}
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
	rm.Flags().BoolVar(&force, "force", false, "delete a model an endpoint serves (its pods cannot start again)")
	addClusterFlags(rm, cfg)
	cmd.AddCommand(ls, show, rm)
	for _, c := range []*cobra.Command{ls, show, rm} {
		cfgFlag(c.Flags(), cfg, "registry", "registry", "", "string", "registry holding the models (models/NAME)")
	}
	return cmd
}

// modelInUse refuses to delete a model an endpoint in the namespace serves:
// its pods pull it when they start, and would fail from then on. Without
// a cluster to ask, it says it could not check.
func modelInUse(ctx context.Context, io *iostreams.IOStreams, cfg *config.Config, ref string) error {
	m, err := models.Get(ctx, ref, launch.ModelOptions(cfg, ref))
	if err != nil {
		return err
	}
	c, err := connect(cfg)
	var runs []deployer.Status
	if err == nil {
		runs, err = c.List(ctx, false)
	}
	if err != nil {
		fmt.Fprintf(io.Err, "fair: could not check which endpoints serve model %s (%v)\n", m.Name, firstLine(err.Error()))
		return nil
	}
	var users []string
	for _, r := range runs {
		if strings.HasSuffix(r.Model, "@"+m.Digest) {
			users = append(users, string(r.Kind)+"/"+r.Name)
		}
	}
	if len(users) == 0 {
		return nil
	}
	return fmt.Errorf("model %s (%s) is served by %s in namespace %s, whose pods pull it when they start: fair delete %s first, or --force",
		m.Name, m.Digest[:19], strings.Join(users, ", "), c.Namespace, users[0])
}
