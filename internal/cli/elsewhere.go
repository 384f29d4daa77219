package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/pipeline"
	"github.com/fair-go/fair/sweep"
)

// elsewhere runs cmd's verb (status, logs, delete) for name in the command
// group that owns name when it is not a run but a pipeline run or a sweep:
// fair ps lists those beside the runs, so their names work with the same
// verbs. flags are set on that command first, where it has them (empty
// ones are left alone). Any
// other error, or a name that is none of these, returns err as it was.
func elsewhere(cmd *cobra.Command, c *deployer.Client, name string, err error, flags map[string]string) error {
	if !errors.Is(err, deployer.ErrNoRun) {
		return err
	}
	ctx := cmd.Context()
	group := ""
	if _, gerr := pipeline.NewRuns(c).Get(ctx, name); gerr == nil {
		group = "pipeline"
	} else if _, serr := sweep.Get(ctx, c.Dynamic, c.Namespace, name); serr == nil {
		group = "sweep"
	}
	if group == "" {
		return err
	}
	sub, _, ferr := cmd.Root().Find([]string{group, cmd.Name()})
	if ferr != nil || sub.RunE == nil || sub.Name() != cmd.Name() {
		return err
	}
	for k, v := range flags {
		if v != "" && sub.Flags().Lookup(k) != nil {
			if serr := sub.Flags().Set(k, v); serr != nil {
				return serr
			}
		}
	}
	sub.SetContext(ctx)
	return sub.RunE(sub, []string{name})
}

// oneName is cobra.ExactArgs(1) that says which name is wanted and where
// to find one, rather than "accepts 1 arg(s), received 0".
func oneName(what, list string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return fmt.Errorf("%s: name the %s (%s lists them); usage: %s", cmd.CommandPath(), what, list, cmd.UseLine())
		case len(args) > 1:
			return fmt.Errorf("%s takes one %s name, got %d: %s", cmd.CommandPath(), what, len(args), strings.Join(args, " "))
		}
		return nil
	}
}
