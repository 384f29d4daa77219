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

// completeSweeps completes sweep names (the first argument only).
func completeSweeps(cfg *config.Config) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 && cmd.Name() != "delete" {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		c, err := connect(cfg)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		list, err := launch.ListSweeps(ctx, c, c.Namespace)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, s := range list {
			if strings.HasPrefix(s.Name, toComplete) {
				out = append(out, cobra.CompletionWithDesc(s.Name, "sweep "+s.Phase))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
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
					sub.ValidArgsFunction = completeSweeps(cfg)
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
