package test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/launch"
	"github.com/fair-go/fair/pipeline/artifact"
	"github.com/fair-go/fair/test/testbed"
)

// TestArgoTrainsAndServes runs examples/train-serve.yaml as a user would,
// with no flag for the test bed: ingest writes rows, a PyTorchJob of two
// replicas with a GPU each (created by Argo, which waits for it) trains on
// them and saves its model, and a Deployment serves that model. The
// endpoint must answer what the saved weights give, and what only the
// ingested rows teach (train-go's own data has the opposite rule). A rerun
// updates the same endpoint to the new run's model.
func TestArgoTrainsAndServes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: trains and serves on the test bed")
	}
	bed := testbed.Env(t)
	fair, root := fairBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	reg := bed.Registry + "/fair-test"
	run := func(args ...string) (string, string, error) { return runOnBed(ctx, t, bed, fair, root, args...) }
	// Run names are tags of the model in the shared registry.
	first, second := "ts-"+bed.Namespace[len(bed.Namespace)-5:], "ts2-"+bed.Namespace[len(bed.Namespace)-5:]

	start := time.Now()
	out, errOut, err := run("pipeline", "run", "examples/train-serve.yaml", "--name", first, "--controller-timeout", "60s")
	if err != nil {
		t.Fatalf("pipeline run: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	t.Logf("ingest -> train -> serve took %s", time.Since(start).Round(100*time.Millisecond))
	for _, want := range []string{
		"[ingest] wrote 4000 rows",
		"[train master-0] rank 0/2 read 2000 rows from /tmp/fair/in/data",
		"[train worker-0] rank 1/2 read 2000 rows",
		"[train master-0] rank 0/2 wrote the model",
		"serve.url: http://train-serve-serve." + bed.Namespace + ".svc.cluster.local:8080\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "level=info") {
		t.Errorf("Argo's executor lines reached the user:\n%s", out)
	}

	// Argo created the job, owned by the run, with a GPU per replica.
	job, err := bed.Dynamic.Resource(pytorchJobs).Namespace(bed.Namespace).Get(ctx, first+"-train", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if refs := job.GetOwnerReferences(); len(refs) != 1 || refs[0].Kind != "Workflow" || refs[0].Name != first {
		t.Errorf("job owners = %v, want the Workflow", refs)
	}
	for _, role := range []string{"Master", "Worker"} {
		cs, _, _ := unstructured.NestedSlice(job.Object, "spec", "pytorchReplicaSpecs", role, "template", "spec", "containers")
		if gpu, _, _ := unstructured.NestedString(cs[0].(map[string]any), "resources", "limits", "nvidia.com/gpu"); gpu != "1" {
			t.Errorf("%s GPU limit = %q, want 1", role, gpu)
		}
	}

	// The model the run saved, as the registry holds it.
	weights := func(tag string) [3]float64 {
		t.Helper()
		ref := reg + "/models/train-serve-train:" + tag
		dir := filepath.Join(t.TempDir(), "m")
		if err := artifact.Pull(ctx, ref, dir, launch.ModelOptions(&config.Config{}, ref)); err != nil {
			t.Fatalf("model of run %s: %v", tag, err)
		}
		var w struct{ W0, W1, B float64 }
		b, _ := os.ReadFile(filepath.Join(dir, "model.json"))
		if err := json.Unmarshal(b, &w); err != nil {
			t.Fatalf("model.json: %v %s", err, b)
		}
		return [3]float64{w.W0, w.W1, w.B}
	}
	predict := func(w [3]float64) {
		t.Helper()
		out, errOut, err := run("predict", "train-serve-serve", "-d", `{"inputs":[{"name":"input-0","datatype":"FP32","shape":[2,2],"data":[[-1,1],[1,-1]]}]}`)
		if err != nil {
			t.Fatalf("predict: %v\n%s", err, errOut)
		}
		var resp struct {
			Outputs []struct{ Data []float64 } `json:"outputs"`
		}
		if err := json.Unmarshal([]byte(out), &resp); err != nil || len(resp.Outputs) != 1 || len(resp.Outputs[0].Data) != 2 {
			t.Fatalf("response: %v\n%s", err, out)
		}
		got := resp.Outputs[0].Data
		for i, x := range [][2]float64{{-1, 1}, {1, -1}} {
			want := 1 / (1 + math.Exp(-(w[0]*x[0] + w[1]*x[1] + w[2])))
			if math.Abs(got[i]-want) > 1e-5 {
				t.Errorf("prediction %d = %v, want %v (the saved weights %v)", i, got[i], want, w)
			}
		}
		// The ingested rule (label 1 when y > 2x): only those rows teach it.
		if got[0] < 0.9 || got[1] > 0.1 {
			t.Errorf("predictions %v: the model did not learn the ingested rows", got)
		}
	}
	w1 := weights(first)
	predict(w1)

	// A rerun rolls the same endpoint out with its own model.
	out, errOut, err = run("pipeline", "run", "examples/train-serve.yaml", "--name", second, "--controller-timeout", "60s")
	if err != nil {
		t.Fatalf("second run: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	dep, err := bed.Client.AppsV1().Deployments(bed.Namespace).Get(ctx, "train-serve-serve", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	init := dep.Spec.Template.Spec.InitContainers[0].Args
	if !strings.HasSuffix(init[len(init)-2], "/models/train-serve-train:"+second) {
		t.Errorf("after the rerun the endpoint pulls %v, want the model of run %s", init, second)
	}
	predict(weights(second))
}

// A training step whose replicas fail fails the run, says which step and
// saves no model.
func TestArgoFailedTrainingSavesNothing(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: trains on the test bed")
	}
	bed := testbed.Env(t)
	fair, root := fairBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	reg := bed.Registry + "/fair-test"
	name := "tf-" + bed.Namespace[len(bed.Namespace)-5:]
	stdout, stderr, err := runOnBed(ctx, t, bed, fair, root, "pipeline", "run", "test/testdata/trainfail/pipeline.yaml", "--name", name, "--controller-timeout", "60s")
	if err == nil {
		t.Fatalf("a failing training step succeeded:\n%s", stdout)
	}
	if !regexp.MustCompile(`(?m)^fair: pipeline \S+ failed: step train failed: the pytorchjob failed: .+; its logs: fair logs ` + name + `-train$`).MatchString(stderr) {
		t.Errorf("no one-line reason naming the step, the job and where its logs are:\n%s", stderr)
	}
	if !strings.Contains(stdout, "loss=9.9 and giving up") {
		t.Errorf("the replicas' logs did not reach the user:\n%s", stdout)
	}
	ref := reg + "/models/trainfail-train:" + name
	if err := artifact.Pull(ctx, ref, t.TempDir()+"/m", launch.ModelOptions(&config.Config{}, ref)); err == nil {
		t.Errorf("a failed run saved model %s", ref)
	}
}

// runOnBed runs the fair binary on the test bed's cluster and namespace
// (and, for pipelines, its registry), from the repository's root.
func runOnBed(ctx context.Context, t *testing.T, bed *testbed.Bed, fair, root string, args ...string) (stdout, stderr string, err error) {
	args = append(args, "--kubeconfig", testbed.Kubeconfig(), "--namespace", bed.Namespace)
	if args[0] == "pipeline" {
		args = append(args, "--registry", bed.Registry+"/fair-test")
	}
	cmd := exec.CommandContext(ctx, fair, args...)
	cmd.Dir = root
	cmd.Env = append(cmd.Environ(), "FAIR_CACHE_DIR="+filepath.Join(t.TempDir(), "cache"))
	var out, errOut iostreams.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}
