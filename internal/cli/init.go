package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/launch"
	"github.com/fair-go/fair/project"
)

func newInitCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var o project.InitOptions
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented fair.yaml for this project (registry, context, namespace, the cluster's kinds)",
		Long: `Write fair.yaml in the current folder (--dir elsewhere): the registry (from
--registry, FAIR_REGISTRY or the configuration), the kubeconfig context and
namespace (from the current kubeconfig), and, as comments, the kinds the
cluster runs and its TrainJob runtimes. It names the JSON Schema, so editors
with a YAML language server validate and complete it. It writes no secret
and refuses to overwrite without --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Connect = launch.Connect
			d, err := project.Init(cmd.Context(), cfg, o)
			if err != nil {
				return err
			}
			for _, p := range d.Problems {
				fmt.Fprintln(io.Err, "note:", p)
			}
			what := "no cluster kinds detected"
			if len(d.Kinds) > 0 {
				what = "kinds: " + strings.Join(d.Kinds, ", ")
			}
			fmt.Fprintf(io.Err, "wrote %s (%s)\n", d.Path, what)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "dir", ".", "project folder")
	f.StringVar(&o.Registry, "registry", "", "registry images go to (default: FAIR_REGISTRY or the configuration)")
	f.StringVar(&o.Context, "context", "", "kubeconfig context (default: the current one)")
	f.StringVarP(&o.Namespace, "namespace", "n", "", "namespace (default: the context's)")
	f.StringVar(&o.Base, "base", "", "base image for the project")
	f.BoolVar(&o.Force, "force", false, "overwrite an existing fair.yaml")
	return cmd
}

func newConfigCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Show fair's configuration"}
	var output string
	view := &cobra.Command{
		Use:   "view",
		Short: "Print the effective configuration and where each value comes from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			type entry struct {
				Key    string `json:"key"`
				Value  string `json:"value"`
				Origin string `json:"origin"`
			}
			var list []entry
			for _, e := range cfg.Entries() {
				list = append(list, entry{e.Key, shown(e.Key, e.Value), e.Origin})
			}
			if output != "" {
				return printStructured(io.Out, output, list)
			}
			tw, flush := newTable(io.Out)
			fmt.Fprintln(tw, "KEY\tVALUE\tFROM")
			for _, e := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Key, e.Value, e.Origin)
			}
			return flush()
		},
	}
	view.Flags().StringVarP(&output, "output", "o", "", "json or yaml instead of a table")
	cmd.AddCommand(view)
	return cmd
}

func newIDECmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ide vscode|goland [PACKAGE...]",
		Short: "Write run configurations for an IDE: build, train, serve, logs, delete, run/debug locally",
		Long: `Write the IDE's run configurations for PACKAGEs (folders of the project,
default "."), run from the project folder with the same fair.yaml as the CLI:

  fair ide vscode ./cmd/train   .vscode/tasks.json, launch.json, settings.json
  fair ide goland ./cmd/train   .run/*.run.xml

fair's entries are named "fair: ..." and updated in place; the user's own
entries, and the comments in VSCode's files, stay.`,
		Args:      cobra.MinimumNArgs(1),
		ValidArgs: []string{"vscode", "goland"},
		RunE: func(cmd *cobra.Command, args []string) error {
			var files []string
			var err error
			switch args[0] {
			case "vscode":
				files, err = project.VSCode(".", args[1:], cfg)
			case "goland", "intellij":
				files, err = project.GoLand(".", args[1:], cfg)
			default:
				return fmt.Errorf("unknown IDE %q: vscode or goland", args[0])
			}
			for _, f := range files {
				fmt.Fprintln(io.Out, f)
			}
			return err
		},
	}
	return cmd
}
