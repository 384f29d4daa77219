package pipeline

import (
	"cmp"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/podruntime"
)

// Where the step runtime lives in every step image, and where it keeps a
// step's files.
const (
	RuntimePath = podruntime.Path
	// DataDir is under /tmp, writable in nearly every image whatever user
	// it runs as; on Argo it is also an emptyDir volume.
	DataDir = "/tmp/fair"
)

// Options say how a compiled pipeline reaches its artifacts and cluster.
type Options struct {
	// ArtifactRepo is the repository step outputs are pushed to, e.g.
	// registry.example.com/team/fair-artifacts.
	ArtifactRepo string
	// Insecure reaches the artifact registry over plain HTTP.
	Insecure bool
	// Namespace of the Workflow (Argo).
	Namespace string
	// Name of the Workflow; empty uses generateName "PIPELINE-".
	Name string
	// ServiceAccount the step pods run as.
	ServiceAccount string
	// ImagePullSecrets for the step images.
	ImagePullSecrets []string
	// RegistrySecret (kubernetes.io/dockerconfigjson) is the Docker config
	// of the step runtime, which pushes and pulls the step data, and pulls
	// the step images too.
	RegistrySecret string
	// HostNetwork runs the step pods in the node's network, for clusters
	// whose registry listens on the node's loopback only (local test beds).
	HostNetwork bool
	// TTL is how long a finished run's Workflow is kept (Argo's
	// ttlStrategy); 0 is DefaultTTL.
	TTL time.Duration
	// ModelRegistry is where training steps save their models
	// (REGISTRY/models/NAME); default: the artifact repository's parent.
	ModelRegistry string
}

// Housekeeping of finished runs, so a busy namespace does not fill with
// finished Workflows and pods.
const (
	// DefaultTTL keeps a finished Workflow (its status, outputs and
	// training jobs) for a week.
	DefaultTTL = 7 * 24 * time.Hour
	// PodGCDelay keeps a finished run's pods, and so the steps' logs
	// (fair pipeline logs), for an hour.
	PodGCDelay = "1h"
)

func (o Options) modelRegistry() string {
	if o.ModelRegistry != "" {
		return o.ModelRegistry
	}
	return path.Dir(o.ArtifactRepo)
}

// Labels on the Workflow and its pods.
const (
	LabelPipeline = "fair.dev/pipeline"
	LabelStep     = "fair.dev/step"
)

// stepArgs is the step runtime's command line for s: pull inputs, run the
// program, push outputs. in and out give the placeholder text of an input's
// value and the file a parameter output is written to, which differ between
// Argo and KFP.
func stepArgs(p *Pipeline, s *Step, img Built, o Options, run string, in func(Input) string, out func(Output) string) []string {
	args := []string{RuntimePath, "run", "--repo", o.ArtifactRepo, "--run", run, "--step", s.Name, "--dir", DataDir}
	if o.Insecure {
		args = append(args, "--insecure")
	}
	for _, i := range s.Inputs {
		flag := "--in"
		if p.fromValue(i) {
			flag = "--in-value"
		}
		args = append(args, flag, i.Name+"="+in(i))
	}
	for _, op := range s.Outputs {
		flag := "--out"
		if op.Value {
			flag = "--out-value"
		}
		args = append(args, flag, op.Name+"="+out(op))
	}
	args = append(args, "--")
	args = append(args, img.Command...)
	return append(args, s.Args...)
}

// podParts maps a step's resources onto a container's resources and the
// pod's node selector and tolerations, the same way training jobs get them.
func podParts(s *Step, image string) (resources map[string]any, pod map[string]any) {
	w := &deployer.Workload{
		Kind:         deployer.KindJob,
		Image:        image,
		GPUs:         s.Resources.GPUs,
		GPUResource:  s.Resources.GPUResource,
		CPU:          s.Resources.CPU,
		Memory:       s.Resources.Memory,
		NodeSelector: s.Resources.NodeSelector,
		Tolerations:  s.Resources.Tolerations,
	}
	w.Defaults()
	v := w.Values()
	resources, _ = v["Resources"].(map[string]any)
	pod, _ = v["Pod"].(map[string]any)
	return resources, pod
}

// stepEnv is a step's parameters as environment variables, by name.
func stepEnv(s *Step) []deployer.EnvVar {
	keys := make([]string, 0, len(s.Params))
	for k := range s.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []deployer.EnvVar
	for _, k := range keys {
		out = append(out, deployer.EnvVar{Name: k, Value: s.Params[k]})
	}
	return out
}

// env is stepEnv in a container's env shape.
func env(s *Step) []any {
	var out []any
	for _, e := range stepEnv(s) {
		out = append(out, map[string]any{"name": e.Name, "value": e.Value})
	}
	return out
}

// Argo compiles p into an argoproj.io/v1alpha1 Workflow with one DAG task
// per step. images holds each step's image (from Build).
func Argo(p *Pipeline, images map[string]Built, o Options) (*unstructured.Unstructured, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if o.ArtifactRepo == "" {
		return nil, fmt.Errorf("pipeline %s: no artifact repository: set a registry (FAIR_REGISTRY or --registry)", p.Name)
	}
	labels := map[string]any{deployer.LabelManagedBy: deployer.ManagedBy, LabelPipeline: p.Name}
	var tasks, templates []any
	for _, s := range p.Order() {
		img, ok := images[s.Name]
		if !ok || img.Ref == "" {
			return nil, fmt.Errorf("step %s has no image", s.Name)
		}
		if len(img.Command) == 0 {
			return nil, fmt.Errorf("step %s: image %s has no entrypoint or command; give the step a command", s.Name, img.Ref)
		}
		task := map[string]any{"name": s.Name, "template": s.Name}
		if deps := p.Deps(s); len(deps) > 0 {
			task["dependencies"] = toAny(deps)
		}
		var taskParams, inParams []any
		for _, in := range s.Inputs {
			from, out, _ := cut(in.From)
			taskParams = append(taskParams, map[string]any{"name": in.Name, "value": fmt.Sprintf("{{tasks.%s.outputs.parameters.%s}}", from, out)})
			inParams = append(inParams, map[string]any{"name": in.Name})
		}
		if taskParams != nil {
			task["arguments"] = map[string]any{"parameters": taskParams}
		}
		tasks = append(tasks, task)

		t, err := p.template(s, img, o)
		if err != nil {
			return nil, fmt.Errorf("step %s: %v", s.Name, err)
		}
		t["name"] = s.Name
		t["metadata"] = map[string]any{"labels": map[string]any{deployer.LabelManagedBy: deployer.ManagedBy, LabelPipeline: p.Name, LabelStep: s.Name}}
		if inParams != nil {
			t["inputs"] = map[string]any{"parameters": inParams}
		}
		templates = append(templates, t)
	}
	main := map[string]any{"name": "main", "dag": map[string]any{"tasks": tasks}}
	spec := map[string]any{
		"entrypoint":  "main",
		"podGC":       map[string]any{"strategy": "OnWorkflowCompletion", "deleteDelayDuration": PodGCDelay},
		"ttlStrategy": map[string]any{"secondsAfterCompletion": int64(cmp.Or(o.TTL, DefaultTTL) / time.Second)},
		"templates":   append([]any{main}, templates...),
		"podMetadata": map[string]any{"labels": map[string]any{
			deployer.LabelManagedBy: deployer.ManagedBy, LabelPipeline: p.Name,
		}},
	}
	if o.ServiceAccount != "" {
		spec["serviceAccountName"] = o.ServiceAccount
	} else if p.HasResources() {
		spec["serviceAccountName"] = RunnerAccount
	}
	if o.HostNetwork {
		spec["hostNetwork"] = true
	}
	pulls := o.ImagePullSecrets
	if o.RegistrySecret != "" && !slices.Contains(pulls, o.RegistrySecret) {
		pulls = append(append([]string(nil), pulls...), o.RegistrySecret)
	}
	if len(pulls) > 0 {
		var ps []any
		for _, n := range pulls {
			ps = append(ps, map[string]any{"name": n})
		}
		spec["imagePullSecrets"] = ps
	}
	meta := map[string]any{"labels": labels}
	if o.Name != "" {
		meta["name"] = o.Name
	} else {
		meta["generateName"] = p.Name + "-"
	}
	if o.Namespace != "" {
		meta["namespace"] = o.Namespace
	}
	obj, err := jsonObject(map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Workflow",
		"metadata":   meta,
		"spec":       spec,
	})
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: obj}, nil
}

// template is the Argo template of step s, without its name, labels and
// inputs: a container, or a resource for training and serving steps.
func (p *Pipeline) template(s *Step, img Built, o Options) (map[string]any, error) {
	switch {
	case s.Train != nil:
		return p.trainingTemplate(s, img, o)
	case s.Serve != nil:
		t, _, err := p.servingTemplate(s, img, o)
		return t, err
	}
	args := stepArgs(p, s, img, o, "{{workflow.name}}",
		func(i Input) string { return fmt.Sprintf("{{inputs.parameters.%s}}", i.Name) },
		func(op Output) string { return paramFile(op) })
	c := map[string]any{"image": img.Ref, "command": toAny(args[:1]), "args": toAny(args[1:])}
	if img.Workdir != "" {
		c["workingDir"] = img.Workdir
	}
	e := env(s)
	mounts := []any{map[string]any{"name": "fair-data", "mountPath": DataDir}}
	vols := []any{map[string]any{"name": "fair-data", "emptyDir": map[string]any{}}}
	if o.RegistrySecret != "" {
		e = append(e, map[string]any{"name": "DOCKER_CONFIG", "value": deployer.RegistryAuthDir})
		mounts = append(mounts, map[string]any{"name": "fair-registry-auth", "mountPath": deployer.RegistryAuthDir, "readOnly": true})
		vols = append(vols, map[string]any{"name": "fair-registry-auth", "secret": map[string]any{
			"secretName": o.RegistrySecret,
			"items":      []any{map[string]any{"key": ".dockerconfigjson", "path": "config.json"}},
		}})
	}
	if e != nil {
		c["env"] = e
	}
	res, pod := podParts(s, img.Ref)
	if len(res) > 0 {
		c["resources"] = res
	}
	c["volumeMounts"] = mounts
	t := map[string]any{
		"container": c,
		"volumes":   vols,
	}
	var outParams []any
	for _, op := range s.Outputs {
		outParams = append(outParams, map[string]any{"name": op.Name, "valueFrom": map[string]any{"path": paramFile(op)}})
	}
	if outParams != nil {
		t["outputs"] = map[string]any{"parameters": outParams}
	}
	for _, k := range []string{"nodeSelector", "tolerations"} {
		if v, ok := pod[k]; ok {
			t[k] = v
		}
	}
	return t, nil
}

// jsonObject turns nested Go maps and slices of any type into the plain
// JSON shapes unstructured objects are made of.
func jsonObject(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	err = json.Unmarshal(b, &out)
	return out, err
}

// fromValue reports whether input i is fed by a value output.
func (p *Pipeline) fromValue(i Input) bool {
	from, out, _ := cut(i.From)
	if s := p.Step(from); s != nil {
		o, _ := s.output(out)
		return o.Value
	}
	return false
}

// paramFile is where the runtime writes an output's parameter: an
// artifact's reference by digest, or a value itself.
func paramFile(op Output) string { return DataDir + "/params/" + op.Name }

func cut(from string) (step, output string, ok bool) {
	for i := 0; i < len(from); i++ {
		if from[i] == '.' {
			return from[:i], from[i+1:], true
		}
	}
	return from, "", false
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
