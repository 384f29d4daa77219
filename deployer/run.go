package deployer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

const (
	defaultCleanupTimeout = 30 * time.Second
	// drainTimeout bounds how long a finished run waits for its log
	// streams to reach the end.
	drainTimeout = 10 * time.Second
	// pullGrace is how long an image may stay in ImagePullBackOff before
	// fair calls the run failed.
	pullGrace = 90 * time.Second
	// crashTries is how many times a server's program may end before fair
	// calls the endpoint failed.
	crashTries = 3
)

// EventType says what an Event is about.
type EventType string

// Event types.
const (
	EventPhase    EventType = "phase"    // the run's phase or ready count changed; Status is set
	EventProgress EventType = "progress" // scheduling, pulling, starting
	EventWarning  EventType = "warning"  // FailedScheduling, BackOff, ...
)

// Event is one thing worth telling the user while a run is watched. A
// notebook turns them into a live status display, the CLI into stderr lines.
type Event struct {
	Time    time.Time `json:"time"`
	Type    EventType `json:"type"`
	Run     string    `json:"run"`
	Kind    Kind      `json:"kind,omitempty"`
	Replica string    `json:"replica,omitempty"`
	Message string    `json:"message,omitempty"`
	Status  *Status   `json:"status,omitempty"`
}

// Observer receives events; it is called from one goroutine at a time.
type Observer func(Event)

// Submitted is a run just submitted, and what stood under its name before.
type Submitted struct {
	Run
	// Previous is the phase of the run of the same name that this one
	// replaced (a finished training run, deleted first) or updated in
	// place (an endpoint, which rolls out the new image); empty when the
	// name was free.
	Previous Phase
	// Replaced: the previous run was deleted first (else it was updated).
	Replaced bool
}

// ErrNameTaken marks a submission refused because its name is in use by a
// run that is still going, by another kind, or by an object fair did not
// create.
var ErrNameTaken = errors.New("name taken")

type nameTakenError struct{ msg string }

func (e *nameTakenError) Error() string        { return e.msg }
func (e *nameTakenError) Is(target error) bool { return target == ErrNameTaken }

// replaceTimeout bounds the wait for a finished run's objects and pods to
// be gone before its name is used again.
const replaceTimeout = 2 * time.Minute

// Submit renders and applies a workload and returns its run. A name is
// often reused (a user reruns training all the time): a finished training
// run of the same name is deleted first, with its pods, so the new run's
// logs are its own; an endpoint of the same kind is updated in place. A
// run still going, a run of another kind, or an object fair did not
// create under that name is refused with ErrNameTaken.
func (c *Client) Submit(ctx context.Context, w *Workload, opts ...RenderOption) (Submitted, error) {
	if w.Namespace == "" {
		w.Namespace = c.Namespace
	}
	objs, err := Render(w, opts...)
	if err != nil {
		return Submitted{}, err
	}
	run := Run{Name: w.Name, Namespace: w.Namespace, Kind: w.Kind}
	if err := c.checkRuntime(ctx, w); err != nil {
		return Submitted{}, err
	}
	prev, replaced, err := c.makeRoom(ctx, run, true)
	if err != nil {
		return Submitted{}, err
	}
	if _, err := c.Apply(ctx, objs, ApplyOptions{ForceConflicts: w.ForceConflicts}); err != nil {
		return Submitted{}, err
	}
	return Submitted{Run: run, Previous: prev, Replaced: replaced}, nil
}

// NameFree says, before anything is built, why a run of kind k cannot
// take name now: one still going, a run of another kind, an object fair
// did not make. It is nil when the name is free or holds a finished run
// (which Submit replaces) or an endpoint (updated in place).
func (c *Client) NameFree(ctx context.Context, k Kind, name string) error {
	_, _, err := c.makeRoom(ctx, Run{Name: name, Namespace: c.Namespace, Kind: k}, false)
	return err
}

// makeRoom checks what stands under run's name and, for a finished
// training run, deletes it (with replace) and waits until it and its pods
// are gone.
func (c *Client) makeRoom(ctx context.Context, run Run, replace bool) (prev Phase, replaced bool, err error) {
	what := fmt.Sprintf("%s %s", run.Kind, run.Name)
	ri := c.Dynamic.Resource(run.Kind.GVR()).Namespace(run.Namespace)
	u, err := ri.Get(ctx, run.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		u = nil
	case err != nil:
		if inst, ierr := c.Installed(run.Kind); ierr == nil && !inst {
			return "", false, c.missing(kindTable[run.Kind].gvk)
		}
		return "", false, c.explain(err, "get "+what)
	case u.GetLabels()[LabelManagedBy] != ManagedBy:
		return "", false, &nameTakenError{fmt.Sprintf("%s already exists in namespace %s and was not made by fair: choose another --name (fair will not take it over)", what, run.Namespace)}
	}
	// A run of another kind under the same name would share its pods'
	// run label: the new run would show the old one's logs.
	runs, objs, err := c.listKinds(ctx, run.Namespace, LabelRun+"="+run.Name)
	if err != nil {
		return "", false, err
	}
	for _, other := range runs {
		if other.Kind != run.Kind {
			ph, _ := objectPhase(other.Kind, objs[other])
			if !other.Kind.Training() || !ph.Done() {
				return "", false, &nameTakenError{fmt.Sprintf("%s/%s already runs under the name %s: delete it first (fair delete %s) or choose another --name", other.Kind, other.Name, run.Name, run.Name)}
			}
			if u == nil {
				u = objs[other]
				run = other
			}
		}
	}
	if u == nil {
		return "", false, nil
	}
	ph, _ := objectPhase(run.Kind, u)
	if !run.Kind.Training() {
		if ph == "" {
			ph = PhasePending
		}
		return ph, false, nil // updated in place by the apply
	}
	if !ph.Done() {
		if ph == "" {
			ph = PhaseRunning
		}
		return "", false, &nameTakenError{fmt.Sprintf("%s is still %s (started %s ago): follow it with fair logs %s -f, stop it with fair delete %s, or choose another --name",
			what, strings.ToLower(string(ph)), time.Since(u.GetCreationTimestamp().Time).Round(time.Second), run.Name, run.Name)}
	}
	if !replace {
		return ph, false, nil
	}
	return ph, true, c.deleteAndWait(ctx, run)
}

// deleteAndWait deletes every object of a run in the foreground (owners
// wait for their pods) and waits until no object or pod of it is left.
func (c *Client) deleteAndWait(ctx context.Context, run Run) error {
	name, ns := run.Name, run.Namespace
	sel := LabelRun + "=" + name
	fg := metav1.DeletePropagationForeground
	gvrs := append([]schema.GroupVersionResource{}, runExtras...)
	for _, k := range Kinds {
		gvrs = append(gvrs, k.GVR())
	}
	ctx, cancel := context.WithTimeout(ctx, replaceTimeout)
	defer cancel()
	for _, gvr := range gvrs {
		ri := c.Dynamic.Resource(gvr).Namespace(ns)
		l, err := ri.List(ctx, metav1.ListOptions{LabelSelector: sel})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return c.explain(err, "list "+gvr.Resource)
		}
		for _, o := range l.Items {
			if o.GetLabels()[LabelManagedBy] != ManagedBy {
				continue
			}
			if err := ri.Delete(ctx, o.GetName(), metav1.DeleteOptions{PropagationPolicy: &fg}); err != nil && !apierrors.IsNotFound(err) {
				return c.explain(err, "delete "+o.GetKind()+" "+o.GetName())
			}
		}
	}
	for {
		left := 0
		for _, gvr := range gvrs {
			l, err := c.Dynamic.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
			if err == nil {
				left += len(l.Items)
			}
		}
		for _, ps := range []string{sel, podSelector(run.Kind, name)} {
			pods, err := c.Core.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: ps})
			if err == nil {
				left += len(pods.Items)
			}
		}
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the finished run %s is still being deleted after %s; try again in a moment", name, replaceTimeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// WatchOptions say what Watch reports and when it returns.
type WatchOptions struct {
	Logs     io.Writer // logs of every replica, each line prefixed "[role-index] "; nil: none
	Replica  string    // only this replica's logs (e.g. worker-1)
	Observer Observer  // progress and status; nil: none
	// UntilReady returns as soon as a serving run is ready instead of
	// following it until ctx ends.
	UntilReady bool
	// Since hides cluster events older than this (default: now).
	Since time.Time
	// TailLines keeps this many last lines per replica for the failure
	// report (default 20).
	TailLines int
}

// Result is how a watched run ended.
type Result struct {
	Status        Status
	ExitCode      int      // of the failing replica's main container; 0 on success
	Reason        string   // e.g. Error, OOMKilled, ImagePullBackOff, DeadlineExceeded
	FailedReplica string   // e.g. worker-1
	LastLines     []string // the failing replica's last log lines
}

// Err describes a failed result in one line, nil when it succeeded.
func (r *Result) Err() error {
	if r.Status.Phase != PhaseFailed {
		return nil
	}
	msg := fmt.Sprintf("%s %s failed", r.Status.Kind, r.Status.Name)
	if r.FailedReplica != "" {
		msg += ": replica " + r.FailedReplica
	}
	if r.ExitCode != 0 {
		msg += fmt.Sprintf(" exited with code %d", r.ExitCode)
	}
	if r.Reason != "" && r.Reason != "Error" {
		msg += " (" + r.Reason + ")"
	}
	if r.Status.Message != "" && r.FailedReplica == "" {
		msg += ": " + r.Status.Message
	}
	return fmt.Errorf("%s", msg)
}

// Watch follows a run: it streams the logs of every replica (new pods
// after a restart included), reports progress to the observer, and returns
// when a training run has finished (and its logs are drained), when a
// serving run is ready (UntilReady), or when ctx ends (the run keeps going:
// that is a detach; the error is ctx's).
func (c *Client) Watch(ctx context.Context, run Run, o WatchOptions) (*Result, error) {
	if o.Since.IsZero() {
		o.Since = time.Now()
	}
	if o.TailLines == 0 {
		o.TailLines = 20
	}
	// Following needs to read the object and its pods: without the rights
	// the informers would retry for ever, so ask once first.
	if _, err := c.Dynamic.Resource(run.Kind.GVR()).Namespace(run.Namespace).Get(ctx, run.Name, metav1.GetOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%s/%s cannot be followed: %v", run.Kind, run.Name, c.explain(err, "get "+string(run.Kind)))
	}
	if _, err := c.Core.CoreV1().Pods(run.Namespace).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		return nil, fmt.Errorf("%s/%s cannot be followed (fair needs to get, list and watch pods): %v", run.Kind, run.Name, c.explain(err, "list pods"))
	}
	if o.Logs != nil && !c.mayReadLogs(ctx, run.Namespace) {
		if o.Observer != nil {
			o.Observer(Event{Time: time.Now(), Type: EventWarning, Run: run.Name, Kind: run.Kind, Message: "the logs cannot be read (no right to get pods/log): following the status only"})
		}
		o.Logs = nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	w := &watcher{c: c, run: run, o: o, pods: map[string]*corev1.Pod{}, seen: map[string]string{},
		streams: map[string]*podStream{}, events: map[string]bool{}, pullSince: map[string]time.Time{},
		out: &lineWriter{w: o.Logs}}
	updates := make(chan func(), 64)
	send := func(f func()) {
		select {
		case updates <- f:
		case <-ctx.Done():
		}
	}

	// Three watches feed one loop: the workload object, its pods and the
	// namespace's events. Informers re-list after a dropped watch.
	objLW := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, lo metav1.ListOptions) (runtime.Object, error) {
			lo.FieldSelector = fields.OneTermEqualSelector("metadata.name", run.Name).String()
			return c.Dynamic.Resource(run.Kind.GVR()).Namespace(run.Namespace).List(ctx, lo)
		},
		WatchFuncWithContext: func(ctx context.Context, lo metav1.ListOptions) (watch.Interface, error) {
			lo.FieldSelector = fields.OneTermEqualSelector("metadata.name", run.Name).String()
			return c.Dynamic.Resource(run.Kind.GVR()).Namespace(run.Namespace).Watch(ctx, lo)
		},
	}
	podLW := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, lo metav1.ListOptions) (runtime.Object, error) {
			lo.LabelSelector = run.selector()
			return c.Core.CoreV1().Pods(run.Namespace).List(ctx, lo)
		},
		WatchFuncWithContext: func(ctx context.Context, lo metav1.ListOptions) (watch.Interface, error) {
			lo.LabelSelector = run.selector()
			return c.Core.CoreV1().Pods(run.Namespace).Watch(ctx, lo)
		},
	}
	evLW := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, lo metav1.ListOptions) (runtime.Object, error) {
			return c.Core.CoreV1().Events(run.Namespace).List(ctx, lo)
		},
		WatchFuncWithContext: func(ctx context.Context, lo metav1.ListOptions) (watch.Interface, error) {
			return c.Core.CoreV1().Events(run.Namespace).Watch(ctx, lo)
		},
	}
	gone := make(chan struct{}, 1)
	handler := func(set func(obj any), del func(obj any)) cache.ResourceEventHandler {
		return cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { send(func() { set(obj) }) },
			UpdateFunc: func(_, obj any) { send(func() { set(obj) }) },
			DeleteFunc: func(obj any) {
				if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
					obj = d.Obj
				}
				send(func() { del(obj) })
			},
		}
	}
	_, objInf := cache.NewInformerWithOptions(cache.InformerOptions{ListerWatcher: objLW, ObjectType: &unstructured.Unstructured{},
		Handler: handler(func(obj any) { w.obj = obj.(*unstructured.Unstructured) }, func(any) {
			select {
			case gone <- struct{}{}:
			default:
			}
		})})
	_, podInf := cache.NewInformerWithOptions(cache.InformerOptions{ListerWatcher: podLW, ObjectType: &corev1.Pod{},
		Handler: handler(func(obj any) { w.podChanged(ctx, obj.(*corev1.Pod)) }, func(obj any) {
			if p, ok := obj.(*corev1.Pod); ok {
				delete(w.pods, string(p.UID))
			}
		})})
	_, evInf := cache.NewInformerWithOptions(cache.InformerOptions{ListerWatcher: evLW, ObjectType: &corev1.Event{},
		Handler: handler(func(obj any) { w.event(obj.(*corev1.Event)) }, func(any) {})})
	go objInf.RunWithContext(ctx)
	go podInf.RunWithContext(ctx)
	if o.Observer != nil {
		go evInf.RunWithContext(ctx)
	}

	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			w.wg.Wait()
			return w.result(), ctx.Err()
		case <-gone:
			w.wg.Wait()
			return w.result(), fmt.Errorf("%s %s was deleted", run.Kind, run.Name)
		case f := <-updates:
			f()
		case <-tick.C:
		}
		// Judge only a full picture: both initial lists delivered and every
		// queued update applied, or a finished run would end before its
		// pods (and their logs) were seen.
		if w.obj == nil || !objInf.HasSynced() || !podInf.HasSynced() {
			continue
		}
		for pending := true; pending; {
			select {
			case f := <-updates:
				f()
			default:
				pending = false
			}
		}
		s := w.snapshot()
		w.report(s)
		if s.Phase.Done() || (o.UntilReady && s.Phase == PhaseReady) || w.stuck != "" {
			w.drain()
			cancel()
			w.wg.Wait()
			return w.result(), nil
		}
	}
}

// mayReadLogs asks the API server whether the user may read pod logs in ns;
// when it cannot tell, it assumes so.
func (c *Client) mayReadLogs(ctx context.Context, ns string) bool {
	r, err := c.Core.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: ns, Verb: "get", Resource: "pods", Subresource: "log"}},
	}, metav1.CreateOptions{})
	return err != nil || r.Status.Allowed
}

type watcher struct {
	c   *Client
	run Run
	o   WatchOptions
	out *lineWriter

	obj       *unstructured.Unstructured
	pods      map[string]*corev1.Pod // by UID
	seen      map[string]string      // last progress reported per pod
	events    map[string]bool        // events reported
	pullSince map[string]time.Time
	stuck     string // a reason to give up although the cluster would wait

	last    *Status
	mu      sync.Mutex
	streams map[string]*podStream // by pod UID/container
	wg      sync.WaitGroup
}

func (w *watcher) emit(e Event) {
	if w.o.Observer == nil {
		return
	}
	e.Time, e.Run, e.Kind = time.Now(), w.run.Name, w.run.Kind
	w.o.Observer(e)
}

func (w *watcher) snapshot() Status {
	pods := make([]*corev1.Pod, 0, len(w.pods))
	for _, p := range w.pods {
		pods = append(pods, p)
	}
	return status(w.run, w.obj, pods)
}

func (w *watcher) report(s Status) {
	if w.last != nil && w.last.Phase == s.Phase && w.last.Ready == s.Ready && w.last.Total == s.Total {
		return
	}
	w.last = &s
	w.emit(Event{Type: EventPhase, Status: &s, Message: s.Summary()})
}

func (w *watcher) podChanged(ctx context.Context, p *corev1.Pod) {
	w.pods[string(p.UID)] = p
	r := replicaStatus(w.run.Kind, w.run.Name, p)
	name := mainContainer(w.run.Kind, p)
	started := mainStarted(w.run.Kind, p)
	// Progress, once per change.
	msg, typ := "", EventProgress
	switch {
	case r.Reason == "Unschedulable":
		msg = "waiting to be scheduled"
	case r.Reason == "ImagePullBackOff" || r.Reason == "ErrImagePull" || r.Reason == "InvalidImageName" ||
		r.Reason == "CreateContainerConfigError" || r.Reason == "CrashLoopBackOff":
		msg, typ = r.Cause(), EventWarning
	case p.Status.Phase == corev1.PodRunning:
		msg = "running on " + p.Spec.NodeName
	case p.Status.Phase == corev1.PodSucceeded:
		msg = "completed"
	case p.Status.Phase == corev1.PodFailed:
		msg = fmt.Sprintf("failed (exit code %d, %s)", r.ExitCode, r.Reason)
	case p.Spec.NodeName != "":
		msg = "scheduled on " + p.Spec.NodeName
	}
	if msg != "" && w.seen[string(p.UID)] != msg {
		w.seen[string(p.UID)] = msg
		w.emit(Event{Type: typ, Replica: r.Replica, Message: msg})
	}
	switch r.Reason {
	case "InvalidImageName", "CreateContainerConfigError", "ErrImageNeverPull":
		w.stuck = r.Reason
	case "CrashLoopBackOff":
		// A server whose program keeps ending (it exits, or is not a
		// server at all) will not get ready: say so after a few tries
		// rather than at the timeout. A training run restarts as its
		// backoff limit says.
		if !w.run.Kind.Training() && r.Restarts >= crashTries {
			w.stuck = r.Reason
		}
	case "ImagePullBackOff":
		since, ok := w.pullSince[string(p.UID)]
		if !ok {
			w.pullSince[string(p.UID)] = time.Now()
		} else if time.Since(since) > pullGrace {
			w.stuck = r.Reason
		}
	default:
		delete(w.pullSince, string(p.UID))
	}
	if started && w.o.Logs != nil && (w.o.Replica == "" || w.o.Replica == r.Replica) {
		w.startStream(ctx, p, name, r.Replica)
	}
	if w.o.Logs != nil && (w.o.Replica == "" || w.o.Replica == r.Replica) {
		for _, c := range otherContainers(w.run, p) {
			if containerStarted(p, c) {
				w.startStream(ctx, p, c, r.Replica+"/"+c)
			}
		}
	}
}

// otherContainers are the containers of a pod besides its program's whose
// logs fair shows too: those of a workload applied from a manifest (a Job
// with two containers), where every container is the user's. Pods fair
// renders have one program; their helpers' output is not the user's.
func otherContainers(run Run, p *corev1.Pod) []string {
	if run.pods == "" {
		return nil
	}
	main := mainContainer(run.Kind, p)
	var out []string
	for _, c := range p.Spec.Containers {
		if c.Name != main {
			out = append(out, c.Name)
		}
	}
	return out
}

// event surfaces the cluster's events about this run's pods and object.
func (w *watcher) event(e *corev1.Event) {
	t := e.LastTimestamp.Time
	if t.IsZero() {
		t = e.EventTime.Time
	}
	if t.IsZero() {
		t = e.CreationTimestamp.Time
	}
	if t.Before(w.o.Since.Add(-time.Second)) {
		return
	}
	io := e.InvolvedObject
	replica := ""
	switch {
	case io.Kind == "Pod":
		var pod *corev1.Pod
		for _, p := range w.pods {
			if p.Name == io.Name {
				pod = p
			}
		}
		if pod == nil && !strings.HasPrefix(io.Name, w.run.Name+"-") {
			return
		}
		if pod != nil {
			replica = ReplicaName(w.run.Kind, w.run.Name, pod)
		} else {
			replica = io.Name
		}
	case io.Name == w.run.Name:
		if e.Type != corev1.EventTypeWarning {
			return
		}
	default:
		return
	}
	important := e.Type == corev1.EventTypeWarning || e.Reason == "Pulling" || e.Reason == "Pulled"
	// Once per replica and message: a recurring event (count going up)
	// says nothing new.
	key := io.Name + "\x00" + e.Reason + "\x00" + e.Message
	if !important || w.events[key] {
		return
	}
	w.events[key] = true
	typ := EventProgress
	if e.Type == corev1.EventTypeWarning {
		typ = EventWarning
	}
	w.emit(Event{Type: typ, Replica: replica, Message: e.Reason + ": " + firstLine(e.Message)})
}

func (w *watcher) startStream(ctx context.Context, p *corev1.Pod, container, replica string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := string(p.UID) + "/" + container
	if _, ok := w.streams[key]; ok {
		return
	}
	s := &podStream{c: w.c, ns: p.Namespace, pod: p.Name, container: container, replica: replica,
		out: func(text string) { w.out.line(replica, text) }, follow: true, tail: w.o.TailLines, done: make(chan struct{})}
	w.streams[key] = s
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		s.run(ctx)
	}()
}

// drain waits a little for the log streams of finished pods to end.
func (w *watcher) drain() {
	w.mu.Lock()
	var waits []chan struct{}
	for _, s := range w.streams {
		waits = append(waits, s.done)
	}
	w.mu.Unlock()
	deadline := time.After(drainTimeout)
	for _, ch := range waits {
		select {
		case <-ch:
		case <-deadline:
			return
		}
	}
}

func (w *watcher) result() *Result {
	res := &Result{}
	if w.obj == nil {
		res.Status = Status{Run: w.run, Phase: PhasePending}
		return res
	}
	res.Status = w.snapshot()
	if w.stuck != "" && !res.Status.Phase.Done() {
		res.Status.Phase = PhaseFailed
		res.Reason = w.stuck
	}
	if res.Status.Phase != PhaseFailed {
		return res
	}
	if res.Reason == "" {
		if ph, msg := objectPhase(w.run.Kind, w.obj); ph == PhaseFailed {
			res.Reason = conditionReason(w.obj, msg)
		}
	}
	// The failing replica: the first non-zero exit, else a stuck pod.
	reps := res.Status.Replicas
	sort.SliceStable(reps, func(i, j int) bool { return reps[i].ExitCode != 0 && reps[j].ExitCode == 0 })
	for _, r := range reps {
		if r.ExitCode != 0 || (r.Reason != "" && r.Reason != "Completed" && r.Phase != string(corev1.PodSucceeded)) {
			res.FailedReplica, res.ExitCode = r.Replica, int(r.ExitCode)
			if r.Reason != "" {
				res.Reason = r.Cause()
			}
			res.LastLines = w.lastLines(r.Pod)
			if len(res.LastLines) == 0 && r.Restarts > 0 {
				res.LastLines = w.previousLines(r.Pod)
			}
			if strings.TrimSpace(strings.Join(res.LastLines, "")) == "" {
				res.LastLines = nil // a program that printed nothing (or never started)
			}
			break
		}
	}
	return res
}

func conditionReason(u *unstructured.Unstructured, fallback string) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Failed" && m["status"] == "True" {
			if r, _ := m["reason"].(string); r != "" {
				return r
			}
		}
	}
	return fallback
}

// previousLines are the last lines the pod's program printed before it
// last ended (no log stream follows a server's pods).
func (w *watcher) previousLines(pod string) []string {
	for _, p := range w.pods {
		if p.Name != pod {
			continue
		}
		tail := int64(10)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		b, err := w.c.Core.CoreV1().Pods(p.Namespace).GetLogs(pod, &corev1.PodLogOptions{Container: mainContainer(w.run.Kind, p), Previous: true, TailLines: &tail}).DoRaw(ctx)
		if err != nil {
			return nil
		}
		return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	}
	return nil
}

func (w *watcher) lastLines(pod string) []string {
	w.mu.Lock()
	for _, s := range w.streams {
		if s.pod == pod && !strings.Contains(s.replica, "/") { // the program's, not another container's
			w.mu.Unlock()
			return s.lastLines()
		}
	}
	w.mu.Unlock()
	if w.c == nil {
		return nil
	}
	// Not streamed (detached earlier, or logs were off): ask for the tail.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n := int64(w.o.TailLines)
	for _, p := range w.pods {
		if p.Name != pod {
			continue
		}
		b, err := w.c.Core.CoreV1().Pods(p.Namespace).GetLogs(pod, &corev1.PodLogOptions{Container: mainContainer(w.run.Kind, p), TailLines: &n}).DoRaw(ctx)
		if err == nil {
			return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		}
	}
	return nil
}
