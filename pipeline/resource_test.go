package pipeline_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/fair-go/fair/pipeline"
)

const trainServeYAML = `
name: ts
steps:
- name: ingest
  source: fair://./ingest
  outputs: [data]
- name: fit
  source: fair://./train
  kind: pytorchjob
  workers: 3
  model: clf
  resources: {gpus: 1}
  inputs: {data: ingest.data}
- name: api
  source: fair://./serve
  serve: {model: fit.model, name: clf-api, port: 9000}
`

func trainServe(t *testing.T) (*pipeline.Pipeline, map[string]pipeline.Built) {
	t.Helper()
	p, err := pipeline.Parse([]byte(trainServeYAML), "/src")
	if err != nil {
		t.Fatal(err)
	}
	imgs := map[string]pipeline.Built{}
	for _, s := range p.Steps {
		imgs[s.Name] = pipeline.Built{Ref: "127.0.0.1:5055/" + s.Name + "@sha256:" + strings.Repeat("b", 64), Command: []string{"/ko-app/" + s.Name}}
	}
	return p, imgs
}

func template(t *testing.T, wf *unstructured.Unstructured, name string) map[string]any {
	t.Helper()
	ts, _, _ := unstructured.NestedSlice(wf.Object, "spec", "templates")
	for _, x := range ts {
		if m := x.(map[string]any); m["name"] == name {
			return m
		}
	}
	t.Fatalf("no template %s", name)
	return nil
}

// A training step becomes a PyTorchJob that Argo creates and waits for;
// its replicas pull the step's input and save the model under the run's
// name; the serving step applies a Deployment that pulls that model.
func TestArgoTrainAndServe(t *testing.T) {
	p, imgs := trainServe(t)
	wf, err := pipeline.Argo(p, imgs, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if sa, _, _ := unstructured.NestedString(wf.Object, "spec", "serviceAccountName"); sa != pipeline.RunnerAccount {
		t.Errorf("serviceAccountName = %q, want %s", sa, pipeline.RunnerAccount)
	}

	fit := template(t, wf, "fit")
	res := fit["resource"].(map[string]any)
	if res["action"] != "create" || res["setOwnerReference"] != true {
		t.Errorf("fit resource = %v", res)
	}
	var job unstructured.Unstructured
	if err := json.Unmarshal([]byte(res["manifest"].(string)), &job.Object); err != nil {
		t.Fatal(err)
	}
	if job.GetKind() != "PyTorchJob" || job.GetName() != "{{workflow.name}}-fit" || job.GetNamespace() != "ml" {
		t.Errorf("job = %s %s/%s", job.GetKind(), job.GetNamespace(), job.GetName())
	}
	if got := job.GetAnnotations()[pipeline.AnnotationModel]; got != "127.0.0.1:5055/models/clf:{{workflow.name}}" {
		t.Errorf("model annotation = %q", got)
	}
	workers, _, _ := unstructured.NestedFieldNoCopy(job.Object, "spec", "pytorchReplicaSpecs", "Worker", "replicas")
	if workers != float64(2) {
		t.Errorf("Worker replicas = %d, want 2 (3 workers: a master and 2)", workers)
	}
	cs, _, _ := unstructured.NestedSlice(job.Object, "spec", "pytorchReplicaSpecs", "Master", "template", "spec", "containers")
	c := cs[0].(map[string]any)
	cmd := strings.Join(str(t, c, "command"), " ")
	for _, want := range []string{
		"/usr/local/bin/fair-step run --repo 127.0.0.1:5055/fair-artifacts --run {{workflow.name}} --step fit",
		"--in data={{inputs.parameters.data}} -- /usr/local/bin/fair-step train --repo 127.0.0.1:5055/models/clf --tag {{workflow.name}} --insecure -- /ko-app/fit",
	} {
		if !strings.Contains(cmd, want) {
			t.Errorf("command %q lacks %q", cmd, want)
		}
	}
	if gpu, _, _ := unstructured.NestedString(c, "resources", "limits", "nvidia.com/gpu"); gpu != "1" {
		t.Errorf("GPU limit = %q", gpu)
	}
	podLabels, _, _ := unstructured.NestedStringMap(job.Object, "spec", "pytorchReplicaSpecs", "Worker", "template", "metadata", "labels")
	if podLabels[pipeline.LabelRun] != "{{workflow.name}}" || podLabels[pipeline.LabelStep] != "fit" {
		t.Errorf("replica labels = %v", podLabels)
	}

	// The condition parses as Argo parses it and holds once the Training
	// Operator has finished the job, whichever way; the output's filter
	// tells success from failure.
	done := mustSelector(t, res["successCondition"].(string))
	for _, tc := range []struct {
		status string
		done   bool
	}{
		{`{"replicaStatuses":{"Master":{"active":1},"Worker":{"active":2}}}`, false},
		{`{"completionTime":"2026-11-30T22:02:24Z","replicaStatuses":{"Master":{"succeeded":1}}}`, true},
		{`{"completionTime":"2026-11-30T22:02:24Z","conditions":[{"type":"Failed","status":"True"}]}`, true},
	} {
		if got := matchesAll(done, newStatus(t, tc.status)); got != tc.done {
			t.Errorf("done on %s = %v", tc.status, got)
		}
	}
	if _, ok := res["failureCondition"]; ok {
		t.Errorf("failureCondition %v: a failed job must reach the output filter, which reports its reason", res["failureCondition"])
	}
	filter := fit["outputs"].(map[string]any)["parameters"].([]any)[0].(map[string]any)["valueFrom"].(map[string]any)["jqFilter"].(string)
	for _, want := range []string{`.type == "Succeeded"`, `.metadata.annotations["fair.dev/model"]`, `error("the pytorchjob failed: "`} {
		if !strings.Contains(filter, want) {
			t.Errorf("model filter %q lacks %q", filter, want)
		}
	}

	api := template(t, wf, "api")
	res = api["resource"].(map[string]any)
	if res["action"] != "apply" || res["setOwnerReference"] != nil {
		t.Errorf("api resource (an endpoint outlives its run) = %v", res)
	}
	var dep unstructured.Unstructured
	if err := json.Unmarshal([]byte(res["manifest"].(string)), &dep.Object); err != nil {
		t.Fatal(err)
	}
	if dep.GetKind() != "Deployment" || dep.GetName() != "clf-api" {
		t.Errorf("endpoint = %s %s", dep.GetKind(), dep.GetName())
	}
	inits, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "initContainers")
	init := inits[0].(map[string]any)
	if got := strings.Join(append(str(t, init, "command"), str(t, init, "args")...), " "); got != "/usr/local/bin/fair-step pull --insecure {{inputs.parameters.model}} /mnt/models" {
		t.Errorf("model pull = %q", got)
	}
	out := api["outputs"].(map[string]any)["parameters"].([]any)[0].(map[string]any)
	if out["name"] != "url" || !strings.Contains(out["valueFrom"].(map[string]any)["jqFilter"].(string), "http://clf-api.ml.svc.cluster.local:9000") {
		t.Errorf("url output = %v", out)
	}
	for _, tc := range []struct {
		status string
		ready  bool
	}{
		{`{"replicas":1,"updatedReplicas":1,"readyReplicas":1,"availableReplicas":1}`, true},
		{`{"replicas":2,"updatedReplicas":1,"readyReplicas":1,"unavailableReplicas":1}`, false},
		{`{"replicas":1,"updatedReplicas":1,"unavailableReplicas":1}`, false},
	} {
		if got := matchesAll(mustSelector(t, res["successCondition"].(string)), newStatus(t, tc.status)); got != tc.ready {
			t.Errorf("ready on %s = %v", tc.status, got)
		}
	}

	// Beside the Workflow: the runner account, its Role and binding, and
	// the endpoint's Service.
	objs, err := p.Objects(imgs, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, u := range objs {
		kinds = append(kinds, u.GetKind()+"/"+u.GetName())
	}
	if got := strings.Join(kinds, " "); got != "ServiceAccount/fair-pipeline-runner Role/fair-pipeline-runner RoleBinding/fair-pipeline-runner Service/clf-api" {
		t.Errorf("objects = %s", got)
	}
	named := testOpts
	named.ServiceAccount = "ml-runner"
	if objs, _ := p.Objects(imgs, named); len(objs) != 1 {
		t.Errorf("with a ServiceAccount configured, fair makes no account: %d objects", len(objs))
	}
}

func TestTrainServeRefusals(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"serving kind as training", "- name: t\n  source: fair://./t\n  kind: deployment\n", "kind deployment cannot run as a pipeline step"},
		{"unknown kind", "- name: t\n  source: fair://./t\n  kind: sparkjob\n", "sparkjob"},
		{"outputs on training", "- name: t\n  source: fair://./t\n  kind: pytorchjob\n  outputs: [x]\n", "only output is its model"},
		{"workers without kind", "- name: t\n  source: fair://./t\n  workers: 2\n", "need a training kind"},
		{"serve without model", "- name: s\n  source: fair://./s\n  serve: {kind: deployment}\n", "serve: needs model"},
		{"serve a missing output", "- name: s\n  source: fair://./s\n  serve: {model: t.model}\n", "unknown step"},
		{"serve with inputs", "- name: a\n  source: fair://./a\n  outputs: [m]\n- name: s\n  source: fair://./s\n  inputs: {x: a.m}\n  serve: {model: a.m}\n", "takes only serve.model"},
		{"serve kind", "- name: a\n  source: fair://./a\n  outputs: [m]\n- name: s\n  source: fair://./s\n  serve: {model: a.m, kind: pytorchjob}\n", "serve kind pytorchjob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pipeline.Parse([]byte("name: x\nsteps:\n"+tc.yaml), "/src")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	p, imgs := trainServe(t)
	if _, err := pipeline.KFP(p, imgs, testOpts); err == nil || !strings.Contains(err.Error(), "cannot create a training job") {
		t.Errorf("KFP: %v", err)
	}
}

func mustSelector(t *testing.T, s string) labels.Requirements {
	t.Helper()
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatalf("condition %q: %v", s, err)
	}
	reqs, _ := sel.Requirements()
	return reqs
}

// gjsonStatus answers label lookups by dotted path into {"status": ...},
// as Argo's executor does with gjson.
type gjsonStatus map[string]string

func newStatus(t *testing.T, status string) gjsonStatus {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(`{"status":`+status+`}`), &v); err != nil {
		t.Fatal(err)
	}
	out := gjsonStatus{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, c)
			}
		default:
			b, _ := json.Marshal(x)
			out[prefix] = strings.Trim(string(b), `"`)
		}
	}
	walk("", v)
	return out
}

func (g gjsonStatus) Has(k string) bool              { _, ok := g[k]; return ok }
func (g gjsonStatus) Get(k string) string            { return g[k] }
func (g gjsonStatus) Lookup(k string) (string, bool) { v, ok := g[k]; return v, ok }

func matchesAll(reqs labels.Requirements, l labels.Labels) bool {
	for _, r := range reqs {
		if !r.Matches(l) {
			return false
		}
	}
	return true
}

// Finished runs are cleaned up: pods after an hour, the Workflow after
// the configured TTL (a week by default).
func TestArgoHousekeeping(t *testing.T) {
	p, imgs := trainServe(t)
	for _, tc := range []struct {
		ttl  time.Duration
		want int64
	}{{0, 7 * 24 * 3600}, {90 * time.Minute, 5400}} {
		o := testOpts
		o.TTL = tc.ttl
		wf, err := pipeline.Argo(p, imgs, o)
		if err != nil {
			t.Fatal(err)
		}
		if got, _, _ := unstructured.NestedFieldNoCopy(wf.Object, "spec", "ttlStrategy", "secondsAfterCompletion"); got != float64(tc.want) {
			t.Errorf("ttl %s: secondsAfterCompletion = %v, want %d", tc.ttl, got, tc.want)
		}
		gc, _, _ := unstructured.NestedStringMap(wf.Object, "spec", "podGC")
		if gc["strategy"] != "OnWorkflowCompletion" || gc["deleteDelayDuration"] != "1h" {
			t.Errorf("podGC = %v", gc)
		}
	}
}
