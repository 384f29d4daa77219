package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fair-go/fair/examples/serve-go/mlp"
	"github.com/fair-go/fair/test/testbed"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestTestbedServeSourceThenPredict is the serving journey: fair serve builds
// the example model server from source and deploys it; fair predict sends
// the example request through a port-forward and gets the model's numbers.
func TestTestbedServeSourceThenPredict(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	cfg := bedConfig(t, bed)
	root := repoRoot(t)
	ctx := ctxFor(t, 4*time.Minute)
	if _, errOut, err := runFair(ctx, cfg, "serve", filepath.Join(root, "examples/serve-go"), "--kind", "deployment", "--name", "risk"); err != nil {
		t.Fatalf("serve: %v\n%s", err, errOut)
	}
	input := filepath.Join(root, "examples/serve-go/input.json")
	out, errOut, err := runFair(ctx, cfg, "predict", "risk", "-d", "@"+input)
	if err != nil {
		t.Fatalf("predict: %v\n%s", err, errOut)
	}
	var resp struct {
		ModelName string `json:"model_name"`
		ID        string `json:"id"`
		Outputs   []struct {
			Data []float32 `json:"data"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(out.String()), &resp); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, out)
	}
	want := expectedRisk(t, input)
	if resp.ModelName != "risk" || resp.ID != "example" || len(resp.Outputs) != 1 || len(resp.Outputs[0].Data) != len(want) {
		t.Fatalf("response %+v, want %d outputs of model risk", resp, len(want))
	}
	for i, w := range want {
		if math.Abs(float64(resp.Outputs[0].Data[i]-w)) > 1e-5 {
			t.Errorf("output %d = %v, want %v", i, resp.Outputs[0].Data[i], w)
		}
	}

	// A malformed request gets the server's own message and a failure.
	_, _, err = runFair(ctx, cfg, "predict", "risk", "-d", `{"inputs":[{"name":"input-0","shape":[1,3],"datatype":"FP32","data":[1,2]}]}`)
	if err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("want a 400 error for a wrong shape, got %v", err)
	}
}

// expectedRisk computes locally what the served model must answer.
func expectedRisk(t *testing.T, path string) []float32 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var req struct {
		Inputs []struct {
			Data [][]float32 `json:"data"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatal(err)
	}
	out, err := mlp.New().Predict(req.Inputs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(filepath.Dir(wd)) // internal/cli -> repository root
}

// TestTestbedTrainFromSource is the training journey from a source folder:
// fair train builds the example, submits it with a GPU, streams its epochs
// and exits with its status.
func TestTestbedTrainFromSource(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	ctx := ctxFor(t, 4*time.Minute)
	out, errOut, err := runFair(ctx, bedConfig(t, bed), "train", filepath.Join(repoRoot(t), "examples/train-go"), "--gpus", "1", "--env", "EPOCHS=3", "--name", "fit")
	if err != nil {
		t.Fatalf("train: %v\n%s", err, errOut)
	}
	for _, want := range []string{"epoch=1 loss=0.6931", "epoch=3 loss=", "weights"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut.String(), "succeeded") {
		t.Errorf("no success line on stderr:\n%s", errOut)
	}
}

// TestTestbedServeKServe: an InferenceService under the test bed's real
// KServe controller (RawDeployment) becomes Ready, fair prints its address
// inside the cluster, and predict answers through it; a saved model is
// pulled into the predictor as for a Deployment.
func TestTestbedServeKServe(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	root := repoRoot(t)
	// fair's own image, for fair predict in a pod below, builds beside the
	// serving with a budget of its own: from an empty build cache its
	// compile alone takes minutes on a small machine.
	type built struct {
		ref, errOut fmt.Stringer
		err         error
	}
	fairBuild := make(chan built, 1)
	buildCtx, buildCfg := ctxFor(t, 15*time.Minute), bedConfig(t, bed)
	go func() {
		ref, errOut, err := runFair(buildCtx, buildCfg, "build", filepath.Join(root, "cmd/fair"))
		fairBuild <- built{ref, errOut, err}
	}()
	ctx := ctxFor(t, 4*time.Minute)
	// On a port of its own: fair predict must find it (KServe's Service
	// is risk-predictor, not risk).
	out, errOut, err := runFair(ctx, bedConfig(t, bed), "serve", filepath.Join(root, "examples/serve-go"), "--kind", "kserve", "--name", "risk", "--port", "9000")
	if err != nil {
		t.Fatalf("serve --kind kserve: %v\n%s", err, errOut)
	}
	if want := "http://risk-predictor." + bed.Namespace + ".svc.cluster.local"; strings.TrimSpace(out.String()) != want {
		t.Errorf("address %q, want %q", out, want)
	}
	if !strings.Contains(errOut.String(), "kserve/risk ready") {
		t.Errorf("progress:\n%s", errOut)
	}
	input := filepath.Join(root, "examples/serve-go/input.json")
	out, errOut, err = runFair(ctx, bedConfig(t, bed), "predict", "risk", "-d", "@"+input)
	if err != nil {
		t.Fatalf("predict: %v\n%s", err, errOut)
	}
	var resp struct {
		Outputs []struct {
			Data []float32 `json:"data"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(out.String()), &resp); err != nil || len(resp.Outputs) != 1 {
		t.Fatalf("response: %v\n%s", err, out)
	}
	for i, w := range expectedRisk(t, input) {
		if math.Abs(float64(resp.Outputs[0].Data[i]-w)) > 1e-5 {
			t.Errorf("output %d = %v, want %v", i, resp.Outputs[0].Data[i], w)
		}
	}
	// Inside the cluster, fair predict calls the InferenceService's own
	// URL: fair's image runs as a Job whose ServiceAccount may list the
	// namespace's objects and nothing else (a port-forward needs get or
	// create on pods/portforward), so only the URL can answer.
	b := <-fairBuild
	if b.err != nil {
		t.Fatalf("fair build ./cmd/fair: %v\n%s", b.err, b.errOut)
	}
	fairImg := b.ref
	ctx = ctxFor(t, 3*time.Minute)
	if _, err := bed.Client.RbacV1().Roles(bed.Namespace).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"list"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := bed.Client.RbacV1().RoleBindings(bed.Namespace).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "reader"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "default", Namespace: bed.Namespace}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(input)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, err = runFair(ctx, bedConfig(t, bed), "train", "--image", strings.TrimSpace(fairImg.String()), "--name", "inpod", "--",
		"predict", "risk", "-d", string(body))
	if err != nil {
		t.Fatalf("fair predict in a pod: %v\n%s\n%s", err, out, errOut)
	}
	inPod := strings.ReplaceAll(out.String(), "[job-0] ", "")
	resp.Outputs = nil
	if err := json.Unmarshal([]byte(inPod), &resp); err != nil || len(resp.Outputs) != 1 {
		t.Fatalf("response in the pod: %v\n%s", err, out)
	}
	for i, w := range expectedRisk(t, input) {
		if math.Abs(float64(resp.Outputs[0].Data[i]-w)) > 1e-5 {
			t.Errorf("in the pod: output %d = %v, want %v", i, resp.Outputs[0].Data[i], w)
		}
	}

	// The controller made the predictor's Deployment and Service.
	if _, err := bed.Client.AppsV1().Deployments(bed.Namespace).Get(ctx, "risk-predictor", metav1.GetOptions{}); err != nil {
		t.Errorf("no predictor Deployment: %v", err)
	}
	out, _, err = runFair(ctx, bedConfig(t, bed), "ps")
	if err != nil || !regexp.MustCompile(`(?m)^risk\s+kserve\s+Ready\s+1/1`).MatchString(out.String()) {
		t.Errorf("ps: %v\n%s", err, out)
	}
	if out, _, err := runFair(ctx, bedConfig(t, bed), "delete", "risk"); err != nil || !strings.Contains(out.String(), "inferenceservice/risk deleted") {
		t.Errorf("delete: %v %s", err, out)
	}
}
