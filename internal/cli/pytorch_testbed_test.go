package cli

import (
	"encoding/json"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fair-go/fair/test/testbed"
)

// Fairing's own journey for real: a PyTorch base built by fair from
// Debian packages, examples/train-py appended onto it and trained as a
// PyTorchJob of three replicas (torch.distributed, gloo) with a GPU each,
// its ONNX model saved and served with no code, answering what the
// trained weights give.
func TestTestbedPyTorchFromDebianBase(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	root := repoRoot(t)
	ctx := ctxFor(t, 10*time.Minute)
	out, errOut, err := runFair(ctx, bedConfig(t, bed), "base", "debian", "--packages", "python3-torch", "--repo", bed.Registry+"/fair-test/pytorch")
	if err != nil {
		t.Fatalf("base debian: %v\n%s", err, errOut)
	}
	base := strings.TrimSpace(out.String())
	if !strings.Contains(base, "@sha256:") {
		t.Fatalf("base %q is not by digest", base)
	}
	// Built twice: the same digest; its SBOM lists python3-torch with its version.
	again, errOut, err := runFair(ctx, bedConfig(t, bed), "base", "debian", "--packages", "python3-torch", "--repo", bed.Registry+"/fair-test/pytorch")
	if err != nil || strings.TrimSpace(again.String()) != base {
		t.Errorf("second build: %v %q, want %q\n%s", err, again, base, errOut)
	}
	sbom, _, err := runFair(ctx, bedConfig(t, bed), "base", "debian", "--packages", "python3-torch", "--sbom")
	if err != nil || !regexp.MustCompile(`"name": "python3-torch",\s*"versionInfo": "[0-9][^"]*"`).MatchString(sbom.String()) {
		t.Errorf("SBOM: %v\n%.500s", err, sbom)
	}
	model := "line-" + bed.Namespace
	out, errOut, err = runFair(ctx, bedConfig(t, bed), "train", filepath.Join(root, "examples/train-py"), "--base", base, "--cmd", "python3 train.py",
		"--kind", "pytorchjob", "--workers", "3", "--gpus", "1", "--model", model, "--name", "pt", "-e", "EPOCHS=20")
	if err != nil {
		t.Fatalf("train: %v\n%s\n%s", err, out, errOut)
	}
	for _, want := range []string{"[master-0] rank 0/3: joined the process group", "[worker-1] rank 2/3: joined the process group", "[worker-0] rank 1/3 epoch=20 loss="} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("logs lack %q", want)
		}
	}
	m := regexp.MustCompile(`\[master-0\] rank 0/3 weight (\S+) bias (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no weights in the logs:\n%s", out)
	}
	w, _ := strconv.ParseFloat(m[1], 64)
	b, _ := strconv.ParseFloat(m[2], 64)
	// Gradients were averaged: every replica ends with the same weights.
	if strings.Count(out.String(), " weight "+m[1]+" bias "+m[2]) != 3 {
		t.Errorf("replicas disagree on the weights:\n%s", out)
	}
	if !strings.Contains(errOut.String(), "model "+model+":pt saved") {
		t.Errorf("no model saved:\n%s", errOut)
	}
	if _, errOut, err := runFair(ctx, bedConfig(t, bed), "serve", "--model", model, "--name", "line"); err != nil {
		t.Fatalf("serve --model: %v\n%s", err, errOut)
	}
	out, errOut, err = runFair(ctx, bedConfig(t, bed), "predict", "line", "-d", `{"inputs":[{"name":"x","datatype":"FP32","shape":[2,1],"data":[[0.5],[-1]]}]}`)
	if err != nil {
		t.Fatalf("predict: %v\n%s", err, errOut)
	}
	var resp struct {
		Outputs []struct{ Data []float64 } `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(out.String()), &resp); err != nil || len(resp.Outputs) != 1 || len(resp.Outputs[0].Data) != 2 {
		t.Fatalf("response: %v\n%s", err, out)
	}
	for i, x := range []float64{0.5, -1} {
		if got := resp.Outputs[0].Data[i]; math.Abs(got-(w*x+b)) > 1e-4 {
			t.Errorf("prediction at %v = %v, want %v from the trained weights", x, got, w*x+b)
		}
	}
}
