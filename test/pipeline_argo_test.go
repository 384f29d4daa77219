package test

import (
	"bufio"
	"context"
	"fmt"
	"github.com/fair-go/fair/internal/iostreams"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fair-go/fair/test/testbed"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var workflows = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflows"}

// noController is what fair pipeline run prints when no Argo workflow
// controller picks a Workflow up within --controller-timeout.
const noController = "no Argo workflow controller has picked up"

// TestArgoRunsDiamondPipeline runs examples/pipeline/diamond with the fair
// CLI, as a user would, on the test bed's real Argo workflow controller:
// four steps built by fair, data passed through the registry, and the
// value of step d (21*2 + 21*2) read back from the Workflow Argo completed.
// It skips with FAIR_TESTBED=off (no test bed) or FAIR_TESTBED_ARGO=0 (a
// test bed started without the controller); otherwise a missing controller
// is a failure.
func TestArgoRunsDiamondPipeline(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: builds four Go programs and runs a workflow")
	}
	if os.Getenv("FAIR_TESTBED_ARGO") == "0" {
		t.Skip("FAIR_TESTBED_ARGO=0: skipping a test that needs the test bed's Argo workflow controller")
	}
	bed := testbed.Env(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	fair := filepath.Join(t.TempDir(), "fair")
	if out, err := exec.Command("go", "build", "-o", fair, filepath.Join(root, "cmd", "fair")).CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/fair: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	const name = "diamond-argo"
	cmd := exec.CommandContext(ctx, fair, "pipeline", "run", "examples/pipeline/diamond/pipeline.yaml",
		"--kubeconfig", testbed.Kubeconfig(), "--namespace", bed.Namespace,
		"--registry", bed.Registry+"/fair-test", "--name", name,
		// The registry listens on the node's loopback only.
		"--host-network", "--controller-timeout", "30s")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "FAIR_CACHE_DIR="+filepath.Join(os.TempDir(), "fair-pipeline-test-cache"))
	var stdout iostreams.SyncBuffer
	cmd.Stdout = &stdout
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Read stderr as it comes: without a controller fair would wait for
	// ever, so its warning ends the run at once.
	var stderr iostreams.SyncBuffer
	missing := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stderrPipe)
		closed := false
		for sc.Scan() {
			fmt.Fprintln(&stderr, sc.Text())
			if !closed && strings.Contains(sc.Text(), noController) {
				close(missing)
				closed = true
			}
		}
		_, _ = io.Copy(io.Discard, stderrPipe)
	}()
	waitErr := make(chan error, 1)
	go func() {
		<-readDone
		waitErr <- cmd.Wait()
	}()
	select {
	case <-missing:
		_ = cmd.Process.Kill()
		<-waitErr
		t.Fatalf("no Argo workflow controller ran workflow %s: hack/testbed/testbed up starts one "+
			"(its log: %s/logs/workflow-controller.log); set FAIR_TESTBED_ARGO=0 to skip this test\n%s",
			name, testbed.Dir(), stderr.String())
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("fair pipeline run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		}
	}
	t.Logf("fair pipeline run took %s (build, submit, run):\n%s", time.Since(start).Round(100*time.Millisecond), stderr.String())

	// fair's view: step d's log, prefixed with its name.
	if !strings.Contains(stdout.String(), "[d] sum: 84") {
		t.Errorf("the logs of step d lack \"sum: 84\":\n%s", stdout.String())
	}

	// Argo's view: the Workflow succeeded and step d's value output,
	// passed as a workflow parameter, is 84.
	wf, err := bed.Dynamic.Resource(workflows).Namespace(bed.Namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	phase, _, _ := unstructured.NestedString(wf.Object, "status", "phase")
	if phase != "Succeeded" {
		msg, _, _ := unstructured.NestedString(wf.Object, "status", "message")
		t.Fatalf("workflow %s: phase %q (%s), want Succeeded", name, phase, msg)
	}
	nodes, _, _ := unstructured.NestedMap(wf.Object, "status", "nodes")
	steps := map[string]map[string]any{}
	for _, n := range nodes {
		if m, ok := n.(map[string]any); ok && m["type"] == "Pod" {
			steps[fmt.Sprint(m["displayName"])] = m
		}
	}
	for _, s := range []string{"a", "b", "c", "d"} {
		if p := fmt.Sprint(steps[s]["phase"]); p != "Succeeded" {
			t.Errorf("step %s: phase %s, want Succeeded", s, p)
		}
	}
	params, _, _ := unstructured.NestedSlice(steps["d"], "outputs", "parameters")
	sum := ""
	for _, p := range params {
		if m, ok := p.(map[string]any); ok && m["name"] == "sum" {
			sum = fmt.Sprint(m["value"])
		}
	}
	if sum != "84" {
		t.Errorf("step d: output parameter sum = %q, want \"84\" (parameters %v)", sum, params)
	}

	// The step pods ran Argo's executor from the image the test bed built
	// with fair, pulled from its registry.
	pods, err := bed.Client.CoreV1().Pods(bed.Namespace).List(context.Background(), metav1.ListOptions{LabelSelector: "workflows.argoproj.io/workflow=" + name})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 4 {
		t.Errorf("%d step pods, want 4", len(pods.Items))
	}
	for _, p := range pods.Items {
		if img := executorImage(p); !strings.HasPrefix(img, bed.Registry+"/fair-testbed/argoexec@sha256:") {
			t.Errorf("pod %s: executor image %q, want the test bed's argoexec built by fair", p.Name, img)
		}
	}
}

// executorImage is the image of a workflow pod's wait container.
func executorImage(p corev1.Pod) string {
	for _, c := range p.Spec.Containers {
		if c.Name == "wait" {
			return c.Image
		}
	}
	return ""
}
