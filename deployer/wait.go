package deployer

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// ObjectState is where an applied object stands, as fair deploy -f waits
// for it: a workload that runs to an end (a Job, a training job, a
// Workflow) is done when it has succeeded; anything else when it is ready.
type ObjectState string

// Object states.
const (
	StateInProgress ObjectState = "InProgress"
	StateReady      ObjectState = "Ready"     // rolled out, reconciled, serving
	StateSucceeded  ObjectState = "Succeeded" // ran to its end
	StateFailed     ObjectState = "Failed"
)

// Done reports whether the state is final.
func (s ObjectState) Done() bool { return s == StateReady || s == StateSucceeded || s == StateFailed }

// ObjectStatus is an object's state and what it says about it.
type ObjectStatus struct {
	Ref     string      `json:"ref"` // kind/name, as kubectl prints it
	State   ObjectState `json:"state"`
	Message string      `json:"message,omitempty"`
}

// Readiness computes u's state. Kubernetes Jobs, the Kubeflow training
// kinds, TrainJobs, Katib Experiments and Argo Workflows finish; for every
// other kind the cli-utils kstatus library (kubectl's and Flux's notion of
// "current") decides: a Deployment is ready when rolled out, an
// InferenceService when its Ready condition is true.
func Readiness(u *unstructured.Unstructured) ObjectStatus {
	st := ObjectStatus{Ref: strings.ToLower(u.GetKind()) + "/" + u.GetName()}
	if u.GetDeletionTimestamp() != nil {
		st.State, st.Message = StateInProgress, "being deleted"
		return st
	}
	group := u.GroupVersionKind().Group
	switch {
	case group == "batch" && u.GetKind() == "Job":
		st.State, st.Message = finishing(u, "Complete", "Failed")
		if st.State == StateInProgress {
			active, _, _ := unstructured.NestedInt64(u.Object, "status", "active")
			ok, _, _ := unstructured.NestedInt64(u.Object, "status", "succeeded")
			failed, _, _ := unstructured.NestedInt64(u.Object, "status", "failed")
			st.Message = fmt.Sprintf("active %d, succeeded %d, failed %d", active, ok, failed)
		}
		return st
	case group == "kubeflow.org" && strings.HasSuffix(u.GetKind(), "Job"),
		group == "kubeflow.org" && u.GetKind() == "Experiment":
		st.State, st.Message = finishing(u, "Succeeded", "Failed")
		return st
	case group == "trainer.kubeflow.org" && u.GetKind() == "TrainJob":
		st.State, st.Message = finishing(u, "Complete", "Failed")
		return st
	case group == "argoproj.io" && u.GetKind() == "Workflow":
		phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
		msg, _, _ := unstructured.NestedString(u.Object, "status", "message")
		switch phase {
		case "Succeeded":
			st.State = StateSucceeded
		case "Failed", "Error":
			st.State, st.Message = StateFailed, msg
		default:
			st.State, st.Message = StateInProgress, strings.ToLower(orDefault(phase, "pending"))
		}
		return st
	}
	res, err := kstatus.Compute(u)
	if err != nil {
		st.State, st.Message = StateInProgress, err.Error()
		return st
	}
	st.Message = res.Message
	switch res.Status {
	case kstatus.CurrentStatus:
		st.State = StateReady
	case kstatus.FailedStatus:
		st.State = StateFailed
	case kstatus.NotFoundStatus:
		st.State, st.Message = StateFailed, "deleted"
	default:
		st.State = StateInProgress
	}
	return st
}

// finishing reads a run-to-the-end object's conditions: the newest true
// one of done or failed decides, else it is in progress with its newest
// true condition as the message.
func finishing(u *unstructured.Unstructured, done, failed string) (ObjectState, string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	state, msg := StateInProgress, ""
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["status"] != "True" {
			continue
		}
		typ, _ := m["type"].(string)
		text, _ := m["message"].(string)
		switch typ {
		case done:
			state, msg = StateSucceeded, text
		case failed:
			state, msg = StateFailed, text
		default:
			if state == StateInProgress {
				msg = strings.ToLower(typ)
			}
		}
	}
	if state == StateInProgress && msg == "" {
		msg = "not started"
	}
	return state, msg
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// WaitOptions change WaitFor.
type WaitOptions struct {
	// Timeout bounds the wait; 0 waits until ctx ends.
	Timeout time.Duration
	// Changed is told each object's status when it changes.
	Changed func(ObjectStatus)
	// Interval between polls (default 1s).
	Interval time.Duration
}

// WaitFor waits until every object in objs is ready or has succeeded, and
// returns their last statuses. It stops at the first object that fails,
// or whose pods cannot start (a bad image name, a missing Secret or
// ConfigMap, an image that does not pull for 90s), with an error naming
// it; a crash-looping pod (or one that restarted in the last minute) keeps
// its workload from being ready, and is waited for until the timeout.
func (c *Client) WaitFor(ctx context.Context, objs []*unstructured.Unstructured, o WaitOptions) ([]ObjectStatus, error) {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	last := make([]ObjectStatus, len(objs))
	seen := newPodWatch()
	for {
		pending := 0
		for i, u := range objs {
			if last[i].State.Done() {
				continue
			}
			st := c.objectStatus(ctx, u, seen)
			if st != last[i] {
				last[i] = st
				if o.Changed != nil {
					o.Changed(st)
				}
			}
			if st.State == StateFailed {
				return last, fmt.Errorf("%s failed: %s", st.Ref, orDefault(st.Message, "no reason given"))
			}
			if !st.State.Done() {
				pending++
			}
		}
		if pending == 0 {
			return last, nil
		}
		select {
		case <-ctx.Done():
			if o.Timeout > 0 && ctx.Err() == context.DeadlineExceeded {
				var waiting []string
				for _, st := range last {
					if !st.State.Done() {
						waiting = append(waiting, st.Ref+" ("+orDefault(st.Message, "in progress")+")")
					}
				}
				return last, fmt.Errorf("not ready after %s: %s", o.Timeout, strings.Join(waiting, ", "))
			}
			return last, ctx.Err()
		case <-time.After(o.Interval):
		}
	}
}

// objectStatus reads u from the cluster and computes its state; a
// workload's pods that cannot start fail it.
func (c *Client) objectStatus(ctx context.Context, u *unstructured.Unstructured, seen *podWatch) ObjectStatus {
	ref := strings.ToLower(u.GetKind()) + "/" + u.GetName()
	ri, err := c.resource(u)
	if err != nil {
		return ObjectStatus{Ref: ref, State: StateFailed, Message: err.Error()}
	}
	cur, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{})
	if err != nil {
		if ctx.Err() != nil {
			return ObjectStatus{Ref: ref, State: StateInProgress, Message: "waiting"}
		}
		return ObjectStatus{Ref: ref, State: StateFailed, Message: c.explain(err, "get "+ref).Error()}
	}
	st := Readiness(cur)
	if st.State != StateInProgress && st.State != StateReady {
		return st
	}
	// A workload counts as ready by its status the moment its pods run,
	// even a crash-looping one between two crashes: its pods decide.
	if why, stuck := c.podTrouble(ctx, cur, seen); why != "" {
		st.State, st.Message = StateInProgress, why
		if stuck {
			st.State = StateFailed
		}
	}
	return st
}

// restartWindow is how long after a container's restart its workload is
// not called ready: a crash loop's pods run for moments between crashes.
const restartWindow = time.Minute

// settleWindow is how long fair must have seen a container without a
// readiness probe running before its workload is called ready: without a
// probe it is "ready" the moment it starts, even when it exits a second
// later.
const settleWindow = 5 * time.Second

// podWatch is what a wait has seen of the pods' containers over its polls.
type podWatch struct {
	pulling map[string]time.Time // container → first seen in an image pull back-off
	running map[string]sighting  // container → the run of it first seen, and when
}

// sighting is one run of a container: a new start or restart is a new one.
type sighting struct {
	started  time.Time
	restarts int32
	at       time.Time // when fair first saw this run
}

func newPodWatch() *podWatch {
	return &podWatch{pulling: map[string]time.Time{}, running: map[string]sighting{}}
}

// settling reports whether the running container cs of pod key has not
// yet been seen up long enough to call it ready. The window counts from
// fair's own first sight of this run, not from the StartedAt the kubelet
// reports: under load the kubelet reports a start, and a crash soon after
// it, seconds late, and a window counted from StartedAt could end before
// the crash shows. A run that started well before the wait (restartWindow
// ago) is settled at once: redeploying an unchanged workload need not wait.
func (w *podWatch) settling(key string, cs corev1.ContainerStatus, now time.Time) bool {
	r := cs.State.Running
	if r == nil || now.Sub(r.StartedAt.Time) >= restartWindow {
		return false
	}
	s, ok := w.running[key]
	if !ok || !s.started.Equal(r.StartedAt.Time) || s.restarts != cs.RestartCount {
		s = sighting{started: r.StartedAt.Time, restarts: cs.RestartCount, at: now}
		w.running[key] = s
	}
	return now.Sub(s.at) < settleWindow || now.Sub(r.StartedAt.Time) < settleWindow
}

// probed reports whether the pod's container name has a readiness probe.
func probed(p *corev1.Pod, name string) bool {
	for _, c := range p.Spec.Containers {
		if c.Name == name {
			return c.ReadinessProbe != nil
		}
	}
	return true // an init container: it must end, not stay up
}

// podTrouble looks at the pods of a workload (an object with a label
// selector: Deployment, StatefulSet, DaemonSet, ReplicaSet, Job) for a
// container that cannot start: stuck is true when it never will.
func (c *Client) podTrouble(ctx context.Context, u *unstructured.Unstructured, seen *podWatch) (why string, stuck bool) {
	ml, ok, _ := unstructured.NestedStringMap(u.Object, "spec", "selector", "matchLabels")
	if !ok || len(ml) == 0 {
		return "", false
	}
	pods, err := c.Core.CoreV1().Pods(u.GetNamespace()).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(ml).String()})
	if err != nil {
		return "", false
	}
	serving := u.GetKind() != "Job" // a Job's pods are meant to end
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded {
			continue // on its way out, or a Job's pod that is done
		}
		for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			if t := cs.LastTerminationState.Terminated; cs.State.Running != nil && t != nil && time.Since(t.FinishedAt.Time) < restartWindow {
				// No "how long ago": each poll would print a new line.
				return fmt.Sprintf("pod %s: container %s restarted in the last minute (exit code %d)", p.Name, cs.Name, t.ExitCode), false
			}
			key := string(p.UID) + "/" + cs.Name
			if serving && !probed(p, cs.Name) && seen.settling(key, cs, time.Now()) {
				return fmt.Sprintf("pod %s: container %s just started (no readiness probe: waiting %s to see it stay up)", p.Name, cs.Name, settleWindow), false
			}
			w := cs.State.Waiting
			if w == nil {
				continue
			}
			msg := fmt.Sprintf("pod %s: container %s: %s", p.Name, cs.Name, w.Reason)
			if m := firstLine(w.Message); m != "" && w.Reason != "CrashLoopBackOff" { // its message repeats the pod's name
				msg += ": " + m
			}
			switch w.Reason {
			case "InvalidImageName", "CreateContainerConfigError", "ErrImageNeverPull":
				return msg, true
			case "ImagePullBackOff", "ErrImagePull":
				since, ok := seen.pulling[key]
				if !ok {
					seen.pulling[key] = time.Now()
				}
				return msg, ok && time.Since(since) > pullGrace
			case "CrashLoopBackOff":
				if t := cs.LastTerminationState.Terminated; t != nil {
					msg += fmt.Sprintf(" (exit code %d)", t.ExitCode)
				}
				return msg, false
			}
		}
	}
	return "", false
}

// RolledOut waits until the Deployment behind an endpoint has rolled out
// its newest version: every replica updated and available, and no old one
// left (kstatus's rule for Deployments). A run updated in place is ready
// only then; before, its old pods answer. An endpoint without such a
// Deployment (KServe on Knative) has nothing to wait for here.
func (c *Client) RolledOut(ctx context.Context, run Run) error {
	name := run.Name
	switch run.Kind {
	case KindDeployment:
	case KindKServe:
		name += "-predictor" // KServe's raw deployment mode
	default:
		return nil
	}
	if _, err := c.Core.AppsV1().Deployments(run.Namespace).Get(ctx, name, metav1.GetOptions{}); err != nil {
		return nil
	}
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("apps/v1")
	u.SetKind("Deployment")
	u.SetName(name)
	u.SetNamespace(run.Namespace)
	_, err := c.WaitFor(ctx, []*unstructured.Unstructured{u}, WaitOptions{})
	return err
}
