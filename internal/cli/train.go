package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/templates"
)

// runOption adjusts the deploying commands for a front door other than the
// terminal (the notebook kernel passes its live status display).
type runOption func(*runOpts)

type runOpts struct {
	observer deployer.Observer
	source   sourceFunc
}

// sourceFunc makes the source to build once the flags are parsed; verb is
// train, serve or "" (build).
type sourceFunc func(cfg *config.Config, verb string) (builder.Source, error)

// withSource builds what fn returns instead of a SOURCE argument (the
// kernel passes the notebook's cells).
func withSource(fn sourceFunc) runOption { return func(o *runOpts) { o.source = fn } }

// withObserver sends run events to obs instead of progress lines on stderr.
func withObserver(obs deployer.Observer) runOption { return func(o *runOpts) { o.observer = obs } }

// workloadFlags are the flags of train and serve that are not config keys.
type workloadFlags struct {
	image  string
	detach bool
	dryRun string
}

func newTrainCmd(io *iostreams.IOStreams, cfg *config.Config, opts ...runOption) *cobra.Command {
	var trustNotebook bool
	var wf workloadFlags
	var ro runOpts
	for _, o := range opts {
		o(&ro)
	}
	cmd := &cobra.Command{
		Use:   "train [SOURCE] [flags] [-- ARGS...]",
		Short: "Build SOURCE (or take --image) and run it as a training job, following its logs",
		Long: `Build SOURCE into an image (as fair build does), submit it as a training job
and follow it: progress on stderr, the logs of every replica on stdout (each
line prefixed with its replica, e.g. [worker-1]), and the job's exit status
as fair's own. --image REF skips the build. Arguments after -- are passed to
the program.

Kinds: job (default), pytorchjob, tfjob, xgboostjob, jaxjob (Kubeflow Training
v1, --workers N), trainjob (Kubeflow Trainer v2, --runtime NAME).

Ctrl-C detaches (the job keeps running; fair logs NAME -f re-attaches) or,
with --on-interrupt cancel, deletes the job.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			src, progArgs, err := splitSource(cmd, args, wf.image, ro.source != nil)
			if err != nil {
				return err
			}
			nb, err := applyNotebookFlags(io, cfg, src, "train", trustNotebook, func(_ string, c *config.Config) *cobra.Command { return newTrainCmd(io, c) }, nil)
			if err != nil {
				return err
			}
			r := newRunner(io, cfg, ro, wf, src, progArgs)
			r.file = nb
			return r.train(cmd.Context())
		},
	}
	addWorkloadFlags(cmd, cfg, &wf)
	f := cmd.Flags()
	cfgFlag(f, cfg, "kind", "kind", "", "string", "job, pytorchjob, tfjob, xgboostjob, jaxjob or trainjob (default job)")
	cfgFlag(f, cfg, "workers", "workers", "", "int", "replicas of a distributed job (pytorchjob: 1 master + N-1 workers)")
	cfgFlag(f, cfg, "runtime", "runtime", "", "string", "TrainJob runtime name (default torch-distributed)")
	cfgFlag(f, cfg, "ttl", "ttl", "", "string", "delete the finished job after this long, e.g. 1h (ttlSecondsAfterFinished)")
	cfgFlag(f, cfg, "backoffLimit", "backoff-limit", "", "int", "retries before the job is failed")
	cfgFlag(f, cfg, "timeout", "timeout", "", "string", "fail the job after running this long, e.g. 2h (activeDeadlineSeconds)")
	cfgFlag(f, cfg, "onInterrupt", "on-interrupt", "", "string", "on Ctrl-C: detach (the job keeps running) or cancel (delete it)")
	cmd.Flags().BoolVar(&trustNotebook, "trust-notebook", false, "take every flag on a notebook's %kf line, even those deciding where credentials go (registry, cluster, secrets)")
	return cmd
}

// addWorkloadFlags registers the flags train and serve share.
func addWorkloadFlags(cmd *cobra.Command, cfg *config.Config, wf *workloadFlags) {
	addBuildFlags(cmd, cfg)
	addClusterFlags(cmd, cfg)
	f := cmd.Flags()
	f.StringVar(&wf.image, "image", "", "run this image reference instead of building SOURCE")
	f.BoolVar(&wf.detach, "detach", false, "return once submitted; follow later with fair logs NAME -f")
	f.StringVar(&wf.dryRun, "dry-run", "", "client: print the objects; server: also have the API server validate them")
	cfgFlag(f, cfg, "name", "name", "", "string", "run name (default: from the source or image, plus a suffix)")
	cfgFlag(f, cfg, "gpus", "gpus", "", "int", "GPUs per replica (limit and request of --gpu-resource, plus a toleration)")
	cfgFlag(f, cfg, "gpuResource", "gpu-resource", "", "string", "extended resource name of the GPUs, e.g. amd.com/gpu")
	cfgFlag(f, cfg, "cpu", "cpu", "", "string", "CPU request per replica, e.g. 2 or 500m")
	cfgFlag(f, cfg, "memory", "memory", "", "string", "memory request and limit per replica, e.g. 8Gi")
	cfgFlag(f, cfg, "nodeSelector", "node-selector", "", "strings", "k=v node label the pods must match (repeatable)")
	cfgFlag(f, cfg, "tolerations", "toleration", "", "strings", "key[=value][:Effect] taint to tolerate (repeatable)")
	cfgFlag(f, cfg, "env", "env", "e", "strings", "K=V environment variable (repeatable)")
	cfgFlag(f, cfg, "envFromSecrets", "env-from-secret", "", "strings", "Secret whose keys become environment variables (repeatable)")
	cfgFlag(f, cfg, "volumes", "volume", "", "strings", "pvc:CLAIM:/mount/path[:ro] (repeatable)")
	cfgFlag(f, cfg, "serviceAccount", "service-account", "", "string", "ServiceAccount the pods run as")
	cfgFlag(f, cfg, "imagePullSecrets", "image-pull-secret", "", "strings", "Secret for pulling the image (repeatable)")
	cfgFlag(f, cfg, "labels", "label", "l", "strings", "k=v label on every object (repeatable)")
}

// addClusterFlags registers how to reach the cluster, as kubectl names them.
func addClusterFlags(cmd *cobra.Command, cfg *config.Config) {
	f := cmd.Flags()
	cfgFlag(f, cfg, "kubeconfig", "kubeconfig", "", "string", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	cfgFlag(f, cfg, "context", "context", "", "string", "kubeconfig context to use")
	cfgFlag(f, cfg, "namespace", "namespace", "n", "string", "namespace (default: the context's)")
}

func splitSource(cmd *cobra.Command, args []string, image string, given bool) (src string, progArgs []string, err error) {
	if dash := cmd.ArgsLenAtDash(); dash >= 0 {
		args, progArgs = args[:dash], args[dash:]
	}
	switch {
	case given && len(args) > 0:
		return "", nil, fmt.Errorf("the notebook is the source; unexpected %s (pass program arguments after --)", strings.Join(args, " "))
	case given && image != "":
		return "", nil, errors.New("the notebook is the source; --image does not apply")
	case given:
		return "", progArgs, nil
	case len(args) > 1:
		return "", nil, fmt.Errorf("want one SOURCE, got %d: %s", len(args), strings.Join(args, " "))
	case len(args) == 1 && image != "":
		return "", nil, errors.New("give SOURCE or --image, not both")
	case len(args) == 0 && image == "":
		return "", nil, errors.New("nothing to run: give SOURCE to build or --image REF")
	case len(args) == 1:
		return args[0], progArgs, nil
	}
	return "", progArgs, nil
}

func connect(cfg *config.Config) (*deployer.Client, error) {
	return deployer.Connect(deployer.WithKubeconfig(cfg.Kubeconfig), deployer.WithContext(cfg.Context), deployer.WithNamespace(cfg.Namespace))
}

// runner is what train and serve run with once their flags are parsed: the
// streams and configuration, how to reach the cluster and how to build
// (fields, so a test or another front door can put its own in), the front
// door's options and the flags that are not configuration keys.
type runner struct {
	io      *iostreams.IOStreams
	cfg     *config.Config
	connect func(*config.Config) (*deployer.Client, error)
	build   func(ctx context.Context, io *iostreams.IOStreams, cfg *config.Config, src string, bo buildOpts) (string, error)

	opts     runOpts       // the kernel's observer and cells
	file     *notebookFile // a .ipynb SOURCE, read once
	flags    workloadFlags // image, detach, dry run
	src      string        // SOURCE
	progArgs []string      // after --
}

func newRunner(io *iostreams.IOStreams, cfg *config.Config, ro runOpts, wf workloadFlags, src string, progArgs []string) *runner {
	return &runner{io: io, cfg: cfg, connect: connect, build: buildWith, opts: ro, flags: wf, src: src, progArgs: progArgs}
}

// templateNote says, once per command, when a run uses the project's own
// template instead of fair's: a template from a cloned repository decides
// what the pods may do (volumes, privileges), so the user should know.
func templateNote(io *iostreams.IOStreams, cfg *config.Config, k deployer.Kind) {
	if _, from, err := templates.Source(projectDir(cfg), deployer.TemplateName(k)); err == nil && !strings.HasPrefix(from, "builtin:") {
		fmt.Fprintf(io.Err, "using the project's template %s for %s\n", from, k)
	}
}

// projectDir is where .fair/templates is looked for: the folder of
// fair.yaml, else the working directory.
func projectDir(cfg *config.Config) string {
	if cfg.File != "" {
		return filepath.Dir(cfg.File)
	}
	wd, _ := os.Getwd()
	return wd
}

// prepare builds (or takes) the image and maps the configuration onto a
// workload of kind def.
func (r *runner) prepare(ctx context.Context, def deployer.Kind) (*deployer.Workload, error) {
	io, cfg, ro, wf, src, progArgs := r.io, r.cfg, r.opts, r.flags, r.src, r.progArgs
	image := wf.image
	verb := "train"
	if !def.Training() {
		verb = "serve"
	}
	var source builder.Source
	if ro.source != nil {
		var err error
		if source, err = ro.source(cfg, verb); err != nil {
			return nil, err
		}
		src = source.Name()
	} else if r.file != nil {
		var err error
		if source, err = r.file.source(cfg); err != nil {
			return nil, err
		}
	}
	if src != "" {
		if wf.dryRun != "" {
			// A dry run shows the objects without building or pushing.
			image = deployer.RefScheme + src
		} else {
			ref, err := r.build(ctx, io, cfg, src, buildOpts{verb: verb, source: source})
			if err != nil {
				return nil, err
			}
			image = ref
		}
	}
	w, err := deployer.FromConfig(cfg, image, def)
	if err != nil {
		return nil, err
	}
	w.Args = progArgs
	if w.Name == "" {
		from := src
		if src == "" || src == "." {
			from = image
			if src == "." {
				wd, _ := os.Getwd()
				from = filepath.Base(wd)
			}
		}
		w.Name = deployer.NameFor(from, time.Now())
	}
	return w, nil
}

// dryRun prints the objects of w, validated by the API server when mode is
// "server".
func (r *runner) dryRun(ctx context.Context, w *deployer.Workload, mode string) error {
	io, cfg := r.io, r.cfg
	if mode != "client" && mode != "server" {
		return fmt.Errorf("--dry-run: want client or server, got %q", mode)
	}
	var c *deployer.Client
	if mode == "server" || w.Namespace == "" {
		var err error
		if c, err = r.connect(cfg); err != nil && mode == "server" {
			return err
		}
		if c != nil && w.Namespace == "" {
			w.Namespace = c.Namespace
		}
	}
	objs, err := deployer.Render(w, deployer.WithTemplateDir(projectDir(cfg)))
	if err != nil {
		return err
	}
	if mode == "server" {
		if objs, err = c.Apply(ctx, objs, deployer.ApplyOptions{DryRun: true}); err != nil {
			return err
		}
	}
	out, err := deployer.EncodeYAML(objs)
	if err != nil {
		return err
	}
	_, err = io.Out.Write(out)
	return err
}

func (r *runner) train(ctx context.Context) error {
	io, cfg, wf := r.io, r.cfg, r.flags
	w, err := r.prepare(ctx, deployer.KindJob)
	if err != nil {
		return err
	}
	if !w.Kind.Training() {
		return fmt.Errorf("kind %s serves; use fair serve", w.Kind)
	}
	if wf.dryRun != "" {
		return r.dryRun(ctx, w, wf.dryRun)
	}
	c, err := r.connect(cfg)
	if err != nil {
		return err
	}
	templateNote(io, cfg, w.Kind)
	start := time.Now()
	sub, err := c.Submit(ctx, w, deployer.WithTemplateDir(projectDir(cfg)))
	if err != nil {
		return err
	}
	run := sub.Run
	if sub.Replaced {
		fmt.Fprintf(io.Err, "replaced the finished %s/%s (%s) of the same name\n", run.Kind, run.Name, strings.ToLower(string(sub.Previous)))
	}
	fmt.Fprintf(io.Err, "%s/%s submitted to namespace %s (image %s)\n", run.Kind, run.Name, run.Namespace, w.Image)
	if wf.detach {
		fmt.Fprintf(io.Out, "%s\n", run.Name)
		return nil
	}
	return follow(ctx, io, c, run, r.opts.observer, deployer.WatchOptions{Logs: io.Out, Since: start.Add(-time.Second)}, cfg.OnInterrupt)
}

// follow watches a training run to its end and turns the outcome into the
// command's exit status.
func follow(ctx context.Context, io *iostreams.IOStreams, c *deployer.Client, run deployer.Run, obs deployer.Observer, wo deployer.WatchOptions, onInterrupt string) error {
	wo.Observer = obs
	if wo.Observer == nil {
		wo.Observer = progressPrinter(io, run)
	}
	res, err := c.Watch(ctx, run, wo)
	if err != nil {
		if ctx.Err() == nil {
			return err
		}
		if onInterrupt == "cancel" {
			dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, derr := c.Delete(dctx, run.Name); derr != nil {
				return derr
			}
			fmt.Fprintf(io.Err, "\ncancelled: %s/%s deleted\n", run.Kind, run.Name)
			return &ExitError{Code: ExitCancelled, Err: fmt.Errorf("%s %s cancelled", run.Kind, run.Name)}
		}
		fmt.Fprintln(io.Err)
		return detached(fmt.Sprintf("%s/%s keeps running; re-attach with: fair logs %s -f -n %s", run.Kind, run.Name, run.Name, run.Namespace))
	}
	if ferr := res.Err(); ferr != nil {
		// In a notebook the replicas' logs are in the cell already.
		if len(res.LastLines) > 0 && obs == nil {
			fmt.Fprintf(io.Err, "--- last lines of %s ---\n%s\n", res.FailedReplica, strings.Join(res.LastLines, "\n"))
		}
		code := res.ExitCode
		if code == 0 {
			code = 1
		}
		return &ExitError{Code: code, Err: ferr}
	}
	if st := res.Status; st.NotStarted > 0 {
		fmt.Fprintf(io.Err, "warning: %s/%s %s: it finished when its master did, and the Training Operator does not wait for the other replicas\n",
			run.Kind, run.Name, strings.ToLower(st.Summary()))
	}
	fmt.Fprintf(io.Err, "%s/%s %s\n", run.Kind, run.Name, strings.ToLower(string(res.Status.Phase)))
	return nil
}

// progressPrinter writes run events as lines on stderr.
func progressPrinter(io *iostreams.IOStreams, run deployer.Run) deployer.Observer {
	return func(e deployer.Event) {
		who := fmt.Sprintf("%s/%s", run.Kind, run.Name)
		if e.Replica != "" {
			who += " " + e.Replica
		}
		switch e.Type {
		case deployer.EventWarning:
			fmt.Fprintf(io.Err, "%s: warning: %s\n", who, e.Message)
		default:
			fmt.Fprintf(io.Err, "%s: %s\n", who, e.Message)
		}
	}
}
