package pipeline

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/models"
)

// Training and serving steps are Argo resource templates: the workflow
// engine creates the job (or endpoint) and waits for its success
// condition, so a run needs nothing but Argo and the operators.

// LabelRun marks the pods of a run's training jobs, which Argo does not
// label, so that fair follows their logs with the steps'.
const LabelRun = "fair.dev/pipeline-run"

// AnnotationModel on a training step's job is the model it saves; the
// step's output "model" reads it.
const AnnotationModel = "fair.dev/model"

// Placeholders rendered into manifests and replaced by Argo variables:
// the deployer validates names and references, which Argo fills in later.
const (
	runPlaceholder   = "fair-pipeline-run-placeholder"
	nsPlaceholder    = "fair-namespace-placeholder"
	modelPlaceholder = "fair-model-placeholder.invalid/model:placeholder"
)

// doneCondition says, in Argo's resource condition syntax (gjson paths,
// label-selector operators), when a training kind's job has finished. The
// Training Operator sets completionTime on success and on failure, and
// keeps which one in its conditions, which that syntax cannot query (and
// it may drop the replicas' counts of a failed job): the output's jq
// filter tells the two apart and fails the step with the job's reason.
var doneCondition = map[deployer.Kind]string{
	deployer.KindPyTorchJob: "status.completionTime",
}

// modelFilter reads the model's reference from a job that succeeded, and
// fails with the job's own message otherwise.
func modelFilter(kind deployer.Kind) string {
	return fmt.Sprintf(`if any(.status.conditions[]?; .type == "Succeeded" and .status == "True") `+
		`then .metadata.annotations[%q] `+
		`else error("the %s failed: " + ([.status.conditions[]? | select(.type == "Failed") | .message] | first // "it did not succeed") + "; its logs: fair logs " + .metadata.name) end`,
		AnnotationModel, kind)
}

// ModelName is the name a training step saves its model under.
func (p *Pipeline) ModelName(s *Step) string {
	if s.Train != nil && s.Train.Model != "" {
		return s.Train.Model
	}
	return deployer.DNSLabel(p.Name+"-"+s.Name, "model")
}

// EndpointName is the name of a serving step's endpoint.
func (p *Pipeline) EndpointName(s *Step) string {
	if s.Serve != nil && s.Serve.Name != "" {
		return s.Serve.Name
	}
	return deployer.DNSLabel(p.Name+"-"+s.Name, "endpoint")
}

// HasResources reports whether p has training or serving steps, which
// need a ServiceAccount allowed to create them.
func (p *Pipeline) HasResources() bool {
	for _, s := range p.Steps {
		if s.Train != nil || s.Serve != nil {
			return true
		}
	}
	return false
}

// trainingTemplate is the resource template of training step s: a job of
// its kind whose replicas run the program under fair-step train (after
// fair-step run pulled its inputs, if any).
func (p *Pipeline) trainingTemplate(s *Step, img Built, o Options) (map[string]any, error) {
	const run = "{{workflow.name}}"
	repo := models.Repo(o.modelRegistry(), p.ModelName(s))
	train := []string{RuntimePath, "train", "--repo", repo, "--tag", run}
	if o.Insecure {
		train = append(train, "--insecure")
	}
	train = append(train, "--")
	inner := img
	inner.Command = append(train, img.Command...)
	args := append(append([]string(nil), inner.Command...), s.Args...)
	if len(s.Inputs) > 0 {
		pulls := *s
		pulls.Outputs = nil
		args = stepArgs(p, &pulls, inner, o, run,
			func(i Input) string { return fmt.Sprintf("{{inputs.parameters.%s}}", i.Name) }, nil)
	}
	w := &deployer.Workload{
		Kind:             s.Train.Kind,
		Name:             runPlaceholder + "-" + s.Name,
		Namespace:        cmp.Or(o.Namespace, nsPlaceholder),
		Image:            img.Ref,
		Command:          args,
		GPUs:             s.Resources.GPUs,
		GPUResource:      s.Resources.GPUResource,
		CPU:              s.Resources.CPU,
		Memory:           s.Resources.Memory,
		Workers:          s.Train.Workers,
		NodeSelector:     s.Resources.NodeSelector,
		Tolerations:      s.Resources.Tolerations,
		Env:              append(stepEnv(s), deployer.EnvVar{Name: "FAIR_RUN", Value: runPlaceholder}, deployer.EnvVar{Name: "FAIR_IMAGE", Value: img.Ref}),
		ImagePullSecrets: o.ImagePullSecrets,
		RegistrySecret:   o.RegistrySecret,
		Labels:           map[string]string{LabelPipeline: p.Name, LabelStep: s.Name, LabelRun: runPlaceholder},
	}
	job, _, err := renderOne(w, map[string]string{AnnotationModel: repo + ":" + runPlaceholder})
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"resource": map[string]any{
			"action":            "create",
			"setOwnerReference": true, // deleting the run deletes its jobs
			"manifest":          job,
			"successCondition":  doneCondition[s.Train.Kind],
		},
		"outputs": map[string]any{"parameters": []any{map[string]any{
			"name":      ModelOutput,
			"valueFrom": map[string]any{"jqFilter": modelFilter(s.Train.Kind)},
		}}},
	}, nil
}

// servingTemplate is the resource template of serving step s: the
// endpoint's main object (Deployment or InferenceService), applied so a
// rerun updates it, and waited for until it serves. The objects that do
// not change between runs (a Deployment's Service) are returned apart, to
// be applied with the Workflow.
func (p *Pipeline) servingTemplate(s *Step, img Built, o Options) (map[string]any, []*unstructured.Unstructured, error) {
	v := s.Serve
	port := v.Port
	if port == 0 {
		port = 8080
	}
	name := p.EndpointName(s)
	w := &deployer.Workload{
		Kind:             v.Kind,
		Name:             name,
		Namespace:        cmp.Or(o.Namespace, nsPlaceholder),
		Image:            img.Ref,
		Command:          append(append([]string(nil), img.Command...), s.Args...),
		CPU:              s.Resources.CPU,
		Memory:           s.Resources.Memory,
		Replicas:         1,
		Port:             port,
		NodeSelector:     s.Resources.NodeSelector,
		Tolerations:      s.Resources.Tolerations,
		Env:              append(stepEnv(s), deployer.EnvVar{Name: "FAIR_RUN", Value: runPlaceholder}, deployer.EnvVar{Name: "FAIR_MODEL", Value: modelPlaceholder}),
		ModelPull:        &deployer.ModelPull{Ref: modelPlaceholder, Image: img.Ref, Command: []string{RuntimePath}, Insecure: o.Insecure},
		ImagePullSecrets: o.ImagePullSecrets,
		RegistrySecret:   o.RegistrySecret,
		Labels:           map[string]string{LabelPipeline: p.Name, LabelStep: s.Name},
	}
	main, rest, err := renderOne(w, nil)
	if err != nil {
		return nil, nil, err
	}
	// A Deployment is ready when every replica runs the new template; the
	// model's tag changes with each run, so each run rolls it out.
	success := "status.readyReplicas > 0,status.updatedReplicas == 1,!status.unavailableReplicas"
	failure := ""
	url := fmt.Sprintf("http://%s.%s.svc.cluster.local:%d", name, namespaceOr(o.Namespace), port)
	if v.Kind == deployer.KindKServe {
		success = "status.modelStatus.transitionStatus == UpToDate,status.modelStatus.states.activeModelState == Loaded"
		failure = "status.modelStatus.transitionStatus in (BlockedByFailedLoad,InvalidSpec)"
	}
	res := map[string]any{
		"action":           "apply",
		"manifest":         main,
		"successCondition": success,
	}
	if failure != "" {
		res["failureCondition"] = failure
	}
	outputs := map[string]any{"name": URLOutput, "valueFrom": map[string]any{"jqFilter": fmt.Sprintf("%q", url)}}
	if v.Kind == deployer.KindKServe {
		outputs["valueFrom"] = map[string]any{"jqFilter": ".status.url"}
	}
	return map[string]any{
		"resource": res,
		"outputs":  map[string]any{"parameters": []any{outputs}},
	}, rest, nil
}

func namespaceOr(ns string) string {
	if ns == "" {
		return "{{workflow.namespace}}"
	}
	return ns
}

// renderOne renders w and returns its main object (the one of w's kind)
// as the JSON manifest Argo creates, placeholders replaced by Argo
// variables, and the other objects as they are.
func renderOne(w *deployer.Workload, annotations map[string]string) (string, []*unstructured.Unstructured, error) {
	objs, err := deployer.Render(w)
	if err != nil {
		return "", nil, err
	}
	var main *unstructured.Unstructured
	var rest []*unstructured.Unstructured
	for _, u := range objs {
		if main == nil && deployer.IsKind(u, w.Kind) {
			main = u
			continue
		}
		if u.GetNamespace() == nsPlaceholder {
			u.SetNamespace("") // applied where the Workflow goes
		}
		rest = append(rest, u)
	}
	if main == nil {
		return "", nil, fmt.Errorf("kind %s rendered no %s object", w.Kind, w.Kind)
	}
	if len(annotations) > 0 {
		a := main.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		for k, v := range annotations {
			a[k] = v
		}
		main.SetAnnotations(a)
	}
	b, err := json.Marshal(main.Object)
	if err != nil {
		return "", nil, err
	}
	m := strings.NewReplacer(runPlaceholder, "{{workflow.name}}", nsPlaceholder, "{{workflow.namespace}}",
		modelPlaceholder, "{{inputs.parameters."+ModelOutput+"}}").Replace(string(b))
	return m, rest, nil
}

// RunnerAccount is the ServiceAccount fair makes for runs with training
// or serving steps when the configuration names none: the workflow
// engine creates their jobs and endpoints as the step pods' account.
const RunnerAccount = "fair-pipeline-runner"

// runnerRules are what a resource step's pod does: Argo's executor (report
// results, watch its own pod) and create, watch and update the jobs and
// endpoints of the kinds pipelines use.
var runnerRules = []any{
	rule("argoproj.io", []string{"workflowtaskresults"}, "create", "patch"),
	rule("", []string{"pods"}, "get", "watch", "patch"),
	rule("", []string{"pods/log"}, "get", "watch"),
	rule("kubeflow.org", []string{"pytorchjobs"}, "create", "get", "list", "watch", "patch", "delete"),
	rule("apps", []string{"deployments"}, "create", "get", "list", "watch", "patch", "update"),
	rule("serving.kserve.io", []string{"inferenceservices"}, "create", "get", "list", "watch", "patch", "update"),
}

func rule(group string, resources []string, verbs ...string) map[string]any {
	return map[string]any{"apiGroups": []any{group}, "resources": toAny(resources), "verbs": toAny(verbs)}
}

// Objects are what a run of p needs beside its Workflow, applied with it:
// for training and serving steps, the runner ServiceAccount with its Role
// (unless o names an account) and the endpoints' Services.
func (p *Pipeline) Objects(images map[string]Built, o Options) ([]*unstructured.Unstructured, error) {
	if !p.HasResources() {
		return nil, nil
	}
	var out []*unstructured.Unstructured
	if o.ServiceAccount == "" {
		meta := func() map[string]any {
			m := map[string]any{"name": RunnerAccount, "labels": map[string]any{deployer.LabelManagedBy: deployer.ManagedBy}}
			if o.Namespace != "" {
				m["namespace"] = o.Namespace
			}
			return m
		}
		for _, obj := range []map[string]any{
			{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta()},
			{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(), "rules": runnerRules},
			{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(),
				"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": RunnerAccount},
				"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": RunnerAccount, "namespace": cmp.Or(o.Namespace, "default")}}},
		} {
			u, err := jsonObject(obj)
			if err != nil {
				return nil, err
			}
			out = append(out, &unstructured.Unstructured{Object: u})
		}
	}
	for _, s := range p.Steps {
		if s.Serve == nil {
			continue
		}
		img, ok := images[s.Name]
		if !ok {
			return nil, fmt.Errorf("step %s has no image", s.Name)
		}
		_, rest, err := p.servingTemplate(s, img, o)
		if err != nil {
			return nil, fmt.Errorf("step %s: %v", s.Name, err)
		}
		out = append(out, rest...)
	}
	return out, nil
}
