package pipeline

import (
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

// KFPSchemaVersion is the PipelineSpec schema fair writes.
const KFPSchemaVersion = "2.1.0"

// KFP compiles p into a Kubeflow Pipelines v2 PipelineSpec (the YAML the
// KFP UI and API accept for upload). Every input and output is a STRING
// parameter: an artifact's reference by digest, or a small value, so the
// data itself goes through the registry as with Argo. Node selectors and
// tolerations have no place in the PipelineSpec and are left out.
func KFP(p *Pipeline, images map[string]Built, o Options) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if o.ArtifactRepo == "" {
		return nil, fmt.Errorf("pipeline %s: no artifact repository: set a registry (FAIR_REGISTRY or --registry)", p.Name)
	}
	for _, s := range p.Steps {
		// A KFP executor is one container: PipelineSpec has no resource
		// executor that creates a job or an endpoint and waits for it.
		switch {
		case s.Train != nil:
			return nil, fmt.Errorf("step %s trains as a %s: KFP's PipelineSpec runs each step as one container and cannot create a training job; run this pipeline on Argo (fair pipeline run), or make the step a plain container", s.Name, s.Train.Kind)
		case s.Serve != nil:
			return nil, fmt.Errorf("step %s serves a model: KFP's PipelineSpec cannot create an endpoint; run this pipeline on Argo (fair pipeline run), or serve after the run with fair serve --model", s.Name)
		}
	}
	components := map[string]any{}
	executors := map[string]any{}
	tasks := map[string]any{}
	for _, s := range p.Order() {
		img, ok := images[s.Name]
		if !ok || img.Ref == "" {
			return nil, fmt.Errorf("step %s has no image", s.Name)
		}
		if len(img.Command) == 0 {
			return nil, fmt.Errorf("step %s: image %s has no entrypoint or command; give the step a command", s.Name, img.Ref)
		}
		comp := map[string]any{"executorLabel": "exec-" + s.Name}
		taskIn := map[string]any{}
		if len(s.Inputs) > 0 {
			defs := map[string]any{}
			for _, in := range s.Inputs {
				defs[in.Name] = map[string]any{"parameterType": "STRING"}
				from, out, _ := cut(in.From)
				taskIn[in.Name] = map[string]any{"taskOutputParameter": map[string]any{"producerTask": from, "outputParameterKey": out}}
			}
			comp["inputDefinitions"] = map[string]any{"parameters": defs}
		}
		if len(s.Outputs) > 0 {
			defs := map[string]any{}
			for _, op := range s.Outputs {
				defs[op.Name] = map[string]any{"parameterType": "STRING"}
			}
			comp["outputDefinitions"] = map[string]any{"parameters": defs}
		}
		components["comp-"+s.Name] = comp

		args := stepArgs(p, s, img, o, "{{$.pipeline_job_uuid}}",
			func(i Input) string { return fmt.Sprintf("{{$.inputs.parameters['%s']}}", i.Name) },
			func(op Output) string { return fmt.Sprintf("{{$.outputs.parameters['%s'].output_file}}", op.Name) })
		c := map[string]any{"image": img.Ref, "command": args[:1], "args": args[1:]}
		if e := env(s); e != nil {
			c["env"] = e
		}
		res, err := kfpResources(s)
		if err != nil {
			return nil, err
		}
		if len(res) > 0 {
			c["resources"] = res
		}
		executors["exec-"+s.Name] = map[string]any{"container": c}

		task := map[string]any{
			"taskInfo":     map[string]any{"name": s.Name},
			"componentRef": map[string]any{"name": "comp-" + s.Name},
		}
		if deps := p.Deps(s); len(deps) > 0 {
			task["dependentTasks"] = deps
		}
		if len(taskIn) > 0 {
			task["inputs"] = map[string]any{"parameters": taskIn}
		}
		tasks[s.Name] = task
	}
	spec := map[string]any{
		"pipelineInfo":   map[string]any{"name": p.Name},
		"schemaVersion":  KFPSchemaVersion,
		"sdkVersion":     "fair",
		"components":     components,
		"deploymentSpec": map[string]any{"executors": executors},
		"root":           map[string]any{"dag": map[string]any{"tasks": tasks}},
	}
	return yaml.Marshal(spec)
}

// kfpResources maps resources onto the PipelineSpec's ResourceSpec in
// both of its forms, as the KFP SDK writes them: the current string fields
// (resourceCpuRequest, resourceMemoryRequest/Limit, the accelerator's
// resourceType and resourceCount) hold the Kubernetes quantity as given,
// which the v2 driver parses as it is; the deprecated numbers beside them
// (cores, gigabytes, a count) are what KFP installations older than those
// fields read. A GPU is an accelerator whose type is the Kubernetes
// resource name, which the driver requests as a limit.
func kfpResources(s *Step) (map[string]any, error) {
	r := map[string]any{}
	if q := s.Resources.CPU; q != "" {
		v, err := resource.ParseQuantity(q)
		if err != nil {
			return nil, fmt.Errorf("step %s: cpu %q: %v", s.Name, q, err)
		}
		r["resourceCpuRequest"] = v.String()
		r["cpuRequest"] = v.AsApproximateFloat64()
	}
	if q := s.Resources.Memory; q != "" {
		v, err := resource.ParseQuantity(q)
		if err != nil {
			return nil, fmt.Errorf("step %s: memory %q: %v", s.Name, q, err)
		}
		r["resourceMemoryRequest"], r["resourceMemoryLimit"] = v.String(), v.String()
		gb := v.AsApproximateFloat64() / 1e9
		r["memoryRequest"], r["memoryLimit"] = gb, gb
	}
	if s.Resources.GPUs > 0 {
		typ := s.Resources.GPUResource
		if typ == "" {
			typ = "nvidia.com/gpu"
		}
		r["accelerator"] = map[string]any{
			"resourceType": typ, "resourceCount": strconv.Itoa(s.Resources.GPUs),
			"type": typ, "count": s.Resources.GPUs,
		}
	}
	return r, nil
}
