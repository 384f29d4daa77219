package deployer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Phase is the state of a run as fair reports it.
type Phase string

// Phases.
const (
	PhasePending   Phase = "Pending"
	PhaseRunning   Phase = "Running"
	PhaseSucceeded Phase = "Succeeded"
	PhaseFailed    Phase = "Failed"
	PhaseReady     Phase = "Ready"
)

// Done reports whether a training run has finished.
func (p Phase) Done() bool { return p == PhaseSucceeded || p == PhaseFailed }

// AnnotationGPUs records the GPUs a run asked for in all, for `fair ps`.
const AnnotationGPUs = "fair.dev/gpus"

// AnnotationModel records the model a server serves, NAME:TAG@DIGEST.
const AnnotationModel = "fair.dev/model"

// Run names one deployed workload.
type Run struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Kind      Kind   `json:"kind"`
	// Group is the run a workload applied by fair deploy -f belongs to
	// (its fair.dev/run label: --name, or the file's name), when that is
	// not the workload's own name. fair delete GROUP removes them all.
	Group string `json:"run,omitempty"`
	// pods selects the pods of a workload fair did not render (from a
	// manifest): its pod templates do not carry fair's labels.
	pods string
}

// Ref is the run as KIND/NAME, as fair ps -o name prints it and Find takes it.
func (r Run) Ref() string { return string(r.Kind) + "/" + r.Name }

// manifestWorkload reports whether u is a workload fair deploy -f applied
// as the user wrote it, rather than one fair rendered (which carries its
// kind label, and the run label on its pods too).
func manifestWorkload(u *unstructured.Unstructured) bool {
	return u.GetLabels()[LabelKind] == ""
}

// manifestPods is the selector of the pods of u, a workload applied from a
// manifest, from the labels its controller puts on them.
func manifestPods(k Kind, u *unstructured.Unstructured) string {
	switch k {
	case KindJob:
		return "job-name=" + u.GetName()
	case KindDeployment:
		var ls metav1.LabelSelector
		m, _, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "selector")
		if mm, ok := m.(map[string]any); ok {
			_ = runtime.DefaultUnstructuredConverter.FromUnstructured(mm, &ls)
		}
		if sel, err := metav1.LabelSelectorAsSelector(&ls); err == nil && !sel.Empty() {
			return sel.String()
		}
		return LabelRun + "=" + u.GetName() // selects nothing fair has not labelled
	case KindPyTorchJob, KindTFJob, KindXGBoostJob, KindJAXJob:
		return "training.kubeflow.org/job-name=" + u.GetName()
	}
	return podSelector(k, u.GetName())
}

// selector is the label selector of the run's pods.
func (r Run) selector() string {
	if r.pods != "" {
		return r.pods
	}
	return podSelector(r.Kind, r.Name)
}

// Status is a snapshot of a run.
type Status struct {
	Run
	Phase    Phase           `json:"phase"`
	Ready    int             `json:"ready"`
	Total    int             `json:"total"`
	GPUs     int             `json:"gpus"`
	Image    string          `json:"image,omitempty"`
	Model    string          `json:"model,omitempty"` // a server's model, NAME:TAG@DIGEST
	Created  time.Time       `json:"created"`
	Message  string          `json:"message,omitempty"`
	Replicas []ReplicaStatus `json:"replicas,omitempty"`
	// NotStarted counts the replicas of a finished training run whose
	// program never started: a Kubeflow job ends when its master does,
	// even if workers were still starting. NotStartedNames names those
	// that had a pod.
	NotStarted      int      `json:"notStarted,omitempty"`
	NotStartedNames []string `json:"notStartedNames,omitempty"`
	// StillRunning names the replicas of a finished run whose pods still
	// run: a worker stuck after its master ended keeps its GPU until the
	// run is deleted (the Training Operator's cleanPodPolicy None, which
	// keeps every pod's logs).
	StillRunning []string `json:"stillRunning,omitempty"`
}

// Summary is the phase with the replicas in a few words: "Running (2/3
// ready)", or for a finished run how many replicas ran.
func (s Status) Summary() string {
	if !s.Phase.Done() {
		return fmt.Sprintf("%s (%d/%d ready)", s.Phase, s.Ready, s.Total)
	}
	ran := s.Total - s.NotStarted
	if s.NotStarted == 0 {
		return fmt.Sprintf("%s (%d/%d replicas ran)", s.Phase, ran, s.Total)
	}
	who := fmt.Sprintf("%d", s.NotStarted)
	if len(s.NotStartedNames) == s.NotStarted {
		who = strings.Join(s.NotStartedNames, ", ")
	}
	return fmt.Sprintf("%s, but only %d/%d replicas ran (%s never started)", s.Phase, ran, s.Total, who)
}

// ReplicaStatus is one pod of a run.
type ReplicaStatus struct {
	Replica  string `json:"replica"`
	Pod      string `json:"pod"`
	Node     string `json:"node,omitempty"`
	Phase    string `json:"phase"`
	Ready    bool   `json:"ready"`
	Restarts int32  `json:"restarts"`
	ExitCode int32  `json:"exitCode,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Container is the container Reason is about when it is not the
	// program's: an init container (a model pull, KServe's modelcar check)
	// or a sidecar whose image does not pull; Message is what it said
	// (the last line of its termination message).
	Container string `json:"container,omitempty"`
	Message   string `json:"message,omitempty"`
}

// Cause is Reason with the container it is about and its message.
func (r ReplicaStatus) Cause() string {
	c := r.Reason
	if r.Container != "" {
		c = r.Container + ": " + c
	}
	if r.Message != "" {
		c += ": " + r.Message
	}
	return c
}

// objectPhase reads the phase a workload object reports about itself;
// ok is false when it says nothing decisive yet.
func objectPhase(k Kind, u *unstructured.Unstructured) (Phase, string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	cond := func(types ...string) (bool, string) {
		for _, c := range conds {
			m, _ := c.(map[string]any)
			for _, t := range types {
				if m["type"] == t && m["status"] == "True" {
					msg, _ := m["message"].(string)
					if msg == "" {
						msg, _ = m["reason"].(string)
					}
					return true, msg
				}
			}
		}
		return false, ""
	}
	switch k {
	case KindJob, KindTrainJob:
		if ok, msg := cond("Failed"); ok {
			return PhaseFailed, msg
		}
		if ok, msg := cond("Complete"); ok {
			return PhaseSucceeded, msg
		}
	case KindPyTorchJob, KindTFJob, KindXGBoostJob, KindJAXJob:
		if ok, msg := cond("Failed"); ok {
			return PhaseFailed, msg
		}
		if ok, msg := cond("Succeeded"); ok {
			return PhaseSucceeded, msg
		}
	case KindKServe:
		if ok, _ := cond("Ready"); ok {
			return PhaseReady, ""
		}
	case KindDeployment:
		want, found, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
		if !found {
			want = 1
		}
		avail, _, _ := unstructured.NestedInt64(u.Object, "status", "availableReplicas")
		upd, _, _ := unstructured.NestedInt64(u.Object, "status", "updatedReplicas")
		gen, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
		if gen >= u.GetGeneration() && avail >= want && upd >= want {
			return PhaseReady, ""
		}
	}
	return "", ""
}

// wantReplicas reads how many pods the object asks for.
func wantReplicas(k Kind, u *unstructured.Unstructured) int {
	switch k {
	case KindJob:
		n, found, _ := unstructured.NestedInt64(u.Object, "spec", "parallelism")
		if !found {
			n = 1
		}
		return int(n)
	case KindTrainJob:
		n, found, _ := unstructured.NestedInt64(u.Object, "spec", "trainer", "numNodes")
		if !found {
			n = 1
		}
		return int(n)
	case KindKServe:
		n, found, _ := unstructured.NestedInt64(u.Object, "spec", "predictor", "minReplicas")
		if !found {
			n = 1
		}
		return int(n)
	case KindDeployment:
		n, found, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
		if !found {
			n = 1
		}
		return int(n)
	}
	spec, _ := u.Object["spec"].(map[string]any)
	total := 0
	for key, v := range spec {
		if !strings.HasSuffix(key, "ReplicaSpecs") {
			continue
		}
		specs, _ := v.(map[string]any)
		for _, rs := range specs {
			m, _ := rs.(map[string]any)
			switch n := m["replicas"].(type) {
			case int64:
				total += int(n)
			case float64:
				total += int(n)
			default:
				total++
			}
		}
	}
	return total
}

// podSelector is the label selector of a kind's pods.
func podSelector(k Kind, name string) string {
	switch k {
	case KindTrainJob:
		return "jobset.sigs.k8s.io/jobset-name=" + name
	case KindKServe:
		return "serving.kserve.io/inferenceservice=" + name
	}
	return LabelRun + "=" + name
}

// ReplicaName names a pod by role and index: master-0, worker-1, node-0, job-0.
func ReplicaName(k Kind, run string, pod *corev1.Pod) string {
	l := pod.Labels
	if t := l["training.kubeflow.org/replica-type"]; t != "" {
		return strings.ToLower(t) + "-" + l["training.kubeflow.org/replica-index"]
	}
	idx := l["batch.kubernetes.io/job-completion-index"]
	if r := l["jobset.sigs.k8s.io/replicatedjob-name"]; r != "" {
		if idx == "" {
			idx = l["jobset.sigs.k8s.io/job-index"]
		}
		return r + "-" + idx
	}
	if k == KindJob {
		if idx == "" {
			idx = "0"
		}
		return "job-" + idx
	}
	// Deployments: the pod's own random suffix tells replicas apart.
	n := pod.Name
	if i := strings.LastIndexByte(n, '-'); i >= 0 {
		n = n[i+1:]
	}
	return "replica-" + n
}

func mainContainer(k Kind, pod *corev1.Pod) string {
	want := kindTable[k].container
	for _, c := range pod.Spec.Containers {
		if c.Name == want {
			return want
		}
	}
	if len(pod.Spec.Containers) > 0 {
		return pod.Spec.Containers[0].Name
	}
	return want
}

func replicaStatus(k Kind, run string, pod *corev1.Pod) ReplicaStatus {
	r := ReplicaStatus{Replica: ReplicaName(k, run, pod), Pod: pod.Name, Node: pod.Spec.NodeName, Phase: string(pod.Status.Phase)}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			r.Ready = true
		}
	}
	name := mainContainer(k, pod)
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name != name {
			continue
		}
		r.Restarts = cs.RestartCount
		switch {
		case cs.State.Terminated != nil:
			r.ExitCode, r.Reason = cs.State.Terminated.ExitCode, cs.State.Terminated.Reason
			if !ran(cs.State.Terminated) {
				r.Message = startError(cs.State.Terminated.Message)
			}
		case cs.State.Waiting != nil:
			r.Reason = cs.State.Waiting.Reason
			if t := cs.LastTerminationState.Terminated; t != nil && r.Reason == "CrashLoopBackOff" {
				r.ExitCode = t.ExitCode
				if !ran(t) {
					r.Message = startError(t.Message)
				}
			}
		}
	}
	if pod.Status.Phase == corev1.PodPending && (r.Reason == "" || r.Reason == "PodInitializing" || r.Reason == "ContainerCreating") {
		helperCause(&r, pod)
	}
	if r.Reason == "" && pod.Status.Phase == corev1.PodPending {
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				r.Reason, r.Message = c.Reason, schedulerWhy(c.Message)
			}
		}
	}
	return r
}

// helperCause sets r's reason from the first init container that failed
// or cannot start, else from a sidecar whose image does not pull: what
// keeps the program's container from starting.
func helperCause(r *ReplicaStatus, pod *corev1.Pod) {
	bad := func(cs corev1.ContainerStatus, pullOnly bool) bool {
		if w := cs.State.Waiting; w != nil {
			switch w.Reason {
			case "ImagePullBackOff", "ErrImagePull", "InvalidImageName":
			case "CrashLoopBackOff", "CreateContainerConfigError":
				if pullOnly {
					return false
				}
			default:
				return false
			}
			r.Reason, r.Container = w.Reason, cs.Name
			r.Message = firstLine(w.Message)
			if t := cs.LastTerminationState.Terminated; t != nil {
				r.ExitCode = t.ExitCode
				if m := lastLine(t.Message); m != "" {
					r.Message = m
				}
			}
			return true
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 && !pullOnly {
			r.Reason, r.Container, r.ExitCode, r.Message = t.Reason, cs.Name, t.ExitCode, lastLine(t.Message)
			return true
		}
		return false
	}
	for _, cs := range pod.Status.InitContainerStatuses {
		if bad(cs, false) {
			return
		}
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if bad(cs, true) {
			return
		}
	}
}

// lastLine is the last non-empty line of a termination message (the
// tail of a log, where a program says why it failed).
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.TrimSpace(s[strings.LastIndexByte(s, '\n')+1:])
}

// status combines the object and its pods into one snapshot.
func status(run Run, u *unstructured.Unstructured, pods []*corev1.Pod) Status {
	s := Status{Run: run, Phase: PhasePending, Created: u.GetCreationTimestamp().Time}
	s.Total = wantReplicas(run.Kind, u)
	if g, err := strconv.Atoi(u.GetAnnotations()[AnnotationGPUs]); err == nil {
		s.GPUs = g
	}
	s.Model = u.GetAnnotations()[AnnotationModel]
	running := false
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	for _, p := range pods {
		if p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			continue
		}
		r := replicaStatus(run.Kind, run.Name, p)
		s.Replicas = append(s.Replicas, r)
		// A replica whose program ended well counts as ready, also in
		// the moment before its pod is marked Succeeded: otherwise the
		// count drops to 0 between "running" and "done".
		if r.Ready || p.Status.Phase == corev1.PodSucceeded || r.Reason == "Completed" && r.ExitCode == 0 {
			s.Ready++
		}
		// A finished pod of an unfinished run still means the run is under way.
		running = running || p.Status.Phase != corev1.PodPending
		if s.Image == "" {
			for _, c := range p.Spec.Containers {
				if c.Name == mainContainer(run.Kind, p) {
					s.Image = c.Image
				}
			}
		}
	}
	sort.SliceStable(s.Replicas, func(i, j int) bool { return s.Replicas[i].Replica < s.Replicas[j].Replica })
	if ph, msg := objectPhase(run.Kind, u); ph != "" {
		s.Phase, s.Message = ph, msg
	} else if running {
		s.Phase = PhaseRunning
	}
	if s.Phase.Done() {
		started := 0
		for _, p := range pods {
			if mainStarted(run.Kind, p) {
				started++
			} else if p.DeletionTimestamp == nil {
				s.NotStartedNames = append(s.NotStartedNames, ReplicaName(run.Kind, run.Name, p))
			}
		}
		if n := s.Total - started; n > 0 {
			s.NotStarted = n
			sort.Strings(s.NotStartedNames)
		}
		for _, p := range pods {
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				s.StillRunning = append(s.StillRunning, ReplicaName(run.Kind, run.Name, p))
			}
		}
		sort.Strings(s.StillRunning)
	}
	return s
}

// mainStarted reports whether the pod's main container ever started.
func mainStarted(k Kind, p *corev1.Pod) bool {
	return containerStarted(p, mainContainer(k, p))
}

// containerStarted reports whether the named container's program ever ran.
func containerStarted(p *corev1.Pod, name string) bool {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == name {
			return cs.State.Running != nil || ran(cs.State.Terminated) || ran(cs.LastTerminationState.Terminated) ||
				cs.RestartCount > 0 && cs.LastTerminationState.Terminated == nil
		}
	}
	return false
}

// startError is the useful part of the runtime's message for a container
// it could not start: `exec: "train": executable file not found in $PATH`
// out of "failed to create containerd task: ... unable to start container
// process: exec: ...: unknown".
func startError(msg string) string {
	msg = lastLine(msg)
	if _, after, ok := strings.Cut(msg, "unable to start container process: "); ok {
		msg = after
	}
	return strings.TrimSuffix(msg, ": unknown")
}

// ran reports whether a terminated container's program ran: a container
// whose runtime could not start it (no such executable, a bad mount) is
// terminated too, with StartError and exit code 128.
func ran(t *corev1.ContainerStateTerminated) bool {
	if t == nil {
		return false
	}
	switch t.Reason {
	case "StartError", "ContainerCannotRun":
		return false
	}
	return true
}

// listKinds lists each kind's primary objects matching selector, skipping
// kinds whose CRD is not installed.
func (c *Client) listKinds(ctx context.Context, namespace, selector string) ([]Run, map[Run]*unstructured.Unstructured, error) {
	type res struct {
		items []unstructured.Unstructured
		kind  Kind
		err   error
	}
	out := make([]res, len(Kinds))
	var wg sync.WaitGroup
	for i, k := range Kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ri := c.Dynamic.Resource(k.GVR())
			var l *unstructured.UnstructuredList
			var err error
			if namespace == metav1.NamespaceAll {
				l, err = ri.List(ctx, metav1.ListOptions{LabelSelector: selector})
			} else {
				l, err = ri.Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
			}
			if err != nil {
				if apierrors.IsNotFound(err) {
					err = nil // CRD not installed: nothing of this kind
					if g := k.GVR().Group; builtIn(g) {
						err = c.notAPIServer(k.GVR().GroupVersion().String())
					}
				}
				out[i] = res{kind: k, err: err}
				return
			}
			out[i] = res{items: l.Items, kind: k}
		}()
	}
	wg.Wait()
	// A kind the user may not list is left out (RBAC often grants a few
	// kinds); only when no kind can be listed is that an error.
	var denied error
	allowed := 0
	for i, r := range out {
		switch {
		case r.err != nil && apierrors.IsForbidden(r.err):
			if denied == nil {
				denied = c.explain(r.err, "list "+string(r.kind))
			}
			out[i].err = nil
		case r.err == nil:
			allowed++
		}
	}
	if allowed == 0 && denied != nil {
		return nil, nil, denied
	}
	var runs []Run
	objs := map[Run]*unstructured.Unstructured{}
	for _, r := range out {
		if r.err != nil {
			return nil, nil, c.explain(r.err, "list "+string(r.kind))
		}
		for i := range r.items {
			u := &r.items[i]
			// Kubeflow and KServe create child objects of their own; only
			// objects fair labelled with this kind are runs.
			if k := u.GetLabels()[LabelKind]; k != "" && k != string(r.kind) {
				continue
			}
			run := Run{Name: u.GetLabels()[LabelRun], Namespace: u.GetNamespace(), Kind: r.kind}
			if manifestWorkload(u) && metav1.GetControllerOfNoCopy(u) != nil {
				continue // made by a controller from another object (KServe's predictor Deployment carries its labels)
			}
			if run.Name == "" || manifestWorkload(u) {
				// A workload from a manifest goes by its own name (as
				// fair deploy -f printed it): several may share a run.
				if run.Name != u.GetName() {
					run.Group = run.Name
				}
				run.Name = u.GetName()
				run.pods = manifestPods(r.kind, u)
			}
			runs = append(runs, run)
			objs[run] = u
		}
	}
	return runs, objs, nil
}

// ErrNoRun is the error of a run name the namespace does not have.
var ErrNoRun = errors.New("no run")

// Find looks up the run called name in the client's namespace: see
// resolve. For a run of several workloads it returns the first by name.
func (c *Client) Find(ctx context.Context, name string) (Run, *unstructured.Unstructured, error) {
	_, runs, objs, err := c.resolve(ctx, name)
	if err != nil {
		return Run{}, nil, err
	}
	return runs[0], objs[runs[0]], nil
}

// resolve finds what name means in the client's namespace: KIND/NAME (as
// fair ps -o name prints it), a run (every workload labelled with it), or
// a workload fair deploy -f applied, by its own name. group is true for a
// run. A name that means workloads of more than one run is refused:
// acting on the wrong one (fair delete) would be worse than asking.
func (c *Client) resolve(ctx context.Context, name string) (group bool, runs []Run, objs map[Run]*unstructured.Unstructured, err error) {
	all, objs, err := c.listKinds(ctx, c.Namespace, LabelManagedBy+"="+ManagedBy)
	if err != nil {
		return false, nil, nil, err
	}
	notFound := fmt.Errorf("%w %q in namespace %s (see fair ps)", ErrNoRun, name, c.Namespace)
	if k, n, ok := strings.Cut(name, "/"); ok {
		for _, r := range all {
			if string(r.Kind) == k && r.Name == n {
				return false, []Run{r}, objs, nil
			}
		}
		return false, nil, nil, notFound
	}
	var labelled, others []Run
	for _, r := range all {
		if objs[r].GetLabels()[LabelRun] == name {
			labelled = append(labelled, r)
		} else if r.Name == name {
			others = append(others, r)
		}
	}
	byName := func(rs []Run) {
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].Name < rs[j].Name })
	}
	byName(labelled)
	byName(others)
	switch {
	case len(labelled) > 0 && len(others) > 0, len(labelled) == 0 && len(others) > 1:
		var what []string
		if len(labelled) > 0 {
			what = append(what, fmt.Sprintf("the run %s (%s)", name, strings.Join(refs(labelled), ", ")))
		}
		for _, r := range others {
			what = append(what, fmt.Sprintf("%s of run %s", r.Ref(), cmp.Or(r.Group, r.Name)))
		}
		return false, nil, nil, fmt.Errorf("%q names more than one thing in namespace %s: %s; say which with KIND/NAME (fair ps -o name lists them)",
			name, c.Namespace, strings.Join(what, ", "))
	case len(labelled) > 0:
		return true, labelled, objs, nil
	case len(others) == 1:
		return false, others, objs, nil
	}
	return false, nil, nil, notFound
}

// refs lists runs as KIND/NAME, sorted.
func refs(runs []Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.Ref()
	}
	sort.Strings(out)
	return out
}

// Workloads names the workloads of the run called name, as kind/name, when
// it has more than one (fair deploy -f of several): Find returns the first.
func (c *Client) Workloads(ctx context.Context, name string) ([]string, error) {
	group, runs, _, err := c.resolve(ctx, name)
	if err != nil || !group || len(runs) < 2 {
		return nil, err
	}
	return refs(runs), nil
}

// List returns the status of every fair run in namespace (all namespaces
// when empty is metav1.NamespaceAll and all is true).
func (c *Client) List(ctx context.Context, allNamespaces bool) ([]Status, error) {
	ns := c.Namespace
	if allNamespaces {
		ns = metav1.NamespaceAll
	}
	runs, objs, err := c.listKinds(ctx, ns, LabelManagedBy+"="+ManagedBy)
	if err != nil {
		return nil, err
	}
	var pl *corev1.PodList
	if len(runs) > 0 {
		if pl, err = c.Core.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err != nil {
			return nil, c.explain(err, "list pods")
		}
	}
	var out []Status
	for _, r := range runs {
		if objs[r].GetLabels()[LabelSweep] != "" {
			continue // a sweep's trial: fair ps lists the sweep
		}
		out = append(out, status(r, objs[r], selectPods(pl, r)))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func selectPods(pl *corev1.PodList, r Run) []*corev1.Pod {
	sel, err := labels.Parse(r.selector())
	if err != nil {
		return nil
	}
	var pods []*corev1.Pod
	for i := range pl.Items {
		p := &pl.Items[i]
		if p.Namespace == r.Namespace && sel.Matches(labels.Set(p.Labels)) {
			pods = append(pods, p)
		}
	}
	return pods
}

// Status returns a snapshot of the run called name.
func (c *Client) Status(ctx context.Context, name string) (Status, error) {
	run, u, err := c.Find(ctx, name)
	if err != nil {
		return Status{}, err
	}
	return c.statusOf(ctx, run, u)
}

// RunStatus is a snapshot of a run already known (one fair just submitted),
// without looking its name up again.
func (c *Client) RunStatus(ctx context.Context, run Run) (Status, error) {
	u, err := c.Object(ctx, run)
	if err != nil {
		return Status{}, err
	}
	return c.statusOf(ctx, run, u)
}

// Object is the workload object of a run already known.
func (c *Client) Object(ctx context.Context, run Run) (*unstructured.Unstructured, error) {
	u, err := c.Dynamic.Resource(run.Kind.GVR()).Namespace(run.Namespace).Get(ctx, run.Name, metav1.GetOptions{})
	if err != nil {
		return nil, c.explain(err, "get "+run.Ref())
	}
	return u, nil
}

func (c *Client) statusOf(ctx context.Context, run Run, u *unstructured.Unstructured) (Status, error) {
	pods, err := c.pods(ctx, run)
	if err != nil {
		return Status{}, err
	}
	return status(run, u, pods), nil
}

func (c *Client) pods(ctx context.Context, run Run) ([]*corev1.Pod, error) {
	pl, err := c.Core.CoreV1().Pods(run.Namespace).List(ctx, metav1.ListOptions{LabelSelector: run.selector()})
	if err != nil {
		return nil, c.explain(err, "list pods")
	}
	out := make([]*corev1.Pod, len(pl.Items))
	for i := range pl.Items {
		out[i] = &pl.Items[i]
	}
	return out, nil
}

// runExtras are the other kinds a run may own (a fair deploy manifest's
// ConfigMaps and Secrets, an endpoint's Service): deleted with it.
var runExtras = []schema.GroupVersionResource{
	{Version: "v1", Resource: "services"},
	{Version: "v1", Resource: "configmaps"},
	{Version: "v1", Resource: "secrets"},
}

// Delete removes every object of the run called name (pods go with them).
// It returns the objects deleted, as kind/name.
func (c *Client) Delete(ctx context.Context, name string) ([]string, error) {
	bg := metav1.DeletePropagationBackground
	group, runs, objs, err := c.resolve(ctx, name)
	switch {
	case err != nil && !errors.Is(err, ErrNoRun):
		return nil, err
	case err == nil && !group:
		// One workload applied by fair deploy -f (fair delete RUN removes
		// its whole run).
		run, u := runs[0], objs[runs[0]]
		err := c.Dynamic.Resource(run.Kind.GVR()).Namespace(run.Namespace).Delete(ctx, u.GetName(), metav1.DeleteOptions{PropagationPolicy: &bg})
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, c.explain(err, "delete "+u.GetKind()+" "+u.GetName())
		}
		return []string{strings.ToLower(u.GetKind()) + "/" + u.GetName()}, nil
	}
	// A run: everything labelled with it, its ConfigMaps, Secrets and
	// Services too (a run of those alone has no workload to resolve).
	return c.DeleteRun(ctx, name)
}

// DeleteRun removes every object labelled as part of the run called name
// (pods go with them), and returns them as kind/name.
func (c *Client) DeleteRun(ctx context.Context, name string) ([]string, error) {
	if len(validation.IsValidLabelValue(name)) > 0 {
		return nil, fmt.Errorf("%w %q in namespace %s (see fair ps)", ErrNoRun, name, c.Namespace)
	}
	bg := metav1.DeletePropagationBackground
	sel := LabelRun + "=" + name
	var deleted []string
	gvrs := []schema.GroupVersionResource{}
	for _, k := range Kinds {
		gvrs = append(gvrs, k.GVR())
	}
	gvrs = append(gvrs, runExtras...)
	for _, gvr := range gvrs {
		ri := c.Dynamic.Resource(gvr).Namespace(c.Namespace)
		l, err := ri.List(ctx, metav1.ListOptions{LabelSelector: sel})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return deleted, c.explain(err, "list "+gvr.Resource)
		}
		for _, u := range l.Items {
			// Children a controller made from the run (KServe's predictor
			// Deployment and Service carry the run's labels) go with it.
			if u.GetLabels()[LabelManagedBy] != ManagedBy || metav1.GetControllerOfNoCopy(&u) != nil {
				continue
			}
			err := ri.Delete(ctx, u.GetName(), metav1.DeleteOptions{PropagationPolicy: &bg})
			if err != nil && !apierrors.IsNotFound(err) {
				return deleted, c.explain(err, "delete "+u.GetKind()+" "+u.GetName())
			}
			deleted = append(deleted, strings.ToLower(u.GetKind())+"/"+u.GetName())
		}
	}
	if len(deleted) == 0 {
		return nil, fmt.Errorf("%w %q in namespace %s (see fair ps)", ErrNoRun, name, c.Namespace)
	}
	return deleted, nil
}

// schedulerWhy is the scheduler's reason without its preemption report:
// "0/1 nodes are available: 1 Insufficient nvidia.com/gpu".
func schedulerWhy(msg string) string {
	if i := strings.Index(msg, " preemption:"); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimSuffix(strings.TrimSpace(msg), ".")
}
