package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/fair-go/fair/build"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/models"
	"github.com/fair-go/fair/podruntime"
	"github.com/fair-go/fair/sweep"
)

// SweepOptions say how a sweep runs beside Options.
type SweepOptions struct {
	Spec sweep.Spec
	// SkipMetricCheck submits even when the objective's name appears in
	// none of the source's files.
	SkipMetricCheck bool
	// Observer, when set, receives the sweep's status each time it changes
	// (the notebook's live table and chart) instead of progress lines.
	Observer func(*sweep.Status)
	// Poll is how often the trials are read (default 1 s).
	Poll time.Duration
}

// SweepFailed is a sweep whose Experiment failed (too many failed trials,
// a bad suggestion): its final status.
type SweepFailed struct{ Status *sweep.Status }

func (e *SweepFailed) Error() string {
	msg := e.Status.Message
	if msg == "" {
		msg = e.Status.Reason
	}
	return fmt.Sprintf("sweep %s failed: %s", e.Status.Name, msg)
}

// Sweep builds (or takes) the image once and submits a Katib Experiment
// whose trials run it as fair train would, with the parameters Katib
// suggests, then follows it to its end and writes the best trial and the
// command that trains with its parameters to Out.
func Sweep(ctx context.Context, o Options, so SweepOptions) (*sweep.Status, error) {
	o.defaults()
	cfg := o.Config
	spec := so.Spec
	spec.Defaults()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	kind := deployer.Kind(cfg.Kind)
	if kind == "" {
		kind = deployer.KindJob
	}
	if _, err := sweep.ShapeOf(kind); err != nil {
		return nil, err
	}
	if !so.SkipMetricCheck && o.Path != "" && o.Image == "" {
		if err := metricInSource(o.Path, spec.Objective); err != nil {
			return nil, err
		}
	}
	var c *deployer.Client
	if o.DryRun != "client" {
		var err error
		if c, err = o.Connect(cfg); err != nil {
			return nil, err
		}
		image, err := katibReady(ctx, c, spec.Algorithm)
		if err != nil {
			return nil, err
		}
		if strings.Contains(image, "goptuna") {
			for _, p := range spec.Params {
				if p.Log {
					// Katib v0.19's goptuna service reads no distribution.
					fmt.Fprintf(o.Progress, "warning: Katib's goptuna suggestion service (%s) samples %s uniformly: it ignores :log (logUniform), which its hyperopt and optuna services honour\n", spec.Algorithm, p.Name)
				}
			}
		}
	}
	if len(cfg.Name) > 40 {
		return nil, fmt.Errorf("sweep name %q: Katib takes at most 40 characters", cfg.Name)
	}
	w, err := Prepare(ctx, o, deployer.KindJob)
	if err != nil {
		return nil, err
	}
	if len(w.Name) > 40 {
		return nil, fmt.Errorf("sweep name %q: Katib takes at most 40 characters", w.Name)
	}
	if w.Namespace == "" && c != nil {
		w.Namespace = c.Namespace
	}
	if o.DryRun == "" {
		if cfg.Model != "" {
			// Each trial saves its model as NAME:TRIAL; the best one
			// becomes NAME:latest at the end.
			if err := saveModel(ctx, o, c, w, sweep.TrialNameRef); err != nil {
				return nil, err
			}
		}
		ref, err := podruntime.WithShell(ctx, cfg, w.Image, build.Options{Progress: o.Progress, TTY: o.TTY})
		if err != nil {
			return nil, err
		}
		w.Image = ref
	}
	e, err := sweep.Experiment(spec, w, deployer.WithTemplateDir(ProjectDir(cfg)))
	if err != nil {
		return nil, err
	}
	if o.DryRun != "" {
		if o.DryRun != "client" && o.DryRun != "server" {
			return nil, fmt.Errorf("--dry-run: want client or server, got %q", o.DryRun)
		}
		objs := []*unstructured.Unstructured{e}
		if o.DryRun == "server" {
			if objs, err = c.Apply(ctx, objs, deployer.ApplyOptions{DryRun: true}); err != nil {
				return nil, err
			}
		}
		out, err := deployer.EncodeYAML(objs)
		if err != nil {
			return nil, err
		}
		_, err = o.Out.Write(out)
		return nil, err
	}
	if err := c.RequireRefs(ctx, w); err != nil {
		return nil, err
	}
	if err := injectionEnabled(ctx, c, w.Namespace, o.Progress); err != nil {
		return nil, err
	}
	if err := makeRoomForSweep(ctx, c, w.Namespace, w.Name, o.Progress); err != nil {
		return nil, err
	}
	if _, err := c.Apply(ctx, []*unstructured.Unstructured{e}, deployer.ApplyOptions{ForceConflicts: o.ForceConflicts}); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Progress, "sweep %s submitted to namespace %s: %d trials, %d at a time, %s %s by %s (image %s)\n",
		w.Name, w.Namespace, spec.Trials, spec.Parallel, spec.Goal, spec.Objective, spec.Algorithm, w.Image)
	if o.Detach {
		fmt.Fprintln(o.Out, w.Name)
		return nil, nil
	}
	st, err := FollowSweep(ctx, c, w.Namespace, w.Name, o, so)
	if err != nil {
		return st, interrupted(c, w.Namespace, w.Name, cfg.OnInterrupt, o.Progress, err)
	}
	// The trials' shape, for the command that trains once like the best.
	var flags []string
	if cfg.Workers > 0 {
		flags = append(flags, "--workers", fmt.Sprint(cfg.Workers))
	}
	if cfg.Runtime != "" {
		flags = append(flags, "--runtime", cfg.Runtime)
	}
	if cfg.GPUs > 0 {
		flags = append(flags, "--gpus", fmt.Sprint(cfg.GPUs))
	}
	flags = append(flags, givenFlags(cfg)...)
	cmd := st.BestCommand(o.Path, o.Image, spec.Args, flags...)
	if so.Observer != nil {
		// The live display holds the table already.
		writeBest(o.Out, st, cmd)
	} else {
		WriteSweepResult(o.Out, st, cmd)
	}
	if cfg.Model != "" && st.Best != nil {
		best := models.Repo(cfg.Registry, cfg.Model) + ":" + st.Best.Name
		if err := models.Tag(ctx, best, "latest", ModelOptions(cfg, best)); err != nil {
			fmt.Fprintf(o.Progress, "warning: the best trial's model: %v\n", err)
		} else {
			reportModel(ctx, o, st.Best.Name)
			fmt.Fprintf(o.Progress, "the best trial's model is now %s:latest\n", cfg.Model)
		}
	}
	if st.Phase == "Failed" {
		return st, &SweepFailed{Status: st}
	}
	return st, nil
}

// WriteSweepResult writes the trials' table, the best trial and, when
// given, the command line that trains with its parameters.
func WriteSweepResult(w io.Writer, st *sweep.Status, command string) {
	fmt.Fprintln(w, st.Summary())
	_ = st.WriteTable(w)
	writeBest(w, st, command)
}

// writeBest writes the sweep's end condition, the best trial and the
// command that trains with its parameters.
func writeBest(w io.Writer, st *sweep.Status, command string) {
	if st.Done() && st.Message != "" {
		fmt.Fprintf(w, "%s: %s\n", strings.ToLower(st.Phase), st.Message)
	}
	if st.Best == nil {
		fmt.Fprintf(w, "no trial reported %s\n", st.Objective)
		return
	}
	var params []string
	for _, a := range st.Best.Params {
		params = append(params, a.Name+"="+a.Value)
	}
	fmt.Fprintf(w, "best trial %s: %s=%s with %s\n", st.Best.Name, st.Objective, st.Best.Metrics[st.Objective], strings.Join(params, " "))
	if command != "" {
		fmt.Fprintf(w, "train with them: %s\n", command)
	}
}

// FollowSweep reads the sweep until it ends, telling so.Observer (or
// writing a line per trial change to Progress). An interrupted follow is
// ErrDetached: the sweep goes on.
func FollowSweep(ctx context.Context, c *deployer.Client, ns, name string, o Options, so SweepOptions) (*sweep.Status, error) {
	o.defaults()
	poll := so.Poll
	if poll == 0 {
		poll = time.Second
	}
	seen := map[string]string{}
	var last *sweep.Status
	drawn := 0 // lines of the table last drawn on a terminal
	for {
		st, err := sweep.Get(ctx, c.Dynamic, ns, name)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if apierrors.IsNotFound(err) {
				return last, fmt.Errorf("sweep %s: deleted while followed", name)
			}
			return last, fmt.Errorf("sweep %s: %v", name, err)
		}
		last = st
		changed := false
		for _, t := range st.Trials {
			state := t.Phase
			if t.Objective != nil {
				state += fmt.Sprint(*t.Objective)
			}
			if seen[t.Name] == state {
				continue
			}
			seen[t.Name], changed = state, true
			if so.Observer == nil && !o.TTY {
				fmt.Fprintln(o.Progress, trialLine(st, t))
			}
		}
		if seen[""] != st.Phase {
			seen[""], changed = st.Phase, true
		}
		if o.TTY && so.Observer == nil && (changed || !st.Done()) {
			// A terminal gets the table, redrawn in place (durations tick).
			var b strings.Builder
			b.WriteString(st.Summary() + "\n")
			_ = st.WriteTable(&b)
			if drawn > 0 {
				fmt.Fprintf(o.Progress, "\x1b[%dA\x1b[J", drawn)
			}
			fmt.Fprint(o.Progress, b.String())
			drawn = strings.Count(b.String(), "\n")
		}
		if changed && so.Observer != nil {
			so.Observer(st)
		}
		if st.Done() {
			return st, nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(poll):
			continue
		}
		break
	}
	fmt.Fprintln(o.Progress)
	return last, fmt.Errorf("%w: sweep %s keeps running; follow it with: fair sweep status %s -w -n %s", ErrDetached, name, name, ns)
}

// interrupted handles a follow that ended with err: with onInterrupt
// "cancel", a detached sweep is deleted with its trials (ErrCancelled), as
// fair train cancels a run; any other error is returned as it is.
func interrupted(c *deployer.Client, ns, name, onInterrupt string, progress io.Writer, err error) error {
	if !errors.Is(err, ErrDetached) || onInterrupt != "cancel" {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if derr := DeleteSweep(ctx, c, ns, name, 0); derr != nil && !apierrors.IsNotFound(derr) {
		return derr
	}
	fmt.Fprintf(progress, "cancelled: sweep %s deleted with its trials\n", name)
	return fmt.Errorf("sweep %s %w", name, ErrCancelled)
}

func trialLine(st *sweep.Status, t sweep.Trial) string {
	var params []string
	for _, a := range t.Params {
		params = append(params, a.Name+"="+a.Value)
	}
	line := fmt.Sprintf("trial %s: %s (%s)", t.Name, strings.ToLower(t.Phase), strings.Join(params, " "))
	if t.Objective != nil {
		line += fmt.Sprintf(" %s=%g", st.Objective, *t.Objective)
	}
	switch t.Phase {
	case sweep.PhaseMetricsUnavailable:
		line += fmt.Sprintf(": it printed no %s=VALUE line", st.Objective)
	case sweep.PhaseFailed:
		if t.Message != "" {
			line += ": " + t.Message
		}
	}
	return line
}

// katibReady checks that the cluster runs Katib's API and, where its
// configuration can be read, that it has a suggestion service for the
// algorithm, whose image it returns ("" when unknown).
func katibReady(ctx context.Context, c *deployer.Client, algorithm string) (string, error) {
	ok, err := c.Serves(sweep.ExperimentGVR)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("no Katib on this cluster (the API server does not serve kubeflow.org/v1beta1 Experiments); install it with: %s", sweep.KatibInstall)
	}
	cm, err := c.Core.CoreV1().ConfigMaps("kubeflow").Get(ctx, "katib-config", metav1.GetOptions{})
	if err != nil {
		return "", nil // another namespace or no right to read it: Katib will say
	}
	var kc struct {
		Runtime struct {
			Suggestions []struct {
				AlgorithmName string `json:"algorithmName"`
				Image         string `json:"image"`
			} `json:"suggestions"`
		} `json:"runtime"`
	}
	if yaml.Unmarshal([]byte(cm.Data["katib-config.yaml"]), &kc) != nil || len(kc.Runtime.Suggestions) == 0 {
		return "", nil
	}
	var names []string
	for _, s := range kc.Runtime.Suggestions {
		if s.AlgorithmName == algorithm {
			return s.Image, nil
		}
		names = append(names, s.AlgorithmName)
	}
	return "", fmt.Errorf("--algorithm %s: Katib on this cluster has no suggestion service for it (it has: %s)", algorithm, strings.Join(names, ", "))
}

// injectionEnabled makes sure Katib's webhook adds its metrics collector
// to trial pods in ns: the namespace needs Katib's label, which fair adds
// when it may.
func injectionEnabled(ctx context.Context, c *deployer.Client, ns string, progress io.Writer) error {
	n, err := c.Core.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err == nil && n.Labels[sweep.InjectionLabel] == "enabled" {
		return nil
	}
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:"enabled"}}}`, sweep.InjectionLabel)
	if _, perr := c.Core.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: deployer.FieldManager}); perr != nil {
		return fmt.Errorf("namespace %s needs the label %s=enabled for Katib to read trials' metrics, and fair could not add it (%v); ask an administrator for: kubectl label namespace %s %s=enabled",
			ns, sweep.InjectionLabel, firstLineOf(perr.Error()), ns, sweep.InjectionLabel)
	}
	fmt.Fprintf(progress, "labelled namespace %s %s=enabled (Katib reads trials' metrics there)\n", ns, sweep.InjectionLabel)
	return nil
}

// makeRoomForSweep deletes a finished sweep of the same name (a rerun);
// a running one is refused.
func makeRoomForSweep(ctx context.Context, c *deployer.Client, ns, name string, progress io.Writer) error {
	st, err := sweep.Get(ctx, c.Dynamic, ns, name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.Done() {
		return fmt.Errorf("%w: sweep %s is still running in namespace %s; delete it first (fair sweep delete %s) or pick another --name", deployer.ErrNameTaken, name, ns, name)
	}
	if err := DeleteSweep(ctx, c, ns, name, time.Minute); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	fmt.Fprintf(progress, "replaced the finished sweep %s (%s) of the same name\n", name, strings.ToLower(st.Phase))
	return nil
}

// DeleteSweep deletes sweep name with its trials and suggestion service
// (foreground deletion) and, with wait > 0, returns once it is gone, as
// kubectl delete does. A missing sweep is the API's NotFound error.
func DeleteSweep(ctx context.Context, c *deployer.Client, ns, name string, wait time.Duration) error {
	ri := c.Dynamic.Resource(sweep.ExperimentGVR).Namespace(ns)
	// In the background: with foreground deletion the Experiment waits for
	// its Suggestion, whose Deployment Katib makes again as long as the
	// Suggestion exists, for minutes. The garbage collector removes the
	// trials and the Suggestion once the Experiment is gone.
	bg := metav1.DeletePropagationBackground
	if err := ri.Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil {
		return err
	}
	// Waited for: a sweep of the same name started next would meet the
	// old Suggestion, and Katib, which finds an Experiment's trials by its
	// name, would count the old trials as the new sweep's and end it at
	// once ("max trial count has reached", with none of its own run).
	deadline := time.Now().Add(wait)
	for wait > 0 {
		if sweepGone(ctx, c.Dynamic, ns, name) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sweep %s: still being deleted after %s", name, wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// sweepGone reports whether nothing of sweep name is left that a new
// sweep of that name would meet: its Experiment, its Suggestion, or a Trial
// with its name (what Katib counts as an Experiment's trials). What fair
// may not read counts as gone.
func sweepGone(ctx context.Context, dyn dynamic.Interface, ns, name string) bool {
	_, errE := dyn.Resource(sweep.ExperimentGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	_, errS := dyn.Resource(sweep.SuggestionGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	trials, errT := dyn.Resource(sweep.TrialGVR).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: sweep.KatibExperimentLabel + "=" + name})
	return apierrors.IsNotFound(errE) && errS != nil && (errT != nil || len(trials.Items) == 0)
}

// metricInSource refuses a sweep whose objective appears in none of the
// source's files: its trials would all end without a metric.
func metricInSource(path, metric string) error {
	st, err := os.Stat(path)
	if err != nil {
		return nil // not a local path (a package path): the build will say
	}
	root := path
	if !st.IsDir() {
		root = filepath.Dir(path)
	}
	found := false
	errStop := errors.New("found")
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "vendor" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if info, err := d.Info(); err != nil || info.Size() > 4<<20 {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), metric) {
			found = true
			return errStop
		}
		return nil
	})
	if !found {
		return fmt.Errorf("--objective %s: no file of %s mentions %q, so no trial would print %s=VALUE (Katib reads the program's output); --skip-metric-check submits anyway", metric, path, metric, metric)
	}
	return nil
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// ListSweeps reads the sweeps of namespace ns (Katib's Experiments that
// fair made), newest last; a cluster without Katib has none.
func ListSweeps(ctx context.Context, c *deployer.Client, ns string) ([]*sweep.Status, error) {
	if ok, err := c.Serves(sweep.ExperimentGVR); err != nil || !ok {
		return nil, err
	}
	list, err := c.Dynamic.Resource(sweep.ExperimentGVR).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: deployer.LabelManagedBy + "=" + deployer.ManagedBy})
	if err != nil {
		return nil, err
	}
	trials, err := c.Dynamic.Resource(sweep.TrialGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []*sweep.Status
	for i := range list.Items {
		e := &list.Items[i]
		var mine []unstructured.Unstructured
		for _, t := range trials.Items {
			if t.GetLabels()[sweep.KatibExperimentLabel] == e.GetName() {
				mine = append(mine, t)
			}
		}
		out = append(out, sweep.FromObjects(e, mine))
	}
	return out, nil
}

// givenFlags are the flags of the sweep's command line (or notebook line)
// that shape how the program builds and runs, for the command that trains
// once like the best trial: without --base and --cmd a Python folder does
// not build, without -n it runs elsewhere. fair.yaml's values apply to
// that command by themselves.
func givenFlags(cfg *config.Config) []string {
	given := func(key string) bool {
		o := cfg.Origin(key)
		return strings.HasPrefix(o, config.OriginFlag) || strings.HasPrefix(o, "notebook")
	}
	var out []string
	for _, k := range []struct{ key, flag string }{
		{"base", "--base"}, {"cmd", "--cmd"}, {"workdir", "--workdir"}, {"context", "--context"},
		{"namespace", "-n"}, {"cpu", "--cpu"}, {"memory", "--memory"}, {"gpuResource", "--gpu-resource"},
		{"model", "--model"},
	} {
		if given(k.key) {
			if v, err := cfg.Get(k.key); err == nil && v != "" {
				out = append(out, k.flag, v)
			}
		}
	}
	if given("env") {
		for _, e := range cfg.Env {
			out = append(out, "-e", e)
		}
	}
	return out
}
