package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/launch"
	"github.com/fair-go/fair/sweep"
)

// runOption adjusts the deploying commands for a front door other than the
// terminal (the notebook kernel passes its live status display).
type runOption func(*runOpts)

type runOpts struct {
	observer   deployer.Observer
	source     sourceFunc
	modelSaved func(string)
	lastModel  func() string
	// sweepObserver receives a sweep's status as it changes (the
	// notebook's live table and chart).
	sweepObserver func(*sweep.Status)
}

// sourceFunc makes the source to build once the flags are parsed; verb is
// train, serve or "" (build).
type sourceFunc func(cfg *config.Config, verb string) (builder.Source, error)

// withSource builds what fn returns instead of a SOURCE argument (the
// kernel passes the notebook's cells).
func withSource(fn sourceFunc) runOption { return func(o *runOpts) { o.source = fn } }

// withModels lets the kernel remember the model a training run saved
// (saved) and name it as --model last when serving (last).
func withModels(saved func(string), last func() string) runOption {
	return func(o *runOpts) { o.modelSaved, o.lastModel = saved, last }
}

// withSweepObserver sends a sweep's status to obs as it changes.
func withSweepObserver(obs func(*sweep.Status)) runOption {
	return func(o *runOpts) { o.sweepObserver = obs }
}

// withObserver sends run events to obs instead of progress lines on stderr.
func withObserver(obs deployer.Observer) runOption { return func(o *runOpts) { o.observer = obs } }

// workloadFlags are the flags of train and serve that are not config keys.
type workloadFlags struct {
	image          string
	detach         bool
	dryRun         dryRun
	forceConflicts bool
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
			return launch.Train(cmd.Context(), launchOptions(io, cfg, ro, nb, wf, src, progArgs))
		},
	}
	addWorkloadFlags(cmd, cfg, &wf)
	f := cmd.Flags()
	cfgFlag(f, cfg, "kind", "kind", "", "string", "job, pytorchjob, tfjob, xgboostjob, jaxjob or trainjob (default job)")
	cfgFlag(f, cfg, "workers", "workers", "", "int", "replicas of a distributed job (pytorchjob: 1 master + N-1 workers)")
	cfgFlag(f, cfg, "runtime", "runtime", "", "string", "TrainJob runtime name (default torch-distributed)")
	cfgFlag(f, cfg, "model", "model", "", "string", "save what the program writes to $FAIR_MODEL_DIR as model NAME (registry: models/NAME:RUN)")
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
	addDryRunFlag(cmd, &wf.dryRun, "print the objects, nothing sent to the cluster")
	f.BoolVar(&wf.forceConflicts, "force-conflicts", false, "take over fields another field manager set on the run's objects (server-side apply)")
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
	cfgFlag(f, cfg, "registrySecret", "registry-secret", "", "string", "kubernetes.io/dockerconfigjson Secret: the registry credentials fair's runtime in the pods saves and pulls models with (and the image is pulled with)")
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

func connect(cfg *config.Config) (*deployer.Client, error) { return launch.Connect(cfg) }

// launchOptions are what a train or serve command hands to package launch:
// its streams, configuration and flags, and the front door's own source
// (the kernel's cells, or a notebook SOURCE read once) and observer.
func launchOptions(io *iostreams.IOStreams, cfg *config.Config, ro runOpts, nb *notebookFile, wf workloadFlags, src string, progArgs []string) launch.Options {
	o := launch.Options{Config: cfg, Path: src, Image: wf.image, Args: progArgs, Detach: wf.detach, DryRun: wf.dryRun.launchMode(), ForceConflicts: wf.forceConflicts,
		Out: io.Out, Progress: io.Err, TTY: io.ErrTTY, Observer: ro.observer, Source: ro.source, ModelSaved: ro.modelSaved}
	if nb != nil {
		o.Source = func(c *config.Config, _ string) (builder.Source, error) { return nb.source(c) }
	}
	return o
}
