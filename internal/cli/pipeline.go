package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/launch"
	"github.com/fair-go/fair/pipeline"
)

type pipelineFlags struct {
	runtimeImage string
	artifactRepo string
	format       string
	output       string
	noBuild      bool
	detach       bool
	dryRun       dryRun
	force        bool
	follow       bool
	noController time.Duration
	hostNetwork  bool
}

func newPipelineCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Build and run multi-step pipelines (Argo Workflows, Kubeflow Pipelines v2)",
		Long: `A pipeline is a set of steps, each a container built from a Go package, a
directory with a command, a notebook section or a ready image, wired by named
outputs and inputs. It is read from pipeline.yaml or from a notebook whose
cells are tagged step:NAME (see docs/pipelines.md). Step outputs travel as
OCI artifacts through the registry that holds the images.`,
	}
	cmd.AddCommand(newPipelineRunCmd(io, cfg), newPipelineCompileCmd(io, cfg),
		newPipelineStatusCmd(io, cfg), newPipelineLogsCmd(io, cfg), newPipelineDeleteCmd(io, cfg), newPipelineListCmd(io, cfg))
	for _, sub := range cmd.Commands() {
		switch sub.Name() {
		case "status", "logs", "delete":
			sub.ValidArgsFunction = completePipelineRuns(cfg)
		}
	}
	return cmd
}

func addPipelineBuildFlags(cmd *cobra.Command, cfg *config.Config, pf *pipelineFlags) {
	addImageFlags(cmd, cfg) // each step's source names its image and has its command
	f := cmd.Flags()
	f.StringVar(&pf.runtimeImage, "runtime-image", "", "image of fair's step runtime (cmd/fair-step); default: build it from fair's source")
	f.StringVar(&pf.artifactRepo, "artifact-repo", "", "repository for step outputs (default: $FAIR_REGISTRY/fair-artifacts)")
}

func newPipelineRunCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var pf pipelineFlags
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Build every step, submit the pipeline as an Argo Workflow and follow it",
		Long: `Validate the pipeline (pipeline.yaml or a tagged .ipynb), build each distinct
step source once, submit an Argo Workflow and follow it: a live step table on
stderr, the logs of every step on stdout prefixed with [step], and the
pipeline's outcome as fair's exit status. Ctrl-C detaches; the pipeline keeps
running (fair pipeline status|logs|delete NAME).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPipeline(cmd.Context(), io, cfg, pf, args[0])
		},
	}
	addPipelineBuildFlags(cmd, cfg, &pf)
	addClusterFlags(cmd, cfg)
	f := cmd.Flags()
	cfgFlag(f, cfg, "name", "name", "", "string", "workflow name (default: the pipeline's name plus a suffix)")
	cfgFlag(f, cfg, "serviceAccount", "service-account", "", "string", "ServiceAccount the step pods run as")
	cfgFlag(f, cfg, "imagePullSecrets", "image-pull-secret", "", "strings", "Secret for pulling the step images (repeatable)")
	cfgFlag(f, cfg, "registrySecret", "registry-secret", "", "string", "kubernetes.io/dockerconfigjson Secret: the registry credentials the step runtime pushes and pulls data with (and the images are pulled with)")
	f.BoolVar(&pf.detach, "detach", false, "return once submitted")
	addDryRunFlag(cmd, &pf.dryRun, "build the steps and print the Workflow as fair pipeline compile does, nothing sent to the cluster")
	f.BoolVar(&pf.force, "force-conflicts", false, "take over fields another field manager set on the objects the steps share (server-side apply)")
	f.BoolVar(&pf.hostNetwork, "host-network", false, "run the step pods in the node's network (a registry on the node's loopback, as on a local test bed)")
	f.DurationVar(&pf.noController, "controller-timeout", 30*time.Second, "warn when no workflow controller has picked the Workflow up after this long")
	return cmd
}

func newPipelineCompileCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var pf pipelineFlags
	cmd := &cobra.Command{
		Use:   "compile FILE",
		Short: "Build every step and write the pipeline as an Argo Workflow or a KFP v2 PipelineSpec",
		Long: `Validate the pipeline, build each distinct step source once and write the
compiled pipeline: --format argo (an argoproj.io/v1alpha1 Workflow, for
kubectl create or argo submit) or --format kfp (a Kubeflow Pipelines v2
PipelineSpec, for upload in the KFP UI or API). --no-build writes it with
fair://SOURCE placeholders instead of image references.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return compilePipeline(cmd.Context(), io, cfg, pf, args[0])
		},
	}
	addPipelineBuildFlags(cmd, cfg, &pf)
	f := cmd.Flags()
	cfgFlag(f, cfg, "namespace", "namespace", "n", "string", "namespace written into the Workflow")
	f.StringVar(&pf.format, "format", "argo", "argo or kfp")
	f.StringVarP(&pf.output, "output", "o", "", "write to this file instead of stdout")
	f.BoolVar(&pf.hostNetwork, "host-network", false, "run the step pods in the node's network")
	f.BoolVar(&pf.noBuild, "no-build", false, "do not build: leave fair://SOURCE placeholders as images")
	return cmd
}

func newPipelineStatusCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show the steps of a pipeline run (or of a pipeline's newest run)",
		Args:  oneName("pipeline run", "fair pipeline ls"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			runs := pipeline.NewRuns(c)
			name, err := resolveRun(cmd.Context(), io, runs, args[0])
			if err != nil {
				return err
			}
			st, err := runs.Status(cmd.Context(), name)
			if err != nil {
				return err
			}
			if output != "" {
				return printStructured(io.Out, output, st)
			}
			phase := st.Phase
			if phase == "" {
				phase = "Submitted (no workflow controller has picked it up)"
			}
			fmt.Fprintf(io.Out, "%s: %s\n", st.Name, phase)
			st.Table(io.Out, time.Now())
			return nil
		},
	}
	addClusterFlags(cmd, cfg)
	cmd.Flags().StringVarP(&output, "output", "o", "", "json or yaml")
	return cmd
}

func newPipelineLogsCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var pf pipelineFlags
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print the logs of every step of a pipeline run (or of a pipeline's newest run), prefixed with [step]",
		Args:  oneName("pipeline run", "fair pipeline ls"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			runs := pipeline.NewRuns(c)
			name, err := resolveRun(cmd.Context(), io, runs, args[0])
			if err != nil {
				return err
			}
			if pf.follow {
				return followPipeline(cmd.Context(), io, c, name, pf, false)
			}
			out := &prefixedOut{w: io.Out}
			err = runs.Logs(cmd.Context(), name, out.logLine)
			if errors.Is(err, pipeline.ErrNoStepPods) {
				fmt.Fprintf(io.Out, "workflow %s has no step pods yet\n", name)
				return nil
			}
			return err
		},
	}
	addClusterFlags(cmd, cfg)
	cmd.Flags().BoolVarP(&pf.follow, "follow", "f", false, "keep streaming until the run ends")
	return cmd
}

func newPipelineDeleteCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a pipeline run and its pods",
		Args:  oneName("pipeline run", "fair pipeline ls"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			runs := pipeline.NewRuns(c)
			err = runs.Delete(cmd.Context(), args[0])
			if errors.Is(err, pipeline.ErrNoRun) {
				// A pipeline's name: say which runs it has rather than
				// pick one to delete.
				if list, lerr := runs.List(cmd.Context(), args[0]); lerr == nil && len(list) > 0 {
					names := make([]string, len(list))
					for i, r := range list {
						names[i] = r.Name
					}
					return fmt.Errorf("%s is a pipeline, not a run: name the run to delete (%s)", args[0], strings.Join(names, ", "))
				}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(io.Out, "workflow/%s deleted\n", args[0])
			return nil
		},
	}
	addClusterFlags(cmd, cfg)
	return cmd
}

func newPipelineListCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "ls [PIPELINE]",
		Aliases: []string{"list"},
		Short:   "List the pipeline runs fair submitted (of one pipeline), newest first",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "name"); err != nil {
				return err
			}
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			runs := pipeline.NewRuns(c)
			if err := runs.Installed(); err != nil {
				return err
			}
			var name string
			if len(args) == 1 {
				name = args[0]
			}
			list, err := runs.List(cmd.Context(), name)
			if err != nil {
				return err
			}
			switch output {
			case "json", "yaml":
				return printStructured(io.Out, output, list)
			case "name":
				for _, r := range list {
					fmt.Fprintf(io.Out, "workflow/%s\n", r.Name)
				}
				return nil
			}
			tw, flush := newTable(io.Out)
			fmt.Fprintln(tw, "NAME\tPIPELINE\tSTATUS\tSTEPS\tDURATION\tAGE")
			for _, r := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\n", r.Name, orDash(r.Pipeline), phaseOr(r.Phase, "Pending"), r.Succeeded(), len(r.Steps), runDuration(r), age(r.Created))
			}
			return flush()
		},
	}
	addClusterFlags(cmd, cfg)
	cmd.Flags().StringVarP(&output, "output", "o", "", "json, yaml or name (workflow/NAME lines)")
	return cmd
}

// runDuration is how long the run took, or has taken so far.
func runDuration(r pipeline.RunStatus) string {
	switch {
	case r.Started.IsZero():
		return "-"
	case r.Finished.IsZero():
		return duration.HumanDuration(time.Since(r.Started))
	}
	return duration.HumanDuration(r.Finished.Sub(r.Started))
}

// resolveRun is the run NAME means: a run's name, or a pipeline's name for
// its newest run (said on stderr).
func resolveRun(ctx context.Context, io *iostreams.IOStreams, runs *pipeline.Runs, name string) (string, error) {
	run, newest, err := runs.Resolve(ctx, name)
	if err == nil && newest {
		fmt.Fprintf(io.Err, "pipeline %s: its newest run is %s\n", name, run)
	}
	return run, err
}

// buildOptions are how the steps are built: the runtime image flag and
// progress on stderr.
func buildOptions(io *iostreams.IOStreams, pf pipelineFlags) pipeline.BuildOptions {
	return pipeline.BuildOptions{RuntimeImage: pf.runtimeImage, Progress: io.Err, TTY: io.ErrTTY}
}

func compilePipeline(ctx context.Context, io *iostreams.IOStreams, cfg *config.Config, pf pipelineFlags, path string) error {
	co := pipeline.CompileOptions{Format: pf.format, NoBuild: pf.noBuild,
		ArtifactRepo: pf.artifactRepo, HostNetwork: pf.hostNetwork, Build: buildOptions(io, pf)}
	if c, err := connect(cfg); err == nil {
		// The cluster, when there is one, says where pods reach a local
		// registry, as fair pipeline run asks it; a moment, no more.
		co.PodRegistry = func(ctx context.Context, repo string) string {
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			return c.PodRegistry(ctx, repo)
		}
	}
	out, err := pipeline.Compile(ctx, cfg, path, co)
	if err != nil {
		return err
	}
	if pf.output != "" {
		return os.WriteFile(pf.output, out, 0o644)
	}
	_, err = io.Out.Write(out)
	return err
}

func runPipeline(ctx context.Context, io *iostreams.IOStreams, cfg *config.Config, pf pipelineFlags, path string) error {
	if pf.dryRun == dryRunClient {
		pf.format = "argo"
		return compilePipeline(ctx, io, cfg, pf, path)
	}
	p, err := pipeline.Open(path)
	if err != nil {
		return err
	}
	if _, err := pipeline.ArtifactRepo(cfg, pf.artifactRepo); err != nil {
		return err
	}
	c, err := connect(cfg)
	if err != nil {
		return err
	}
	st, err := pipeline.NewRuns(c).Start(ctx, cfg, p, pipeline.StartOptions{ArtifactRepo: pf.artifactRepo,
		HostNetwork: pf.hostNetwork, DryRun: pf.dryRun == dryRunServer, ForceConflicts: pf.force, Build: buildOptions(io, pf)})
	if err != nil {
		return err
	}
	if pf.dryRun == dryRunServer {
		fmt.Fprintf(io.Out, "workflow/%s valid (server dry run)\n", st.Name)
		return nil
	}
	if st.Replaced != "" {
		fmt.Fprintf(io.Err, "replaced the finished pipeline run %s (%s) of the same name\n", st.Name, strings.ToLower(st.Replaced))
	}
	fmt.Fprintf(io.Err, "workflow/%s submitted to namespace %s (build %.1fs, submit %.1fs)\n", st.Name, c.Namespace, st.Build.Seconds(), st.Submit.Seconds())
	if pf.detach {
		fmt.Fprintln(io.Out, st.Name)
		return nil
	}
	return followPipeline(ctx, io, c, st.Name, pf, true)
}

// followPipeline follows the run, drawing the step table (a live line on a
// terminal, a line per step change otherwise) and streaming every step's
// logs prefixed with [step].
func followPipeline(ctx context.Context, io *iostreams.IOStreams, c *deployer.Client, name string, pf pipelineFlags, table bool) error {
	out := &prefixedOut{w: io.Out, status: io.Err, tty: io.ErrTTY && table}
	last := map[string]string{}
	st, err := pipeline.NewRuns(c).Follow(ctx, name, pipeline.FollowOptions{
		Line: out.logLine,
		Status: func(st pipeline.RunStatus) {
			if !table {
				return
			}
			if out.tty {
				out.setStatus(st.Line(time.Now()))
				return
			}
			for _, s := range st.Steps {
				if last[s.Name] != s.Phase {
					last[s.Name] = s.Phase
					fmt.Fprintf(io.Err, "step %s: %s\n", s.Name, strings.ToLower(s.Phase))
				}
			}
		},
		NoController: pf.noController,
		Warn:         out.note,
	})
	out.setStatus("")
	if err != nil {
		if ctx.Err() == nil {
			return err
		}
		fmt.Fprintln(io.Err)
		return fmt.Errorf("%w: workflow/%s keeps running; re-attach with: fair pipeline logs %s -f -n %s", launch.ErrDetached, name, name, c.Namespace)
	}
	if table {
		st.Table(io.Err, time.Now())
	}
	if st.Phase != "Succeeded" {
		code := st.ExitCode()
		if code <= 0 || code > 255 {
			code = 1
		}
		return &ExitError{Code: code, Err: fmt.Errorf("pipeline %s failed: %s", name, st.Failure())}
	}
	fmt.Fprintf(io.Err, "workflow/%s succeeded in %s\n", name, st.Finished.Sub(st.Started).Round(time.Second))
	for _, o := range st.Outputs() {
		fmt.Fprintf(io.Out, "%s: %s\n", o[0], o[1])
	}
	return nil
}

// prefixedOut writes log lines to w while keeping a status line, redrawn
// in place, at the bottom of a terminal.
type prefixedOut struct {
	mu     sync.Mutex
	w      io.Writer
	status io.Writer
	tty    bool
	line   string
}

func (p *prefixedOut) clear() {
	if p.tty && p.line != "" {
		fmt.Fprint(p.status, "\r\x1b[2K")
	}
}

func (p *prefixedOut) draw() {
	if p.tty && p.line != "" {
		fmt.Fprint(p.status, p.line)
	}
}

func (p *prefixedOut) setStatus(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.line = s
	p.draw()
}

func (p *prefixedOut) logLine(step, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintf(p.w, "[%s] %s\n", step, text)
	p.draw()
}

func (p *prefixedOut) note(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintln(p.status, text)
	p.draw()
}
