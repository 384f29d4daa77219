package pipeline_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/encoding/protojson"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/fair-go/fair/pipeline"
)

var testOpts = pipeline.Options{ArtifactRepo: "127.0.0.1:5055/fair-artifacts", Insecure: true, Namespace: "ml"}

func diamondImages(t *testing.T) map[string]pipeline.Built {
	t.Helper()
	imgs, err := diamond().Build(context.Background(), func(_ context.Context, s pipeline.Source) (pipeline.Built, error) {
		return pipeline.Built{Ref: "127.0.0.1:5055/" + strings.TrimPrefix(s.String(), "./examples/pipeline/") + "@sha256:" + strings.Repeat("a", 64), Command: []string{"/usr/local/bin/prog"}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return imgs
}

func str(t *testing.T, u map[string]any, path ...string) []string {
	t.Helper()
	v, ok, err := unstructured.NestedFieldNoCopy(u, path...)
	if err != nil || !ok {
		return nil
	}
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestArgoDiamond(t *testing.T) {
	wf, err := pipeline.Argo(diamond(), diamondImages(t), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if wf.GetAPIVersion() != "argoproj.io/v1alpha1" || wf.GetKind() != "Workflow" || wf.GetGenerateName() != "diamond-" || wf.GetNamespace() != "ml" {
		t.Fatalf("header: %s %s %s %s", wf.GetAPIVersion(), wf.GetKind(), wf.GetGenerateName(), wf.GetNamespace())
	}
	templates, _, _ := unstructured.NestedSlice(wf.Object, "spec", "templates")
	byName := map[string]map[string]any{}
	for _, t := range templates {
		m := t.(map[string]any)
		byName[m["name"].(string)] = m
	}
	tasks, _, _ := unstructured.NestedSlice(byName["main"], "dag", "tasks")
	deps := map[string][]string{}
	args := map[string]map[string]string{}
	for _, x := range tasks {
		task := x.(map[string]any)
		n := task["name"].(string)
		deps[n] = str(t, task, "dependencies")
		params, _, _ := unstructured.NestedSlice(task, "arguments", "parameters")
		args[n] = map[string]string{}
		for _, p := range params {
			pm := p.(map[string]any)
			args[n][pm["name"].(string)] = pm["value"].(string)
		}
	}
	wantDeps := map[string][]string{"a": nil, "b": {"a"}, "c": {"a"}, "d": {"b", "c"}}
	if !reflect.DeepEqual(deps, wantDeps) {
		t.Fatalf("DAG %v, want %v", deps, wantDeps)
	}
	if got := args["d"]["right"]; got != "{{tasks.c.outputs.parameters.result}}" {
		t.Errorf("d's input right = %q", got)
	}
	if got := args["b"]["data"]; got != "{{tasks.a.outputs.parameters.data}}" {
		t.Errorf("b's input data = %q", got)
	}

	// The GPU step gets limits and the NoSchedule toleration of training jobs.
	c := byName["c"]
	if v, _, _ := unstructured.NestedString(c, "container", "resources", "limits", "nvidia.com/gpu"); v != "1" {
		t.Errorf("c gpu limit = %q", v)
	}
	if v, _, _ := unstructured.NestedString(c, "container", "resources", "limits", "memory"); v != "1Gi" {
		t.Errorf("c memory limit = %q", v)
	}
	tols, _, _ := unstructured.NestedSlice(c, "tolerations")
	if len(tols) != 1 || tols[0].(map[string]any)["key"] != "nvidia.com/gpu" || tols[0].(map[string]any)["effect"] != "NoSchedule" {
		t.Errorf("c tolerations = %v", tols)
	}
	if _, ok := byName["b"]["tolerations"]; ok {
		t.Error("a CPU step must not tolerate GPU taints")
	}

	// The runtime wraps the program: inputs pulled, outputs pushed.
	cmd := append(str(t, byName["d"], "container", "command"), str(t, byName["d"], "container", "args")...)
	want := "/usr/local/bin/fair-step run --repo 127.0.0.1:5055/fair-artifacts --run {{workflow.name}} --step d --dir /tmp/fair --insecure " +
		"--in left={{inputs.parameters.left}} --in right={{inputs.parameters.right}} --out-value sum=/tmp/fair/params/sum -- sh -c cat"
	if got := strings.Join(cmd, " "); got != want {
		t.Errorf("d command:\n got %s\nwant %s", got, want)
	}
	outs, _, _ := unstructured.NestedSlice(byName["a"], "outputs", "parameters")
	if len(outs) != 1 || outs[0].(map[string]any)["valueFrom"].(map[string]any)["path"] != "/tmp/fair/params/data" {
		t.Errorf("a outputs = %v", outs)
	}
	// unstructured must be able to copy it (only JSON types inside).
	_ = wf.DeepCopy()
}

func TestKFPDiamondUnmarshalsIntoPipelineSpec(t *testing.T) {
	p := diamond()
	p.Steps[1].CPU("500m") // b
	out, err := pipeline.KFP(p, diamondImages(t), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	var spec pipelinespec.PipelineSpec
	if err := (protojson.UnmarshalOptions{}).Unmarshal(js, &spec); err != nil {
		t.Fatalf("not a KFP PipelineSpec: %v\n%s", err, out)
	}
	if spec.GetPipelineInfo().GetName() != "diamond" || spec.GetSchemaVersion() != pipeline.KFPSchemaVersion {
		t.Fatalf("pipelineInfo %v schema %s", spec.GetPipelineInfo(), spec.GetSchemaVersion())
	}
	tasks := spec.GetRoot().GetDag().GetTasks()
	deps := map[string][]string{}
	for n, task := range tasks {
		deps[n] = task.GetDependentTasks()
		if task.GetComponentRef().GetName() != "comp-"+n {
			t.Errorf("task %s component %s", n, task.GetComponentRef().GetName())
		}
		comp := spec.GetComponents()[task.GetComponentRef().GetName()]
		if comp == nil || comp.GetExecutorLabel() != "exec-"+n {
			t.Errorf("task %s has no component with executor exec-%s", n, n)
		}
	}
	wantDeps := map[string][]string{"a": nil, "b": {"a"}, "c": {"a"}, "d": {"b", "c"}}
	if !reflect.DeepEqual(deps, wantDeps) {
		t.Fatalf("DAG %v, want %v", deps, wantDeps)
	}
	in := tasks["d"].GetInputs().GetParameters()["right"].GetTaskOutputParameter()
	if in.GetProducerTask() != "c" || in.GetOutputParameterKey() != "result" {
		t.Errorf("d.right fed by %v", in)
	}

	// The deployment spec is a Struct in PipelineSpec; its executors must
	// be valid PipelineDeploymentConfig too.
	deployment := spec.GetDeploymentSpec().AsMap()
	// The ResourceSpec fields KFP added after the pinned typed spec
	// (resource_cpu_request = 9, resource_memory_request = 10,
	// resource_memory_limit = 8, AcceleratorConfig resource_type = 3,
	// resource_count = 4): checked here, then removed, so that the strict
	// parse below holds every other field to the typed spec.
	res, _, _ := unstructured.NestedMap(deployment, "executors", "exec-c", "container", "resources")
	want := map[string]any{"resourceMemoryRequest": "1Gi", "resourceMemoryLimit": "1Gi"}
	for k, v := range want {
		if res[k] != v {
			t.Errorf("exec-c resources.%s = %v, want %v", k, res[k], v)
		}
	}
	if got, _, _ := unstructured.NestedString(deployment, "executors", "exec-b", "container", "resources", "resourceCpuRequest"); got != "500m" {
		t.Errorf("exec-b resources.resourceCpuRequest = %q, want 500m", got)
	}
	acc, _, _ := unstructured.NestedMap(res, "accelerator")
	if acc["resourceType"] != "nvidia.com/gpu" || acc["resourceCount"] != "1" {
		t.Errorf("exec-c accelerator = %v, want resourceType nvidia.com/gpu and resourceCount \"1\"", acc)
	}
	for _, e := range deployment["executors"].(map[string]any) {
		r, ok, _ := unstructured.NestedMap(e.(map[string]any), "container", "resources")
		if !ok {
			continue
		}
		for _, k := range []string{"resourceCpuRequest", "resourceCpuLimit", "resourceMemoryRequest", "resourceMemoryLimit"} {
			delete(r, k)
		}
		if a, ok := r["accelerator"].(map[string]any); ok {
			delete(a, "resourceType")
			delete(a, "resourceCount")
		}
		_ = unstructured.SetNestedMap(e.(map[string]any), r, "container", "resources")
	}
	djs, err := json.Marshal(deployment)
	if err != nil {
		t.Fatal(err)
	}
	var dep pipelinespec.PipelineDeploymentConfig
	if err := protojson.Unmarshal(djs, &dep); err != nil {
		t.Fatalf("deploymentSpec: %v", err)
	}
	c := dep.GetExecutors()["exec-c"].GetContainer()
	// The deprecated fields, for KFP installations before the ones above.
	if c.GetResources().GetAccelerator().GetType() != "nvidia.com/gpu" || c.GetResources().GetAccelerator().GetCount() != 1 {
		t.Errorf("exec-c accelerator = %v", c.GetResources().GetAccelerator())
	}
	if m := c.GetResources().GetMemoryRequest(); m < 1.0737 || m > 1.0738 {
		t.Errorf("exec-c memoryRequest = %v GB, want 1Gi in GB", m)
	}
	if cpu := dep.GetExecutors()["exec-b"].GetContainer().GetResources().GetCpuRequest(); cpu != 0.5 {
		t.Errorf("exec-b cpuRequest = %v, want 0.5", cpu)
	}
	if c.GetImage() != "127.0.0.1:5055/double@sha256:"+strings.Repeat("a", 64) {
		t.Errorf("exec-c image = %s", c.GetImage())
	}
	args := strings.Join(dep.GetExecutors()["exec-d"].GetContainer().GetArgs(), " ")
	if !strings.Contains(args, "--in right={{$.inputs.parameters['right']}}") || !strings.Contains(args, "--out-value sum={{$.outputs.parameters['sum'].output_file}}") {
		t.Errorf("exec-d args: %s", args)
	}
}

// The values example: gen's value n is consumed two steps later by report,
// beside an artifact input from y. Both compilers must wire it as a value.
func TestValueConsumedTwoStepsLater(t *testing.T) {
	p, err := pipeline.Load("../examples/pipeline/values/pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := p.Build(context.Background(), func(_ context.Context, s pipeline.Source) (pipeline.Built, error) {
		return pipeline.Built{Ref: "127.0.0.1:5055/step@sha256:" + strings.Repeat("b", 64), Command: []string{"/usr/local/bin/step"}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wf, err := pipeline.Argo(p, imgs, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	templates, _, _ := unstructured.NestedSlice(wf.Object, "spec", "templates")
	var report, main map[string]any
	for _, x := range templates {
		m := x.(map[string]any)
		switch m["name"] {
		case "report":
			report = m
		case "main":
			main = m
		}
	}
	args := strings.Join(str(t, report, "container", "args"), " ")
	for _, want := range []string{"--in-value n={{inputs.parameters.n}}", "--in squares={{inputs.parameters.squares}}", "--out-value total="} {
		if !strings.Contains(args, want) {
			t.Errorf("report args lack %q: %s", want, args)
		}
	}
	tasks, _, _ := unstructured.NestedSlice(main, "dag", "tasks")
	for _, x := range tasks {
		task := x.(map[string]any)
		if task["name"] != "report" {
			continue
		}
		if deps := str(t, task, "dependencies"); strings.Join(deps, ",") != "gen,y" {
			t.Errorf("report depends on %v, want gen and y", deps)
		}
		params, _, _ := unstructured.NestedSlice(task, "arguments", "parameters")
		got := map[string]string{}
		for _, p := range params {
			pm := p.(map[string]any)
			got[pm["name"].(string)] = pm["value"].(string)
		}
		if got["n"] != "{{tasks.gen.outputs.parameters.n}}" || got["squares"] != "{{tasks.y.outputs.parameters.squares}}" {
			t.Errorf("report's arguments %v", got)
		}
	}

	out, err := pipeline.KFP(p, imgs, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	var spec pipelinespec.PipelineSpec
	if err := protojson.Unmarshal(js, &spec); err != nil {
		t.Fatalf("not a KFP PipelineSpec: %v", err)
	}
	in := spec.GetRoot().GetDag().GetTasks()["report"].GetInputs().GetParameters()["n"].GetTaskOutputParameter()
	if in.GetProducerTask() != "gen" || in.GetOutputParameterKey() != "n" {
		t.Errorf("KFP report.n fed by %v, want gen.n", in)
	}
	if !strings.Contains(string(out), "--in-value") || !strings.Contains(string(out), "n={{$.inputs.parameters['n']}}") {
		t.Errorf("KFP executor of report does not take n as a value:\n%s", out)
	}
}
