package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/launch"
)

func newLogsCmd(io *iostreams.IOStreams, cfg *config.Config, opts ...runOption) *cobra.Command {
	var followFlag bool
	var replica string
	var view deployer.LogOptions
	var ro runOpts
	for _, o := range opts {
		o(&ro)
	}
	cmd := &cobra.Command{
		Use:   "logs NAME [-f] [--replica R]",
		Short: "Print the logs of every replica of a run; -f follows until it ends",
		Long: `Print the logs of every replica of a run, each line prefixed with its replica
(job-0, master-0, worker-1, ...). With -f, follow them live, pick up new pods,
and exit with the run's status when it finishes; this is how a detached
fair train re-attaches, from the first line.`,
		Args: oneName("run", "fair ps"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if !followFlag {
				view.Replica = replica
				view.Note = func(s string) { fmt.Fprintln(io.Err, "fair: "+s) }
				if run, _, err := c.Find(ctx, args[0]); err == nil {
					noteWorkloads(cmd, io, c, args[0], "logs", run)
				}
				_, err := c.Logs(ctx, args[0], io.Out, view)
				if err != nil && viewDefault(view) {
					return elsewhere(cmd, c, args[0], err, nil)
				}
				return err
			}
			if !viewDefault(view) {
				return fmt.Errorf("--tail, --since, --timestamps and --previous print what there is; with -f, fair follows the run from its first line")
			}
			run, _, err := c.Find(ctx, args[0])
			if err != nil {
				return elsewhere(cmd, c, args[0], err, map[string]string{"follow": "true"})
			}
			noteWorkloads(cmd, io, c, args[0], "logs", run)
			return followLogs(ctx, io, c, run, ro, replica)
		},
	}
	addClusterFlags(cmd, cfg)
	f := cmd.Flags()
	f.BoolVarP(&followFlag, "follow", "f", false, "follow the logs until the run ends")
	f.StringVar(&replica, "replica", "", "only this replica, e.g. worker-1")
	f.Int64Var(&view.Tail, "tail", 0, "only the last N lines of each replica (0: all)")
	f.DurationVar(&view.Since, "since", 0, "only lines newer than this, e.g. 5m or 1h")
	f.BoolVar(&view.Timestamps, "timestamps", false, "start each line with its time (RFC 3339)")
	f.BoolVarP(&view.Previous, "previous", "p", false, "the previous instance of a restarted container")
	return cmd
}

// viewDefault reports whether no --tail, --since, --timestamps, --previous
// or --replica was given: only then do pipeline runs' and sweeps' logs,
// which have none of these, answer for a name that is not a run.
func viewDefault(v deployer.LogOptions) bool {
	return v.Tail == 0 && v.Since == 0 && !v.Timestamps && !v.Previous && v.Replica == ""
}

func followLogs(ctx context.Context, io *iostreams.IOStreams, c *deployer.Client, run deployer.Run, ro runOpts, replica string) error {
	wo := deployer.WatchOptions{Logs: io.Out, Replica: replica}
	if !run.Kind.Training() {
		// Serving runs never finish: follow until Ctrl-C.
		obs := ro.observer
		if obs == nil {
			obs = launch.ProgressPrinter(io.Err, run)
		}
		wo.Observer = obs
		_, err := c.Watch(ctx, run, wo)
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	// Ctrl-C while re-attached only detaches.
	err := launch.Follow(ctx, c, run, launch.Options{Out: io.Out, Progress: io.Err, Observer: ro.observer}, wo, "detach")
	if err != nil && strings.Contains(err.Error(), "was deleted") {
		return fmt.Errorf("run %s was deleted", run.Name)
	}
	return err
}

// noteWorkloads says on stderr which workload a verb shows when the run
// called name holds several (fair deploy -f of a file with a Job and a
// Deployment): the first by name, and how to pick another.
func noteWorkloads(cmd *cobra.Command, io *iostreams.IOStreams, c *deployer.Client, name, verb string, shown deployer.Run) {
	ws, err := c.Workloads(cmd.Context(), name)
	if err != nil || len(ws) < 2 {
		return
	}
	fmt.Fprintf(io.Err, "fair: run %s has %d workloads (%s); showing %s/%s, the first by name (fair %s KIND/NAME for another)\n",
		name, len(ws), strings.Join(ws, ", "), shown.Kind, shown.Name, verb)
}
