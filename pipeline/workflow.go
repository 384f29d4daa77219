package pipeline

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/fair-go/fair/deployer"
)

// WorkflowGVR is the resource of Argo Workflows.
var WorkflowGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflows"}

// labelWorkflow is the label Argo puts on a workflow's pods.
const labelWorkflow = "workflows.argoproj.io/workflow"

// ErrNoRun is the error of a run name the namespace does not have.
var ErrNoRun = errors.New("no pipeline run")

// Runs are the pipeline runs (Argo Workflows) of one cluster namespace:
// submit, status, logs, follow and delete, for every front door.
type Runs struct {
	c *deployer.Client
}

// NewRuns returns the pipeline runs reachable through c, in c's namespace.
func NewRuns(c *deployer.Client) *Runs { return &Runs{c: c} }

// Installed gives a clear error when the cluster has no Workflow CRD.
func (r *Runs) Installed() error {
	ok, err := r.c.Serves(WorkflowGVR)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("context %s has no Argo Workflows (no argoproj.io/v1alpha1 Workflow resource): install it, or write a KFP pipeline with fair pipeline compile --format kfp", r.c.Context)
	}
	return nil
}

// Submit creates the Workflow; with dryRun the API server only validates it.
func (r *Runs) Submit(ctx context.Context, wf *unstructured.Unstructured, dryRun bool) error {
	_, err := r.c.Apply(ctx, []*unstructured.Unstructured{wf}, deployer.ApplyOptions{DryRun: dryRun})
	return err
}

// Get returns the Workflow of the run called name.
func (r *Runs) Get(ctx context.Context, name string) (*unstructured.Unstructured, error) {
	u, err := r.c.Dynamic.Resource(WorkflowGVR).Namespace(r.c.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%w %s in namespace %s", ErrNoRun, name, r.c.Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("get workflow %s: %v", name, err)
	}
	return u, nil
}

// List returns the namespace's pipeline runs that fair submitted, newest
// first; with a pipeline name, only that pipeline's runs. A cluster
// without Argo Workflows has none.
func (r *Runs) List(ctx context.Context, pipelineName string) ([]RunStatus, error) {
	if ok, err := r.c.Serves(WorkflowGVR); err != nil || !ok {
		return nil, err
	}
	sel := LabelPipeline
	if pipelineName != "" {
		sel += "=" + pipelineName
	}
	list, err := r.c.Dynamic.Resource(WorkflowGVR).Namespace(r.c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list workflows: %v", err)
	}
	out := make([]RunStatus, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, WorkflowStatus(&list.Items[i]))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].Name > out[j].Name
	})
	return out, nil
}

// Resolve returns the run that name means: the run of that name, else the
// newest run of the pipeline of that name (as a user who typed the name in
// pipeline.yaml means). newest is true in the second case.
func (r *Runs) Resolve(ctx context.Context, name string) (run string, newest bool, err error) {
	_, err = r.Get(ctx, name)
	if !errors.Is(err, ErrNoRun) || !stepName.MatchString(name) {
		return name, false, err
	}
	runs, err := r.List(ctx, name)
	if err != nil {
		return "", false, err
	}
	if len(runs) == 0 {
		return "", false, fmt.Errorf("no pipeline run or pipeline %s in namespace %s (fair pipeline ls lists them)", name, r.c.Namespace)
	}
	return runs[0].Name, true, nil
}

// Status is the run's status now.
func (r *Runs) Status(ctx context.Context, name string) (RunStatus, error) {
	u, err := r.Get(ctx, name)
	if err != nil {
		return RunStatus{}, err
	}
	return WorkflowStatus(u), nil
}

// Delete removes the run and, with it, its pods.
func (r *Runs) Delete(ctx context.Context, name string) error {
	policy := metav1.DeletePropagationForeground
	err := r.c.Dynamic.Resource(WorkflowGVR).Namespace(r.c.Namespace).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &policy})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%w %s in namespace %s", ErrNoRun, name, r.c.Namespace)
	}
	if err != nil {
		return fmt.Errorf("delete %s: %v", name, err)
	}
	return nil
}

// FollowOptions say what Follow reports while a run goes on.
type FollowOptions struct {
	// Line receives each line a step's program writes; the lines Argo's
	// executor writes into the same log are left out.
	Line func(step, text string)
	// Status receives the run's status about once a second.
	Status func(RunStatus)
	// NoController, when positive, calls Warn once if no workflow
	// controller has picked the run up after that long.
	NoController time.Duration
	Warn         func(string)
}

// Follow reports the run until it ends and returns its final status; when
// ctx ends first it returns the last status seen and ctx's error (the run
// keeps going: a detach).
func (r *Runs) Follow(ctx context.Context, name string, o FollowOptions) (RunStatus, error) {
	streams := &stepStreams{c: r.c, ns: r.c.Namespace, line: o.Line, started: map[string]bool{}}
	begin := time.Now()
	warned := false
	var st RunStatus
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for ctx.Err() == nil {
		u, err := r.Get(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return st, err
		}
		st = WorkflowStatus(u)
		if o.Status != nil {
			o.Status(st)
		}
		if st.Phase == "" && !warned && o.NoController > 0 && time.Since(begin) > o.NoController && o.Warn != nil {
			warned = true
			o.Warn(fmt.Sprintf("warning: no Argo workflow controller has picked up workflow %s after %s: the Workflow CRD is installed but no workflow-controller seems to run in this cluster", name, o.NoController))
		}
		streams.poll(ctx, name)
		if st.Done() {
			streams.wait(5 * time.Second)
			return st, nil
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	return st, ctx.Err()
}

// Logs sends what each step has logged so far, step by step, in the order
// the steps started.
func (r *Runs) Logs(ctx context.Context, name string, line func(step, text string)) error {
	c := r.c
	pods, err := c.Core.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: labelWorkflow + "=" + name})
	if err != nil {
		return fmt.Errorf("list pods of %s: %v", name, err)
	}
	if jobs, err := c.Core.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelRun + "=" + name}); err == nil {
		pods.Items = append(pods.Items, jobs.Items...)
	}
	sort.Slice(pods.Items, func(i, j int) bool {
		return pods.Items[i].CreationTimestamp.Before(&pods.Items[j].CreationTimestamp)
	})
	if len(pods.Items) == 0 {
		return ErrNoStepPods
	}
	for i := range pods.Items {
		pod := &pods.Items[i]
		container := mainContainer(pod)
		if !started(pod, container) || resourcePod(pod) {
			continue
		}
		step := stepOf(pod)
		c.ContainerLogs(ctx, pod.Namespace, pod.Name, container, false, func(text string) {
			if !ExecutorLine(text) {
				line(step, text)
			}
		})
	}
	return ctx.Err()
}

// ErrNoStepPods is Logs' answer for a run none of whose steps has started.
var ErrNoStepPods = errors.New("no step pods yet")

// ExecutorLine reports a line Argo's executor writes into a step's own log:
// logfmt lines carrying the field argo=true (time="..." level=info
// msg="sub-process exited" argo=true error="<nil>"), and the "Error: exit
// status N" it prints when the program fails (fair says that once, in the
// run's failure line).
func ExecutorLine(text string) bool {
	text = strings.TrimRight(text, "\r")
	if strings.HasPrefix(text, `time="`) && strings.Contains(text, " level=") {
		return strings.HasSuffix(text, " argo=true") || strings.Contains(text, " argo=true ")
	}
	return executorExit.MatchString(text)
}

var executorExit = regexp.MustCompile(`^Error: exit status \d+$`)

// stepStreams follows the main container of each step pod once it starts.
type stepStreams struct {
	c       *deployer.Client
	ns      string
	line    func(step, text string)
	started map[string]bool // pod names, touched by the polling loop only
	wg      sync.WaitGroup
}

func (s *stepStreams) poll(ctx context.Context, workflow string) {
	if s.line == nil {
		return
	}
	// The steps' pods, and the pods of the training jobs they created.
	for _, sel := range []string{labelWorkflow + "=" + workflow, LabelRun + "=" + workflow} {
		pods, err := s.c.Core.CoreV1().Pods(s.ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return
		}
		for i := range pods.Items {
			pod := &pods.Items[i]
			container := mainContainer(pod)
			if s.started[pod.Name] || !started(pod, container) || resourcePod(pod) {
				continue
			}
			s.started[pod.Name] = true
			step := stepOf(pod)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.c.ContainerLogs(ctx, s.ns, pod.Name, container, true, func(text string) {
					if !ExecutorLine(text) {
						s.line(step, text)
					}
				})
			}()
		}
	}
}

// resourcePod is the pod of a resource template (a training or serving
// step): Argo's executor creates the job or endpoint and waits, and
// everything it logs is its own.
func resourcePod(p *corev1.Pod) bool {
	for _, c := range p.Spec.Containers {
		if c.Name == "main" {
			return slices.Contains(c.Command, "resource") || slices.Contains(c.Args, "resource")
		}
	}
	return false
}

// mainContainer is Argo's "main", else the pod's first container (a
// training job's replica).
func mainContainer(p *corev1.Pod) string {
	for _, c := range p.Spec.Containers {
		if c.Name == "main" {
			return c.Name
		}
	}
	if len(p.Spec.Containers) > 0 {
		return p.Spec.Containers[0].Name
	}
	return ""
}

func (s *stepStreams) wait(d time.Duration) {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

func stepOf(pod *corev1.Pod) string {
	s := pod.Labels[LabelStep]
	if s == "" {
		return pod.Name
	}
	if pod.Labels[LabelRun] != "" {
		// A training job's replica: "train master-0".
		return s + " " + deployer.ReplicaName(deployer.Kind(pod.Labels[deployer.LabelKind]), pod.Labels[deployer.LabelRun], pod)
	}
	return s
}

func started(p *corev1.Pod, container string) bool {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == container {
			return cs.State.Running != nil || cs.State.Terminated != nil
		}
	}
	return false
}
