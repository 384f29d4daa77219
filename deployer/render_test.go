package deployer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fair-go/fair/config"
)

func render(t *testing.T, w *Workload, opts ...RenderOption) []*unstructured.Unstructured {
	t.Helper()
	objs, err := Render(w, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func nested(t *testing.T, u *unstructured.Unstructured, path ...string) any {
	t.Helper()
	v, found, err := unstructured.NestedFieldNoCopy(u.Object, path...)
	if err != nil || !found {
		t.Fatalf("%s: no %s", u.GetKind(), strings.Join(path, "."))
	}
	return v
}

func TestRenderEveryKind(t *testing.T) {
	for _, k := range Kinds {
		t.Run(string(k), func(t *testing.T) {
			w := &Workload{Kind: k, Name: "r1", Namespace: "ns", Image: "reg/img@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", GPUs: 2}
			if k.Training() && k != KindJob {
				w.Workers = 3
			}
			objs := render(t, w)
			want := kindTable[k].gvk
			if got := objs[0].GroupVersionKind(); got != want {
				t.Fatalf("first object is %v, want %v", got, want)
			}
			for _, u := range objs {
				l := u.GetLabels()
				if l[LabelManagedBy] != "fair" || l[LabelRun] != "r1" || u.GetNamespace() != "ns" {
					t.Errorf("%s: labels %v namespace %q", u.GetKind(), l, u.GetNamespace())
				}
				comp := "training"
				if !k.Training() {
					comp = "serving"
				}
				if l["app.kubernetes.io/name"] != "r1" || l["app.kubernetes.io/instance"] != "r1" || l["app.kubernetes.io/component"] != comp ||
					l["app.kubernetes.io/version"] != "sha256-aaaaaaaaaaaa" {
					t.Errorf("%s: recommended labels %v", u.GetKind(), l)
				}
			}
			if got := wantReplicas(k, objs[0]); k.Training() && k != KindJob && got != 3 {
				t.Errorf("replicas = %d, want 3", got)
			}
			if k == KindDeployment && (len(objs) != 2 || objs[1].GetKind() != "Service") {
				t.Errorf("deployment renders %d objects, want a Deployment and a Service", len(objs))
			}
		})
	}
}

func TestRenderGPUs(t *testing.T) {
	objs := render(t, &Workload{Kind: KindJob, Name: "g", Image: "i", GPUs: 1, GPUResource: "amd.com/gpu", CPU: "2", Memory: "1Gi",
		Tolerations: []Toleration{{Key: "dedicated", Operator: "Equal", Value: "ml", Effect: "NoSchedule"}}, NodeSelector: map[string]string{"gpu": "a100"}})
	c := nested(t, objs[0], "spec", "template", "spec", "containers").([]any)[0].(map[string]any)
	res := c["resources"].(map[string]any)
	lim, req := res["limits"].(map[string]any), res["requests"].(map[string]any)
	if lim["amd.com/gpu"] != "1" || req["amd.com/gpu"] != "1" || req["cpu"] != "2" || lim["memory"] != "1Gi" {
		t.Errorf("resources = %v", res)
	}
	tols := nested(t, objs[0], "spec", "template", "spec", "tolerations").([]any)
	if len(tols) != 2 || tols[1].(map[string]any)["key"] != "amd.com/gpu" || tols[1].(map[string]any)["effect"] != "NoSchedule" {
		t.Errorf("tolerations = %v", tols)
	}
	if ns := nested(t, objs[0], "spec", "template", "spec", "nodeSelector").(map[string]any); ns["gpu"] != "a100" {
		t.Errorf("nodeSelector = %v", ns)
	}
	if objs[0].GetAnnotations()[AnnotationGPUs] != "1" {
		t.Errorf("annotations = %v", objs[0].GetAnnotations())
	}
}

func TestRenderTFJobPSHasNoGPU(t *testing.T) {
	objs := render(t, &Workload{Kind: KindTFJob, Name: "tf", Image: "i", GPUs: 1, Workers: 2, PS: 1})
	specs := nested(t, objs[0], "spec", "tfReplicaSpecs").(map[string]any)
	for role, want := range map[string]bool{"Chief": true, "Worker": true, "PS": false} {
		rs := specs[role].(map[string]any)
		c := rs["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
		_, has := c["resources"]
		if has != want {
			t.Errorf("%s: GPU resources present = %v, want %v", role, has, want)
		}
	}
}

func TestRenderPyTorchWorkers(t *testing.T) {
	objs := render(t, &Workload{Kind: KindPyTorchJob, Name: "pt", Image: "i", Workers: 1})
	specs := nested(t, objs[0], "spec", "pytorchReplicaSpecs").(map[string]any)
	if _, ok := specs["Worker"]; ok || len(specs) != 1 {
		t.Errorf("one worker should give a lone Master, got %v", specs)
	}
	objs = render(t, &Workload{Kind: KindPyTorchJob, Name: "pt", Image: "i", Workers: 3, TTL: time.Hour, Timeout: 2 * time.Hour, BackoffLimit: 2})
	if n := nested(t, objs[0], "spec", "pytorchReplicaSpecs", "Worker", "replicas"); n != int64(2) {
		t.Errorf("Worker replicas = %v, want 2", n)
	}
	rp := nested(t, objs[0], "spec", "runPolicy").(map[string]any)
	if rp["ttlSecondsAfterFinished"] != int64(3600) || rp["activeDeadlineSeconds"] != int64(7200) || rp["backoffLimit"] != int64(2) {
		t.Errorf("runPolicy = %v", rp)
	}
}

func TestRenderTrainJob(t *testing.T) {
	objs := render(t, &Workload{Kind: KindTrainJob, Name: "tj", Image: "i", GPUs: 4, Workers: 2, Args: []string{"--lr", "0.1"}, Env: []EnvVar{{"A", "1"}}})
	tr := nested(t, objs[0], "spec", "trainer").(map[string]any)
	if tr["numNodes"] != int64(2) || tr["image"] != "i" {
		t.Errorf("trainer = %v", tr)
	}
	if lim := tr["resourcesPerNode"].(map[string]any)["limits"].(map[string]any); lim["nvidia.com/gpu"] != "4" {
		t.Errorf("resourcesPerNode = %v", tr["resourcesPerNode"])
	}
	if nested(t, objs[0], "spec", "runtimeRef", "name") != "torch-distributed" {
		t.Error("default runtime not set")
	}
	// WORLD_SIZE is the node count unless the user set it.
	if env := tr["env"].([]any); len(env) != 2 || env[1].(map[string]any)["name"] != "WORLD_SIZE" || env[1].(map[string]any)["value"] != "2" {
		t.Errorf("env = %v", tr["env"])
	}
	objs = render(t, &Workload{Kind: KindTrainJob, Name: "tj", Image: "i", Workers: 3, Env: []EnvVar{{"WORLD_SIZE", "9"}}})
	if env := nested(t, objs[0], "spec", "trainer", "env").([]any); len(env) != 1 || env[0].(map[string]any)["value"] != "9" {
		t.Errorf("env with the user's WORLD_SIZE = %v", env)
	}
}

func TestRenderServingSetsPort(t *testing.T) {
	objs := render(t, &Workload{Kind: KindKServe, Name: "s", Image: "i", Port: 9000, Replicas: 2})
	c := nested(t, objs[0], "spec", "predictor", "containers").([]any)[0].(map[string]any)
	env := c["env"].([]any)[0].(map[string]any)
	if c["name"] != "kserve-container" || env["name"] != "PORT" || env["value"] != "9000" {
		t.Errorf("container = %v", c)
	}
	if nested(t, objs[0], "spec", "predictor", "minReplicas") != int64(2) {
		t.Error("minReplicas not 2")
	}
}

// Endpoint pods say where Prometheus scrapes them: the serving port's
// /metrics.
func TestRenderServingScrapeAnnotations(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		path []string
	}{
		{KindKServe, []string{"spec", "predictor", "annotations"}},
		{KindDeployment, []string{"spec", "template", "metadata", "annotations"}},
	} {
		objs := render(t, &Workload{Kind: tc.kind, Name: "s", Image: "i", Port: 9000})
		a, _ := nested(t, objs[0], tc.path...).(map[string]any)
		if a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != "9000" || a["prometheus.io/path"] != "/metrics" {
			t.Errorf("%s: annotations = %v", tc.kind, a)
		}
	}
}

func TestRenderRejects(t *testing.T) {
	for name, w := range map[string]*Workload{
		"no image":        {Kind: KindJob, Name: "a"},
		"bad name":        {Kind: KindJob, Name: "Bad_Name", Image: "i"},
		"workers on job":  {Kind: KindJob, Name: "a", Image: "i", Workers: 2},
		"unknown kind":    {Kind: "mpijob", Name: "a", Image: "i"},
		"port out of use": {Kind: KindDeployment, Name: "a", Image: "i", Port: 70000},
	} {
		if _, err := Render(w); err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error spans lines: %q", name, err)
		}
	}
}

func TestTemplateOverride(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, ".fair/templates"), 0o755)
	os.WriteFile(filepath.Join(dir, ".fair/templates/job.yaml"), []byte(`apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Name }}
  annotations: {team: vision}
spec:
  template:
    spec:
      restartPolicy: Never
      priorityClassName: high
      containers:
      - name: fair
        image: {{ .Image }}
`), 0o644)
	objs := render(t, &Workload{Kind: KindJob, Name: "o", Image: "i"}, WithTemplateDir(dir))
	if nested(t, objs[0], "spec", "template", "spec", "priorityClassName") != "high" {
		t.Error("override not used")
	}
	if objs[0].GetLabels()[LabelRun] != "o" || objs[0].GetNamespace() != "default" {
		t.Errorf("override output not labelled: %v", objs[0].GetLabels())
	}
	// A broken override names its file.
	os.WriteFile(filepath.Join(dir, ".fair/templates/job.yaml"), []byte("{{ .Nope }}"), 0o644)
	if _, err := Render(&Workload{Kind: KindJob, Name: "o", Image: "i"}, WithTemplateDir(dir)); err == nil || !strings.Contains(err.Error(), ".fair/templates/job.yaml") {
		t.Errorf("err = %v", err)
	}
}

func TestFromConfig(t *testing.T) {
	cfg := config.Default()
	for k, v := range map[string]string{
		"kind": "PyTorchJob", "gpus": "2", "workers": "4", "env": "A=0,B=x=y,A=1", "nodeSelector": "pool=gpu",
		"tolerations": "spot:NoSchedule", "volumes": "pvc:data:/mnt/data:ro", "labels": "team=ml", "ttl": "1h", "timeout": "30m",
		"envFromSecrets": "creds", "imagePullSecrets": "pull", "serviceAccount": "trainer",
	} {
		if err := cfg.Set(k, v, "test"); err != nil {
			t.Fatal(err)
		}
	}
	w, err := FromConfig(cfg, "img", KindJob)
	if err != nil {
		t.Fatal(err)
	}
	if w.Kind != KindPyTorchJob || w.GPUs != 2 || w.Workers != 4 || w.GPUResource != "nvidia.com/gpu" {
		t.Errorf("workload = %+v", w)
	}
	if len(w.Env) != 2 || w.Env[0] != (EnvVar{"A", "1"}) || w.Env[1] != (EnvVar{"B", "x=y"}) {
		t.Errorf("env = %v", w.Env)
	}
	if w.Tolerations[0] != (Toleration{Key: "spot", Operator: "Exists", Effect: "NoSchedule"}) {
		t.Errorf("tolerations = %v", w.Tolerations)
	}
	if w.Volumes[0] != (Volume{Claim: "data", MountPath: "/mnt/data", ReadOnly: true}) {
		t.Errorf("volumes = %v", w.Volumes)
	}
	if w.TTL != time.Hour || w.Timeout != 30*time.Minute || w.Labels["team"] != "ml" || w.NodeSelector["pool"] != "gpu" {
		t.Errorf("workload = %+v", w)
	}
	for k, v := range map[string]string{"kind": "mpijob", "env": "novalue", "volumes": "nfs:x:/y", "tolerations": "k:Sometimes", "nodeSelector": "x", "name": "Upper"} {
		c := config.Default()
		c.Set(k, v, "test")
		if _, err := FromConfig(c, "img", KindJob); err == nil {
			t.Errorf("%s=%s: no error", k, v)
		}
	}
}

func TestNameFor(t *testing.T) {
	now := time.Unix(0, 123456789)
	for src, prefix := range map[string]string{
		"./cmd/train":                   "train-",
		"reg.io/team/My_Model@sha256:1": "my-model-",
		"localhost:5000/img:v1":         "img-",
		"nb/Train Notebook.ipynb":       "train-notebook-",
		"/":                             "run-",
	} {
		n := NameFor(src, now)
		if !strings.HasPrefix(n, prefix) || checkName(n) != nil {
			t.Errorf("NameFor(%q) = %q, want prefix %q and a valid name", src, n, prefix)
		}
	}
}

func TestResolveBuildsEachRefOnce(t *testing.T) {
	objs, err := DecodeYAML([]byte(`apiVersion: v1
kind: Pod
metadata: {name: a}
spec:
  containers:
  - {name: a, image: "fair://./cmd/a"}
  - {name: b, image: "fair://./cmd/b"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      initContainers: [{name: i, image: "fair://./cmd/a"}]
      containers: [{name: c, image: "busybox", args: ["not fair://x"]}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if refs := Refs(objs); strings.Join(refs, " ") != "fair://./cmd/a fair://./cmd/b" {
		t.Fatalf("Refs = %v", refs)
	}
	calls := map[string]int{}
	err = Resolve(context.Background(), objs, func(_ context.Context, p string) (string, error) {
		calls[p]++
		return "reg/" + strings.TrimPrefix(p, "./cmd/") + "@sha256:1", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls["./cmd/a"] != 1 || calls["./cmd/b"] != 1 || len(calls) != 2 {
		t.Errorf("builds = %v", calls)
	}
	out, _ := EncodeYAML(objs)
	if strings.Contains(string(out), "fair://./") || strings.Count(string(out), "reg/a@sha256:1") != 2 || !strings.Contains(string(out), "not fair://x") {
		t.Errorf("resolved:\n%s", out)
	}
}

func TestDecodeYAMLErrors(t *testing.T) {
	for _, in := range []string{"kind: Pod\n", "apiVersion: v1\nkind: [\n"} {
		if _, err := DecodeYAML([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// Values that reach a manifest cannot add keys or objects to it.
func TestRenderRefusesInjection(t *testing.T) {
	digest := "reg/img@sha256:" + strings.Repeat("a", 64)
	for _, w := range []Workload{
		{Kind: KindJob, Name: "r", Namespace: "ns\nkind: Secret", Image: digest},
		{Kind: KindTrainJob, Name: "r", Namespace: "ns", Runtime: "torch\r\n  extra: key", Image: digest},
		{Kind: KindTrainJob, Name: "r", Namespace: "ns", Image: "img\n    command: [sh]"},
		{Kind: KindJob, Name: "r", Namespace: "ns", Image: "img latest"},
		{Kind: KindJob, Name: "r", Namespace: "ns", Image: digest, Labels: map[string]string{"team": "a\nb"}},
		{Kind: KindJob, Name: "r", Namespace: "ns", Image: digest, GPUResource: "nvidia.com/gpu\n"},
	} {
		if _, err := Render(&w); err == nil {
			t.Errorf("rendered %+v", w)
		}
	}
}

func FuzzRender(f *testing.F) {
	f.Add("ns", "torch-distributed", "reg/img:1", "team", "a")
	f.Add("ns\nkind: Secret", "x\r\ny: z", "img\n  a: b", "k", "v\n")
	f.Fuzz(func(t *testing.T, ns, runtime, image, lk, lv string) {
		for _, k := range []Kind{KindJob, KindTrainJob, KindPyTorchJob, KindKServe, KindDeployment} {
			w := &Workload{Kind: k, Name: "r", Namespace: ns, Runtime: runtime, Image: image, Labels: map[string]string{lk: lv}}
			if k != KindTrainJob {
				w.Runtime = ""
			}
			objs, err := Render(w)
			if err != nil {
				continue
			}
			want := ns
			if want == "" {
				want = "default"
			}
			for _, u := range objs {
				if u.GetNamespace() != want || u.GetName() != "r" && !strings.HasPrefix(u.GetName(), "r-") {
					t.Fatalf("%s: object %s/%s from namespace %q", k, u.GetNamespace(), u.GetName(), ns)
				}
				if u.GetKind() == "Secret" || u.GetKind() == "ConfigMap" {
					t.Fatalf("%s: a %s appeared", k, u.GetKind())
				}
			}
		}
	})
}

// A manifest from elsewhere cannot make fair build a folder outside the
// project: nothing is built when one reference leaves it.
func TestResolveRefusesPathsOutside(t *testing.T) {
	for _, ref := range []string{"fair:///home/me/.ssh", "fair://../other", "fair://./a/../../b", "fair://"} {
		objs, err := DecodeYAML([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - {name: ok, image: \"fair://./cmd/a\"}\n  - {name: b, image: \"" + ref + "\"}\n"))
		if err != nil {
			t.Fatal(err)
		}
		built := 0
		err = Resolve(context.Background(), objs, func(context.Context, string) (string, error) { built++; return "x", nil })
		if err == nil || built != 0 {
			t.Errorf("%s: err %v, %d builds", ref, err, built)
		}
	}
}

// --registry-secret: the Secret is the Docker config of fair's runtime in
// the pod (the program's container and a model's init container) and pulls
// the images.
func TestRenderRegistrySecret(t *testing.T) {
	w := &Workload{Kind: KindDeployment, Name: "s", Image: "i", RegistrySecret: "regcred", ImagePullSecrets: []string{"other"},
		ModelPull: &ModelPull{Ref: "r/models/m@sha256:" + strings.Repeat("a", 64), Image: "rt"}}
	objs := render(t, w)
	spec := nested(t, objs[0], "spec", "template", "spec").(map[string]any)
	if fmt.Sprint(spec["imagePullSecrets"]) != "[map[name:other] map[name:regcred]]" {
		t.Errorf("imagePullSecrets = %v", spec["imagePullSecrets"])
	}
	vols := fmt.Sprint(spec["volumes"])
	if !strings.Contains(vols, "secretName:regcred") || !strings.Contains(vols, "key:.dockerconfigjson path:config.json") {
		t.Errorf("volumes = %s", vols)
	}
	for _, c := range []any{spec["containers"].([]any)[0], spec["initContainers"].([]any)[0]} {
		s := fmt.Sprint(c)
		if !strings.Contains(s, "mountPath:"+RegistryAuthDir) || !strings.Contains(s, "name:DOCKER_CONFIG value:"+RegistryAuthDir) {
			t.Errorf("container %s", s)
		}
	}
	w.RegistrySecret = "bad\nname"
	if _, err := Render(w); err == nil || strings.Contains(err.Error(), "\n") && !strings.Contains(err.Error(), "registry secret") {
		t.Errorf("bad secret name: %v", err)
	}
}

// Endpoints are checked over HTTP on the Open Inference Protocol's health
// paths by default; tcp and a path of the user's are the alternatives, and
// anything else is refused before it reaches a manifest.
func TestRenderServingProbes(t *testing.T) {
	container := func(kind Kind, probe string) map[string]any {
		objs := render(t, &Workload{Kind: kind, Name: "s", Image: "i", Port: 9000, Probe: probe})
		path := []string{"spec", "template", "spec", "containers"}
		if kind == KindKServe {
			path = []string{"spec", "predictor", "containers"}
		}
		cs, _ := nested(t, objs[0], path...).([]any)
		if len(cs) == 0 {
			t.Fatalf("%s: no containers", kind)
		}
		return cs[0].(map[string]any)
	}
	get := func(c map[string]any, path ...string) any {
		v, _, _ := unstructured.NestedFieldNoCopy(c, path...)
		return v
	}
	for _, kind := range []Kind{KindDeployment, KindKServe} {
		c := container(kind, "")
		if get(c, "readinessProbe", "httpGet", "path") != "/v2/health/ready" || get(c, "livenessProbe", "httpGet", "path") != "/v2/health/live" {
			t.Errorf("%s: default probes = %v / %v", kind, c["readinessProbe"], c["livenessProbe"])
		}
		if get(c, "readinessProbe", "httpGet", "port") != int64(9000) {
			t.Errorf("%s: readiness port = %v", kind, get(c, "readinessProbe", "httpGet", "port"))
		}
		c = container(kind, "tcp")
		if get(c, "readinessProbe", "tcpSocket", "port") != int64(9000) || c["livenessProbe"] != nil {
			t.Errorf("%s: tcp probes = %v / %v", kind, c["readinessProbe"], c["livenessProbe"])
		}
		c = container(kind, "/healthz?full=1")
		if get(c, "readinessProbe", "httpGet", "path") != "/healthz?full=1" || get(c, "livenessProbe", "httpGet", "path") != "/healthz?full=1" {
			t.Errorf("%s: path probes = %v / %v", kind, c["readinessProbe"], c["livenessProbe"])
		}
	}
	for _, tc := range []struct{ cpu, mem, want string }{
		{"8X", "", `--cpu "8X": want a Kubernetes quantity`},
		{"", "1Q", `--memory "1Q": want a Kubernetes quantity`},
		{"0", "", `--cpu "0"`},
		{"", "-1Gi", `--memory "-1Gi"`},
		{"", "1Gi\nimage: evil", `--memory`},
	} {
		err := (&Workload{Kind: KindJob, Name: "s", Namespace: "ns", Image: "i", Port: 9000, CPU: tc.cpu, Memory: tc.mem}).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("cpu %q memory %q: err = %v, want %s", tc.cpu, tc.mem, err, tc.want)
		}
	}
	if err := (&Workload{Kind: KindJob, Name: "s", Namespace: "ns", Image: "i", Port: 9000, CPU: "500m", Memory: "1.5Gi"}).Validate(); err != nil {
		t.Errorf("good quantities: %v", err)
	}
	for _, bad := range []string{"http", "healthz", "/a b", "/x\nimage: evil", `/"`} {
		err := (&Workload{Kind: KindDeployment, Name: "s", Namespace: "ns", Image: "i", Port: 9000, Probe: bad}).Validate()
		if err == nil || !strings.Contains(err.Error(), "--probe") {
			t.Errorf("probe %q: err = %v", bad, err)
		}
	}
}

// A model image KServe serves itself (its modelcar): the predictor names
// it as STORAGE_URI and gets no fair init container; other kinds and
// hostile references are refused.
func TestRenderKServeModelImage(t *testing.T) {
	img := "198.18.0.1:5055/modelcars/m@sha256:" + strings.Repeat("b", 64)
	objs := render(t, &Workload{Kind: KindKServe, Name: "s", Image: "i", ModelImage: img})
	pred := nested(t, objs[0], "spec", "predictor").(map[string]any)
	c := fmt.Sprint(pred["containers"])
	if !strings.Contains(c, "name:STORAGE_URI value:oci://"+img) || !strings.Contains(c, "name:FAIR_MODEL_DIR value:/mnt/models") {
		t.Errorf("container = %s", c)
	}
	if _, ok := pred["initContainers"]; ok || strings.Contains(fmt.Sprint(pred), "fair-model") {
		t.Errorf("predictor has fair's model pull: %v", pred)
	}
	for _, w := range []*Workload{
		{Kind: KindDeployment, Name: "s", Image: "i", ModelImage: img},
		{Kind: KindKServe, Name: "s", Image: "i", ModelImage: "x\n  evil: 1"},
	} {
		w.Defaults()
		if err := w.Validate(); err == nil {
			t.Errorf("%s with model image %q: no error", w.Kind, w.ModelImage)
		}
	}
}

func TestOCIModelMode(t *testing.T) {
	for cfg, want := range map[string]string{
		`{"enableModelcar": true, "uidModelcar": 1010}`:             "modelcar",
		`{"enableModelcar": false, "enableOciModelSupport": true}`:  "modelcar",
		`{"enableModelcar": false, "ociModelMode": "modelcar"}`:     "modelcar", // as KServe reads it
		`{"enableOciModelSupport": true, "ociModelMode": "native"}`: "native",
		`{"enableOciModelSupport": true, "ociModelMode": "fetch"}`:  "",
		`{"enableModelcar": false}`:                                 "",
		`{"image": "kserve/storage-initializer:latest"}`:            "",
		`# not JSON`: "",
		``:           "",
	} {
		if got := ociModelMode(cfg); got != want {
			t.Errorf("%s: %q, want %q", cfg, got, want)
		}
	}
}
