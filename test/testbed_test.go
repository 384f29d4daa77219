package test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/fair-go/fair/test/testbed"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

const helloDir = "test/images/hello"

// poll runs cond every 250 ms until it is true, fails or time runs out.
func poll(t *testing.T, what string, timeout time.Duration, cond func(context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func logs(t *testing.T, bed *testbed.Bed, pod, container string) string {
	t.Helper()
	req := bed.Client.CoreV1().Pods(bed.Namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container})
	rc, err := req.Stream(context.Background())
	if err != nil {
		t.Fatalf("logs of %s/%s: %v", pod, container, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("logs of %s/%s: %v", pod, container, err)
	}
	return string(b)
}

func TestJobFromFairImageCompletes(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := bed.Image(t, helloDir)
	ctx := context.Background()
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "hello"},
		Spec: batchv1.JobSpec{
			BackoffLimit: new(int32),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{
					Name: "hello", Image: img,
					Env: []corev1.EnvVar{{Name: "HELLO_LINES", Value: "5"}},
				}},
			}},
		},
	}
	if _, err := bed.Client.BatchV1().Jobs(bed.Namespace).Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, "job hello to complete", 2*time.Minute, func(ctx context.Context) (bool, error) {
		j, err := bed.Client.BatchV1().Jobs(bed.Namespace).Get(ctx, "hello", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range j.Status.Conditions {
			if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
				t.Fatalf("job failed: %s", c.Message)
			}
			if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	pods, err := bed.Client.CoreV1().Pods(bed.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=hello"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods of job hello: %v (%d pods)", err, len(pods.Items))
	}
	out := logs(t, bed, pods.Items[0].Name, "hello")
	if !strings.Contains(out, "hello 5/5 from "+pods.Items[0].Name) {
		t.Fatalf("logs lack the last line; got:\n%s", out)
	}
}

func gpuPod(name, image string, gpus int64) *corev1.Pod {
	q := *resource.NewQuantity(gpus, resource.DecimalSI)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Tolerations:   []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			Containers: []corev1.Container{{
				Name: "main", Image: image,
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": q}},
			}},
		},
	}
}

func TestGPUPodsAreScheduledByCapacity(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := bed.Image(t, helloDir)
	ctx := context.Background()
	pods := bed.Client.CoreV1().Pods(bed.Namespace)
	for _, p := range []*corev1.Pod{gpuPod("one-gpu", img, 1), gpuPod("eight-gpus", img, 8)} {
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	poll(t, "pod one-gpu to run", 2*time.Minute, func(ctx context.Context) (bool, error) {
		p, err := pods.Get(ctx, "one-gpu", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if p.Status.Phase == corev1.PodFailed {
			t.Fatalf("pod one-gpu failed: %s", p.Status.Message)
		}
		return p.Status.Phase == corev1.PodSucceeded, nil
	})
	var msg string
	poll(t, "a FailedScheduling event for eight-gpus", time.Minute, func(ctx context.Context) (bool, error) {
		ev, err := bed.Client.CoreV1().Events(bed.Namespace).List(ctx, metav1.ListOptions{
			FieldSelector: "involvedObject.name=eight-gpus,reason=FailedScheduling"})
		if err != nil || len(ev.Items) == 0 {
			return false, err
		}
		msg = ev.Items[0].Message
		return true, nil
	})
	if !strings.Contains(msg, "nvidia.com/gpu") {
		t.Errorf("FailedScheduling event does not name the resource: %q", msg)
	}
	p, err := pods.Get(ctx, "eight-gpus", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status.Phase != corev1.PodPending || p.Spec.NodeName != "" {
		t.Errorf("pod eight-gpus: phase %s on node %q, want Pending and unscheduled", p.Status.Phase, p.Spec.NodeName)
	}
}

var pytorchJobs = schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1", Resource: "pytorchjobs"}

func replicaSpec(n int64, image string) map[string]any {
	return map[string]any{
		"replicas":      n,
		"restartPolicy": "Never",
		"template": map[string]any{"spec": map[string]any{
			"containers": []any{map[string]any{
				"name": "pytorch", "image": image,
				"env": []any{map[string]any{"name": "HELLO_LINES", "value": "2"}},
			}},
		}},
	}
}

func TestPyTorchJobRunsEveryReplica(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := bed.Image(t, helloDir)
	ctx := context.Background()
	jobs := bed.Dynamic.Resource(pytorchJobs).Namespace(bed.Namespace)

	// The real CRD schema rejects a malformed job before any controller sees it.
	bad := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
		"metadata": map[string]any{"name": "bad"},
		"spec":     map[string]any{"pytorchReplicaSpecs": map[string]any{"Master": map[string]any{"replicas": "one"}}},
	}}
	if _, err := jobs.Create(ctx, bad, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("malformed PyTorchJob: got error %v, want Invalid", err)
	}

	// The operator's own validating webhook (reached through a Service, as in
	// a real cluster) rejects a job without a container named "pytorch".
	noPyTorch := replicaSpec(1, img)
	podSpec := noPyTorch["template"].(map[string]any)["spec"].(map[string]any)
	podSpec["containers"].([]any)[0].(map[string]any)["name"] = "main"
	unnamed := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
		"metadata": map[string]any{"name": "unnamed"},
		"spec":     map[string]any{"pytorchReplicaSpecs": map[string]any{"Master": noPyTorch}},
	}}
	_, err := jobs.Create(ctx, unnamed, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "pytorch") {
		t.Fatalf("PyTorchJob without a pytorch container: got error %v, want the operator's webhook to deny it", err)
	}

	job := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
		"metadata": map[string]any{"name": "pt"},
		"spec": map[string]any{"pytorchReplicaSpecs": map[string]any{
			"Master": replicaSpec(1, img),
			"Worker": replicaSpec(2, img),
		}},
	}}
	if _, err := jobs.Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, "PyTorchJob pt to succeed", 3*time.Minute, func(ctx context.Context) (bool, error) {
		j, err := jobs.Get(ctx, "pt", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(j.Object, "status", "conditions")
		for _, c := range conds {
			c, _ := c.(map[string]any)
			if c["status"] != "True" {
				continue
			}
			switch c["type"] {
			case "Failed":
				t.Fatalf("PyTorchJob failed: %v", c["message"])
			case "Succeeded":
				return true, nil
			}
		}
		return false, nil
	})

	pods, err := bed.Client.CoreV1().Pods(bed.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: "training.kubeflow.org/job-name=pt"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 3 {
		t.Fatalf("PyTorchJob made %d pods, want 3 (1 master, 2 workers)", len(pods.Items))
	}
	want := map[string]string{
		"pt-master-0": "rendezvous complete: master saw ranks [1 2]",
		"pt-worker-0": "rank 1 joined pt-master-0",
		"pt-worker-1": "rank 2 joined pt-master-0",
	}
	for _, p := range pods.Items {
		line, ok := want[p.Name]
		if !ok {
			t.Errorf("unexpected pod %s", p.Name)
			continue
		}
		delete(want, p.Name)
		out := logs(t, bed, p.Name, "pytorch")
		if !strings.Contains(out, "hello 2/2 from "+p.Name) || !strings.Contains(out, line) {
			t.Errorf("logs of %s lack %q; got:\n%s", p.Name, line, out)
		}
		if strings.Contains(p.Name, "worker") {
			if len(p.Spec.InitContainers) != 1 || len(p.Status.InitContainerStatuses) != 1 ||
				p.Status.InitContainerStatuses[0].State.Terminated == nil ||
				p.Status.InitContainerStatuses[0].State.Terminated.ExitCode != 0 {
				t.Errorf("worker %s: want one init container that waited for the master and exited 0; got %+v", p.Name, p.Status.InitContainerStatuses)
			}
		}
	}
	for name := range want {
		t.Errorf("no pod %s", name)
	}
}

// The ML CRDs come from the real project modules; this proves they are served.
func TestMLResourcesAreServed(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	for gv, kinds := range map[string][]string{
		"kubeflow.org/v1":               {"PyTorchJob", "TFJob", "XGBoostJob", "JAXJob"},
		"trainer.kubeflow.org/v1alpha1": {"TrainJob", "TrainingRuntime", "ClusterTrainingRuntime"},
		"serving.kserve.io/v1beta1":     {"InferenceService"},
		"argoproj.io/v1alpha1":          {"Workflow", "WorkflowTemplate"},
	} {
		list, err := bed.Client.Discovery().ServerResourcesForGroupVersion(gv)
		if err != nil {
			t.Errorf("%s: %v", gv, err)
			continue
		}
		have := map[string]bool{}
		for _, r := range list.APIResources {
			have[r.Kind] = true
		}
		for _, k := range kinds {
			if !have[k] {
				t.Errorf("%s %s is not served", gv, k)
			}
		}
	}
}
