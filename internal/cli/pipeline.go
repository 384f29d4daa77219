package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/fair-go/fair"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/notebook/nbsource"
	"github.com/fair-go/fair/pipeline"
)

var workflowGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflows"}

// labelWorkflow is the label Argo puts on a workflow's pods.
const labelWorkflow = "workflows.argoproj.io/workflow"

type pipelineFlags struct {
	runtimeImage string
	artifactRepo string
	format       string
	output       string
	noBuild      bool
	detach       bool
	dryRun       bool
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
		newPipelineStatusCmd(io, cfg), newPipelineLogsCmd(io, cfg), newPipelineDeleteCmd(io, cfg))
	return cmd
}

func addPipelineBuildFlags(cmd *cobra.Command, cfg *config.Config, pf *pipelineFlags) {
	addBuildFlags(cmd, cfg)
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
	f.BoolVar(&pf.detach, "detach", false, "return once submitted")
	f.BoolVar(&pf.dryRun, "dry-run", false, "build, then have the API server validate the Workflow without storing it")
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
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show the steps of a pipeline run",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			u, err := getWorkflow(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			st := pipeline.WorkflowStatus(u)
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
	return cmd
}

func newPipelineLogsCmd(io *iostreams.IOStreams, cfg *config.Config) *cobra.Command {
	var pf pipelineFlags
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print the logs of every step of a pipeline run, prefixed with [step]",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			if _, err := getWorkflow(cmd.Context(), c, args[0]); err != nil {
				return err
			}
			if pf.follow {
				return followPipeline(cmd.Context(), io, c, args[0], pf, false)
			}
			return printStepLogs(cmd.Context(), io.Out, c, args[0])
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
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect(cfg)
			if err != nil {
				return err
			}
			policy := metav1.DeletePropagationForeground
			err = c.Dynamic.Resource(workflowGVR).Namespace(c.Namespace).Delete(cmd.Context(), args[0], metav1.DeleteOptions{PropagationPolicy: &policy})
			if apierrors.IsNotFound(err) {
				return fmt.Errorf("no pipeline run %s in namespace %s", args[0], c.Namespace)
			}
			if err != nil {
				return fmt.Errorf("delete %s: %v", args[0], err)
			}
			fmt.Fprintf(io.Out, "workflow/%s deleted\n", args[0])
			return nil
		},
	}
	addClusterFlags(cmd, cfg)
	return cmd
}

// loadPipeline reads pipeline.yaml or a tagged notebook and validates it.
func loadPipeline(path string) (*pipeline.Pipeline, error) {
	if strings.HasSuffix(path, ".ipynb") {
		return pipeline.FromNotebook(path)
	}
	return pipeline.Load(path)
}

func artifactRepo(cfg *config.Config, pf pipelineFlags) (string, error) {
	if pf.artifactRepo != "" {
		return pf.artifactRepo, nil
	}
	if cfg.Registry == "" {
		return "", errors.New("pipelines pass data through a registry: set FAIR_REGISTRY, --registry or --artifact-repo")
	}
	return strings.TrimSuffix(cfg.Registry, "/") + "/fair-artifacts", nil
}

func insecureHost(cfg *config.Config, repo string) bool {
	host, _, _ := strings.Cut(repo, "/")
	for _, h := range cfg.InsecureRegistries {
		if h == host {
			return true
		}
	}
	return false
}

// buildPipeline builds every distinct step source once and adds the step
// runtime to each image.
func buildPipeline(ctx context.Context, io *iostreams.IOStreams, cfg *config.Config, pf pipelineFlags, p *pipeline.Pipeline, repo string) (map[string]pipeline.Built, error) {
	if cfg.Registry == "" {
		return nil, config.ErrNoRegistry
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	// Each step gets its own repository, named after its source.
	base := *cfg
	base.Cmd, base.Dockerfile, base.Repo, base.Tag = "", "", "", ""
	runtimeRef := pf.runtimeImage
	if runtimeRef == "" {
		dir, err := runtimeSource()
		if err != nil {
			return nil, err
		}
		c := base
		c.Base = "static"
		if runtimeRef, err = buildImage(ctx, io, &c, dir); err != nil {
			return nil, fmt.Errorf("step runtime: %w", err)
		}
	}
	rt, err := pipeline.NewRuntime(ctx, runtimeRef, insecureHost(cfg, runtimeRef), remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		return nil, err
	}
	build := func(ctx context.Context, s pipeline.Source) (pipeline.Built, error) {
		c := base
		var ref string
		var err error
		switch s.Kind {
		case pipeline.SourceGo:
			ref, err = buildImage(ctx, io, &c, s.Path)
		case pipeline.SourceDir:
			c.Cmd = shellJoin(s.Command)
			if s.Base != "" {
				c.Base = s.Base
			}
			if s.Workdir != "" {
				c.Workdir = s.Workdir
			}
			ref, err = buildImage(ctx, io, &c, s.Path)
		case pipeline.SourceNotebook:
			var src *nbsource.Source
			if src, err = pipeline.NotebookStep(s.Path, s.Section); err == nil {
				ref, err = buildWith(ctx, io, &c, s.Path, buildOpts{source: src})
			}
		case pipeline.SourceImage:
			ref = s.Image
		}
		if err != nil {
			return pipeline.Built{}, err
		}
		dest := ""
		if s.Kind == pipeline.SourceImage {
			// A ready image gets the runtime in the user's registry.
			dest = strings.TrimSuffix(cfg.Registry, "/") + "/" + imageBaseName(ref)
		}
		return rt.Wrap(ref, dest)
	}
	return p.Build(ctx, build)
}

// runtimeSource writes fair's own step runtime source (cmd/fair-step, as
// embedded in this binary) into the user cache and returns its package
// folder, so the runtime image matches the fair that runs the pipeline.
func runtimeSource() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("step runtime: %v", err)
	}
	dir := filepath.Join(cache, "fair", "step-runtime")
	if err := fair.WriteStepRuntime(dir); err != nil {
		return "", fmt.Errorf("step runtime: write its source: %v", err)
	}
	return filepath.Join(dir, "cmd", "fair-step"), nil
}

func imageBaseName(ref string) string {
	r := ref
	if i := strings.IndexAny(r, "@"); i >= 0 {
		r = r[:i]
	}
	if i := strings.LastIndex(r, "/"); i >= 0 {
		r = r[i+1:]
	}
	if i := strings.Index(r, ":"); i >= 0 {
		r = r[:i]
	}
	return r
}

// shellJoin quotes words so that splitCommand gives them back.
func shellJoin(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if w != "" && !strings.ContainsAny(w, " \t\n'\"\\$`") {
			out[i] = w
			continue
		}
		out[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}

func compilePipeline(ctx context.Context, io *iostreams.IOStreams, cfg *config.Config, pf pipelineFlags, path string) error {
	if pf.format != "argo" && pf.format != "kfp" {
		return fmt.Errorf("--format: want argo or kfp, got %q", pf.format)
	}
	p, err := loadPipeline(path)
	if err != nil {
		return err
	}
	repo := pf.artifactRepo
	if repo == "" && pf.noBuild && cfg.Registry == "" {
		repo = "REGISTRY/fair-artifacts"
	} else if repo, err = artifactRepo(cfg, pf); err != nil {
		return err
	}
	var imgs map[string]pipeline.Built
	if pf.noBuild {
		imgs = p.Placeholders()
	} else if imgs, err = buildPipeline(ctx, io, cfg, pf, p, repo); err != nil {
		return err
	}
	o := pipeline.Options{ArtifactRepo: repo, Insecure: insecureHost(cfg, repo), Namespace: cfg.Namespace, HostNetwork: pf.hostNetwork}
	var out []byte
	if pf.format == "kfp" {
		out, err = pipeline.KFP(p, imgs, o)
	} else {
		var wf *unstructured.Unstructured
		if wf, err = pipeline.Argo(p, imgs, o); err == nil {
			out, err = deployer.EncodeYAML([]*unstructured.Unstructured{wf})
		}
	}
	if err != nil {
		return err
	}
	if pf.output != "" {
		return os.WriteFile(pf.output, out, 0o644)
	}
	_, err = io.Out.Write(out)
	return err
}

// argoInstalled gives a clear error when the cluster has no Workflow CRD.
func argoInstalled(c *deployer.Client) error {
	rl, err := c.Discovery.ServerResourcesForGroupVersion(workflowGVR.GroupVersion().String())
	if err == nil {
		for _, r := range rl.APIResources {
			if r.Name == workflowGVR.Resource {
				return nil
			}
		}
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("cannot reach the cluster at %s: %v", c.Config.Host, err)
	}
	return fmt.Errorf("context %s has no Argo Workflows (no argoproj.io/v1alpha1 Workflow resource): install it, or write a KFP pipeline with fair pipeline compile --format kfp", c.Context)
}

func runPipeline(ctx context.Context, io *iostreams.IOStreams, cfg *config.Config, pf pipelineFlags, path string) error {
	p, err := loadPipeline(path)
	if err != nil {
		return err
	}
	repo, err := artifactRepo(cfg, pf)
	if err != nil {
		return err
	}
	c, err := connect(cfg)
	if err != nil {
		return err
	}
	if err := argoInstalled(c); err != nil {
		return err
	}
	start := time.Now()
	imgs, err := buildPipeline(ctx, io, cfg, pf, p, repo)
	if err != nil {
		return err
	}
	built := time.Since(start)
	name := cfg.Name
	if name == "" {
		name = deployer.NameFor(p.Name, time.Now())
	}
	wf, err := pipeline.Argo(p, imgs, pipeline.Options{
		ArtifactRepo: repo, Insecure: insecureHost(cfg, repo), Namespace: c.Namespace, Name: name,
		ServiceAccount: cfg.ServiceAccount, ImagePullSecrets: cfg.ImagePullSecrets, HostNetwork: pf.hostNetwork,
	})
	if err != nil {
		return err
	}
	submitStart := time.Now()
	if _, err := c.Apply(ctx, []*unstructured.Unstructured{wf}, deployer.ApplyOptions{DryRun: pf.dryRun}); err != nil {
		return err
	}
	if pf.dryRun {
		fmt.Fprintf(io.Out, "workflow/%s valid (server dry run)\n", name)
		return nil
	}
	fmt.Fprintf(io.Err, "workflow/%s submitted to namespace %s (build %.1fs, submit %.1fs)\n", name, c.Namespace, built.Seconds(), time.Since(submitStart).Seconds())
	if pf.detach {
		fmt.Fprintln(io.Out, name)
		return nil
	}
	return followPipeline(ctx, io, c, name, pf, true)
}

func getWorkflow(ctx context.Context, c *deployer.Client, name string) (*unstructured.Unstructured, error) {
	u, err := c.Dynamic.Resource(workflowGVR).Namespace(c.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("no pipeline run %s in namespace %s", name, c.Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("get workflow %s: %v", name, err)
	}
	return u, nil
}

// followPipeline polls the Workflow until it ends, drawing the step table
// and streaming every step's logs prefixed with [step].
func followPipeline(ctx context.Context, io *iostreams.IOStreams, c *deployer.Client, name string, pf pipelineFlags, table bool) error {
	out := &prefixedOut{w: io.Out, status: io.Err, tty: io.ErrTTY && table}
	streams := &stepStreams{c: c, ns: c.Namespace, out: out, started: map[string]bool{}}
	begin := time.Now()
	warned := false
	last := map[string]string{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for ctx.Err() == nil {
		u, err := getWorkflow(ctx, c, name)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return err
		}
		st := pipeline.WorkflowStatus(u)
		if table {
			if out.tty {
				out.setStatus(st.Line(time.Now()))
			} else {
				for _, s := range st.Steps {
					if last[s.Name] != s.Phase {
						last[s.Name] = s.Phase
						fmt.Fprintf(io.Err, "step %s: %s\n", s.Name, strings.ToLower(s.Phase))
					}
				}
			}
		}
		if st.Phase == "" && !warned && pf.noController > 0 && time.Since(begin) > pf.noController {
			warned = true
			out.note(fmt.Sprintf("warning: no Argo workflow controller has picked up workflow %s after %s: the Workflow CRD is installed but no workflow-controller seems to run in this cluster", name, pf.noController))
		}
		streams.poll(ctx, name)
		if st.Done() {
			streams.wait(5 * time.Second)
			out.setStatus("")
			if table {
				st.Table(io.Err, time.Now())
			}
			if st.Phase != "Succeeded" {
				return &ExitError{Code: 1, Err: fmt.Errorf("pipeline %s failed: %s", name, st.Failure())}
			}
			fmt.Fprintf(io.Err, "workflow/%s succeeded in %s\n", name, st.Finished.Sub(st.Started).Round(time.Second))
			return nil
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	out.setStatus("")
	fmt.Fprintln(io.Err)
	return detached(fmt.Sprintf("workflow/%s keeps running; re-attach with: fair pipeline logs %s -f -n %s", name, name, c.Namespace))
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
	if emissaryLine(text) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintf(p.w, "[%s] %s\n", step, text)
	p.draw()
}

// emissaryLine reports a line Argo's executor writes into the step's own
// log: logfmt lines carrying the field argo=true (time="..." level=info
// msg="sub-process exited" argo=true error="<nil>"), and the "Error: exit
// status N" it prints when the program fails (fair says that once, in the
// run's failure line).
func emissaryLine(text string) bool {
	text = strings.TrimRight(text, "\r")
	if strings.HasPrefix(text, `time="`) && strings.Contains(text, " level=") {
		return strings.HasSuffix(text, " argo=true") || strings.Contains(text, " argo=true ")
	}
	return emissaryExit.MatchString(text)
}

var emissaryExit = regexp.MustCompile(`^Error: exit status \d+$`)

func (p *prefixedOut) note(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintln(p.status, text)
	p.draw()
}

// stepStreams follows the main container of each step pod once it starts.
type stepStreams struct {
	c       *deployer.Client
	ns      string
	out     *prefixedOut
	started map[string]bool // pod names, touched by the polling loop only
	wg      sync.WaitGroup
}

func (s *stepStreams) poll(ctx context.Context, workflow string) {
	pods, err := s.c.Core.CoreV1().Pods(s.ns).List(ctx, metav1.ListOptions{LabelSelector: labelWorkflow + "=" + workflow})
	if err != nil {
		return
	}
	for i := range pods.Items {
		pod := &pods.Items[i]
		if s.started[pod.Name] || !mainStarted(pod) {
			continue
		}
		s.started[pod.Name] = true
		step := pod.Labels[pipeline.LabelStep]
		if step == "" {
			step = pod.Name
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			rc, err := s.c.Core.CoreV1().Pods(s.ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "main", Follow: true}).Stream(ctx)
			if err != nil {
				s.out.logLine(step, "(logs unavailable: "+err.Error()+")")
				return
			}
			defer rc.Close()
			sc := bufio.NewScanner(rc)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				s.out.logLine(step, sc.Text())
			}
		}()
	}
}

func (s *stepStreams) wait(d time.Duration) {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

func mainStarted(p *corev1.Pod) bool {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == "main" {
			return cs.State.Running != nil || cs.State.Terminated != nil
		}
	}
	return false
}

// printStepLogs prints what each step pod has logged so far, step by step.
func printStepLogs(ctx context.Context, w io.Writer, c *deployer.Client, workflow string) error {
	pods, err := c.Core.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: labelWorkflow + "=" + workflow})
	if err != nil {
		return fmt.Errorf("list pods of %s: %v", workflow, err)
	}
	sort.Slice(pods.Items, func(i, j int) bool {
		return pods.Items[i].CreationTimestamp.Before(&pods.Items[j].CreationTimestamp)
	})
	if len(pods.Items) == 0 {
		fmt.Fprintf(w, "workflow %s has no step pods yet\n", workflow)
	}
	out := &prefixedOut{w: w}
	for i := range pods.Items {
		pod := &pods.Items[i]
		if !mainStarted(pod) {
			continue
		}
		step := pod.Labels[pipeline.LabelStep]
		b, err := c.Core.CoreV1().Pods(c.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "main"}).DoRaw(ctx)
		if err != nil {
			out.logLine(step, "(logs unavailable: "+err.Error()+")")
			continue
		}
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			out.logLine(step, l)
		}
	}
	return nil
}
