package deployer

import (
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestReadiness(t *testing.T) {
	for _, tc := range []struct {
		obj   string
		state ObjectState
		msg   string
	}{
		{`{apiVersion: batch/v1, kind: Job, metadata: {name: j, generation: 1}, status: {active: 1, startTime: "2026-01-01T00:00:00Z"}}`, StateInProgress, "active 1, succeeded 0, failed 0"},
		{`{apiVersion: batch/v1, kind: Job, metadata: {name: j}, status: {succeeded: 1, conditions: [{type: SuccessCriteriaMet, status: "True"}, {type: Complete, status: "True"}]}}`, StateSucceeded, ""},
		{`{apiVersion: batch/v1, kind: Job, metadata: {name: j}, status: {conditions: [{type: FailureTarget, status: "True"}, {type: Failed, status: "True", message: Job has reached the specified backoff limit}]}}`, StateFailed, "Job has reached the specified backoff limit"},
		{`{apiVersion: kubeflow.org/v1, kind: PyTorchJob, metadata: {name: p}, status: {conditions: [{type: Created, status: "True"}, {type: Running, status: "True"}]}}`, StateInProgress, "running"},
		{`{apiVersion: kubeflow.org/v1, kind: PyTorchJob, metadata: {name: p}, status: {conditions: [{type: Created, status: "True"}, {type: Running, status: "False"}, {type: Succeeded, status: "True"}]}}`, StateSucceeded, ""},
		{`{apiVersion: kubeflow.org/v1, kind: TFJob, metadata: {name: p}, status: {conditions: [{type: Failed, status: "True", message: worker-0 exited 3}]}}`, StateFailed, "worker-0 exited 3"},
		{`{apiVersion: kubeflow.org/v1, kind: PyTorchJob, metadata: {name: p}}`, StateInProgress, "not started"},
		{`{apiVersion: trainer.kubeflow.org/v1alpha1, kind: TrainJob, metadata: {name: t}, status: {conditions: [{type: Complete, status: "True"}]}}`, StateSucceeded, ""},
		{`{apiVersion: argoproj.io/v1alpha1, kind: Workflow, metadata: {name: w}, status: {phase: Running}}`, StateInProgress, "running"},
		{`{apiVersion: argoproj.io/v1alpha1, kind: Workflow, metadata: {name: w}, status: {phase: Error, message: child failed}}`, StateFailed, "child failed"},
		// The rest by kstatus.
		{`{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, generation: 2}, spec: {replicas: 2}, status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1, conditions: [{type: Available, status: "True"}]}}`, StateInProgress, ""},
		{`{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, generation: 2}, spec: {replicas: 2}, status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, conditions: [{type: Available, status: "True"}]}}`, StateReady, ""},
		{`{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, generation: 3}, spec: {replicas: 1}, status: {observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1}}`, StateInProgress, ""},
		{`{apiVersion: serving.kserve.io/v1beta1, kind: InferenceService, metadata: {name: s, generation: 1}, status: {observedGeneration: 1, conditions: [{type: Ready, status: "False", reason: PredictorNotReady}]}}`, StateInProgress, ""},
		{`{apiVersion: serving.kserve.io/v1beta1, kind: InferenceService, metadata: {name: s, generation: 1}, status: {observedGeneration: 1, conditions: [{type: Ready, status: "True"}]}}`, StateReady, ""},
		{`{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}`, StateReady, ""},
		{`{apiVersion: v1, kind: ConfigMap, metadata: {name: c, deletionTimestamp: "2026-01-01T00:00:00Z"}}`, StateInProgress, "being deleted"},
	} {
		j, err := yaml.YAMLToJSON([]byte(tc.obj))
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil { // numbers as the API's int64
			t.Fatal(err)
		}
		st := Readiness(u)
		if st.State != tc.state || (tc.msg != "" && st.Message != tc.msg) {
			t.Errorf("%s/%s: %+v, want %s %q\n%s", u.GetKind(), u.GetName(), st, tc.state, tc.msg, tc.obj)
		}
	}
}

// A container without a readiness probe settles only after fair itself has
// seen the same run of it up for the whole window, however long ago the
// kubelet says it started: a status reported late must not shorten it.
func TestSettling(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	run := func(started time.Time, restarts int32) corev1.ContainerStatus {
		return corev1.ContainerStatus{RestartCount: restarts, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(started)}}}
	}
	w := newPodWatch()
	steps := []struct {
		now  time.Duration // since t0
		cs   corev1.ContainerStatus
		want bool
	}{
		{4 * time.Second, run(t0, 0), true},                     // first seen 4s after its start
		{6 * time.Second, run(t0, 0), true},                     // 6s since StartedAt, but seen for 2s only
		{9 * time.Second, run(t0, 0), false},                    // seen for 5s
		{10 * time.Second, run(t0.Add(9*time.Second), 1), true}, // restarted: a new run
		{15 * time.Second, run(t0.Add(9*time.Second), 1), false},
		{16 * time.Second, run(t0.Add(9*time.Second), 2), true}, // same StartedAt, restart count moved on
	}
	for i, s := range steps {
		if got := w.settling("uid/c", s.cs, t0.Add(s.now)); got != s.want {
			t.Errorf("step %d at %s: settling %v, want %v", i, s.now, got, s.want)
		}
	}
	if w.settling("uid/c", corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}, t0) {
		t.Error("a waiting container counts as settling")
	}
	// A run that began long before the wait is settled at first sight: an
	// unchanged workload deployed again does not wait.
	if w.settling("uid/old", run(t0, 0), t0.Add(restartWindow)) {
		t.Error("a run started a minute ago is still settling")
	}
	// Each container has its own sighting.
	if !w.settling("uid/other", run(t0, 0), t0.Add(20*time.Second)) {
		t.Error("another container took this one's sighting")
	}
}
