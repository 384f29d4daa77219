package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/iostreams"
	"github.com/fair-go/fair/internal/testregistry"
	"github.com/fair-go/fair/pipeline"
	"github.com/fair-go/fair/test/testbed"
)

const diamondYAML = "../../examples/pipeline/diamond/pipeline.yaml"

func runPipelineCmd(ctx context.Context, cfg *config.Config, args ...string) (stdout, stderr string, err error) {
	return runPipelineCmdUntil(ctx, cfg, nil, args...)
}

// runPipelineCmdUntil is runPipelineCmd that interrupts the command (as
// Ctrl-C would) once stop is true of its stderr so far.
func runPipelineCmdUntil(ctx context.Context, cfg *config.Config, stop func(stderr string) bool, args ...string) (stdout, stderr string, err error) {
	out, errOut := &iostreams.SyncBuffer{}, &iostreams.SyncBuffer{}
	if stop != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			for ctx.Err() == nil && !stop(errOut.String()) {
				time.Sleep(200 * time.Millisecond)
			}
			cancel()
		}()
	}
	io := &iostreams.IOStreams{In: strings.NewReader(""), Out: out, Err: errOut}
	root := &cobra.Command{Use: "fair", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(newPipelineCmd(io, cfg))
	root.SetArgs(append([]string{"pipeline"}, args...))
	err = root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func workflowTasks(t *testing.T, y string) (*unstructured.Unstructured, map[string][]string) {
	t.Helper()
	objs, err := deployer.DecodeYAML([]byte(y))
	if err != nil || len(objs) != 1 || objs[0].GetKind() != "Workflow" {
		t.Fatalf("want one Workflow: %v\n%s", err, y)
	}
	st := pipeline.WorkflowStatus(objs[0])
	deps := map[string][]string{}
	templates, _, _ := unstructured.NestedSlice(objs[0].Object, "spec", "templates")
	tasks, _, _ := unstructured.NestedSlice(templates[0].(map[string]any), "dag", "tasks")
	for _, x := range tasks {
		task := x.(map[string]any)
		ds, _, _ := unstructured.NestedStringSlice(task, "dependencies")
		deps[task["name"].(string)] = ds
	}
	if len(st.Steps) != len(tasks) {
		t.Fatalf("status shows %d steps, DAG has %d", len(st.Steps), len(tasks))
	}
	return objs[0], deps
}

func TestPipelineCompileNoBuild(t *testing.T) {
	ctx := context.Background()
	out, _, err := runPipelineCmd(ctx, config.Default(), "compile", "--no-build", diamondYAML, "--format", "kfp")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pipelineInfo:", "exec-d:", "producerTask: c", "schemaVersion: 2.1.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("kfp output lacks %q", want)
		}
	}
	_, errOut, err := runPipelineCmd(ctx, config.Default(), "compile", "--no-build", diamondYAML, "--format", "airflow")
	if err == nil || !strings.Contains(err.Error(), "want argo or kfp") {
		t.Errorf("bad format: %v %s", err, errOut)
	}
	// Flags of a one-image build do not apply to a pipeline's steps (each
	// names its image after its source and has its command): refused, not
	// ignored.
	for _, flag := range []string{"--repo", "--tag", "--cmd", "--dockerfile"} {
		for _, verb := range []string{"compile", "run"} {
			if _, _, err := runPipelineCmd(ctx, config.Default(), verb, diamondYAML, flag, "x"); err == nil || !strings.Contains(err.Error(), "unknown flag: "+flag) {
				t.Errorf("%s %s: %v", verb, flag, err)
			}
		}
	}
}

func TestPipelineBadInputFailsBeforeBuild(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ file, body, want string }{
		{"cycle.yaml", "name: p\nsteps:\n- {name: a, image: x, inputs: {i: b.o}, outputs: [o]}\n- {name: b, image: x, inputs: {i: a.o}, outputs: [o]}\n", "cycle: a -> b -> a"},
		{"missing.yaml", "name: p\nsteps:\n- {name: a, image: x, outputs: [o]}\n- {name: b, image: x, inputs: {i: a.model}}\n", "missing input i"},
		{"mem.yaml", "name: p\nsteps:\n- {name: a, image: x, resources: {memory: lots}}\n", `step a: memory "lots": want a positive Kubernetes quantity`},
		{"cpu.yaml", "name: p\nsteps:\n- {name: a, image: x, resources: {cpu: \"-3\"}}\n", `step a: cpu "-3": want a positive`},
		{"nb.ipynb", `{"cells":[{"cell_type":"code","metadata":{"tags":["step:a","prev:ghost"]},"source":"x := 1"}],"metadata":{},"nbformat":4,"nbformat_minor":5}`, `unknown step "ghost"`},
	} {
		p := filepath.Join(dir, tc.file)
		must(t, os.WriteFile(p, []byte(tc.body), 0o644))
		// A registry that does not answer: reaching it would mean a build started.
		cfg := config.Default()
		must(t, cfg.Set("registry", "127.0.0.1:1/never", "test"))
		for _, verb := range []string{"compile", "run"} {
			_, _, err := runPipelineCmd(context.Background(), cfg, verb, p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s %s: err = %v, want %q", verb, tc.file, err, tc.want)
			}
		}
	}
}

func startRegistry(t *testing.T) string {
	t.Setenv("FAIR_CACHE_DIR", filepath.Join(t.TempDir(), "cache"))
	return testregistry.Start(t).Host
}

func registryConfig(t *testing.T, host string) *config.Config {
	cfg := config.Default()
	must(t, cfg.Set("registry", host+"/team", "test"))
	return cfg
}

// TestPipelineCompileBuildsOncePerSource builds the diamond against a real
// registry: four steps, three distinct sources, every image by digest and
// carrying the step runtime.
func TestPipelineCompileBuildsOncePerSource(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds four Go programs")
	}
	cfg := registryConfig(t, startRegistry(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, errOut, err := runPipelineCmd(ctx, cfg, "compile", diamondYAML, "-n", "ml")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if n := strings.Count(errOut, "building "); n != 4 {
		t.Errorf("%d builds, want 4 (runtime + three distinct sources):\n%s", n, errOut)
	}
	wf, deps := workflowTasks(t, out)
	if strings.Join(deps["d"], ",") != "b,c" || strings.Join(deps["b"], ",") != "a" {
		t.Errorf("DAG %v", deps)
	}
	images := map[string]string{}
	templates, _, _ := unstructured.NestedSlice(wf.Object, "spec", "templates")
	for _, x := range templates[1:] {
		tm := x.(map[string]any)
		img, _, _ := unstructured.NestedString(tm, "container", "image")
		images[tm["name"].(string)] = img
		cmd, _, _ := unstructured.NestedStringSlice(tm, "container", "command")
		if len(cmd) != 1 || cmd[0] != pipeline.RuntimePath {
			t.Errorf("step %s command %v", tm["name"], cmd)
		}
	}
	if images["b"] != images["c"] || images["a"] == images["b"] {
		t.Errorf("images %v: b and c share a source, a does not", images)
	}
	ref, err := name.ParseReference(images["d"])
	if err != nil || !strings.Contains(images["d"], "@sha256:") {
		t.Fatalf("step d image %q not by digest", images["d"])
	}
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.Config.Entrypoint) != 1 || !strings.HasSuffix(cf.Config.Entrypoint[0], "/sum") {
		t.Errorf("d entrypoint %v", cf.Config.Entrypoint)
	}
	args := strings.Join(mustSlice(t, templates[4].(map[string]any), "container", "args"), " ")
	if !strings.HasSuffix(args, "-- "+cf.Config.Entrypoint[0]) {
		t.Errorf("d does not run its image's entrypoint: %s", args)
	}
	// pipeline run --dry-run client is the same compile: the Workflow on
	// stdout, and no cluster (the kubeconfig does not exist).
	cfg.Kubeconfig = filepath.Join(t.TempDir(), "none")
	dry, errOut, err := runPipelineCmd(ctx, cfg, "run", diamondYAML, "-n", "ml", "--dry-run", "client")
	if err != nil {
		t.Fatalf("run --dry-run client: %v\n%s", err, errOut)
	}
	if _, dryDeps := workflowTasks(t, dry); strings.Join(dryDeps["d"], ",") != "b,c" || !strings.Contains(dry, images["d"]) {
		t.Errorf("run --dry-run client printed another Workflow:\n%s", dry)
	}
}

func mustSlice(t *testing.T, m map[string]any, path ...string) []string {
	t.Helper()
	s, _, err := unstructured.NestedStringSlice(m, path...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fair pipeline compile writes the artifact repository as pods reach it,
// found as fair pipeline run finds it (the cluster's local-registry-hosting
// ConfigMap): the loopback address the laptop pushes to is none a pod can
// reach. Without a cluster to ask, a loopback repository gets a warning.
func TestTestbedPipelineCompilePodRegistry(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := bedConfig(t, bed)
	out, errOut, err := runPipelineCmd(ctx, cfg, "compile", "--no-build", diamondYAML)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if strings.Contains(out, bed.Registry+"/") || !strings.Contains(out, "/fair-artifacts") || strings.Contains(errOut, "warning") {
		t.Errorf("compiled with the laptop's registry address %s:\n%s\n%s", bed.Registry, out, errOut)
	}
	must(t, cfg.Set("kubeconfig", filepath.Join(t.TempDir(), "none"), "test"))
	out, errOut, err = runPipelineCmd(ctx, cfg, "compile", "--no-build", diamondYAML)
	if err != nil || !strings.Contains(out, bed.Registry+"/") || !strings.Contains(errOut, "a loopback address no pod reaches") {
		t.Errorf("no cluster: %v\n%s", err, errOut)
	}
}

// TestTestbedPipelineWorkflowsDryRun has the test bed's API server, with
// the real Argo Workflow CRD, validate every Workflow fair generates.
func TestTestbedPipelineWorkflowsDryRun(t *testing.T) {
	t.Parallel()
	bed := testbed.Env(t)
	c, err := deployer.Connect(deployer.WithRESTConfig(bed.Config), deployer.WithNamespace(bed.Namespace))
	if err != nil {
		t.Fatal(err)
	}
	if err := pipeline.NewRuns(c).Installed(); err != nil {
		t.Fatalf("test bed: %v (hack/testbed installs the Argo Workflow CRD)", err)
	}
	gpu := pipeline.New("gpu",
		pipeline.NewStep("prep", pipeline.Image("reg/prep@sha256:"+strings.Repeat("1", 64), "/prep")).Out("data").Param("SEED", "1").OnNodes("pool", "cpu"),
		pipeline.NewStep("train", pipeline.Image("reg/train@sha256:"+strings.Repeat("2", 64), "/train")).In("data", "prep.data").Out("model").Value("loss").GPUs(2).CPU("4").Memory("16Gi").OnNodes("accelerator", "a100"),
	)
	diamond, err := pipeline.Load(diamondYAML)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := pipeline.FromNotebook("../../examples/notebooks/pipeline.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t, time.Minute)
	for _, p := range []*pipeline.Pipeline{gpu, diamond, nb} {
		imgs := map[string]pipeline.Built{}
		for _, s := range p.Steps {
			imgs[s.Name] = pipeline.Built{Ref: bed.Registry + "/x/" + s.Name + "@sha256:" + strings.Repeat("3", 64), Command: []string{"/usr/local/bin/" + s.Name}}
		}
		wf, err := pipeline.Argo(p, imgs, pipeline.Options{ArtifactRepo: bed.Registry + "/fair-artifacts", Namespace: bed.Namespace, Name: deployer.NameFor(p.Name, time.Now())})
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Apply(ctx, []*unstructured.Unstructured{wf}, deployer.ApplyOptions{DryRun: true})
		if err != nil {
			t.Fatalf("pipeline %s: the API server rejects the Workflow: %v", p.Name, err)
		}
		// Nothing pruned: the CRD's schema keeps every field fair sets.
		tasks, _, _ := unstructured.NestedSlice(got[0].Object, "spec", "templates")
		if len(tasks) != len(p.Steps)+1 {
			t.Errorf("pipeline %s: %d templates after dry run, want %d", p.Name, len(tasks), len(p.Steps)+1)
		}
		if p.Name == "gpu" {
			// The same Workflow with a wrong type must be refused: the dry
			// run does check the schema.
			bad := wf.DeepCopy()
			must(t, unstructured.SetNestedField(bad.Object, int64(5), "spec", "entrypoint"))
			if _, err := c.Apply(ctx, []*unstructured.Unstructured{bad}, deployer.ApplyOptions{DryRun: true}); err == nil {
				t.Error("the API server accepted spec.entrypoint: 5; the CRD schema is not being checked")
			}
			lim, _, _ := unstructured.NestedString(tasks[2].(map[string]any), "container", "resources", "limits", "nvidia.com/gpu")
			tol, _, _ := unstructured.NestedSlice(tasks[2].(map[string]any), "tolerations")
			if lim != "2" || len(tol) != 1 {
				t.Errorf("train step after dry run: gpu limit %q, tolerations %v", lim, tol)
			}
		}
	}
}

// TestTestbedPipelineRun builds the diamond into the test bed's registry,
// has the API server validate the Workflow (--dry-run), then submits it for
// real. Without an Argo workflow controller on the test bed, fair must say
// so instead of waiting silently.
func TestTestbedPipelineRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds four Go programs")
	}
	bed := testbed.Env(t)
	t.Setenv("FAIR_CACHE_DIR", filepath.Join(os.TempDir(), "fair-pipeline-test-cache"))
	cfg := bedConfig(t, bed)
	ctx := ctxFor(t, 5*time.Minute)
	out, errOut, err := runPipelineCmd(ctx, cfg, "run", diamondYAML, "--dry-run=server", "--name", "diamond-dry", "--host-network")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if strings.TrimSpace(out) != "workflow/diamond-dry valid (server dry run)" {
		t.Fatalf("dry run printed %q", out)
	}

	runCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	out, errOut, err = runPipelineCmdUntil(runCtx, cfg, func(s string) bool { return strings.Contains(s, "no Argo workflow controller has picked up") },
		"run", diamondYAML, "--name", "diamond-1", "--controller-timeout", "5s", "--host-network")
	if err != nil && ExitCode(err) != ExitDetached {
		t.Fatalf("%v\nstdout (the steps' logs):\n%s\nstderr:\n%s", err, out, errOut)
	}
	c, err := deployer.Connect(deployer.WithRESTConfig(bed.Config), deployer.WithNamespace(bed.Namespace))
	if err != nil {
		t.Fatal(err)
	}
	u, err := pipeline.NewRuns(c).Get(context.Background(), "diamond-1")
	if err != nil {
		t.Fatal(err)
	}
	st := pipeline.WorkflowStatus(u)
	switch st.Phase {
	case "":
		if !strings.Contains(errOut, "no Argo workflow controller has picked up workflow diamond-1") {
			t.Fatalf("no controller ran the Workflow and fair did not say so:\n%s", errOut)
		}
		t.Logf("no Argo workflow controller on the test bed; fair said so:\n%s", errOut)
	case "Succeeded":
		if !strings.Contains(out, "[d] sum: 84") {
			t.Fatalf("diamond succeeded without the right value:\n%s", out)
		}
	default:
		t.Fatalf("diamond %s: %s\n%s\n%s", st.Phase, st.Message, out, errOut)
	}
	sout, _, err := runPipelineCmd(context.Background(), cfg, "status", "diamond-1")
	if err != nil || !strings.Contains(sout, "STEP") || !strings.Contains(sout, "\nd ") {
		t.Fatalf("status: %v\n%s", err, sout)
	}
	// -o json: the run and its four steps, as the table shows them.
	jout, _, err := runPipelineCmd(context.Background(), cfg, "status", "diamond-1", "-o", "json")
	var js struct {
		Name, Phase string
		Steps       []struct{ Name, Phase string }
	}
	if err != nil || json.Unmarshal([]byte(jout), &js) != nil || js.Name != "diamond-1" || js.Phase != st.Phase || len(js.Steps) != 4 {
		t.Fatalf("status -o json: %v\n%s", err, jout)
	}
	if _, _, err := runPipelineCmd(context.Background(), cfg, "status", "diamond-1", "-o", "table"); err == nil || !strings.Contains(err.Error(), "want json, yaml") {
		t.Errorf("status -o table: %v", err)
	}

	// The run is listed with fair's other runs and answers to the same
	// verbs; the pipeline's name means its newest run, except to delete.
	bg := context.Background()
	ps, _, err := runFair(bg, cfg, "ps")
	if err != nil || !regexp.MustCompile(`(?m)^diamond-1 +pipeline +`+phaseOr(st.Phase, "Pending")+` +\d/4 `).MatchString(ps.String()) {
		t.Errorf("ps: %v\n%s", err, ps)
	}
	ls, _, err := runPipelineCmd(bg, cfg, "ls", "diamond")
	if err != nil || !regexp.MustCompile(`(?m)^diamond-1 +diamond +`).MatchString(ls) {
		t.Errorf("pipeline ls diamond: %v\n%s", err, ls)
	}
	if ls, _, err := runPipelineCmd(bg, cfg, "ls", "no-such-pipeline", "-o", "name"); err != nil || ls != "" {
		t.Errorf("pipeline ls of another pipeline: %v %q", err, ls)
	}
	comp, _, err := runFair(bg, cfg, "__complete", "pipeline", "status", "dia")
	if err != nil || !strings.Contains(comp.String(), "diamond-1\tpipeline diamond") {
		t.Errorf("completion of pipeline runs: %v\n%s", err, comp)
	}
	byName, errOut, err := runPipelineCmd(bg, cfg, "status", "diamond")
	if err != nil || !strings.HasPrefix(byName, "diamond-1: ") || !strings.Contains(errOut, "pipeline diamond: its newest run is diamond-1") {
		t.Errorf("status by the pipeline's name: %v\n%s%s", err, byName, errOut)
	}
	top, _, err := runFair(bg, cfg, "status", "diamond-1", "-o", "json")
	if err != nil || !strings.Contains(top.String(), `"pipeline": "diamond"`) {
		t.Errorf("fair status of a pipeline run: %v\n%s", err, top)
	}
	if _, _, err := runPipelineCmd(bg, cfg, "delete", "diamond"); err == nil || !strings.Contains(err.Error(), "diamond is a pipeline, not a run: name the run to delete (diamond-1)") {
		t.Errorf("delete by the pipeline's name: %v", err)
	}
	// A rerun with the same name replaces the finished run and refuses
	// one still going, before it builds anything.
	if st.Phase == "Succeeded" {
		_, errOut, err := runPipelineCmd(ctx, cfg, "run", diamondYAML, "--name", "diamond-1", "--host-network", "--detach")
		if err != nil || !strings.Contains(errOut, "replaced the finished pipeline run diamond-1 (succeeded) of the same name") {
			t.Errorf("rerun of a finished run: %v\n%s", err, errOut)
		}
		_, errOut, err = runPipelineCmd(ctx, cfg, "run", diamondYAML, "--name", "diamond-1", "--host-network", "--detach")
		if err == nil || !strings.Contains(err.Error(), "pipeline run diamond-1 is still ") || strings.Contains(errOut, "building") {
			t.Errorf("rerun of a run still going: %v\n%s", err, errOut)
		}
	}
	dout, _, err := runFair(bg, cfg, "delete", "diamond-1")
	if err != nil || strings.TrimSpace(dout.String()) != "workflow/diamond-1 deleted" {
		t.Fatalf("delete: %v %q", err, dout)
	}
	// Foreground deletion: the Workflow goes once its pods have.
	for end := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		_, _, err := runFair(bg, cfg, "status", "diamond-1")
		if err != nil && strings.Contains(err.Error(), `no run "diamond-1"`) {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("status a minute after delete: %v", err)
		}
	}
}
