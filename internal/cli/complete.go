package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/launch"
	"github.com/fair-go/fair/models"
	"github.com/fair-go/fair/pipeline"
)

// Shell completion (fair completion bash|zsh|fish|powershell) completes
// run names, kinds, TrainJob runtimes and model names from the cluster and
// the registry, within a few seconds; with no answer it completes nothing.

func completeRuns(cfg *config.Config, servingOnly bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		c, err := connect(cfg)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		list, err := c.List(ctx, false)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, s := range list {
			if servingOnly && s.Kind.Training() {
				continue
			}
			if strings.HasPrefix(s.Name, toComplete) {
				out = append(out, cobra.CompletionWithDesc(s.Name, string(s.Kind)+" "+string(s.Phase)))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func completeKinds(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for _, k := range deployer.Kinds {
		out = append(out, string(k))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func completeRuntimes(cfg *config.Config) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		c, err := connect(cfg)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names, _ := c.Runtimes(ctx)
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

func completeModels(cfg *config.Config) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if cfg.Registry == "" {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		list, err := models.List(ctx, cfg.Registry, launch.ModelOptions(cfg, cfg.Registry))
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		seen := map[string]bool{}
		for _, m := range list {
			for _, n := range []string{m.Name, m.Name + ":" + m.Tag} {
				if !seen[n] && strings.HasPrefix(n, toComplete) {
					seen[n] = true
					out = append(out, n)
				}
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeFrom completes the names list gives (each with a description),
// for the first argument only unless many; with no answer within a few
// seconds it completes nothing.
func completeFrom(cfg *config.Config, many bool, list func(context.Context, *deployer.Client) ([][2]string, error)) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 && !many {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		c, err := connect(cfg)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names, err := list(ctx, c)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, n := range names {
			if strings.HasPrefix(n[0], toComplete) {
				out = append(out, cobra.CompletionWithDesc(n[0], n[1]))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeSweeps completes sweep names (every argument of delete).
func completeSweeps(cfg *config.Config, many bool) cobra.CompletionFunc {
	return completeFrom(cfg, many, func(ctx context.Context, c *deployer.Client) ([][2]string, error) {
		list, err := launch.ListSweeps(ctx, c, c.Namespace)
		out := make([][2]string, len(list))
		for i, s := range list {
			out[i] = [2]string{s.Name, "sweep " + s.Phase}
		}
		return out, err
	})
}

// completePipelineRuns completes pipeline run names, newest first.
func completePipelineRuns(cfg *config.Config) cobra.CompletionFunc {
	return completeFrom(cfg, false, func(ctx context.Context, c *deployer.Client) ([][2]string, error) {
		list, err := pipeline.NewRuns(c).List(ctx, "")
		out := make([][2]string, len(list))
		for i, r := range list {
			out[i] = [2]string{r.Name, "pipeline " + r.Pipeline + " " + r.Phase}
		}
		return out, err
	})
}

// withCompletion wires the completions into the commands of root.
func withCompletion(root *cobra.Command, cfg *config.Config) {
	for _, c := range root.Commands() {
		switch c.Name() {
		case "logs", "status", "delete":
			c.ValidArgsFunction = completeRuns(cfg, false)
		case "predict":
			c.ValidArgsFunction = completeRuns(cfg, true)
		case "sweep":
			for _, sub := range c.Commands() {
				if sub.Name() != "ls" {
					sub.ValidArgsFunction = completeSweeps(cfg, sub.Name() == "delete")
				}
			}
		case "models":
			for _, sub := range c.Commands() {
				if sub.Name() == "show" || sub.Name() == "rm" {
					sub.ValidArgsFunction = completeModels(cfg)
				}
			}
		}
		if c.Flags().Lookup("kind") != nil {
			_ = c.RegisterFlagCompletionFunc("kind", completeKinds)
		}
		if c.Flags().Lookup("runtime") != nil {
			_ = c.RegisterFlagCompletionFunc("runtime", completeRuntimes(cfg))
		}
		if c.Flags().Lookup("model") != nil && c.Name() == "serve" {
			_ = c.RegisterFlagCompletionFunc("model", completeModels(cfg))
		}
	}
}
