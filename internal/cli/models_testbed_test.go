package cli

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/launch"
	"github.com/fair-go/fair/models"
	"github.com/fair-go/fair/pipeline/artifact"
	"github.com/fair-go/fair/serving/onnx/onnxtest"
	"github.com/fair-go/fair/test/testbed"
)

// The journey the models issue is about: train on the cluster, keep the
// model in the registry, serve that model, and get answers only its
// weights give.
func TestTestbedTrainSaveServeModel(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	cfg := bedConfig(t, bed)
	root := repoRoot(t)
	ctx := ctxFor(t, 6*time.Minute)
	model := "lr-" + bed.Namespace // unique in the shared registry

	_, errOut, err := runFair(ctx, bedConfig(t, bed), "train", filepath.Join(root, "examples/train-go"), "--model", model, "--name", "fit", "-e", "EPOCHS=4")
	if err != nil {
		t.Fatalf("train --model: %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut.String(), "model "+model+":fit saved") || !strings.Contains(errOut.String(), "loss=") {
		t.Errorf("no saved-model line:\n%s", errOut)
	}

	// fair models ls lists it with the last metrics the program printed.
	out, _, err := runFair(ctx, bedConfig(t, bed), "models", "ls", model, "-o", "json")
	if err != nil {
		t.Fatalf("models ls: %v", err)
	}
	var list []models.Model
	if err := json.Unmarshal([]byte(out.String()), &list); err != nil || len(list) != 1 {
		t.Fatalf("models ls: %v\n%s", err, out)
	}
	m := list[0]
	if m.Tag != "fit" || m.Run != "fit" || m.Metrics["epoch"] != 4 || m.Metrics["loss"] <= 0 || !strings.Contains(m.Image, "@sha256:") || m.Size == 0 {
		t.Errorf("model = %+v", m)
	}
	if out, _, err := runFair(ctx, bedConfig(t, bed), "models", "ls", model, "-o", "name"); err != nil || out.String() != model+":fit\n" {
		t.Errorf("models ls -o name: %v %q", err, out)
	}
	// The weights, as the registry holds them.
	dir := t.TempDir()
	if err := artifact.Pull(ctx, m.Ref, filepath.Join(dir, "m"), launch.ModelOptions(cfg, m.Ref)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "m", "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	var w struct{ W0, W1, B float64 }
	if err := json.Unmarshal(b, &w); err != nil || w.W0 == 0 {
		t.Fatalf("model.json: %v %s", err, b)
	}

	// Served by a server that reads serving.ModelDir(); the model by name
	// (latest) is the one just trained.
	if _, errOut, err := runFair(ctx, bedConfig(t, bed), "serve", filepath.Join(root, "examples/serve-trained"), "--model", model, "--kind", "deployment", "--name", "lr"); err != nil {
		t.Fatalf("serve --model: %v\n%s", err, errOut)
	}
	out, errOut, err = runFair(ctx, bedConfig(t, bed), "predict", "lr", "-d", `{"inputs":[{"name":"input-0","datatype":"FP32","shape":[2,2],"data":[[1,-1],[-0.5,2]]}]}`)
	if err != nil {
		t.Fatalf("predict: %v\n%s", err, errOut)
	}
	var resp struct {
		Outputs []struct{ Data []float64 } `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(out.String()), &resp); err != nil || len(resp.Outputs) != 1 || len(resp.Outputs[0].Data) != 2 {
		t.Fatalf("response: %v\n%s", err, out)
	}
	for i, x := range [][2]float64{{1, -1}, {-0.5, 2}} {
		want := 1 / (1 + math.Exp(-(w.W0*x[0] + w.W1*x[1] + w.B)))
		if got := resp.Outputs[0].Data[i]; math.Abs(got-want) > 1e-5 {
			t.Errorf("prediction %d = %v, want %v (the trained weights %+v)", i, got, want, w)
		}
	}

	// A run that writes a model and then fails saves nothing.
	img := testImage(t, bed, "test/e2e/testdata/savemodel")
	_, _, err = runFair(ctx, bedConfig(t, bed), "train", "--image", img, "--model", model, "--name", "bad", "-e", "EXIT=5", "-e", "SCORE=0.9")
	if ExitCode(err) != 5 {
		t.Fatalf("failing run: %v (exit %d)", err, ExitCode(err))
	}
	out, _, _ = runFair(ctx, bedConfig(t, bed), "models", "ls", model)
	if strings.Contains(out.String(), ":bad") {
		t.Errorf("a failed run's model is listed:\n%s", out)
	}
	if _, _, err := runFair(ctx, bedConfig(t, bed), "models", "show", model+":bad"); err == nil || !strings.Contains(err.Error(), "no model") {
		t.Errorf("models show of the failed run: %v", err)
	}
	// A successful one from a ready image, with its metric.
	if _, errOut, err := runFair(ctx, bedConfig(t, bed), "train", "--image", img, "--model", model, "--name", "good", "-e", "SCORE=0.75"); err != nil {
		t.Fatalf("train --image --model: %v\n%s", err, errOut)
	}
	out, _, err = runFair(ctx, bedConfig(t, bed), "models", "show", model+":good")
	if err != nil || !strings.Contains(out.String(), "score=0.75") || !regexp.MustCompile(`(?m)^Run:\s+good$`).MatchString(out.String()) || !strings.Contains(out.String(), "Model:      "+model+":good") {
		t.Errorf("models show: %v\n%s", err, out)
	}

	// Trained again under the same run name: the tag moves, and fair says
	// where the earlier model stays.
	if _, errOut, err := runFair(ctx, bedConfig(t, bed), "train", "--image", img, "--model", model, "--name", "good", "-e", "SCORE=0.8"); err != nil || !strings.Contains(errOut.String(), "model "+model+":good exists (sha256:") {
		t.Errorf("train again under the same name: %v\n%s", err, errOut)
	}
	// The endpoint says which model it serves; rm will not delete that
	// one (lr serves fit's, by latest at the time) unless forced.
	if out, _, err := runFair(ctx, bedConfig(t, bed), "status", "lr"); err != nil || !regexp.MustCompile(`(?m)^Model:\s+`+model+`:latest@sha256:[0-9a-f]{64}$`).MatchString(out.String()) {
		t.Errorf("status of the endpoint: %v\n%s", err, out)
	}
	if _, _, err := runFair(ctx, bedConfig(t, bed), "models", "rm", model+":fit"); err == nil || !strings.Contains(err.Error(), "is served by deployment/lr in namespace "+bed.Namespace) {
		t.Errorf("models rm of a served model: %v", err)
	}
	// --force deletes it; show then says there is none.
	if out, _, err := runFair(ctx, bedConfig(t, bed), "models", "rm", model+":fit", "--force"); err != nil || !strings.Contains(out.String(), "deleted") {
		t.Errorf("models rm: %v %s", err, out)
	}
	// Its next pod cannot pull it: fair logs shows what the pull said.
	must(t, bed.Client.CoreV1().Pods(bed.Namespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: deployer.LabelRun + "=lr"}))
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		out, errOut, _ := runFair(ctx, bedConfig(t, bed), "logs", "lr")
		if strings.Contains(out.String(), "/fair-model] fair-step: pull ") && strings.Contains(out.String(), "MANIFEST_UNKNOWN") && strings.Contains(errOut.String(), "has not started") {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("logs of a server whose model is gone:\n%s\n%s", out, errOut)
			break
		}
	}
	if _, _, err := runFair(ctx, bedConfig(t, bed), "models", "show", model+":fit"); err == nil || !strings.Contains(err.Error(), "no model") {
		t.Errorf("show after rm: %v", err)
	}
	// Serving a model that does not exist fails before anything is made.
	if _, _, err := runFair(ctx, bedConfig(t, bed), "serve", filepath.Join(root, "examples/serve-trained"), "--model", model+":nope", "--kind", "deployment", "--name", "nope"); err == nil || !strings.Contains(err.Error(), "no model") {
		t.Errorf("serve of a missing model: %v", err)
	}
}

// An ONNX model needs no server code: fair serve --model builds its stock
// ONNX server, which answers what the reference computation gives.
func TestTestbedServeONNXModel(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	cfg := bedConfig(t, bed)
	ctx := ctxFor(t, 5*time.Minute)
	name := "mlp-" + bed.Namespace
	mlp := onnxtest.NewMLP(4, 16, 1, 3)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mlp.onnx"), mlp.ONNX(""), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := models.Repo(cfg.Registry, name)
	if _, err := models.Save(ctx, dir, repo, []string{"v1", "latest"}, models.Meta{Run: "written-by-a-test"}, launch.ModelOptions(cfg, repo)); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := runFair(ctx, bedConfig(t, bed), "serve", "--model", name, "--kind", "deployment", "--name", "mlp")
	if err != nil {
		t.Fatalf("serve --model (ONNX, no source): %v\n%s", err, errOut)
	}
	rows := [][]float32{{1, 0, -1, 2}, {0.5, 0.5, 0.5, 0.5}, {-2, 3, 0, 1}}
	body, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{"name": "x", "datatype": "FP32", "shape": []int{3, 4}, "data": rows}}})
	out, errOut, err := runFair(ctx, bedConfig(t, bed), "predict", "mlp", "--model", name, "-d", string(body))
	if err != nil {
		t.Fatalf("predict: %v\n%s", err, errOut)
	}
	var resp struct {
		ModelName string                     `json:"model_name"`
		Outputs   []struct{ Data []float64 } `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(out.String()), &resp); err != nil || resp.ModelName != name || len(resp.Outputs) != 1 || len(resp.Outputs[0].Data) != 3 {
		t.Fatalf("response: %v\n%s", err, out)
	}
	for i, want := range mlp.Predict(rows) {
		if got := resp.Outputs[0].Data[i]; math.Abs(got-want[0]) > 1e-5 {
			t.Errorf("row %d: %v, want %v", i, got, want[0])
		}
	}
	// A model with no .onnx file and no server source: one clear line.
	plain := t.TempDir()
	os.WriteFile(filepath.Join(plain, "weights.txt"), []byte("1"), 0o644)
	if _, err := models.Save(ctx, plain, models.Repo(cfg.Registry, name+"-plain"), []string{"v1", "latest"}, models.Meta{}, launch.ModelOptions(cfg, repo)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runFair(ctx, bedConfig(t, bed), "serve", "--model", name+"-plain", "--kind", "deployment"); err == nil || !strings.Contains(err.Error(), "holds no .onnx file") {
		t.Errorf("serve of a non-ONNX model without source: %v", err)
	}
}

// KServe serves a saved model from its image (its modelcar): fair makes
// the model image once, the real KServe controller and pod webhook run it
// beside fair's stock ONNX server, which waits for /mnt/models and answers
// with the model's weights. Serving it again finds the image.
func TestTestbedServeKServeModelcar(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	cfg := bedConfig(t, bed)
	ctx := ctxFor(t, 5*time.Minute)
	name := "mlpcar-" + bed.Namespace
	mlp := onnxtest.NewMLP(3, 8, 1, 7)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mlp.onnx"), mlp.ONNX(""), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := models.Repo(cfg.Registry, name)
	if _, err := models.Save(ctx, dir, repo, []string{"v1", "latest"}, models.Meta{Run: "written-by-a-test"}, launch.ModelOptions(cfg, repo)); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := runFair(ctx, bedConfig(t, bed), "serve", "--model", name, "--kind", "kserve", "--name", "mlpcar")
	if err != nil {
		t.Fatalf("serve --kind kserve --model: %v\n%s", err, errOut)
	}
	if !regexp.MustCompile(`from its image \S+/modelcars/` + name + `@sha256:\S+ \(made in [0-9.]+s\), through KServe's modelcar`).MatchString(errOut.String()) {
		t.Errorf("progress does not say the model image was made:\n%s", errOut)
	}
	pods, err := bed.Client.CoreV1().Pods(bed.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "serving.kserve.io/inferenceservice=mlpcar"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("predictor pods: %v %d", err, len(pods.Items))
	}
	var names []string
	for _, c := range append(pods.Items[0].Spec.InitContainers, pods.Items[0].Spec.Containers...) {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "modelcar-init kserve-container modelcar" {
		t.Errorf("predictor containers %q, want KServe's modelcar and no fair-model pull", got)
	}
	rows := [][]float32{{1, 0, -1}, {0.5, -0.5, 2}}
	body, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{"name": "x", "datatype": "FP32", "shape": []int{2, 3}, "data": rows}}})
	out, errOut, err := runFair(ctx, bedConfig(t, bed), "predict", "mlpcar", "--model", name, "-d", string(body))
	if err != nil {
		t.Fatalf("predict: %v\n%s", err, errOut)
	}
	var resp struct {
		Outputs []struct{ Data []float64 } `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(out.String()), &resp); err != nil || len(resp.Outputs) != 1 || len(resp.Outputs[0].Data) != 2 {
		t.Fatalf("response: %v\n%s", err, out)
	}
	for i, want := range mlp.Predict(rows) {
		if got := resp.Outputs[0].Data[i]; math.Abs(got-want[0]) > 1e-5 {
			t.Errorf("row %d: %v, want %v", i, got, want[0])
		}
	}
	// Again: the same model image, found, not made.
	_, errOut, err = runFair(ctx, bedConfig(t, bed), "serve", "--model", name, "--kind", "kserve", "--name", "mlpcar")
	if err != nil || !strings.Contains(errOut.String(), "(found), through KServe's modelcar") {
		t.Errorf("serve again: %v\n%s", err, errOut)
	}
	if _, _, err := runFair(ctx, bedConfig(t, bed), "delete", "mlpcar"); err != nil {
		t.Errorf("delete: %v", err)
	}
}
