package deployer

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func obj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	objs, err := DecodeYAML([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return objs[0]
}

func pod(name string, labels map[string]string, phase corev1.PodPhase, exit int32) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "pytorch", Image: "img"}}},
		Status: corev1.PodStatus{Phase: phase}}
	if phase == corev1.PodFailed || phase == corev1.PodSucceeded {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "pytorch", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exit, Reason: "Error"}}}}
	}
	return p
}

// pytorchJob is a PyTorchJob of a master and two workers asking for three
// GPUs in all, with the given status conditions.
func pytorchJob(t *testing.T, conditions string) *unstructured.Unstructured {
	return obj(t, `apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: pt, annotations: {fair.dev/gpus: "3"}}
spec:
  pytorchReplicaSpecs:
    Master: {replicas: 1}
    Worker: {replicas: 2}
status:
  conditions:
`+conditions)
}

// l labels a pod as the Training Operator does.
func l(role, idx string) map[string]string {
	return map[string]string{"training.kubeflow.org/replica-type": role, "training.kubeflow.org/replica-index": idx}
}

func TestStatusOfAPyTorchJob(t *testing.T) {
	u := pytorchJob(t, `  - {type: Created, status: "True"}
  - {type: Running, status: "False"}
  - {type: Failed, status: "True", reason: PyTorchJobFailed, message: "worker 1 failed"}
`)
	pods := []*corev1.Pod{
		pod("pt-worker-1", l("worker", "1"), corev1.PodFailed, 137),
		pod("pt-master-0", l("master", "0"), corev1.PodSucceeded, 0),
		pod("pt-worker-0", l("worker", "0"), corev1.PodRunning, 0),
	}
	s := status(Run{Name: "pt", Kind: KindPyTorchJob}, u, pods)
	if s.Phase != PhaseFailed || s.Total != 3 || s.GPUs != 3 || s.Message != "worker 1 failed" || s.Image != "img" {
		t.Errorf("status = %+v", s)
	}
	if len(s.Replicas) != 3 || s.Replicas[0].Replica != "master-0" || s.Replicas[2].Replica != "worker-1" || s.Replicas[2].ExitCode != 137 {
		t.Errorf("replicas = %+v", s.Replicas)
	}
	w := &watcher{run: Run{Name: "pt", Kind: KindPyTorchJob}, obj: u, pods: map[string]*corev1.Pod{}, streams: map[string]*podStream{}}
	for _, p := range pods {
		w.pods[p.Name] = p
	}
	res := w.result()
	if res.FailedReplica != "worker-1" || res.ExitCode != 137 || res.Err() == nil {
		t.Errorf("result = %+v", res)
	}
}

// The Training Operator ends a PyTorchJob when its master ends, even with
// workers still in their init containers: fair says they never ran.
func TestMasterFinishedFirst(t *testing.T) {
	u := pytorchJob(t, `  - {type: Succeeded, status: "True", reason: PyTorchJobSucceeded}
`)
	pods := []*corev1.Pod{
		pod("pt-master-0", l("master", "0"), corev1.PodSucceeded, 0),
		pod("pt-worker-0", l("worker", "0"), corev1.PodPending, 0),
		pod("pt-worker-1", l("worker", "1"), corev1.PodPending, 0),
	}
	s := status(Run{Name: "pt", Kind: KindPyTorchJob}, u, pods)
	if got, want := s.Summary(), "Succeeded, but only 1/3 replicas ran (worker-0, worker-1 never started)"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if s.Ready != 1 || s.GPUs != 3 {
		t.Errorf("ready %d GPUs %d, want 1 and 3", s.Ready, s.GPUs)
	}
	// Every replica ran: the plain summary.
	for _, p := range pods[1:] {
		p.Status.Phase = corev1.PodSucceeded
		p.Status.ContainerStatuses = pods[0].Status.ContainerStatuses
	}
	if got, want := status(Run{Name: "pt", Kind: KindPyTorchJob}, u, pods).Summary(), "Succeeded (3/3 replicas ran)"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	// A worker with no pod at all never ran either.
	if got, want := status(Run{Name: "pt", Kind: KindPyTorchJob}, u, pods[:2]).Summary(), "Succeeded, but only 2/3 replicas ran (1 never started)"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

func TestJobPhases(t *testing.T) {
	running := obj(t, "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {}\n")
	done := obj(t, "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nstatus: {conditions: [{type: Complete, status: \"True\"}]}\n")
	p := pod("j-abc", map[string]string{"batch.kubernetes.io/job-completion-index": ""}, corev1.PodSucceeded, 0)
	// The pod finished but the Job has not said so yet: still running.
	if s := status(Run{Name: "j", Kind: KindJob}, running, []*corev1.Pod{p}); s.Phase != PhaseRunning || s.Ready != 1 {
		t.Errorf("status = %+v", s)
	}
	// The program ended, the pod is not yet marked Succeeded: still
	// counted, not "0/1 ready" between "1/1" and done.
	ending := pod("j-abc", nil, corev1.PodRunning, 0)
	ending.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "pytorch", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}}}
	if s := status(Run{Name: "j", Kind: KindJob}, running, []*corev1.Pod{ending}); s.Ready != 1 {
		t.Errorf("a pod whose program completed: ready %d", s.Ready)
	}
	ending.Status.ContainerStatuses[0].State.Terminated = &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1}
	if s := status(Run{Name: "j", Kind: KindJob}, running, []*corev1.Pod{ending}); s.Ready != 0 {
		t.Errorf("a pod whose program failed: ready %d", s.Ready)
	}
	if s := status(Run{Name: "j", Kind: KindJob}, done, nil); s.Phase != PhaseSucceeded || s.Total != 1 {
		t.Errorf("status = %+v", s)
	}
	if n := ReplicaName(KindJob, "j", p); n != "job-0" {
		t.Errorf("replica = %s", n)
	}
	js := map[string]string{"jobset.sigs.k8s.io/replicatedjob-name": "node", "batch.kubernetes.io/job-completion-index": "1"}
	if n := ReplicaName(KindTrainJob, "t", pod("t-node-0-1-x", js, corev1.PodRunning, 0)); n != "node-1" {
		t.Errorf("trainjob replica = %s", n)
	}
}

// A container the runtime could not start (no such executable) is
// terminated too, with StartError: its program never ran.
func TestStartErrorNeverRan(t *testing.T) {
	u := pytorchJob(t, `  - {type: Failed, status: "True", reason: PyTorchJobFailed}
`)
	pods := []*corev1.Pod{
		pod("pt-master-0", l("master", "0"), corev1.PodFailed, 128),
		pod("pt-worker-0", l("worker", "0"), corev1.PodFailed, 1),
		pod("pt-worker-1", l("worker", "1"), corev1.PodRunning, 0),
	}
	pods[0].Status.ContainerStatuses[0].State.Terminated.Reason = "StartError"
	pods[0].Status.ContainerStatuses[0].State.Terminated.Message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/no/such/program": stat /no/such/program: no such file or directory: unknown`
	// A restarted container whose last run could not start either.
	pods[2].Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "pytorch", RestartCount: 2,
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError"}}}}
	s := status(Run{Name: "pt", Kind: KindPyTorchJob}, u, pods)
	if got, want := s.Summary(), "Failed, but only 1/3 replicas ran (master-0, worker-1 never started)"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	// The runtime's reason, in the words that matter.
	if got, want := s.Replicas[0].Cause(), `StartError: exec: "/no/such/program": stat /no/such/program: no such file or directory`; got != want {
		t.Errorf("cause %q, want %q", got, want)
	}
}
