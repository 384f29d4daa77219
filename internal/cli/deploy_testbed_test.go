package cli

// Tests of train, serve, deploy, logs, ps, status and delete against the
// local Kubernetes test bed (hack/testbed). They skip only when
// FAIR_TESTBED=off; images are built by fair's own builder.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/test/testbed"
)

const (
	linesDir = "test/e2e/testdata/lines"
	echoDir  = "test/e2e/testdata/echo"
)

var (
	imgMu  sync.Mutex
	images = map[string]string{}
)

// testImage builds dir once per test binary.
func testImage(t *testing.T, bed *testbed.Bed, dir string) string {
	imgMu.Lock()
	defer imgMu.Unlock()
	if ref, ok := images[dir]; ok {
		return ref
	}
	ref := bed.Image(t, dir)
	images[dir] = ref
	return ref
}

// bedConfig is the configuration a user of the test bed would have.
func bedConfig(t *testing.T, bed *testbed.Bed) *config.Config {
	cfg := config.Default()
	for k, v := range map[string]string{"kubeconfig": testbed.Kubeconfig(), "namespace": bed.Namespace, "registry": bed.Registry + "/fair-test"} {
		if err := cfg.Set(k, v, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestTestbedTrainExitStatus(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := testImage(t, bed, linesDir)
	ctx := ctxFor(t, 3*time.Minute)

	out, errOut, err := runFair(ctx, bedConfig(t, bed), "train", "--image", img, "--name", "ok", "-e", "LINES=5", "-e", "INTERVAL=300ms")
	if err != nil {
		t.Fatalf("train: %v\n%s", err, errOut)
	}
	want := ""
	for i := 1; i <= 5; i++ {
		want += fmt.Sprintf("[job-0] line %d of 5\n", i)
	}
	if out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if !strings.Contains(errOut.String(), "job/ok job-0: running on") || !strings.Contains(errOut.String(), "job/ok succeeded") {
		t.Errorf("progress on stderr:\n%s", errOut)
	}

	out, errOut, err = runFair(ctx, bedConfig(t, bed), "train", "--image", img, "--name", "three", "-e", "LINES=2", "-e", "EXIT=3")
	if ExitCode(err) != 3 {
		t.Fatalf("train of a job exiting 3: err = %v (want exit code 3)\n%s", err, errOut)
	}
	if ExitCode(err) != 3 || !strings.Contains(err.Error(), "job-0 exited with code 3") {
		t.Errorf("err = %q", err)
	}
	// stdout and stderr of the container are separate pipes: their order
	// in the log is not fixed.
	_, tail, _ := strings.Cut(errOut.String(), "--- last lines of job-0 ---\n")
	if !strings.Contains(out.String(), "[job-0] exiting with 3") || !strings.Contains(tail, "line 2 of 2") || !strings.Contains(tail, "exiting with 3") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}

	// logs prints what there is; ps, status and delete see both runs.
	out, _, err = runFair(ctx, bedConfig(t, bed), "logs", "ok")
	if err != nil || out.String() != want {
		t.Errorf("logs ok: %v\n%s", err, out)
	}
	// kubectl's log flags: the last lines, times, a window, not with -f.
	out, _, err = runFair(ctx, bedConfig(t, bed), "logs", "ok", "--tail", "2")
	if err != nil || out.String() != "[job-0] line 4 of 5\n[job-0] line 5 of 5\n" {
		t.Errorf("logs --tail 2: %v\n%s", err, out)
	}
	out, _, err = runFair(ctx, bedConfig(t, bed), "logs", "ok", "--timestamps", "--since", "1h")
	if err != nil || !regexp.MustCompile(`(?m)\A(\[job-0\] \d{4}-\d\d-\d\dT\S+Z line \d of 5\n){5}\z`).MatchString(out.String()) {
		t.Errorf("logs --timestamps --since 1h: %v\n%s", err, out)
	}
	if _, _, err = runFair(ctx, bedConfig(t, bed), "logs", "ok", "-f", "--tail", "2"); err == nil || !strings.Contains(err.Error(), "with -f") {
		t.Errorf("logs -f --tail: %v", err)
	}
	out, _, err = runFair(ctx, bedConfig(t, bed), "ps", "-o", "name")
	if err != nil || !regexp.MustCompile(`(?m)^job/ok$`).MatchString(out.String()) || !regexp.MustCompile(`(?m)^job/three$`).MatchString(out.String()) {
		t.Errorf("ps -o name: %v\n%s", err, out)
	}
	out, _, err = runFair(ctx, bedConfig(t, bed), "ps", "-o", "wide")
	if err != nil || !regexp.MustCompile(`(?m)^three\s+job\s+Failed\s+0/1\s+0\s+\S+\s+\S+/lines@sha256:`).MatchString(out.String()) {
		t.Errorf("ps -o wide: %v\n%s", err, out)
	}
	// Shell completion offers the runs, with their kind and phase.
	out, _, err = runFair(ctx, bedConfig(t, bed), "__complete", "logs", "")
	if err != nil || !strings.Contains(out.String(), "ok\tjob Succeeded\n") || !strings.Contains(out.String(), "three\tjob Failed\n") {
		t.Errorf("completion of logs: %v\n%s", err, out)
	}
	out, _, err = runFair(ctx, bedConfig(t, bed), "ps")
	if err != nil || !regexp.MustCompile(`(?m)^ok\s+job\s+Succeeded\s+1/1\s+0\s`).MatchString(out.String()) ||
		!regexp.MustCompile(`(?m)^three\s+job\s+Failed\s+0/1`).MatchString(out.String()) {
		t.Errorf("ps: %v\n%s", err, out)
	}
	out, _, err = runFair(ctx, bedConfig(t, bed), "status", "three", "-o", "json")
	if err != nil || !strings.Contains(out.String(), `"exitCode": 3`) || !strings.Contains(out.String(), `"phase": "Failed"`) {
		t.Errorf("status: %v\n%s", err, out)
	}
	out, _, err = runFair(ctx, bedConfig(t, bed), "delete", "ok", "three")
	if err != nil || out.String() != "job/ok deleted\njob/three deleted\n" {
		t.Errorf("delete: %v\n%s", err, out)
	}
	if _, _, err = runFair(ctx, bedConfig(t, bed), "status", "ok"); err == nil || !strings.Contains(err.Error(), `no run "ok"`) {
		t.Errorf("status after delete: %v", err)
	}
}

func TestTestbedTrainGPU(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := testImage(t, bed, linesDir)
	ctx := ctxFor(t, 3*time.Minute)
	_, errOut, err := runFair(ctx, bedConfig(t, bed), "train", "--image", img, "--name", "gpu", "--gpus", "1")
	if err != nil {
		t.Fatalf("train --gpus 1: %v\n%s", err, errOut)
	}
	pods, err := bed.Client.CoreV1().Pods(bed.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "fair.dev/run=gpu"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods: %v %v", err, pods)
	}
	p := pods.Items[0]
	gpu := corev1.ResourceName("nvidia.com/gpu")
	c := p.Spec.Containers[0]
	if lim, req := c.Resources.Limits[gpu], c.Resources.Requests[gpu]; lim.Value() != 1 || req.Value() != 1 {
		t.Errorf("resources = %v", c.Resources)
	}
	tolerated := false
	for _, tol := range p.Spec.Tolerations {
		tolerated = tolerated || tol.Key == "nvidia.com/gpu" && tol.Effect == corev1.TaintEffectNoSchedule
	}
	if !tolerated {
		t.Errorf("no GPU toleration in %v", p.Spec.Tolerations)
	}
	node, err := bed.Client.CoreV1().Nodes().Get(ctx, p.Spec.NodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := node.Status.Allocatable[gpu]; n.Value() < 1 || p.Status.Phase != corev1.PodSucceeded {
		t.Errorf("pod %s on node %s (allocatable GPUs %v)", p.Status.Phase, node.Name, n.String())
	}

	// More GPUs than the node has: FailedScheduling is surfaced, then Ctrl-C
	// with --on-interrupt cancel deletes the job.
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	streams := make(chan [2]*iostreams.SyncBuffer, 1)
	var terr error
	go func() {
		_, _, terr = runFairStreams(cctx, bedConfig(t, bed), streams, "train", "--image", img, "--name", "greedy", "--gpus", "64", "--on-interrupt", "cancel")
		close(done)
	}()
	stderr := (<-streams)[1]
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stderr.String(), "FailedScheduling") {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("no FailedScheduling surfaced:\n%v", stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	<-done
	if ExitCode(terr) != 130 || !strings.Contains(stderr.String(), "nvidia.com/gpu") {
		t.Errorf("err = %v\n%s", terr, stderr)
	}
	if _, err := bed.Client.BatchV1().Jobs(bed.Namespace).Get(ctx, "greedy", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("cancelled job still there: %v", err)
	}
}

func TestTestbedPyTorchJobLogsFromAllReplicas(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := testImage(t, bed, linesDir)
	ctx := ctxFor(t, 4*time.Minute)
	out, errOut, err := runFair(ctx, bedConfig(t, bed), "train", "--image", img, "--name", "pt", "--kind", "pytorchjob", "--workers", "3", "-e", "LINES=3")
	if err != nil {
		t.Fatalf("train --kind pytorchjob: %v\n%s", err, errOut)
	}
	for _, r := range []string{"[master-0] line 3 of 3 rank 0/3", "[worker-0] line 3 of 3 rank 1/3", "[worker-1] line 3 of 3 rank 2/3"} {
		if !strings.Contains(out.String(), r) {
			t.Errorf("missing %q in\n%s", r, out)
		}
	}
	out, _, err = runFair(ctx, bedConfig(t, bed), "logs", "pt", "--replica", "worker-1")
	if err != nil || out.String() != "[worker-1] line 1 of 3 rank 2/3\n[worker-1] line 2 of 3 rank 2/3\n[worker-1] line 3 of 3 rank 2/3\n" {
		t.Errorf("logs --replica worker-1: %v\n%s", err, out)
	}
}

// A worker still running when the master has finished (stuck in a
// collective) is named, with how to free what it holds; fair train still
// ends, after a grace period in which a worker may finish on its own.
func TestTestbedPyTorchJobStuckWorkerNamed(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := testImage(t, bed, linesDir)
	ctx := ctxFor(t, 4*time.Minute)
	_, errOut, err := runFair(ctx, bedConfig(t, bed), "train", "--image", img, "--name", "pt-stuck", "--kind", "pytorchjob", "--workers", "3", "-e", "LINES=1", "-e", "HANG=1")
	if err != nil {
		t.Fatalf("train: %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut.String(), "warning: pytorchjob/pt-stuck succeeded, but worker-0 and worker-1 are still running 30s after it ended") ||
		!strings.Contains(errOut.String(), "until fair delete pt-stuck") {
		t.Errorf("no word of the stuck workers:\n%s", errOut)
	}
	out, _, err := runFair(ctx, bedConfig(t, bed), "status", "pt-stuck", "-o", "json")
	var st deployer.Status
	if err != nil || json.Unmarshal([]byte(out.String()), &st) != nil || fmt.Sprint(st.StillRunning) != "[worker-0 worker-1]" {
		t.Errorf("status: %v %+v", err, st)
	}
	// Workers that end on their own within the grace period: no warning.
	_, errOut, err = runFair(ctx, bedConfig(t, bed), "train", "--image", img, "--name", "pt-slow", "--kind", "pytorchjob", "--workers", "2", "-e", "LINES=4", "-e", "INTERVAL=1s")
	if err != nil || strings.Contains(errOut.String(), "still running") {
		t.Errorf("train pt-slow: %v\n%s", err, errOut)
	}
}

// A program the container runtime cannot start (no such executable) fails
// the run with the runtime's reason, and is not counted as having run.
func TestTestbedTrainProgramCannotStart(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	ctx := ctxFor(t, 3*time.Minute)
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "train.py"), []byte("print('hi')\n"), 0o644))
	_, errOut, err := runFair(ctx, bedConfig(t, bed), "train", dir, "--cmd", "/no/such/program", "--name", "cannot-start")
	if ExitCode(err) != 128 || !strings.Contains(err.Error(), `(StartError: exec: "/no/such/program": stat /no/such/program: no such file or directory)`) {
		t.Errorf("err = %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut.String(), "Failed, but only 0/1 replicas ran (job-0 never started)") || strings.Contains(errOut.String(), "--- last lines") {
		t.Errorf("progress:\n%s", errOut)
	}
}

// A namespace that does not exist is said beside the build, with how to
// create it, by train and serve, with or without --name; not by the
// apply after the build and push, in the API server's words.
func TestTestbedMissingNamespace(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	ctx := ctxFor(t, 2*time.Minute)
	want := "namespace fair-no-such-ns does not exist in context "
	echo := filepath.Join(repoRoot(t), echoDir)
	for _, args := range [][]string{
		{"train", echo},
		{"train", echo, "--name", "nsless"},
		{"serve", echo},
		{"serve", echo, "--kind", "deployment"},
	} {
		cfg := bedConfig(t, bed)
		must(t, cfg.Set("namespace", "fair-no-such-ns", "test"))
		_, errOut, err := runFair(ctx, cfg, args...)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "kubectl create namespace fair-no-such-ns") {
			t.Errorf("%v: %v\n%s", args, err, errOut)
		}
	}
}

// A Secret or volume claim the run names but the namespace lacks is said
// before anything is submitted: its pods would wait in Pending for good.
func TestTestbedMissingRefs(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	ctx := ctxFor(t, 2*time.Minute)
	img := testImage(t, bed, echoDir)
	for _, args := range [][]string{
		{"train", "--image", img, "--model", "m", "--registry-secret", "no-regcred"},
		{"train", "--image", img, "--env-from-secret", "no-creds"},
		{"serve", "--image", img, "--kind", "deployment", "--image-pull-secret", "no-pull"},
		{"train", "--image", img, "--volume", "pvc:no-data:/data"},
	} {
		_, errOut, err := runFair(ctx, bedConfig(t, bed), append(args, "--name", "refs")...)
		if err == nil || !strings.Contains(err.Error(), "in namespace "+bed.Namespace) || !strings.Contains(err.Error(), ": no ") {
			t.Errorf("%v: %v\n%s", args, err, errOut)
		}
	}
	if _, err := bed.Client.BatchV1().Jobs(bed.Namespace).Get(ctx, "refs", metav1.GetOptions{}); err == nil {
		t.Error("a run was submitted")
	}
}

// More GPUs than any node has: submitted (an autoscaler may add a node),
// with a warning saying the pods stay Pending, and the most a node has; its
// logs and status say why it has not started. A request a node can meet
// gets no warning.
func TestTestbedGPUShortageWarned(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	ctx := ctxFor(t, 2*time.Minute)
	echo := testImage(t, bed, echoDir)
	for gpus, warned := range map[string]bool{"99": true, "1": false} {
		name := "gpus-" + gpus
		_, errOut, err := runFair(ctx, bedConfig(t, bed), "train", "--image", echo, "--gpus", gpus, "--name", name, "--detach")
		if err != nil {
			t.Fatalf("--gpus %s: %v\n%s", gpus, err, errOut)
		}
		got := strings.Contains(errOut.String(), "warning: no node of context ")
		if got != warned || warned && !strings.Contains(errOut.String(), "has 99 nvidia.com/gpu (the most is ") {
			t.Errorf("--gpus %s: warned %v:\n%s", gpus, got, errOut)
		}
		if warned {
			// The pending run's logs say why there are none; its status
			// says what the scheduler said, not only "Unschedulable".
			why := "Unschedulable: 0/1 nodes are available: 1 Insufficient nvidia.com/gpu"
			deadline := time.Now().Add(30 * time.Second)
			for {
				out, errOut, err := runFair(ctx, bedConfig(t, bed), "logs", name)
				if err == nil && out.String() == "" && strings.Contains(errOut.String(), "fair: job-0 has not started (Pending: "+why+"): no logs yet; fair logs "+name+" -f waits for them") {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("logs of a pending run: %v\n%s\n%s", err, out, errOut)
					break
				}
				time.Sleep(time.Second)
			}
			if out, _, err := runFair(ctx, bedConfig(t, bed), "status", name); err != nil || !strings.Contains(out.String(), why) {
				t.Errorf("status of a pending run: %v\n%s", err, out)
			}
		}
		runFair(ctx, bedConfig(t, bed), "delete", name)
	}
}

func TestTestbedCRDSchemas(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	ctx := ctxFor(t, time.Minute)
	cfg := bedConfig(t, bed)
	for _, kind := range []string{"trainjob", "kserve"} {
		cmd := "train"
		if kind == "kserve" {
			cmd = "serve"
		}
		args := []string{cmd, "--image", "reg.example/m@sha256:" + strings.Repeat("a", 64), "--kind", kind, "--name", "v", "--gpus", "1", "--dry-run", "server"}
		rt := []string{}
		if kind == "trainjob" {
			// Trainer's webhook wants a runtime that exists.
			rt = []string{"--runtime", "fair-go"}
			args = append(args, "--workers", "2")
		}
		args = append(args, rt...)
		out, _, err := runFair(ctx, bedConfig(t, bed), args...)
		if err != nil {
			t.Errorf("%s: server dry run: %v", kind, err)
			continue
		}
		if !strings.Contains(out.String(), "uid:") && !strings.Contains(out.String(), "creationTimestamp") {
			t.Errorf("%s: not what the server returned:\n%s", kind, out)
		}
		// An invalid quantity: fair refuses it before anything else ...
		_, _, err = runFair(ctx, bedConfig(t, bed), append([]string{cmd, "--image", "i", "--kind", kind, "--name", "v", "--memory", "lots", "--dry-run", "server"}, rt...)...)
		if err == nil || !strings.Contains(err.Error(), `--memory "lots": want a Kubernetes quantity`) {
			t.Errorf("%s --memory lots: err = %v", kind, err)
		}
		// ... and in YAML that reaches the cluster (fair deploy -f), the
		// real schema rejects it, in one line.
		good, _, err := runFair(ctx, bedConfig(t, bed), append([]string{cmd, "--image", "i", "--kind", kind, "--name", "v", "--memory", "1234Mi", "--dry-run", "client"}, rt...)...)
		if err != nil || !strings.Contains(good.String(), "1234Mi") {
			t.Fatalf("%s: client dry run: %v\n%s", kind, err, good)
		}
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		must(t, os.WriteFile(bad, []byte(strings.ReplaceAll(good.String(), "1234Mi", "lots")), 0o644))
		_, _, err = runFair(ctx, bedConfig(t, bed), "deploy", "-f", bad, "--dry-run", "server")
		if err == nil || !strings.Contains(err.Error(), "rejected by the API server") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: deploy -f with memory lots: err = %v", kind, err)
		}
	}
	// A kind the cluster does not serve: a clear error, and what was
	// created before it in the same apply is rolled back.
	dir := t.TempDir()
	manifest := filepath.Join(dir, "app.yaml")
	os.WriteFile(manifest, []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: first}
data: {a: "1"}
---
apiVersion: widgets.example.com/v1
kind: Widget
metadata: {name: w}
`), 0o644)
	_, _, err := runFair(ctx, cfg, "deploy", "-f", manifest)
	if err == nil || !strings.Contains(err.Error(), "Widget (widgets.example.com/v1) is not installed in context") {
		t.Errorf("err = %v", err)
	}
	if _, err := bed.Client.CoreV1().ConfigMaps(bed.Namespace).Get(ctx, "first", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap not rolled back: %v", err)
	}
}

func TestTestbedServeDeploymentPortForward(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := testImage(t, bed, echoDir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	streams := make(chan [2]*iostreams.SyncBuffer, 1)
	go func() {
		_, _, err := runFairStreams(ctx, bedConfig(t, bed), streams, "serve", "--image", img, "--kind", "deployment", "--name", "echo", "--port-forward")
		done <- err
	}()
	bufs := <-streams
	out, errOut := bufs[0], bufs[1]
	var url string
	deadline := time.Now().Add(2 * time.Minute)
	for url == "" {
		select {
		case err := <-done:
			t.Fatalf("serve ended early: %v\n%s", err, errOut)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no URL printed")
		}
		time.Sleep(100 * time.Millisecond)
		url = regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(out.String())
	}
	resp, err := http.Get(url + "/v2/health/ready")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok /v2/health/ready\n" {
		t.Errorf("answer %q", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

func TestTestbedDeployBuildsEachRefOnce(t *testing.T) {
	bed := testbed.Env(t)
	ctx := ctxFor(t, 4*time.Minute)
	root, _ := filepath.Abs("../..")
	manifest := filepath.Join(t.TempDir(), "two.yaml")
	os.WriteFile(manifest, []byte(`apiVersion: batch/v1
kind: Job
metadata: {name: a}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: a, image: "fair://./`+linesDir+`"}
      - {name: b, image: "fair://./`+echoDir+`", args: ["-h"]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: b}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: a, image: "fair://./`+linesDir+`"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: two-settings}
data: {mode: fast}
---
apiVersion: v1
kind: Secret
metadata: {name: two-token}
stringData: {token: not-a-real-one}
`), 0o644)
	wd, _ := os.Getwd()
	if err := os.Chdir(root); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	out, errOut, err := runFair(ctx, bedConfig(t, bed), "deploy", "-f", manifest, "--name", "two")
	if err != nil {
		t.Fatalf("deploy: %v\n%s", err, errOut)
	}
	if n := strings.Count(errOut.String(), "resolving fair://./"+linesDir); n != 1 {
		t.Errorf("lines built %d times:\n%s", n, errOut)
	}
	if n := strings.Count(errOut.String(), "resolving fair://./"+echoDir); n != 1 {
		t.Errorf("echo built %d times:\n%s", n, errOut)
	}
	if out.String() != "job/a created\njob/b created\nconfigmap/two-settings created\nsecret/two-token created\n" {
		t.Errorf("stdout:\n%s", out)
	}
	// fair delete removes everything the run made, ConfigMaps and Secrets too.
	defer func() {
		if _, _, err := runFair(ctx, bedConfig(t, bed), "delete", "two"); err != nil {
			t.Errorf("delete: %v", err)
		}
		if _, err := bed.Client.CoreV1().ConfigMaps(bed.Namespace).Get(ctx, "two-settings", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("ConfigMap left after fair delete: %v", err)
		}
		if _, err := bed.Client.CoreV1().Secrets(bed.Namespace).Get(ctx, "two-token", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("Secret left after fair delete: %v", err)
		}
	}()
	for _, name := range []string{"a", "b"} {
		j, err := bed.Client.BatchV1().Jobs(bed.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range j.Spec.Template.Spec.Containers {
			if !strings.Contains(c.Image, "@sha256:") {
				t.Errorf("job %s container %s image %q not resolved", name, c.Name, c.Image)
			}
		}
		if j.Labels[deployer.LabelManagedBy] != "fair" || j.Labels[deployer.LabelRun] != "two" {
			t.Errorf("labels %v", j.Labels)
		}
	}
	// Each workload of the run goes by its own name in fair ps, status and
	// logs, with its own pods (whose templates carry no fair label).
	var st []deployer.Status
	for deadline := time.Now().Add(2 * time.Minute); ; {
		out, _, err := runFair(ctx, bedConfig(t, bed), "ps", "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		st = nil
		must(t, json.Unmarshal([]byte(out.String()), &st))
		// Job a's second container is a server: a runs on.
		listed := 0
		for _, s := range st {
			if (s.Name == "a" || s.Name == "b" && s.Phase.Done()) && s.Group == "two" {
				listed++
			}
		}
		if listed == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job a and finished job b of run two not listed:\n%s", out)
		}
		time.Sleep(time.Second)
	}
	for _, s := range st {
		if s.Name == "b" && (s.Phase != deployer.PhaseSucceeded || s.Ready != 1 || s.Total != 1 || !strings.Contains(s.Image, "@sha256:")) {
			t.Errorf("ps row of b: %+v", s)
		}
	}
	out, _, err = runFair(ctx, bedConfig(t, bed), "logs", "b")
	if err != nil || out.String() != "[job-0] line 1 of 5\n[job-0] line 2 of 5\n[job-0] line 3 of 5\n[job-0] line 4 of 5\n[job-0] line 5 of 5\n" {
		t.Errorf("logs b: %v\n%s", err, out)
	}
	_, errOut, err = runFair(ctx, bedConfig(t, bed), "logs", "two")
	if err != nil || !strings.Contains(errOut.String(), "run two has 2 workloads (job/a, job/b); showing job/a, the first by name") {
		t.Errorf("logs two: %v\n%s", err, errOut)
	}
	// fair delete WORKLOAD removes that workload alone.
	out, _, err = runFair(ctx, bedConfig(t, bed), "delete", "b")
	if err != nil || out.String() != "job/b deleted\n" {
		t.Errorf("delete b: %v\n%s", err, out)
	}
	if _, err := bed.Client.BatchV1().Jobs(bed.Namespace).Get(ctx, "a", metav1.GetOptions{}); err != nil {
		t.Errorf("job a went with b: %v", err)
	}
}

func TestTestbedDetachAndReattachLosesNoLine(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := testImage(t, bed, linesDir)
	ctx := ctxFor(t, 3*time.Minute)
	const n = 40
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	ready := make(chan [2]*iostreams.SyncBuffer, 1)
	go func() {
		_, _, err := runFairStreams(cctx, bedConfig(t, bed), ready, "train", "--image", img, "--name", "long", "-e", fmt.Sprintf("LINES=%d", n), "-e", "INTERVAL=100ms")
		done <- err
	}()
	first := (<-ready)[0]
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(first.String(), "line 5 of") {
		if time.Now().After(deadline) {
			t.Fatalf("no logs before detaching:\n%s", first)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel() // Ctrl-C: detach, the job keeps running
	if err := <-done; ExitCode(err) != ExitDetached || !strings.Contains(err.Error(), "detached: job/long keeps running; re-attach with: fair logs long -f") {
		t.Fatalf("detach: %v (exit status %d), want status %d and how to re-attach", err, ExitCode(err), ExitDetached)
	}
	if strings.Contains(first.String(), fmt.Sprintf("line %d of", n)) {
		t.Fatal("the job ended before the detach; the test proves nothing")
	}
	out, errOut, err := runFair(ctx, bedConfig(t, bed), "logs", "long", "-f")
	if err != nil {
		t.Fatalf("logs -f: %v\n%s", err, errOut)
	}
	want := ""
	for i := 1; i <= n; i++ {
		want += fmt.Sprintf("[job-0] line %d of %d\n", i, n)
	}
	if out.String() != want {
		t.Errorf("re-attached logs:\n%s\nwant every line once:\n%s", out, want)
	}
}

// The notebook passes its own observer: it gets the phases with a status
// snapshot (for a live display) instead of stderr lines.
func TestTestbedObserverSeesPhases(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := testImage(t, bed, linesDir)
	ctx := ctxFor(t, 3*time.Minute)
	var events []deployer.Event
	stdout, stderr := &iostreams.SyncBuffer{}, &iostreams.SyncBuffer{}
	io := &iostreams.IOStreams{In: strings.NewReader(""), Out: stdout, Err: stderr}
	cmd := newTrainCmd(io, bedConfig(t, bed), withObserver(func(e deployer.Event) { events = append(events, e) }))
	cmd.SetArgs([]string{"--image", img, "--name", "obs", "-e", "LINES=3", "-e", "INTERVAL=500ms"})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var phases []string
	for _, e := range events {
		if e.Type == deployer.EventPhase {
			if e.Status == nil || e.Run != "obs" {
				t.Fatalf("phase event without status: %+v", e)
			}
			phases = append(phases, string(e.Status.Phase))
		}
	}
	got := strings.Join(phases, ",")
	if !strings.HasSuffix(got, "Running,Succeeded") || strings.Contains(stderr.String(), "running on") {
		t.Errorf("phases %s; stderr:\n%s", got, stderr)
	}
}

// An endpoint is ready when it answers the Open Inference Protocol's
// health path over HTTP; a server without it never gets traffic, and the
// error says what was asked and the flag to change it; --probe tcp and
// --probe PATH take such a server as it is.
func TestTestbedServeProbes(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := testImage(t, bed, echoDir)
	ctx := ctxFor(t, 5*time.Minute)
	noHealth := []string{"--image", img, "--kind", "deployment", "--env", "ECHO_NOT_FOUND=/v2/health/ready,/v2/health/live"}
	_, errOut, err := runFair(ctx, bedConfig(t, bed), append([]string{"serve", "--name", "probe-oip", "--timeout", "25s"}, noHealth...)...)
	if err == nil || !strings.Contains(err.Error(), "never answer GET /v2/health/ready on port 8080") || !strings.Contains(err.Error(), "--probe tcp") {
		t.Errorf("a server without /v2/health/ready: err = %v\n%s", err, errOut)
	}
	for _, probe := range []string{"tcp", "/metrics"} {
		name := "probe-" + strings.Trim(probe, "/")
		_, errOut, err := runFair(ctx, bedConfig(t, bed), append([]string{"serve", "--name", name, "--probe", probe, "--timeout", "2m"}, noHealth...)...)
		if err != nil {
			t.Errorf("--probe %s: %v\n%s", probe, err, errOut)
			continue
		}
		d, err := bed.Client.AppsV1().Deployments(bed.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c := d.Spec.Template.Spec.Containers[0]
		if probe == "tcp" && (c.ReadinessProbe == nil || c.ReadinessProbe.TCPSocket == nil || c.LivenessProbe != nil) {
			t.Errorf("--probe tcp: readiness %+v liveness %+v", c.ReadinessProbe, c.LivenessProbe)
		}
		if probe == "/metrics" && (c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/metrics") {
			t.Errorf("--probe /metrics: readiness %+v", c.ReadinessProbe)
		}
	}
	for _, name := range []string{"probe-oip", "probe-tcp", "probe-metrics"} {
		_, _, _ = runFair(ctx, bedConfig(t, bed), "delete", name)
	}
}

// Server-side apply does not take fields over by default: when another
// field manager (an autoscaler, a teammate's kubectl) set a field fair
// sets too, applying again is refused with the field, its manager and the
// flag; --force-conflicts takes it over.
func TestTestbedApplyConflicts(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := testImage(t, bed, echoDir)
	ctx := ctxFor(t, 5*time.Minute)
	serve := func(extra ...string) error {
		_, errOut, err := runFair(ctx, bedConfig(t, bed), append([]string{"serve", "--image", img, "--kind", "deployment", "--name", "conflict", "--replicas", "1", "--probe", "tcp"}, extra...)...)
		if err != nil {
			return fmt.Errorf("%w\n%s", err, errOut)
		}
		return nil
	}
	t.Cleanup(func() { _, _, _ = runFair(context.Background(), bedConfig(t, bed), "delete", "conflict") })
	if err := serve(); err != nil {
		t.Fatal(err)
	}
	scale := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"conflict"},"spec":{"replicas":2}}`)
	if _, err := bed.Client.AppsV1().Deployments(bed.Namespace).Patch(ctx, "conflict", types.ApplyPatchType, scale,
		metav1.PatchOptions{FieldManager: "autoscaler", Force: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	err := serve()
	if err == nil || !strings.Contains(err.Error(), "--force-conflicts") || !strings.Contains(err.Error(), "autoscaler") || !strings.Contains(err.Error(), ".spec.replicas") {
		t.Fatalf("apply over another manager's field: err = %v", err)
	}
	if err := serve("--force-conflicts"); err != nil {
		t.Fatalf("--force-conflicts: %v", err)
	}
	d, err := bed.Client.AppsV1().Deployments(bed.Namespace).Get(ctx, "conflict", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 1 {
		t.Errorf("replicas %d after --force-conflicts, want 1", *d.Spec.Replicas)
	}
}

func ptr[T any](v T) *T { return &v }

// fair deploy -f --wait follows what it applied: a Deployment until it is
// rolled out, a Job to its end, a PyTorchJob through the real Training
// Operator; a failing Job, a bad image name and a crash loop past the
// timeout each end it with exit status 1 and the object's name.
// A name that is both a run and another run's workload is refused, not
// guessed: fair delete would otherwise remove the wrong run. KIND/NAME, as
// fair ps -o name prints it, names one workload, and its logs are those of
// every container.
func TestTestbedAmbiguousName(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	ctx := ctxFor(t, 3*time.Minute)
	lines := testImage(t, bed, linesDir)
	cfg := func() *config.Config { return bedConfig(t, bed) }
	for run, job := range map[string]string{"grp1": "solo", "other": "grp1"} {
		p := filepath.Join(t.TempDir(), job+".yaml")
		must(t, os.WriteFile(p, []byte(fmt.Sprintf("apiVersion: batch/v1\nkind: Job\nmetadata: {name: %s}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - {name: c, image: %q, env: [{name: LINES, value: \"1\"}]}\n      - {name: side, image: %q, env: [{name: LINES, value: \"2\"}]}\n", job, lines, lines)), 0o644))
		if _, errOut, err := runFair(ctx, cfg(), "deploy", "-f", p, "--name", run, "--wait"); err != nil {
			t.Fatalf("deploy %s: %v\n%s", run, err, errOut)
		}
	}
	for _, verb := range []string{"status", "logs", "delete"} {
		_, _, err := runFair(ctx, cfg(), verb, "grp1")
		if err == nil || !strings.Contains(err.Error(), `"grp1" names more than one thing`) || !strings.Contains(err.Error(), "the run grp1 (job/solo), job/grp1 of run other") {
			t.Errorf("%s grp1: %v", verb, err)
		}
	}
	out, _, err := runFair(ctx, cfg(), "ps", "-o", "name")
	if err != nil || out.String() != "job/grp1\njob/solo\n" && out.String() != "job/solo\njob/grp1\n" {
		t.Fatalf("ps -o name: %v\n%s", err, out)
	}
	// Both containers' lines, the second one's named.
	if out, _, err := runFair(ctx, cfg(), "logs", "job/grp1"); err != nil || out.String() != "[job-0] line 1 of 1\n[job-0/side] line 1 of 2\n[job-0/side] line 2 of 2\n" {
		t.Errorf("logs job/grp1: %v\n%s", err, out)
	}
	if out, _, err := runFair(ctx, cfg(), "logs", "-f", "job/solo"); err != nil || !strings.Contains(out.String(), "[job-0] line 1 of 1\n") || !strings.Contains(out.String(), "[job-0/side] line 2 of 2\n") {
		t.Errorf("logs -f job/solo: %v\n%s", err, out)
	}
	if out, _, err := runFair(ctx, cfg(), "delete", "job/grp1"); err != nil || out.String() != "job/grp1 deleted\n" {
		t.Errorf("delete job/grp1: %v\n%s", err, out)
	}
	// No longer ambiguous: grp1 is the run again.
	if out, _, err := runFair(ctx, cfg(), "delete", "grp1"); err != nil || out.String() != "job/solo deleted\n" {
		t.Errorf("delete grp1: %v\n%s", err, out)
	}
}

// fair deploy -f of the same file again keeps its run (it used to move
// every object to a new one), and a Job whose template changed gets one
// line saying what to do, not the API server's 5 KB struct dump.
func TestTestbedDeployAgainKeepsRun(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	ctx := ctxFor(t, 3*time.Minute)
	lines := testImage(t, bed, linesDir)
	p := filepath.Join(t.TempDir(), "again.yaml")
	write := func(n string) {
		must(t, os.WriteFile(p, []byte(fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: again-cfg}\ndata: {a: \"1\"}\n---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: again}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - {name: c, image: %q, env: [{name: LINES, value: %q}]}\n", lines, n)), 0o644))
	}
	write("1")
	var runs []string
	for i, want := range []string{"created", "unchanged"} {
		out, errOut, err := runFair(ctx, bedConfig(t, bed), "deploy", "-f", p, "--wait")
		if err != nil {
			t.Fatalf("deploy %d: %v\n%s", i, err, errOut)
		}
		if out.String() != "configmap/again-cfg "+want+"\njob/again "+want+"\n" {
			t.Errorf("deploy %d: stdout\n%s", i, out)
		}
		// A finished Job applied again unchanged does not run again, and
		// fair says so rather than reporting its old success as new.
		note := "job/again is unchanged and has succeeded already: it does not run again (fair delete job/again, then deploy again, runs it again)"
		if got := strings.Contains(errOut.String(), note); got != (i == 1) {
			t.Errorf("deploy %d: note %v:\n%s", i, got, errOut)
		}
		run := runOf(errOut.String())
		cm, err := bed.Client.CoreV1().ConfigMaps(bed.Namespace).Get(ctx, "again-cfg", metav1.GetOptions{})
		if err != nil || cm.Labels[deployer.LabelRun] != run || !strings.HasPrefix(run, "again-") {
			t.Fatalf("deploy %d: run %q, ConfigMap labels %v (%v)\n%s", i, run, cm.Labels, err, errOut)
		}
		runs = append(runs, run)
	}
	if runs[0] != runs[1] {
		t.Errorf("deployed again, the run changed: %v", runs)
	}
	write("2")
	_, _, err := runFair(ctx, bedConfig(t, bed), "deploy", "-f", p)
	if err == nil || strings.Contains(err.Error(), "PodTemplateSpec{") || !strings.Contains(err.Error(), "Job again exists and its spec.template cannot change") || !strings.Contains(err.Error(), "fair delete job/again") {
		t.Errorf("changed Job: %v", err)
	}
}

// runOf is the run fair deploy -f said it put the objects in.
func runOf(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if r, ok := strings.CutPrefix(l, "run "); ok {
			r, _, _ = strings.Cut(r, ":")
			return r
		}
	}
	return ""
}

func TestTestbedDeployWait(t *testing.T) {
	bed := testbed.Env(t)
	ctx := ctxFor(t, 5*time.Minute)
	lines, echo := testImage(t, bed, linesDir), testImage(t, bed, echoDir)
	write := func(name, yaml string) string {
		p := filepath.Join(t.TempDir(), name+".yaml")
		must(t, os.WriteFile(p, []byte(yaml), 0o644))
		return p
	}
	job := func(name, exit string) string {
		return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata: {name: %s}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: c, image: %q, env: [{name: LINES, value: "3"}, {name: INTERVAL, value: 1s}, {name: EXIT, value: %q}]}
`, name, lines, exit)
	}
	deployment := func(name, image string, env string) string {
		return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %s}
spec:
  replicas: 1
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      containers:
      - {name: c, image: %q, env: [%s]}
`, name, name, name, image, env)
	}
	pytorch := fmt.Sprintf(`apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: wait-pt}
spec:
  pytorchReplicaSpecs:
    Master:
      replicas: 1
      restartPolicy: Never
      template:
        spec:
          containers:
          - {name: pytorch, image: %q, env: [{name: LINES, value: "2"}, {name: ALONE, value: "1"}]}
`, lines)
	t.Cleanup(func() {
		for _, n := range []string{"wait-ok", "wait-bad", "wait-img", "wait-crash"} {
			runFair(context.Background(), bedConfig(t, bed), "delete", n)
		}
	})

	// Everything comes up or runs to its end.
	ok := write("ok", deployment("wait-web", echo, "")+"---\n"+job("wait-job", "0")+"---\n"+pytorch)
	out, errOut, err := runFair(ctx, bedConfig(t, bed), "deploy", "-f", ok, "--name", "wait-ok", "--wait", "--wait-timeout", "3m")
	if err != nil {
		t.Fatalf("deploy --wait: %v\n%s\n%s", err, out, errOut)
	}
	for _, want := range []string{"deployment/wait-web ready", "job/wait-job succeeded", "pytorchjob/wait-pt succeeded"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("missing %q:\n%s", want, errOut)
		}
	}
	if j, err := bed.Client.BatchV1().Jobs(bed.Namespace).Get(ctx, "wait-job", metav1.GetOptions{}); err != nil || j.Status.Succeeded != 1 {
		t.Errorf("fair returned before the Job ended: %v %+v", err, j.Status)
	}

	// A Job whose program fails.
	_, errOut, err = runFair(ctx, bedConfig(t, bed), "deploy", "-f", write("bad", job("wait-fail", "3")), "--name", "wait-bad", "--wait")
	if err == nil || ExitCode(err) != 1 || !strings.Contains(err.Error(), "job/wait-fail failed") {
		t.Errorf("failing job: exit %d, %v\n%s", ExitCode(err), err, errOut)
	}
	// An image name the kubelet refuses: failed at once, not at the timeout.
	start := time.Now()
	_, errOut, err = runFair(ctx, bedConfig(t, bed), "deploy", "-f", write("img", deployment("wait-img", "Bad-Image:x", "")), "--name", "wait-img", "--wait", "--wait-timeout", "2m")
	if err == nil || ExitCode(err) != 1 || !strings.Contains(err.Error(), "deployment/wait-img failed") || !strings.Contains(err.Error(), "InvalidImageName") || time.Since(start) > time.Minute {
		t.Errorf("bad image: exit %d after %s, %v\n%s", ExitCode(err), time.Since(start), err, errOut)
	}
	// A crash loop is waited for until the timeout, and named, even when
	// its container runs for a moment before each crash: without a
	// readiness probe, "running" is not yet "ready".
	_, errOut, err = runFair(ctx, bedConfig(t, bed), "deploy", "-f", write("crash", deployment("wait-crash", lines, `{name: LINES, value: "2"}, {name: INTERVAL, value: 1s}, {name: EXIT, value: "2"}`)), "--name", "wait-crash", "--wait", "--wait-timeout", "25s")
	if err == nil || ExitCode(err) != 1 || !strings.Contains(err.Error(), "not ready after 25s: deployment/wait-crash") {
		t.Errorf("crash loop: exit %d, %v\n%s", ExitCode(err), err, errOut)
	}
	// Without --wait (not a terminal), deploy returns once applied.
	start = time.Now()
	if _, _, err := runFair(ctx, bedConfig(t, bed), "deploy", "-f", write("again", job("wait-again", "0")), "--name", "wait-bad"); err != nil || time.Since(start) > 20*time.Second {
		t.Errorf("deploy without --wait: %v after %s", err, time.Since(start))
	}
}

// A program that is not a server, served: fair says so after a few
// restarts, with what it printed, rather than waiting for the timeout and
// blaming the probes.
func TestTestbedServeNotAServer(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := testImage(t, bed, linesDir)
	ctx := ctxFor(t, 3*time.Minute)
	start := time.Now()
	_, errOut, err := runFair(ctx, bedConfig(t, bed), "serve", "--image", img, "--kind", "deployment", "--name", "not-a-server", "-e", "LINES=2", "--timeout", "150s")
	defer runFair(context.Background(), bedConfig(t, bed), "delete", "not-a-server")
	if err == nil || !strings.Contains(err.Error(), "the server's program keeps ending; a server must keep running and listen on port 8080") {
		t.Fatalf("err = %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut.String(), "--- last lines of ") || !strings.Contains(errOut.String(), "line 2 of 2") {
		t.Errorf("no last lines:\n%s", errOut)
	}
	if d := time.Since(start); d > 120*time.Second {
		t.Errorf("took %s: it waited for the timeout", d)
	}
}

// A timeout that comes before fair gives up on a crash loop says the
// program ends, with its last lines, not that the probe failed.
func TestTestbedServeCrashBeforeTimeout(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	img := testImage(t, bed, linesDir)
	ctx := ctxFor(t, 2*time.Minute)
	_, errOut, err := runFair(ctx, bedConfig(t, bed), "serve", "--image", img, "--kind", "deployment", "--name", "crash-early", "-e", "LINES=2", "-e", "EXIT=4", "--timeout", "25s")
	defer runFair(context.Background(), bedConfig(t, bed), "delete", "crash-early")
	if err == nil || !strings.Contains(err.Error(), "not ready after 25s (its server's program ended ") || !strings.Contains(err.Error(), "exit code 4") || strings.Contains(err.Error(), "--probe") {
		t.Fatalf("err = %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut.String(), "before its restart ---") || !strings.Contains(errOut.String(), "line 2 of 2") {
		t.Errorf("no last lines:\n%s", errOut)
	}
}
