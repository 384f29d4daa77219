package cli

import (
	"bufio"
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/launch"
	"github.com/fair-go/fair/sweep"
)

// sweepFlags are the flags that make a sweep of a training run.
type sweepFlags struct {
	params, metrics, settings []string
	objective, goal, goalVal  string
	algorithm                 string
	trials, parallel, failed  int
	args, skipMetricCheck     bool
}

// fromConfig takes fair.yaml's sweep: section for each flag not given.
func (f *sweepFlags) fromConfig(cmd *cobra.Command, c *config.Sweep) {
	if c == nil {
		return
	}
	set := func(flag string, apply func()) {
		if !cmd.Flags().Changed(flag) {
			apply()
		}
	}
	set("param", func() { f.params = append([]string(nil), c.Params...) })
	set("metric", func() { f.metrics = append([]string(nil), c.Metrics...) })
	set("algorithm-setting", func() { f.settings = append([]string(nil), c.AlgorithmSettings...) })
	for flag, v := range map[string]*string{"objective": &f.objective, "goal": &f.goal, "goal-value": &f.goalVal, "algorithm": &f.algorithm} {
		from := map[string]string{"objective": c.Objective, "goal": c.Goal, "goal-value": c.GoalValue, "algorithm": c.Algorithm}[flag]
		if from != "" {
			set(flag, func() { *v = from })
		}
	}
	for flag, v := range map[string]*int{"trials": &f.trials, "parallel": &f.parallel, "max-failed": &f.failed} {
		from := map[string]int{"trials": c.Trials, "parallel": c.Parallel, "max-failed": c.MaxFailed}[flag]
		if from != 0 {
			set(flag, func() { *v = from })
		}
	}
	if c.ParamArgs {
		set("param-args", func() { f.args = true })
	}
}

// spec reads the flags into a sweep spec; every mistake is one line,
// before anything is built or created.
func (f *sweepFlags) spec() (sweep.Spec, error) {
	s := sweep.Spec{Objective: f.objective, Goal: f.goal, Metrics: f.metrics, Algorithm: f.algorithm,
		Trials: f.trials, Parallel: f.parallel, MaxFailed: f.failed, Args: f.args}
	for _, p := range f.params {
		pp, err := sweep.ParseParam(p)
		if err != nil {
			return s, err
		}
		s.Params = append(s.Params, pp)
	}
	var err error
	if s.Settings, err = sweep.ParseSettings(f.settings); err != nil {
		return s, err
	}
	if s.GoalValue, err = sweep.ParseGoalValue(f.goalVal); err != nil {
		return s, err
	}
	s.Defaults()
	return s, s.Validate()
}

func addSweepFlags(cmd *cobra.Command, sf *sweepFlags) {
	f := cmd.Flags()
	f.StringArrayVarP(&sf.params, "param", "p", nil, "NAME=LO..HI[:log][:step=S] or NAME=a,b,c: a parameter to search (repeatable); the program reads it as $NAME in upper case")
	f.StringVar(&sf.objective, "objective", "", "the metric to optimize: the program prints it as NAME=VALUE lines")
	f.StringVar(&sf.goal, "goal", "minimize", "minimize or maximize the objective")
	f.StringVar(&sf.goalVal, "goal-value", "", "end the sweep once a trial reaches this value")
	f.StringArrayVar(&sf.metrics, "metric", nil, "another metric to record beside the objective (repeatable)")
	f.StringVar(&sf.algorithm, "algorithm", "random", "Katib's search algorithm: random, tpe, cmaes, grid, bayesianoptimization, ... (those the cluster's Katib serves)")
	f.StringArrayVar(&sf.settings, "algorithm-setting", nil, "NAME=VALUE setting of the algorithm, e.g. random_state=7 (repeatable)")
	f.IntVar(&sf.trials, "trials", 12, "trials in all (maxTrialCount)")
	f.IntVar(&sf.parallel, "parallel", 3, "trials at a time (parallelTrialCount)")
	f.IntVar(&sf.failed, "max-failed", 0, "end the sweep as failed after this many failed trials (0: never, a failed trial is counted and the sweep goes on)")
	f.BoolVar(&sf.args, "param-args", false, "also pass each parameter as the argument --NAME=VALUE")
	f.BoolVar(&sf.skipMetricCheck, "skip-metric-check", false, "submit even when no file of SOURCE mentions the objective's name")
}

func newSweepCmd(io *iostreams.IOStreams, cfg *config.Config, opts ...runOption) *cobra.Command {
	var wf workloadFlags
	var sf sweepFlags
	var trustNotebook bool
	var ro runOpts
	for _, o := range opts {
		o(&ro)
	}
	cmd := &cobra.Command{
		Use:   "sweep [SOURCE] --param NAME=SPEC... --objective METRIC [flags] [-- ARGS...]",
		Short: "Tune hyperparameters: run SOURCE as the trials of a Katib Experiment",
		Long: `Build SOURCE once (or take --image) and submit a Katib Experiment whose
trials run it as fair train would (--kind job, pytorchjob or trainjob; GPUs,
env, volumes as for train), each with the parameters Katib suggests, then
follow the trials to the end and print the best one with the command that
trains with its parameters.

Parameters (--param, repeatable):
  lr=0.0001..0.1:log     a double range, sampled on a log scale
  layers=1..4            an int range (:step=S for grid search)
  batch=16,32,64         a discrete list; opt=adam,sgd a categorical one
Each reaches the program as an environment variable named in upper case (LR,
LAYERS), and with --param-args also as the argument --lr=VALUE. FAIR_TRIAL
holds the trial's name.

Metrics: the program prints NAME=VALUE lines (loss=0.12) on stdout or stderr;
Katib's StdOut collector reads them, so a program that prints its loss needs
no change. The objective's value of a trial is its lowest (minimize) or
highest (maximize) printed value.

fair.yaml's sweep: section (params, objective, goal, trials, parallel,
algorithm, ...) gives what the flags do not.

Then: fair sweep status NAME [-w], fair sweep logs NAME [TRIAL], fair sweep
delete NAME; fair ps lists sweeps.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			sf.fromConfig(cmd, cfg.Sweep)
			spec, err := sf.spec()
			if err != nil {
				return err
			}
			src, progArgs, err := splitSource(cmd, args, wf.image, ro.source != nil)
			if err != nil {
				return err
			}
			nb, err := applyNotebookFlags(io, cfg, src, "train", trustNotebook, func(_ string, c *config.Config) *cobra.Command { return newSweepCmd(io, c) }, nil)
			if err != nil {
				return err
			}
			o := launchOptions(io, cfg, ro, nb, wf, src, progArgs)
			_, err = launch.Sweep(cmd.Context(), o, launch.SweepOptions{Spec: spec, SkipMetricCheck: sf.skipMetricCheck || ro.source != nil || nb != nil, Observer: ro.sweepObserver})
			return err
		},
	}
	addWorkloadFlags(cmd, cfg, &wf)
	addSweepFlags(cmd, &sf)
	f := cmd.Flags()
	cfgFlag(f, cfg, "kind", "kind", "", "string", "a trial's workload: job (default), pytorchjob or trainjob")
	cfgFlag(f, cfg, "workers", "workers", "", "int", "replicas of each trial's distributed job (pytorchjob: 1 master + N-1 workers)")
	cfgFlag(f, cfg, "runtime", "runtime", "", "string", "TrainJob runtime name")
	cfgFlag(f, cfg, "timeout", "timeout", "", "string", "fail a trial after running this long, e.g. 30m")
	cfgFlag(f, cfg, "onInterrupt", "on-interrupt", "", "string", "on Ctrl-C: detach (the sweep goes on) or cancel (delete it with its trials)")
	cfgFlag(f, cfg, "model", "model", "", "string", "each trial saves what the program writes to $FAIR_MODEL_DIR as model NAME:TRIAL; the best becomes NAME:latest")
	f.BoolVar(&trustNotebook, "trust-notebook", false, "take every flag on a notebook's %kf line, even those deciding where credentials go (registry, cluster, secrets)")
	cmd.AddCommand(newSweepStatusCmd(io, cfg), newSweepLogsCmd(io, cfg), newSweepDeleteCmd(io, cfg), newSweepListCmd(io, cfg))
	return cmd
}

func newSweepStatusCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var output string
	var watch bool
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show a sweep's trials, its best trial and whether it ended",
		Args:  oneName("sweep", "fair sweep ls"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			st, err := getSweep(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			if watch && !st.Done() {
				o := launch.Options{Config: cfg, Progress: io.Err, Out: io.Out}
				if st, err = launch.FollowSweep(cmd.Context(), c, c.Namespace, args[0], o, launch.SweepOptions{}); err != nil {
					return err
				}
			}
			if output != "" {
				return printStructured(io.Out, output, st)
			}
			launch.WriteSweepResult(io.Out, st, "")
			return nil
		},
	}
	addClusterFlags(cmd, cfg)
	cmd.Flags().StringVarP(&output, "output", "o", "", "json or yaml")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "follow the trials until the sweep ends")
	return cmd
}

func getSweep(ctx context.Context, c *deployer.Client, name string) (*sweep.Status, error) {
	st, err := sweep.Get(ctx, c.Dynamic, c.Namespace, name)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("no sweep %s in namespace %s (fair sweep ls lists them)", name, c.Namespace)
	}
	return st, err
}

// klogHeader is the header Katib's metrics collector puts before each
// line of the program it prints.
var klogHeader = regexp.MustCompile(`^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ [^ \]]+\] ?`)

func newSweepLogsCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logs NAME [TRIAL]",
		Short: "Print what each trial's program printed, prefixed with [trial]",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := getSweep(ctx, c, args[0])
			if err != nil {
				return err
			}
			sel := sweep.LabelSweep + "=" + args[0] + "," + sweep.LabelTrial // the suggestion service has the sweep label too
			if len(args) == 2 {
				sel += "," + sweep.LabelTrial + "=" + args[1]
			}
			pods, err := c.Core.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
			if err != nil {
				return err
			}
			if len(pods.Items) == 0 && len(args) == 2 {
				var names []string
				for _, t := range st.Trials {
					names = append(names, t.Name)
				}
				if !slices.Contains(names, args[1]) {
					return fmt.Errorf("sweep %s has no trial %s (its trials: %s)", args[0], args[1], orNone(strings.Join(names, ", ")))
				}
			}
			if len(pods.Items) == 0 {
				fmt.Fprintf(io.Err, "sweep %s: no trial has a pod yet (or its pods are gone): no logs\n", args[0])
				return nil
			}
			sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].CreationTimestamp.Before(&pods.Items[j].CreationTimestamp) })
			for _, p := range pods.Items {
				if err := trialLogs(ctx, io, c, &p); err != nil {
					fmt.Fprintf(io.Err, "%s: %v\n", p.Name, err)
				}
			}
			return nil
		},
	}
	addClusterFlags(cmd, cfg)
	return cmd
}

// trialLogs prints a trial pod's program output: Katib's StdOut collector
// sends it to a file its sidecar prints (with klog headers); a pod
// without the sidecar prints it itself.
func trialLogs(ctx context.Context, io *iostreams.IOStreams, c *deployer.Client, p *corev1.Pod) error {
	trial := p.Labels[sweep.LabelTrial]
	container, collector := "", false
	for _, ct := range p.Spec.Containers {
		if ct.Name == "metrics-logger-and-collector" {
			container, collector = ct.Name, true
		}
	}
	if container == "" && len(p.Spec.Containers) > 0 {
		container = p.Spec.Containers[0].Name
	}
	rc, err := c.Core.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: container}).Stream(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if collector {
			h := klogHeader.FindString(line)
			if h == "" {
				continue
			}
			line = line[len(h):]
			if strings.HasPrefix(line, "Trial Name: ") || strings.HasPrefix(line, "Metrics will not have timestamp") {
				continue // the collector's own words, not the program's
			}
			if strings.HasPrefix(line, "Metrics reported.") {
				break
			}
		}
		fmt.Fprintf(io.Out, "[%s] %s\n", trial, line)
	}
	return sc.Err()
}

func newSweepDeleteCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	wait := true
	cmd := &cobra.Command{
		Use:   "delete NAME...",
		Short: "Delete sweeps with their trials",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			for _, n := range args {
				d := time.Duration(0)
				if wait {
					d = 2 * time.Minute
				}
				err := launch.DeleteSweep(cmd.Context(), c, c.Namespace, n, d)
				if apierrors.IsNotFound(err) {
					return fmt.Errorf("no sweep %s in namespace %s", n, c.Namespace)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(io.Out, "sweep %s deleted\n", n)
			}
			return nil
		},
	}
	addClusterFlags(cmd, cfg)
	cmd.Flags().BoolVar(&wait, "wait", true, "return once the sweep and its trials are gone")
	return cmd
}

func newSweepListCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the sweeps of the namespace",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "name"); err != nil {
				return err
			}
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			list, err := launch.ListSweeps(cmd.Context(), c, c.Namespace)
			if err != nil {
				return err
			}
			switch output {
			case "json", "yaml":
				return printStructured(io.Out, output, list)
			case "name":
				for _, s := range list {
					fmt.Fprintln(io.Out, "sweep/"+s.Name)
				}
				return nil
			}
			writeSweepList(io, list)
			return nil
		},
	}
	addClusterFlags(cmd, cfg)
	cmd.Flags().StringVarP(&output, "output", "o", "", "json, yaml or name")
	return cmd
}

func writeSweepList(io *iostreams.IOStreams, list []*sweep.Status) {
	if len(list) == 0 {
		fmt.Fprintln(io.Err, "no sweeps")
		return
	}
	fmt.Fprintf(io.Out, "%-32s %-10s %-8s %-24s %s\n", "SWEEP", "STATUS", "TRIALS", "BEST", "AGE")
	for _, s := range list {
		best := "-"
		if s.Best != nil && s.Best.Objective != nil {
			best = fmt.Sprintf("%s=%g", s.Objective, *s.Best.Objective)
		}
		fmt.Fprintf(io.Out, "%-32s %-10s %-8s %-24s %s\n", s.Name, s.Phase, fmt.Sprintf("%d/%d", len(s.Trials), s.MaxTrials), best, time.Since(s.Created).Round(time.Second))
	}
}

func orNone(s string) string {
	if s == "" {
		return "none yet"
	}
	return s
}
