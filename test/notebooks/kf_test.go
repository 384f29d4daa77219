package notebooks

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fair-go/fair/test/testbed"
)

// onBed points the kernel and the fair CLI at the test bed: images go to
// the test bed's registry under the test's namespace, jobs into it.
func onBed(t *testing.T, b *bed, tb *testbed.Bed) *bed {
	t.Helper()
	nb := *b
	nb.env = append(append([]string{}, b.env...),
		"KUBECONFIG="+testbed.Kubeconfig(),
		"FAIR_REGISTRY="+tb.Registry+"/"+tb.Namespace,
		"FAIR_NAMESPACE="+tb.Namespace,
	)
	return &nb
}

// fair runs the CLI built by setup in dir.
func (b *bed) fair(t *testing.T, dir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(b.dir, "fair"), args...)
	cmd.Dir = dir
	cmd.Env = b.env
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func digestOf(ref string) string {
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		return ref[i+1:]
	}
	return ""
}

// TestKfTrainNotebook runs examples/notebooks/train.ipynb: %%kf train
// --gpus 1 builds the notebook's program, runs it as a job on the test bed
// and streams its log lines into the cell; fair build of the same file
// gives the same image digest.
func TestKfTrainNotebook(t *testing.T) {
	t.Parallel()
	tb := testbed.Env(t)
	b := onBed(t, setup(t), tb)
	nb := b.run(t, "train.ipynb", 600)
	noErrors(t, nb)
	expect(t, "local run", nb.result(3), "0.7")
	out := nb.stdout(4)
	expect(t, "data set regenerated in the job", out, "[job-0] samples: 400")
	expect(t, "epochs streamed", out, "[job-0] epoch 10 loss")
	expect(t, "result", out, "[job-0] trained on the cluster: accuracy 0.8")
	if strings.Contains(out, "epoch 3 loss 0.4792\n[job-0] epoch 1") || strings.Count(out, "epoch 1 loss") != 1 {
		t.Errorf("the fair:skip cell ran in the job:\n%s", out)
	}
	status := strings.Join(nb.data(4, "text/plain"), "\n")
	expect(t, "live status", status, "Succeeded")
	expect(t, "live status GPUs", status, "GPUs 1")
	expect(t, "live status replicas", status, "replicas 1/1")
	if n := len(nb.data(4, "text/plain")); n != 1 {
		t.Errorf("status display shown %d times, want once, updated in place", n)
	}
	// Jupyter paints stderr as an error: a run that went well writes none.
	if e := nb.stderr(4); e != "" {
		t.Errorf("%%%%kf train wrote progress to stderr, which Jupyter shows as an error:\n%s", e)
	}
	expect(t, "the outcome in the live status", status, "succeeded")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	jobs, err := tb.Client.BatchV1().Jobs(tb.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil || len(jobs.Items) != 1 {
		t.Fatalf("want one job in %s, got %v (%v)", tb.Namespace, len(jobs.Items), err)
	}
	c := jobs.Items[0].Spec.Template.Spec.Containers[0]
	if q := c.Resources.Limits["nvidia.com/gpu"]; q.String() != "1" {
		t.Errorf("job GPU limit %q, want 1", q.String())
	}
	magicDigest := digestOf(c.Image)
	if magicDigest == "" {
		t.Fatalf("job image %q has no digest", c.Image)
	}
	ref, errOut, err := b.fair(t, filepath.Join(b.root, "examples", "notebooks"), "build", "train.ipynb")
	if err != nil {
		t.Fatalf("fair build train.ipynb: %v\n%s", err, errOut)
	}
	if got := digestOf(strings.TrimSpace(ref)); got != magicDigest {
		t.Errorf("fair build train.ipynb gave %s, the magic %s", got, magicDigest)
	}
}

// TestKfVerbs runs the other magics against the test bed and checks their
// errors: detach, logs, status, ps, delete, a compile error in a %%kf
// cell, help that matches the CLI's, config, a missing registry.
func TestKfVerbs(t *testing.T) {
	t.Parallel()
	tb := testbed.Env(t)
	b := onBed(t, setup(t), tb)
	// A copy, so that %kf config --save writes fair.yaml next to it.
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(b.root, "test", "notebooks", "testdata", "kf_verbs.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kf_verbs.ipynb"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	nb := b.runFile(t, filepath.Join(dir, "kf_verbs.ipynb"), 600)
	for i := 1; i <= 6; i++ {
		if e := nb.err(i); e != nil {
			t.Errorf("cell %d: %s: %s", i, e.EName, e.EValue)
		}
	}
	expect(t, "--detach prints the name", nb.stdout(2), "kf-verbs")
	expect(t, "logs -f", nb.stdout(3), "hello from the notebook")
	expect(t, "status", nb.stdout(4), "kf-verbs")
	expect(t, "status phase", nb.stdout(4), "Succeeded")
	expect(t, "ps", nb.stdout(5), "kf-verbs")
	expect(t, "delete", nb.stdout(6)+nb.stderr(6), "kf-verbs")

	if e := nb.err(7); e == nil {
		t.Error("a %%kf cell that does not compile gave no error")
	} else {
		// Line 2 of the cell as the notebook shows it, below the %%kf line.
		expect(t, "compile error names the cell and line", e.EValue, "In[7] line 2:24")
		expect(t, "compile error message", e.EValue, "undefined: undefinedThing")
	}

	help := nb.stdout(8)
	cli, _, err := b.fair(t, b.root, "train", "--help")
	if err != nil {
		t.Fatal(err)
	}
	flags := func(s string) string {
		_, f, _ := strings.Cut(s, "Flags:")
		return f
	}
	if flags(help) == "" || flags(help) != flags(cli) {
		t.Errorf("%%kf train --help and fair train --help disagree:\n--- magic\n%s\n--- cli\n%s", help, cli)
	}

	expect(t, "config set", nb.stdout(9), "gpus = 2")
	saved, err := os.ReadFile(filepath.Join(dir, "fair.yaml"))
	if err != nil {
		t.Errorf("%%kf config --save: %v", err)
	}
	expect(t, "saved config", string(saved), "gpus: 2")
	expect(t, "saved config", string(saved), "kind: pytorchjob")
	if strings.Contains(string(saved), "registry") || strings.Contains(string(saved), "namespace") {
		t.Errorf("fair.yaml holds values from the environment:\n%s", saved)
	}
	cfg := strings.Join(nb.data(11, "text/plain"), "")
	expect(t, "config shows the value", cfg, "pytorchjob")
	expect(t, "config shows the origin", cfg, "%kf config")
	expect(t, "config shows env origins", cfg, "FAIR_NAMESPACE")
	if e := nb.err(13); e == nil {
		t.Error("%kf build without a registry gave no error")
	} else {
		expect(t, "missing registry says how to set one", e.EValue, "%kf config registry=")
	}
	if e := nb.err(14); e == nil || !strings.Contains(e.EValue, "%kf help") {
		t.Errorf("unknown verb: got %+v", e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	jobs, _ := tb.Client.BatchV1().Jobs(tb.Namespace).List(ctx, metav1.ListOptions{})
	for _, j := range jobs.Items {
		if j.DeletionTimestamp == nil {
			t.Errorf("job %s still there after %%kf delete", j.Name)
		}
	}
}

// TestKfCompileErrorPushesNothing: fair train of a notebook whose cell 3
// does not compile names cell 3 and its line, and pushes no image.
func TestKfCompileErrorPushesNothing(t *testing.T) {
	t.Parallel()
	tb := testbed.Env(t)
	b := onBed(t, setup(t), tb)
	_, errOut, err := b.fair(t, filepath.Join(b.root, "test", "notebooks", "testdata"), "train", "broken.ipynb")
	if err == nil {
		t.Fatal("fair train broken.ipynb succeeded")
	}
	expect(t, "names the cell and line", errOut, "cell 3 line 2:")
	expect(t, "compiler message", errOut, "undefined: undefinedThing")
	if strings.Contains(errOut, "go-cell") || strings.Contains(errOut, "Ξ") {
		t.Errorf("generated names leak into the error:\n%s", errOut)
	}
	resp, err := http.Get(fmt.Sprintf("http://%s/v2/%s/broken/tags/list", tb.Registry, tb.Namespace))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("registry has %s/broken after a failed build (HTTP %d)", tb.Namespace, resp.StatusCode)
	}
}

// TestKfTrainMainArgs: the %args a notebook's main cell ran with reach the
// job that runs the notebook, with a line saying so.
func TestKfTrainMainArgs(t *testing.T) {
	t.Parallel()
	tb := testbed.Env(t)
	b := onBed(t, setup(t), tb)
	nb := b.runFile(t, filepath.Join(b.root, "test", "notebooks", "testdata", "mainargs.ipynb"), 600)
	noErrors(t, nb)
	expect(t, "the main cell, in the kernel", nb.stdout(2), "epochs 2")
	expect(t, "the job", nb.stdout(3), "[job-0] epochs 2")
	expect(t, "said", nb.stderr(3), "passing the notebook's %args to the program: -epochs 2")
}

// TestKfPanicNamesCell: a notebook's program that panics on the cluster
// shows a stack trace that names the cell and line, not a generated file.
func TestKfPanicNamesCell(t *testing.T) {
	t.Parallel()
	tb := testbed.Env(t)
	b := onBed(t, setup(t), tb)
	out, errOut, err := b.fair(t, filepath.Join(b.root, "test", "notebooks", "testdata"), "train", "panics.ipynb")
	if err == nil {
		t.Fatal("fair train panics.ipynb succeeded")
	}
	expect(t, "the logs name the cell", out, "panic: too many steps")
	expect(t, "the logs name the cell", out, "\tcell 3 line 3")
	expect(t, "the last lines name the cell", errOut, "\tcell 3 line 3")
	if strings.Contains(out+errOut, "go-cell") {
		t.Errorf("generated file names in the trace:\n%s\n%s", out, errOut)
	}
}

// TestKfServeNotebook runs examples/notebooks/serve.ipynb: %%kf serve
// deploys the predict function the cell defines, %kf predict gets the
// fitted line's values back, %kf delete removes it.
func TestKfServeNotebook(t *testing.T) {
	t.Parallel()
	tb := testbed.Env(t)
	b := onBed(t, setup(t), tb)
	// No kind given: KServe, which the test bed runs (RawDeployment).
	nb := b.run(t, "serve.ipynb", 600)
	noErrors(t, nb)
	expect(t, "fit", nb.stdout(1), "y = 1.99 x + 1.04")
	expect(t, "ready", strings.Join(nb.data(2, "text/plain"), ""), "Ready")
	var resp struct {
		Outputs []struct {
			Name string    `json:"name"`
			Data []float64 `json:"data"`
		} `json:"outputs"`
	}
	out := nb.stdout(3)
	if err := json.Unmarshal([]byte(out), &resp); err != nil || len(resp.Outputs) != 1 || len(resp.Outputs[0].Data) != 2 {
		t.Fatalf("predict: %q (%v)", out, err)
	}
	for i, want := range []float64{3.03, 5.02} {
		if got := resp.Outputs[0].Data[i]; math.Abs(got-want) > 1e-3 {
			t.Errorf("prediction %d = %v, want %v", i, got, want)
		}
	}
	expect(t, "deleted", nb.stdout(4), "inferenceservice/linear deleted")
}

// TestKfPipelineNotebook: %kf pipeline run in a notebook turns the saved
// pipeline.ipynb's step:NAME cells into an Argo Workflow that runs on the
// test bed's workflow controller, with each step's logs in the cell.
func TestKfPipelineNotebook(t *testing.T) {
	t.Parallel()
	tb := testbed.Env(t)
	if os.Getenv("FAIR_TESTBED_ARGO") == "0" {
		t.Skip("FAIR_TESTBED_ARGO=0: the test bed runs no Argo workflow controller")
	}
	b := onBed(t, setup(t), tb)
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(b.root, "examples", "notebooks", "pipeline.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pipeline.ipynb"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	// Step pods reach the test bed's registry on the node's loopback.
	runner := `{"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "fair", "display_name": "Go (fair)", "language": "go"}},
	 "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null,
	            "source": "%kf pipeline run pipeline.ipynb --host-network --name kf-pipe"}]}`
	if err := os.WriteFile(filepath.Join(dir, "run.ipynb"), []byte(runner), 0o644); err != nil {
		t.Fatal(err)
	}
	nb := b.runFile(t, filepath.Join(dir, "run.ipynb"), 900)
	noErrors(t, nb)
	out := nb.stdout(1) + nb.stderr(1)
	expect(t, "count step log", out, "[count] words: 9")
	expect(t, "pipeline result", out, "Succeeded")
}

// TestKfTrainServeModelNotebook runs examples/notebooks/train-serve.ipynb:
// %%kf train --model saves the weights the job trained, %%kf serve --model
// last serves them (the server does not refit), %kf predict answers what
// only those weights give, %kf models ls lists the model with its metrics.
func TestKfTrainServeModelNotebook(t *testing.T) {
	t.Parallel()
	tb := testbed.Env(t)
	b := onBed(t, setup(t), tb)
	nb := b.run(t, "train-serve.ipynb", 900)
	noErrors(t, nb)
	// The weights the job printed, at full precision.
	m := regexp.MustCompile(`\[job-0\] weights (\S+) (\S+) bias (\S+)`).FindStringSubmatch(nb.stdout(3))
	if m == nil {
		t.Fatalf("no weights in the train cell's output:\n%s", nb.stdout(3))
	}
	var w [3]float64
	for i := range w {
		w[i], _ = strconv.ParseFloat(m[i+1], 64)
	}
	expect(t, "model saved", strings.Join(nb.data(3, "text/plain"), "\n")+nb.stdout(3)+nb.stderr(3), "model nb-lr:")
	var resp struct {
		Outputs []struct {
			Data []float64 `json:"data"`
		} `json:"outputs"`
	}
	out := nb.stdout(5)
	if err := json.Unmarshal([]byte(out), &resp); err != nil || len(resp.Outputs) != 1 || len(resp.Outputs[0].Data) != 2 {
		t.Fatalf("predict: %q (%v)", out, err)
	}
	for i, x := range [][2]float64{{2, -2}, {-0.5, 1}} {
		want := 1 / (1 + math.Exp(-(w[0]*x[0] + w[1]*x[1] + w[2])))
		if got := resp.Outputs[0].Data[i]; math.Abs(got-want) > 1e-5 {
			t.Errorf("prediction %d = %v, want %v from the trained weights %v", i, got, want, w)
		}
	}
	expect(t, "models ls", nb.stdout(6), "nb-lr:")
	expect(t, "models ls metrics", nb.stdout(6), "epoch=8 loss=")
	expect(t, "deleted", nb.stdout(7), "deployment/nb-lr deleted")
}

// TestKfDeployNotebook: %%kf deploy --kind job trains the notebook with a
// GPU (as %%kf train would), %kf deploy --kind deployment --wait=false
// creates the endpoint and returns at once, and a deploy without a kind or
// with an unknown one fails in one line and leaves the kernel working.
func TestKfDeployNotebook(t *testing.T) {
	t.Parallel()
	tb := testbed.Env(t)
	b := onBed(t, setup(t), tb)
	dir := t.TempDir()
	cells := []string{
		`import "fmt"`,
		"func predict(rows [][]float32) ([]float32, error) {\n\tout := make([]float32, len(rows))\n\tfor i, r := range rows {\n\t\tout[i] = 2 * r[0]\n\t}\n\treturn out, nil\n}",
		"%%kf deploy --kind job --gpus 1 --name kf-deploy-train\nfmt.Println(\"trained through deploy\")",
		"%kf deploy --kind deployment --name kf-deploy-serve --wait=false",
		"%kf deploy --name no-kind",
		"%kf deploy --kind nosuchkind --name bad-kind",
		`fmt.Println("kernel still here")`,
		"%%writefile job.yaml\napiVersion: batch/v1\nkind: Job\nmetadata: {name: kf-yaml-job}\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - {name: c, image: \"fair://./prog\"}",
		"%kf deploy -f job.yaml --name kf-yaml",
		"%kf deploy --wait=false",
	}
	// A program beside the notebook, which the YAML names as fair://./prog.
	if err := os.MkdirAll(filepath.Join(dir, "prog"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{
		"go.mod":  "module example.com/prog\n\ngo 1.22\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"deployed from yaml\") }\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, "prog", name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := writeNotebook(t, filepath.Join(dir, "deploy.ipynb"), cells)
	nb := b.runFile(t, path, 600)
	// %kf deploy -f: YAML and fair:// paths from the notebook's folder,
	// followed until the Job has run.
	expect(t, "deploy -f", nb.stdout(9)+nb.stderr(9), "job/kf-yaml-job succeeded")
	for _, i := range []int{1, 2, 3, 4, 7, 8, 9} {
		if e := nb.err(i); e != nil {
			t.Errorf("cell %d: %s: %s", i, e.EName, e.EValue)
		}
	}
	expect(t, "the job's log", nb.stdout(3), "trained through deploy")
	expect(t, "live status", strings.Join(nb.data(3, "text/plain"), "\n"), "Succeeded")
	for i, want := range map[int]string{5: "needs --kind", 6: `unknown kind "nosuchkind"`, 10: "needs --kind (a training or a serving kind), or -f FILE"} {
		e := nb.err(i)
		if e == nil || !strings.Contains(e.EValue, want) || strings.Contains(strings.TrimSpace(e.EValue), "\n") {
			t.Errorf("cell %d: want one line with %q, got %+v", i, want, e)
		}
	}
	expect(t, "the kernel carries on", nb.stdout(7), "kernel still here")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	job, err := tb.Client.BatchV1().Jobs(tb.Namespace).Get(ctx, "kf-deploy-train", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if q := job.Spec.Template.Spec.Containers[0].Resources.Limits["nvidia.com/gpu"]; q.String() != "1" {
		t.Errorf("job GPU limit %q, want 1", q.String())
	}
	if _, err := tb.Client.AppsV1().Deployments(tb.Namespace).Get(ctx, "kf-deploy-serve", metav1.GetOptions{}); err != nil {
		t.Errorf("%%kf deploy --kind deployment made no Deployment: %v", err)
	}
	for _, name := range []string{"no-kind", "bad-kind"} {
		if _, err := tb.Client.BatchV1().Jobs(tb.Namespace).Get(ctx, name, metav1.GetOptions{}); err == nil {
			t.Errorf("a refused deploy created job %s", name)
		}
	}
}

// writeNotebook writes a notebook of code cells for the fair kernel.
func writeNotebook(t *testing.T, path string, cells []string) string {
	t.Helper()
	var src []string
	for _, c := range cells {
		j, _ := json.Marshal(c)
		src = append(src, `{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": `+string(j)+`}`)
	}
	doc := `{"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "fair", "display_name": "Go (fair)", "language": "go"}}, "cells": [` + strings.Join(src, ",") + `]}`
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestKfSweepNotebook runs %%kf sweep through nbconvert on the test bed's
// Katib: the cell is each trial's program; the saved notebook holds the
// final table and the chart of the objective per trial, shown once and
// updated in place; a bad spec is one line and the kernel carries on.
func TestKfSweepNotebook(t *testing.T) {
	t.Parallel()
	testbed.RequireKatib(t)
	tb := testbed.Env(t)
	b := onBed(t, setup(t), tb)
	dir := t.TempDir()
	cells := []string{
		"import (\n\t\"fmt\"\n\t\"math\"\n\t\"os\"\n\t\"strconv\"\n)",
		"%%kf sweep -p lr=0.001..0.1 --objective loss --trials 3 --parallel 3 --name kf-sweep --algorithm-setting random_state=3\n" +
			"lr, _ := strconv.ParseFloat(os.Getenv(\"LR\"), 64)\nfmt.Printf(\"loss=%.6f\\n\", math.Pow(math.Log10(lr)+2, 2))",
		"%kf sweep -p lr=abc --objective loss --name kf-bad",
		"%kf sweep status kf-sweep",
		`fmt.Println("kernel still here")`,
	}
	path := writeNotebook(t, filepath.Join(dir, "sweep.ipynb"), cells)
	nb := b.runFile(t, path, 900)
	for _, i := range []int{1, 2, 4, 5} {
		if e := nb.err(i); e != nil {
			t.Errorf("cell %d: %s: %s", i, e.EName, e.EValue)
		}
	}
	texts, htmls := nb.data(2, "text/plain"), nb.data(2, "text/html")
	if len(texts) != 1 || len(htmls) != 1 {
		t.Fatalf("sweep display shown %d/%d times, want once, updated in place", len(texts), len(htmls))
	}
	expect(t, "final table", texts[0], "sweep kf-sweep: Succeeded, 3/3 trials")
	h := htmls[0]
	if !strings.Contains(h, "<svg") || strings.Count(h, "<circle") != 3 || !strings.Contains(h, "best so far") || !strings.Contains(h, "★") {
		t.Errorf("chart in the saved notebook:\n%s", h)
	}
	expect(t, "best trial and command", nb.stdout(2), "train with them: %%kf train -e LR=")
	if e := nb.stderr(2); e != "" {
		t.Errorf("%%%%kf sweep wrote to stderr, which Jupyter shows as an error:\n%s", e)
	}
	if e := nb.err(3); e == nil || !strings.Contains(e.EValue, `parameter lr: "abc" is neither a range`) || strings.Contains(strings.TrimSpace(e.EValue), "\n") {
		t.Errorf("cell 3: want one line about lr=abc, got %+v", e)
	}
	expect(t, "status", nb.stdout(4), "sweep kf-sweep: Succeeded")
	expect(t, "the kernel carries on", nb.stdout(5), "kernel still here")
}

// TestKfSweepExample runs examples/notebooks/sweep.ipynb: a function
// defined in one cell and checked locally is the objective of a %%kf sweep
// cell's trials; the best trial is the lowest loss of those the table
// shows, and %kf sweep status agrees.
func TestKfSweepExample(t *testing.T) {
	t.Parallel()
	testbed.RequireKatib(t)
	tb := testbed.Env(t)
	b := onBed(t, setup(t), tb)
	nb := b.run(t, "sweep.ipynb", 900)
	noErrors(t, nb)
	expect(t, "local check", nb.result(3), "0.05")
	texts := nb.data(4, "text/plain")
	if len(texts) != 1 {
		t.Fatalf("sweep display shown %d times, want once", len(texts))
	}
	expect(t, "final table", texts[0], "sweep nb-sweep: Succeeded, 6/6 trials")
	// The starred row has the lowest loss of the table.
	best, low := "", math.Inf(1)
	for _, line := range strings.Split(texts[0], "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || !strings.HasPrefix(f[0], "nb-sweep-") {
			continue
		}
		v, err := strconv.ParseFloat(f[len(f)-2], 64)
		if err == nil && v < low {
			best, low = strings.TrimSuffix(f[0], "*"), v
		}
		if strings.HasSuffix(f[0], "*") && f[1] != "Succeeded" {
			t.Errorf("best trial not succeeded: %s", line)
		}
	}
	if best == "" || !strings.Contains(texts[0], best+"*") {
		t.Errorf("the lowest loss is %s's (%g), not starred:\n%s", best, low, texts[0])
	}
	if h := nb.data(4, "text/html"); len(h) != 1 || strings.Count(h[0], "<circle") != 6 {
		t.Errorf("chart: %v", h)
	}
	expect(t, "status", nb.stdout(5), "best trial "+best)

	// FAIR_SCREENSHOTS=1 updates docs/images/sweep-notebook.png: the saved
	// notebook as nbconvert's HTML shows it, in Debian's Chromium.
	if os.Getenv("FAIR_SCREENSHOTS") == "1" {
		html := t.TempDir()
		out, err := exec.Command("jupyter", "nbconvert", "--to", "html", "--output-dir", html, filepath.Join(b.dir, "out", "sweep.ipynb")).CombinedOutput()
		if err != nil {
			t.Fatalf("nbconvert --to html: %v\n%s", err, out)
		}
		shot := filepath.Join(b.root, "docs", "images", "sweep-notebook.png")
		out, err = exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--hide-scrollbars", "--window-size=1000,1500",
			"--screenshot="+shot, "file://"+filepath.Join(html, "sweep.html")).CombinedOutput()
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, out)
		}
	}
}
