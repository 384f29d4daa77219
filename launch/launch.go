// Package launch starts runs: it builds a source into an image (package
// build), or takes one, maps fair's configuration onto a workload, submits
// it and follows it to its end (package deployer). The command line, the
// notebook's %kf magics, the notebook panel and IDE run configurations all
// start runs through Train and Serve, so a run starts the same way from
// every front door; those only parse, call and print.
package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fair-go/fair/build"
	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/templates"
)

// ErrDetached marks a follow that ended because its context did (Ctrl-C, a
// closed terminal, the notebook's stop button) while the run goes on.
var ErrDetached = errors.New("detached")

// ErrCancelled marks a run deleted because its follow was interrupted and
// the configuration says onInterrupt: cancel.
var ErrCancelled = errors.New("cancelled")

// RunFailed is a run that ended in failure; ExitCode is its failing
// replica's exit status (1 when it has none).
type RunFailed struct {
	Result *deployer.Result
}

func (e *RunFailed) Error() string { return e.Result.Err().Error() }

// ExitCode is the status a command should exit with.
func (e *RunFailed) ExitCode() int {
	if e.Result.ExitCode != 0 {
		return e.Result.ExitCode
	}
	return 1
}

// Options say what to run and where its output goes.
type Options struct {
	Config *config.Config

	// Path is the source to build (a Go package, a folder, a Dockerfile
	// project, a notebook); empty with Image, or with Source alone.
	Path string
	// Source, when set, makes the source to build instead of Path (the
	// notebook kernel's cells, a notebook file read once); verb is train
	// or serve.
	Source func(cfg *config.Config, verb string) (builder.Source, error)
	// Image runs a ready image instead of building.
	Image string
	// Args are passed to the program.
	Args []string
	// Detach returns once the run is submitted (its name goes to Out).
	Detach bool
	// DryRun, "client" or "server", writes the objects to Out instead of
	// submitting them (server: validated by the API server).
	DryRun string
	// ForceConflicts takes over fields another field manager set on the
	// run's objects (server-side apply's force).
	ForceConflicts bool

	// Out receives results: the replicas' logs (prefixed [replica]), a
	// dry run's objects, a detached run's name, an endpoint's URL.
	Out io.Writer
	// Progress receives progress lines; TTY redraws them in place.
	Progress io.Writer
	TTY      bool
	// ModelSaved, when set, is told NAME:RUN of the model a training run
	// with --model saved (the kernel remembers it for --model last).
	ModelSaved func(model string)
	// Observer receives the run's events instead of progress lines (the
	// notebook's live display); the last lines of a failed replica are
	// then not repeated on Progress either.
	Observer deployer.Observer

	// Connect reaches the cluster and Build builds; nil uses the
	// configuration's cluster and build.Image. Tests and other front
	// doors put their own here.
	Connect func(*config.Config) (*deployer.Client, error)
	Build   func(ctx context.Context, cfg *config.Config, o build.Options) (string, error)
}

func (o *Options) defaults() {
	if o.Connect == nil {
		o.Connect = Connect
	}
	if o.Build == nil {
		o.Build = build.Image
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// Connect reaches the cluster the configuration names.
func Connect(cfg *config.Config) (*deployer.Client, error) {
	return deployer.Connect(deployer.WithKubeconfig(cfg.Kubeconfig), deployer.WithContext(cfg.Context), deployer.WithNamespace(cfg.Namespace))
}

// ProjectDir is where .fair/templates is looked for: the folder of
// fair.yaml, else the working directory.
func ProjectDir(cfg *config.Config) string {
	if cfg.File != "" {
		return filepath.Dir(cfg.File)
	}
	wd, _ := os.Getwd()
	return wd
}

// templateNote says when a run uses the project's own template instead of
// fair's: a template from a cloned repository decides what the pods may
// do (volumes, privileges), so the user should know.
func templateNote(w io.Writer, cfg *config.Config, k deployer.Kind) {
	if _, from, err := templates.Source(ProjectDir(cfg), deployer.TemplateName(k)); err == nil && !strings.HasPrefix(from, "builtin:") {
		fmt.Fprintf(w, "using the project's template %s for %s\n", from, k)
	}
}

// Prepare builds (or takes) the image and maps the configuration onto a
// workload, of kind def unless the configuration names one.
func Prepare(ctx context.Context, o Options, def deployer.Kind) (*deployer.Workload, error) {
	o.defaults()
	cfg, src, image := o.Config, o.Path, o.Image
	verb := "train"
	if !def.Training() {
		verb = "serve"
	}
	var source builder.Source
	if o.Source != nil {
		var err error
		if source, err = o.Source(cfg, verb); err != nil {
			return nil, err
		}
		if src == "" {
			src = source.Name()
		}
	}
	if src != "" {
		// Until it is built (a dry run never builds), the image is the
		// source's placeholder.
		image = deployer.RefScheme + src
	}
	w, err := deployer.FromConfig(cfg, image, def)
	if err != nil {
		return nil, err
	}
	w.Args = o.Args
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
	switch {
	case def.Training() && !w.Kind.Training():
		return nil, fmt.Errorf("kind %s serves; use fair serve", w.Kind)
	case !def.Training() && w.Kind.Training():
		return nil, fmt.Errorf("kind %s is a training kind; use fair train", w.Kind)
	}
	// A bad flag fails before a build, not after it. The namespace may
	// come from the kube context later.
	check := *w
	if check.Namespace == "" {
		check.Namespace = "default"
	}
	if err := check.Validate(); err != nil {
		return nil, err
	}
	if src != "" && o.DryRun == "" {
		if w.Image, err = o.Build(ctx, cfg, build.Options{Path: src, Source: source, Verb: verb, Progress: o.Progress, TTY: o.TTY}); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// prepareChecked is Prepare with the cluster reached, and asked whether it
// serves the run's kind, beside the build: an unreachable cluster or a
// missing operator stops the build and is said at once, not after a build
// that may take minutes. A bad flag is still said first, and a build that
// fails on its own says so without waiting for the cluster.
func prepareChecked(ctx context.Context, o Options, def deployer.Kind) (*deployer.Workload, *deployer.Client, error) {
	o.defaults()
	if o.DryRun != "" {
		w, err := Prepare(ctx, o, def)
		return w, nil, err
	}
	k := def
	if o.Config.Kind != "" {
		var err error
		if k, err = deployer.ParseKind(o.Config.Kind); err != nil {
			k = "" // Prepare reports it
		}
	}
	type checked struct {
		c   *deployer.Client
		err error
	}
	var done chan checked // set once the build starts
	inner := o.Build
	o.Build = func(bctx context.Context, cfg *config.Config, bo build.Options) (string, error) {
		bctx, cancel := context.WithCancel(bctx) // the check outlives the build: it has ctx
		defer cancel()
		done = make(chan checked, 1)
		failed := make(chan error, 1)
		go func() {
			c, err := o.Connect(o.Config)
			if err == nil && k != "" {
				err = c.Require(k)
			}
			if err == nil {
				err = c.RequireNamespace(ctx)
			}
			if err != nil {
				failed <- err
				cancel()
			}
			done <- checked{c, err}
		}()
		img, err := inner(bctx, cfg, bo)
		if err != nil {
			select {
			case cerr := <-failed: // the build was stopped by the check
				return "", cerr
			default:
			}
		}
		return img, err
	}
	w, err := Prepare(ctx, o, def)
	if err != nil {
		return nil, nil, err
	}
	if done == nil { // nothing was built: an image given
		c, err := o.Connect(o.Config)
		return w, c, err
	}
	ch := <-done
	return w, ch.c, ch.err
}

// dryRun writes the objects of w to Out, validated by the API server when
// mode is "server".
func dryRun(ctx context.Context, o Options, w *deployer.Workload) error {
	mode := o.DryRun
	if mode != "client" && mode != "server" {
		return fmt.Errorf("--dry-run: want client or server, got %q", mode)
	}
	var c *deployer.Client
	if mode == "server" || w.Namespace == "" {
		var err error
		if c, err = o.Connect(o.Config); err != nil && mode == "server" {
			return err
		}
		if c != nil && w.Namespace == "" {
			w.Namespace = c.Namespace
		}
	}
	objs, err := deployer.Render(w, deployer.WithTemplateDir(ProjectDir(o.Config)))
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
	_, err = o.Out.Write(out)
	return err
}

// Train builds (or takes) the image, submits it as a training run and
// follows it to its end: the replicas' logs to Out, progress to Progress
// (or Observer). A failed run is a *RunFailed; an interrupted follow is
// ErrDetached (or ErrCancelled, when the configuration says so).
func Train(ctx context.Context, o Options) error {
	o.defaults()
	cfg := o.Config
	if cfg.Model != "" {
		if err := checkModelName(cfg.Model); err != nil {
			return err
		}
	}
	var c *deployer.Client
	if cfg.Name != "" && o.DryRun == "" {
		// A name still in use is refused before the build, not after.
		k := deployer.KindJob
		if cfg.Kind != "" {
			k, _ = deployer.ParseKind(cfg.Kind) // a bad kind is Prepare's to report
		}
		var err error
		if c, err = o.Connect(cfg); err != nil {
			return err
		}
		if k != "" && k.Training() {
			if err := c.NameFree(ctx, k, cfg.Name); err != nil {
				return err
			}
		}
		if err := c.RequireNamespace(ctx); err != nil {
			return err
		}
	}
	var tm traceMapper
	if inner := o.Source; inner != nil {
		o.Source = func(cfg *config.Config, verb string) (builder.Source, error) {
			s, err := inner(cfg, verb)
			tm, _ = s.(traceMapper)
			return s, err
		}
	}
	var w *deployer.Workload
	var err error
	if c == nil {
		w, c, err = prepareChecked(ctx, o, deployer.KindJob)
	} else {
		w, err = Prepare(ctx, o, deployer.KindJob)
	}
	if tm != nil { // the logs, and a failed replica's last lines
		o.Out, o.Progress = mappedWriter{o.Out, tm.MapTrace}, mappedWriter{o.Progress, tm.MapTrace}
	}
	if err != nil {
		return err
	}
	if o.DryRun != "" {
		return dryRun(ctx, o, w)
	}
	if cfg.Model != "" {
		if err := saveModel(ctx, o, c, w, w.Name); err != nil {
			return err
		}
	}
	if err := c.RequireRefs(ctx, w); err != nil {
		return err
	}
	templateNote(o.Progress, cfg, w.Kind)
	start := time.Now()
	w.ForceConflicts = o.ForceConflicts
	sub, err := c.Submit(ctx, w, deployer.WithTemplateDir(ProjectDir(cfg)))
	if err != nil {
		return err
	}
	run := sub.Run
	if sub.Replaced {
		fmt.Fprintf(o.Progress, "replaced the finished %s/%s (%s) of the same name\n", run.Kind, run.Name, strings.ToLower(string(sub.Previous)))
	}
	fmt.Fprintf(o.Progress, "%s/%s submitted to namespace %s (image %s)\n", run.Kind, run.Name, run.Namespace, w.Image)
	gpuWarning(ctx, o.Progress, c, w)
	if o.Detach {
		fmt.Fprintf(o.Out, "%s\n", run.Name)
		return nil
	}
	err = Follow(ctx, c, run, o, deployer.WatchOptions{Logs: o.Out, Since: start.Add(-time.Second)}, cfg.OnInterrupt)
	if err == nil && cfg.Model != "" {
		reportModel(ctx, o, run.Name)
	}
	return err
}

// gpuWarning warns when no node has the GPUs each replica asks for: the
// run was submitted (an autoscaler may add such a node), but it would
// otherwise wait in Pending with nothing said until the user looks.
func gpuWarning(ctx context.Context, w io.Writer, c *deployer.Client, wl *deployer.Workload) {
	if why := c.GPUShortage(ctx, wl.GPUResource, wl.GPUs); why != "" {
		fmt.Fprintf(w, "warning: %s\n", why)
	}
}

// traceMapper is a source whose program's output names generated files
// (a notebook's): MapTrace names the user's cells instead.
type traceMapper interface{ MapTrace(string) string }

// mappedWriter rewrites what it is given with fn: logs arrive a line or
// more at a time, so a position is never split between two writes.
type mappedWriter struct {
	w  io.Writer
	fn func(string) string
}

func (m mappedWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(m.w, m.fn(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Follow watches a training run to its end. onInterrupt "cancel" deletes
// the run when ctx ends first; anything else detaches.
func Follow(ctx context.Context, c *deployer.Client, run deployer.Run, o Options, wo deployer.WatchOptions, onInterrupt string) error {
	o.defaults()
	wo.Observer = o.Observer
	if wo.Observer == nil {
		wo.Observer = ProgressPrinter(o.Progress, run)
	}
	res, err := c.Watch(ctx, run, wo)
	if err != nil {
		if ctx.Err() == nil {
			return err
		}
		if onInterrupt == "cancel" {
			dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, derr := c.DeleteRun(dctx, run.Name); derr != nil {
				return derr
			}
			fmt.Fprintf(o.Progress, "\ncancelled: %s/%s deleted\n", run.Kind, run.Name)
			return fmt.Errorf("%s %s %w", run.Kind, run.Name, ErrCancelled)
		}
		fmt.Fprintln(o.Progress)
		return fmt.Errorf("%w: %s/%s keeps running; re-attach with: fair logs %s -f -n %s", ErrDetached, run.Kind, run.Name, run.Name, run.Namespace)
	}
	if res.Err() != nil {
		// In a notebook the replicas' logs are in the cell already.
		if len(res.LastLines) > 0 && o.Observer == nil {
			fmt.Fprintf(o.Progress, "--- last lines of %s ---\n%s\n", res.FailedReplica, strings.Join(res.LastLines, "\n"))
		}
		return &RunFailed{Result: res}
	}
	if st := res.Status; st.NotStarted > 0 {
		fmt.Fprintf(o.Progress, "warning: %s/%s %s: it finished when its master did, and the Training Operator does not wait for the other replicas",
			run.Kind, run.Name, strings.ToLower(st.Summary()))
		if len(st.NotStartedNames) > 0 {
			fmt.Fprintf(o.Progress, "; their pods stay, holding what they asked for, until fair delete %s", run.Name)
		}
		fmt.Fprintln(o.Progress)
	}
	if still := stillRunning(ctx, c, run, res.Status.StillRunning); len(still) > 0 {
		are, keep := "is", "keeps its"
		if len(still) > 1 {
			are, keep = "are", "keep their"
		}
		what := "resources"
		if res.Status.GPUs > 0 {
			what = "resources, GPUs included"
		}
		fmt.Fprintf(o.Progress, "warning: %s/%s %s, but %s %s still running %s after it ended (stuck once the master was gone?) and %s %s until fair delete %s (--ttl deletes finished runs next time)\n",
			run.Kind, run.Name, strings.ToLower(string(res.Status.Phase)), andList(still), are, stillGrace, keep, what, run.Name)
	}
	fmt.Fprintf(o.Progress, "%s/%s %s\n", run.Kind, run.Name, strings.ToLower(string(res.Status.Phase)))
	return nil
}

// stillGrace is how long replicas still running when their run finished
// get to end on their own (a worker that finishes just after its master)
// before fair says they are left running.
const stillGrace = 30 * time.Second

// stillRunning waits up to stillGrace for the replicas of a finished run
// that still run, and returns those that do not end.
func stillRunning(ctx context.Context, c *deployer.Client, run deployer.Run, still []string) []string {
	if len(still) == 0 {
		return nil
	}
	// Counted from when the run ended: following a run that ended long
	// ago (fair logs -f) waits for nothing.
	deadline := time.Now().Add(stillGrace)
	if u, err := c.Object(ctx, run); err == nil {
		if s, _, _ := unstructured.NestedString(u.Object, "status", "completionTime"); s != "" {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				deadline = t.Add(stillGrace)
			}
		}
	}
	for len(still) > 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return still
		case <-time.After(2 * time.Second):
		}
		st, err := c.RunStatus(ctx, run)
		if err != nil {
			return nil
		}
		still = st.StillRunning
	}
	return still
}

// andList joins names as "a", "a and b", "a, b and c".
func andList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// ProgressPrinter writes a run's events as lines.
func ProgressPrinter(w io.Writer, run deployer.Run) deployer.Observer {
	return func(e deployer.Event) {
		who := fmt.Sprintf("%s/%s", run.Kind, run.Name)
		if e.Replica != "" {
			who += " " + e.Replica
		}
		switch e.Type {
		case deployer.EventWarning:
			fmt.Fprintf(w, "%s: warning: %s\n", who, e.Message)
		default:
			fmt.Fprintf(w, "%s: %s\n", who, e.Message)
		}
	}
}

// ServeOptions are what Serve does once the endpoint is ready.
type ServeOptions struct {
	// PortForward keeps a local port open to the endpoint until ctx ends
	// (LocalPort, 0 for any free one) and writes its URL to Out.
	PortForward bool
	LocalPort   int
}

// Serve builds (or takes) the image, deploys it as an endpoint (KServe when
// installed, else a Deployment and a Service, unless the configuration
// names the kind), waits until it is ready and writes where it answers to
// Out. A follow interrupted before it is ready is ErrDetached.
func Serve(ctx context.Context, o Options, so ServeOptions) error {
	o.defaults()
	cfg := o.Config
	var c *deployer.Client
	def := deployer.KindDeployment
	if cfg.Kind == "" && o.DryRun != "client" {
		var err error
		if c, err = o.Connect(cfg); err != nil {
			return err
		}
		ok, err := c.Installed(deployer.KindKServe)
		if err != nil {
			return err
		}
		if o.DryRun == "" {
			if err := c.RequireNamespace(ctx); err != nil {
				return err
			}
		}
		if ok {
			def = deployer.KindKServe
		}
	}
	if cfg.Model != "" && o.Path == "" && o.Image == "" && o.Source == nil {
		// No server given: fair's stock server for the model's format.
		if err := stockServer(ctx, &o); err != nil {
			return err
		}
	}
	var w *deployer.Workload
	var err error
	if c == nil {
		w, c, err = prepareChecked(ctx, o, def)
	} else {
		w, err = Prepare(ctx, o, def)
	}
	if err != nil {
		return err
	}
	if o.DryRun != "" {
		return dryRun(ctx, o, w)
	}
	if cfg.Model != "" {
		if err := pullModel(ctx, o, c, w); err != nil {
			return err
		}
	}
	wait := 5 * time.Minute
	if w.Timeout > 0 {
		wait = w.Timeout
	}
	w.Timeout = 0 // for serving kinds it bounds the wait, not the pods
	if err := c.RequireRefs(ctx, w); err != nil {
		return err
	}
	templateNote(o.Progress, cfg, w.Kind)
	start := time.Now()
	w.ForceConflicts = o.ForceConflicts
	sub, err := c.Submit(ctx, w, deployer.WithTemplateDir(ProjectDir(cfg)))
	if err != nil {
		return err
	}
	run := sub.Run
	switch {
	case sub.Replaced:
		fmt.Fprintf(o.Progress, "replaced the finished run %s (%s) of the same name\n", run.Name, strings.ToLower(string(sub.Previous)))
	case sub.Previous != "":
		fmt.Fprintf(o.Progress, "%s/%s exists: updated in place, rolling out the new image\n", run.Kind, run.Name)
	}
	fmt.Fprintf(o.Progress, "%s/%s applied in namespace %s (image %s)\n", run.Kind, run.Name, run.Namespace, w.Image)
	gpuWarning(ctx, o.Progress, c, w)
	if o.Detach {
		fmt.Fprintln(o.Out, run.Name)
		return nil
	}
	obs := o.Observer
	if obs == nil {
		obs = ProgressPrinter(o.Progress, run)
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	res, err := c.Watch(wctx, run, deployer.WatchOptions{Observer: obs, UntilReady: true, Since: start.Add(-time.Second)})
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(o.Progress)
			return fmt.Errorf("%w: %s/%s stays deployed, not ready yet; follow it with fair status %s, remove it with fair delete %s", ErrDetached, run.Kind, run.Name, run.Name, run.Name)
		}
		if wctx.Err() != nil {
			hint := ""
			if run.Kind == deployer.KindKServe {
				hint = " (is the KServe controller running? --kind deployment works without it)"
			}
			if h := probeHint(ctx, c, run, w); h != "" {
				hint = h
			}
			if h := crashHint(ctx, o.Progress, c, run, w); h != "" {
				hint = h
			}
			return fmt.Errorf("%s/%s not ready after %s%s; see fair status %s", run.Kind, run.Name, wait, hint, run.Name)
		}
		return err
	}
	if res.Err() != nil {
		if len(res.LastLines) > 0 && o.Observer == nil {
			fmt.Fprintf(o.Progress, "--- last lines of %s ---\n%s\n", res.FailedReplica, strings.Join(res.LastLines, "\n"))
		}
		if strings.HasPrefix(res.Reason, "CrashLoopBackOff") {
			return fmt.Errorf("%v: the server's program keeps ending; a server must keep running and listen on port %d (--port)", res.Err(), w.Port)
		}
		return &RunFailed{Result: res}
	}
	if sub.Previous != "" && !sub.Replaced {
		// Updated in place: its old pods were ready already; ready is
		// when the new version has replaced them.
		if err := c.RolledOut(wctx, run); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w: %s/%s is rolling out the new version; follow it with fair status %s", ErrDetached, run.Kind, run.Name, run.Name)
			}
			return fmt.Errorf("%s/%s: the new version did not roll out within %s: %v", run.Kind, run.Name, wait, err)
		}
	}
	fmt.Fprintf(o.Progress, "%s/%s ready\n", run.Kind, run.Name)
	if !so.PortForward {
		fmt.Fprintln(o.Out, endpointURL(ctx, c, run, w.Port))
		return nil
	}
	url, done, err := c.PortForward(ctx, run, so.LocalPort, w.Port)
	if err != nil {
		return err
	}
	fmt.Fprintln(o.Out, url)
	fmt.Fprintln(o.Progress, "forwarding; Ctrl-C stops")
	<-done
	return nil
}

// endpointURL says where the endpoint answers inside the cluster.
func endpointURL(ctx context.Context, c *deployer.Client, run deployer.Run, port int) string {
	if run.Kind == deployer.KindKServe {
		if u, err := c.Object(ctx, run); err == nil {
			// The address inside the cluster; status.url is the external
			// one, which answers only where an ingress domain is set up.
			for _, f := range [][]string{{"status", "address", "url"}, {"status", "url"}} {
				if s, _, _ := unstructured.NestedString(u.Object, f...); s != "" {
					return s
				}
			}
		}
	}
	return fmt.Sprintf("http://%s.%s.svc:%d", run.Name, run.Namespace, port)
}

// crashHint explains an endpoint whose server's program keeps ending
// (fewer times than the watch gives up after, within the timeout): it is
// not the readiness probe. Its last lines go to w first.
func crashHint(ctx context.Context, w io.Writer, c *deployer.Client, run deployer.Run, wl *deployer.Workload) string {
	st, err := c.RunStatus(ctx, run)
	if err != nil {
		return ""
	}
	for _, r := range st.Replicas {
		if r.Restarts == 0 {
			continue
		}
		var last bytes.Buffer
		_, _ = c.Logs(ctx, run.Name, &last, deployer.LogOptions{Replica: r.Replica, Previous: true, Tail: 10})
		if last.Len() > 0 {
			fmt.Fprintf(w, "--- last lines of %s before its restart ---\n%s", r.Replica, last.String())
		}
		return fmt.Sprintf(" (its server's program ended %d times, last with exit code %d: a server must keep running and listen on port %d; fair logs %s --previous shows what it printed)", r.Restarts, r.ExitCode, wl.Port, run.Name)
	}
	return ""
}

// probeHint explains an endpoint whose pods run but never pass their
// readiness check: most often a server without the health path --probe
// expects.
func probeHint(ctx context.Context, c *deployer.Client, run deployer.Run, w *deployer.Workload) string {
	if w.Probe == deployer.ProbeTCP {
		return ""
	}
	st, err := c.RunStatus(ctx, run)
	if err != nil || len(st.Replicas) == 0 {
		return ""
	}
	for _, r := range st.Replicas {
		if r.Phase != "Running" || r.Ready {
			return ""
		}
	}
	path := w.Probe
	if path == "" || path == deployer.ProbeOIP {
		path = "/v2/health/ready"
	}
	return fmt.Sprintf(" (its pods run but never answer GET %s on port %d with 2xx: a server without that path needs --probe tcp or --probe PATH)", path, w.Port)
}
