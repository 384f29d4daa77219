package cli

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fair-go/fair/test/testbed"
)

// TrainJobs run under the real Kubeflow Trainer v2 and JobSet controllers
// of the test bed, with its fair-go ClusterTrainingRuntime.
func TestTestbedTrainJob(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := testImage(t, bed, linesDir)
	ctx := ctxFor(t, 4*time.Minute)

	// Two nodes with a GPU each: both run, meet at node 0 (RANK,
	// WORLD_SIZE, MASTER_ADDR), and both logs stream.
	out, errOut, err := runFair(ctx, bedConfig(t, bed), "train", "--image", img, "--name", "tj", "--kind", "trainjob",
		"--runtime", "fair-go", "--workers", "2", "--gpus", "1", "-e", "LINES=3")
	if err != nil {
		t.Fatalf("train --kind trainjob: %v\n%s", err, errOut)
	}
	for _, l := range []string{"[node-0] line 3 of 3 rank 0/2", "[node-1] line 3 of 3 rank 1/2"} {
		if !strings.Contains(out.String(), l) {
			t.Errorf("missing %q in\n%s", l, out)
		}
	}
	if !strings.Contains(errOut.String(), "trainjob/tj succeeded") {
		t.Errorf("progress:\n%s", errOut)
	}
	pods, err := bed.Client.CoreV1().Pods(bed.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "jobset.sigs.k8s.io/jobset-name=tj"})
	if err != nil || len(pods.Items) != 2 {
		t.Fatalf("pods of the TrainJob: %v (%d)", err, len(pods.Items))
	}
	gpu := corev1.ResourceName("nvidia.com/gpu")
	for _, p := range pods.Items {
		c := p.Spec.Containers[0]
		if q := c.Resources.Requests[gpu]; q.Value() != 1 || p.Status.Phase != corev1.PodSucceeded {
			t.Errorf("pod %s: %s, GPU request %v", p.Name, p.Status.Phase, c.Resources.Requests)
		}
	}
	out, _, err = runFair(ctx, bedConfig(t, bed), "logs", "tj", "--replica", "node-1")
	if err != nil || out.String() != "[node-1] line 1 of 3 rank 1/2\n[node-1] line 2 of 3 rank 1/2\n[node-1] line 3 of 3 rank 1/2\n" {
		t.Errorf("logs --replica node-1: %v\n%s", err, out)
	}

	// A node that fails fails the run with its exit status.
	_, errOut, err = runFair(ctx, bedConfig(t, bed), "train", "--image", img, "--name", "tjfail", "--kind", "trainjob",
		"--runtime", "fair-go", "--workers", "2", "-e", "LINES=1", "-e", "EXIT=4")
	if ExitCode(err) != 4 || !strings.Contains(err.Error(), "exited with code 4") {
		t.Errorf("failing TrainJob: err = %v (exit code %d)\n%s", err, ExitCode(err), errOut)
	}

	// An unknown runtime: one line naming the runtimes there are, and
	// nothing submitted.
	_, _, err = runFair(ctx, bedConfig(t, bed), "train", "--image", img, "--name", "tjnope", "--kind", "trainjob", "--runtime", "nope")
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), `no TrainJob runtime "nope"`) ||
		!strings.Contains(err.Error(), "fair-go") {
		t.Errorf("unknown runtime: %v", err)
	}
	if _, _, err := runFair(ctx, bedConfig(t, bed), "status", "tjnope"); err == nil {
		t.Errorf("a run tjnope exists after a refused submit")
	}
}
