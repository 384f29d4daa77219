package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/launch"
)

type manifestFlags struct {
	files       []string
	dryRun      dryRun
	force       bool
	wait        bool
	waitTimeout time.Duration
}

// newDeployCmd is fair deploy: -f applies YAML (as ko apply does); SOURCE
// --kind KIND runs SOURCE as that kind, through the very train or serve
// command (a training kind follows the job to its end, a serving kind
// waits until the endpoint is ready; --wait=false returns once submitted).
func newDeployCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deploy (-f FILE... | SOURCE --kind KIND) [flags]",
		Short: "Apply YAML whose fair:// images fair builds (-f), or run SOURCE as any kind",
		Long: `fair deploy -f FILE builds the fair://./path images a YAML names and applies
it, then waits until every object is ready or has run to its end (on a
terminal; --wait and --wait=false say otherwise). See fair deploy -f --help.

fair deploy SOURCE --kind KIND [flags] [-- ARGS...] builds SOURCE and runs it
as KIND, exactly as fair train (job, pytorchjob, tfjob, xgboostjob, jaxjob,
trainjob) or fair serve (kserve, deployment) would, with their flags: a
training kind is followed to its end and fair exits with its status; an
endpoint is waited for until ready. --wait=false returns once submitted.`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if verb, _, err := deployVerb(cfg, args); err == nil && verb == "apply" && wantsHelp(args) {
				m := newManifestDeployCmd(io, cfg)
				m.SetOut(io.Out)
				if hasFile(args) { // -f --help, -f x.yaml --help
					return m.Help()
				}
				if err := cmd.Help(); err != nil {
					return err
				}
				_, err := fmt.Fprintf(io.Out, "\nFlags of fair deploy -f (fair deploy --kind KIND --help lists train's or serve's):\n%s", m.LocalFlags().FlagUsages())
				return err
			}
			sub, rest, err := deployTarget(io, cfg, args)
			if err != nil {
				return err
			}
			sub.SetArgs(rest)
			sub.SetIn(io.In)
			sub.SetOut(io.Out)
			sub.SetErr(io.Err)
			sub.SilenceUsage, sub.SilenceErrors = true, true
			return sub.ExecuteContext(cmd.Context())
		},
	}
	return cmd
}

func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "--help" {
			return true
		}
	}
	return false
}

func hasFile(args []string) bool {
	for _, a := range args {
		if a == "-f" || a == "--filename" || strings.HasPrefix(a, "--filename=") || (strings.HasPrefix(a, "-f") && len(a) > 2 && !strings.HasPrefix(a, "--")) {
			return true
		}
	}
	return false
}

// deployTarget picks the command fair deploy runs: the manifest command
// for -f (and with no SOURCE), else train or serve by the kind.
func deployTarget(io *iostreams.IOStreams, cfg *config.Config, args []string) (*cobra.Command, []string, error) {
	verb, rest, err := deployVerb(cfg, args)
	switch {
	case err != nil:
		return nil, nil, err
	case verb == "train":
		return newTrainCmd(io, cfg), rest, nil
	case verb == "serve":
		return newServeCmd(io, cfg), rest, nil
	}
	return newManifestDeployCmd(io, cfg), args, nil
}

// deployVerb says what deploy's arguments ask for: "apply" (-f, or no
// SOURCE), or "train" or "serve" by --kind (or the configured kind), with
// the arguments for that verb (--wait=false becomes --detach).
func deployVerb(cfg *config.Config, args []string) (verb string, rest []string, err error) {
	kind, positional := cfg.Kind, false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i:]...)
			i = len(args)
			continue
		case hasFile([]string{a}):
			return "apply", args, nil
		case a == "--kind" && i+1 < len(args):
			kind = args[i+1]
		case strings.HasPrefix(a, "--kind="):
			kind = strings.TrimPrefix(a, "--kind=")
		case a == "--wait=false":
			rest = append(rest, "--detach")
			continue
		case a == "--wait" || a == "--wait=true":
			continue
		case !strings.HasPrefix(a, "-"):
			positional = true
		}
		rest = append(rest, a)
	}
	if kind == "" {
		if !positional {
			return "apply", args, nil
		}
		return "", nil, errors.New("fair deploy SOURCE needs --kind: a training kind (job, pytorchjob, tfjob, xgboostjob, jaxjob, trainjob) or a serving kind (kserve, deployment); fair deploy -f FILE applies YAML")
	}
	k, err := deployer.ParseKind(kind)
	if err != nil {
		return "", nil, err
	}
	if k.Training() {
		return "train", rest, nil
	}
	return "serve", rest, nil
}

func newManifestDeployCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var mf manifestFlags
	cmd := &cobra.Command{
		Use:   "deploy -f FILE [-f FILE...]",
		Short: "Build the fair:// images a YAML names, then server-side apply it",
		Long: `Read Kubernetes YAML, build every distinct fair://./path/to/source image
reference once (paths are relative to the working directory), put the image
reference by digest in its place, label every object as fair's, and apply the
result with server-side apply (field manager "fair"). If an object is
rejected, the objects this command created are deleted again. -f - reads stdin.

With --wait (the default on a terminal), fair then follows every object until
it is ready (a Deployment rolled out, an InferenceService serving: the
cli-utils kstatus rules kubectl and Flux use) or has run to its end (a Job, a
Kubeflow training job, a TrainJob, a Workflow), printing each one's status as
it changes, and exits 1 when one fails or its pods cannot start, or when
--wait-timeout passes first. Ctrl-C stops waiting (exit 75); the objects stay.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			objs, err := resolveFiles(cmd.Context(), io, cfg, mf.files)
			if err != nil {
				return err
			}
			if mf.dryRun == dryRunClient {
				return printObjects(io, objs)
			}
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			run := manifestRun(objs)
			if cfg.Name == "" && run != "" {
				// Deployed again: the objects keep the run they are in.
				if prev := c.PreviousRun(cmd.Context(), objs); prev != "" && prev != run {
					for _, u := range objs {
						if u.GetLabels()[deployer.LabelKind] == "" {
							deployer.Label(u, prev)
						}
					}
					run = prev
				}
			}
			var lines []string // printed once the whole apply has gone through
			var ended []string
			outcome := func(u *unstructured.Unstructured, o deployer.Outcome) {
				ref := strings.ToLower(u.GetKind()) + "/" + u.GetName()
				lines = append(lines, ref+" "+string(o))
				if st := deployer.Readiness(u).State; o == deployer.Unchanged && (st == deployer.StateSucceeded || st == deployer.StateFailed) {
					ended = append(ended, fmt.Sprintf("%s is unchanged and has %s already: it does not run again (fair delete %s, then deploy again, runs it again)", ref, strings.ToLower(string(st)), ref))
				}
			}
			opts := deployer.ApplyOptions{DryRun: mf.dryRun == dryRunServer, ForceConflicts: mf.force, Outcome: outcome}
			applied, err := c.Apply(cmd.Context(), objs, opts)
			if err != nil {
				return err
			}
			if run != "" && mf.dryRun != dryRunServer {
				fmt.Fprintf(io.Err, "run %s: fair delete %s removes what it made; fair ps lists its workloads\n", run, run)
			}
			if mf.dryRun == dryRunServer {
				for _, u := range applied {
					lines = append(lines, strings.ToLower(u.GetKind())+"/"+u.GetName()+" valid (server dry run)")
				}
			}
			for _, l := range lines {
				fmt.Fprintln(io.Out, l)
			}
			for _, l := range ended {
				fmt.Fprintln(io.Err, "note: "+l)
			}
			if mf.dryRun == dryRunServer || !mf.wait {
				return nil
			}
			return waitApplied(cmd.Context(), io, c, applied, mf.waitTimeout)
		},
	}
	addManifestFlags(cmd, cfg, &mf)
	addClusterFlags(cmd, cfg)
	addDryRunFlag(cmd, &mf.dryRun, "build the images and print the objects as fair resolve does, nothing sent to the cluster")
	cmd.Flags().BoolVar(&mf.force, "force-conflicts", false, "take over fields another field manager set (server-side apply)")
	cmd.Flags().BoolVar(&mf.wait, "wait", io.ErrTTY, "wait until every object is ready (a rollout done, an endpoint serving) or has run to its end (a Job, a training job, a Workflow), and exit non-zero if one fails (default: on a terminal)")
	cmd.Flags().DurationVar(&mf.waitTimeout, "wait-timeout", 5*time.Minute, "give up waiting after this long (0: no limit)")
	return cmd
}

// manifestRun is the run fair deploy -f puts the objects in (fair's own
// YAML keeps its own run and is not counted).
func manifestRun(objs []*unstructured.Unstructured) string {
	for _, u := range objs {
		if l := u.GetLabels(); l[deployer.LabelKind] == "" {
			return l[deployer.LabelRun]
		}
	}
	return ""
}

// waitApplied waits for the applied objects, printing each one's status
// when it changes, as kubectl rollout status does.
func waitApplied(ctx context.Context, io *iostreams.IOStreams, c *deployer.Client, objs []*unstructured.Unstructured, timeout time.Duration) error {
	_, err := c.WaitFor(ctx, objs, deployer.WaitOptions{Timeout: timeout, Changed: func(st deployer.ObjectStatus) {
		switch {
		case st.State == deployer.StateInProgress:
			fmt.Fprintf(io.Err, "%s: %s\n", st.Ref, orDash(st.Message))
		case st.State != deployer.StateFailed: // a failure is the error
			fmt.Fprintf(io.Err, "%s %s\n", st.Ref, strings.ToLower(string(st.State)))
		}
	}})
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("%w: the objects stay applied", launch.ErrDetached)
	}
	return &ExitError{Code: 1, Err: err}
}

func addManifestFlags(cmd *cobra.Command, cfg *config.Config, mf *manifestFlags) {
	addBuildFlags(cmd, cfg)
	f := cmd.Flags()
	f.StringArrayVarP(&mf.files, "filename", "f", nil, "YAML file, directory of .yaml/.yml/.json files, or - for stdin (repeatable)")
	cfgFlag(f, cfg, "name", "name", "", "string", "value of the fair.dev/run label (default: the first file's name)")
	_ = cmd.MarkFlagRequired("filename")
}

// resolveFiles reads the manifests, builds their fair:// references (each
// once) and labels the objects.
func resolveFiles(ctx context.Context, io *iostreams.IOStreams, cfg *config.Config, files []string) ([]*unstructured.Unstructured, error) {
	return launch.Manifests(ctx, launch.Options{Config: cfg, Progress: io.Err, TTY: io.ErrTTY}, files, io.In)
}
