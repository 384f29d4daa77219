package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/internal/yaml12"
)

// SourceScheme marks a path to build in pipeline.yaml, as ko:// does in ko.
const SourceScheme = "fair://"

// File is the pipeline.yaml format; docs/pipelines.md describes it.
type File struct {
	Name  string     `json:"name"`
	Steps []StepFile `json:"steps"`
}

// StepFile is one step in pipeline.yaml.
type StepFile struct {
	Name      string            `json:"name"`
	Source    string            `json:"source,omitempty"` // fair://PATH, fair://NOTEBOOK.ipynb#STEP
	Image     string            `json:"image,omitempty"`  // a ready image instead of source
	Command   []string          `json:"command,omitempty"`
	Base      string            `json:"base,omitempty"`
	Workdir   string            `json:"workdir,omitempty"`
	Args      []string          `json:"args,omitempty"`
	Params    map[string]string `json:"params,omitempty"`
	Inputs    map[string]string `json:"inputs,omitempty"` // input name: step.output
	Outputs   []string          `json:"outputs,omitempty"`
	Values    []string          `json:"values,omitempty"`
	After     []string          `json:"after,omitempty"`
	Resources ResourcesFile     `json:"resources,omitempty"`
	// Kind runs the step as a training job (pytorchjob) whose output
	// "model" is what rank 0 wrote to $FAIR_MODEL_DIR.
	Kind    string `json:"kind,omitempty"`
	Workers int    `json:"workers,omitempty"`
	Model   string `json:"model,omitempty"` // the saved model's name
	// Serve makes the step an endpoint of another step's model.
	Serve *ServeFile `json:"serve,omitempty"`
}

// ServeFile is a serving step's serve: block.
type ServeFile struct {
	Model string `json:"model"`          // STEP.model
	Kind  string `json:"kind,omitempty"` // deployment (default) or kserve
	Name  string `json:"name,omitempty"` // the endpoint's name
	Port  int    `json:"port,omitempty"`
}

// ResourcesFile is a step's resources in pipeline.yaml.
type ResourcesFile struct {
	GPUs         int               `json:"gpus,omitempty"`
	GPUResource  string            `json:"gpuResource,omitempty"`
	CPU          string            `json:"cpu,omitempty"`
	Memory       string            `json:"memory,omitempty"`
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	Tolerations  []string          `json:"tolerations,omitempty"` // key[=value][:Effect]
}

// Load reads a pipeline.yaml; fair:// paths are relative to its folder.
func Load(path string) (*Pipeline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := Parse(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return p, nil
}

// Parse reads pipeline.yaml content; dir is where relative paths start.
func Parse(data []byte, dir string) (*Pipeline, error) {
	var f File
	if err := yaml12.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	p := &Pipeline{Name: f.Name}
	for i, sf := range f.Steps {
		s, err := sf.step(dir)
		if err != nil {
			name := sf.Name
			if name == "" {
				name = fmt.Sprintf("#%d", i+1)
			}
			return nil, fmt.Errorf("step %s: %v", name, err)
		}
		p.Steps = append(p.Steps, s)
	}
	return p, p.Validate()
}

func (sf StepFile) step(dir string) (*Step, error) {
	var src Source
	switch {
	case sf.Source != "" && sf.Image != "":
		return nil, fmt.Errorf("give source or image, not both")
	case sf.Image != "":
		src = Image(sf.Image, sf.Command...)
	case sf.Source != "":
		path, ok := strings.CutPrefix(sf.Source, SourceScheme)
		if !ok {
			return nil, fmt.Errorf("source %q: want %sPATH (a ready image goes under image:)", sf.Source, SourceScheme)
		}
		file, _, _ := strings.Cut(path, "#")
		if err := deployer.SourcePath(file); err != nil {
			return nil, fmt.Errorf("%v (relative to the pipeline's folder)", err)
		}
		path = filepath.Join(dir, path)
		file, section, _ := strings.Cut(path, "#")
		switch {
		case strings.HasSuffix(file, ".ipynb"):
			if section == "" {
				section = sf.Name
			}
			src = Notebook(file, section)
		case len(sf.Command) > 0:
			src = Dir(path, sf.Command...)
		default:
			src = Go(path)
		}
		src.Base, src.Workdir = sf.Base, sf.Workdir
	default:
		return nil, fmt.Errorf("no source: give source: %sPATH or image: REF", SourceScheme)
	}
	s := NewStep(sf.Name, src).WithArgs(sf.Args...).Out(sf.Outputs...).Value(sf.Values...).Needs(sf.After...)
	s.Params = sf.Params
	names := make([]string, 0, len(sf.Inputs))
	for n := range sf.Inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s.In(n, sf.Inputs[n])
	}
	r := sf.Resources
	s.Resources = Resources{GPUs: r.GPUs, GPUResource: r.GPUResource, CPU: r.CPU, Memory: r.Memory, NodeSelector: r.NodeSelector}
	for _, t := range r.Tolerations {
		tol, err := deployer.ParseToleration(t)
		if err != nil {
			return nil, err
		}
		s.Resources.Tolerations = append(s.Resources.Tolerations, tol)
	}
	if err := sf.kind(s); err != nil {
		return nil, err
	}
	return s, nil
}

// kind makes s a training or serving step as kind: and serve: say.
func (sf StepFile) kind(s *Step) error {
	if sf.Kind != "" && sf.Kind != string(deployer.KindJob) {
		k, err := deployer.ParseKind(sf.Kind)
		if err != nil {
			return err
		}
		if len(sf.Outputs)+len(sf.Values) > 0 {
			return fmt.Errorf("a training step's only output is its %s (its program writes to $FAIR_MODEL_DIR); drop its outputs and values", ModelOutput)
		}
		s.Trains(k, sf.Workers, sf.Model)
	} else if sf.Workers != 0 || sf.Model != "" {
		return errors.New("workers: and model: need a training kind: (kind: pytorchjob)")
	}
	if v := sf.Serve; v != nil {
		if v.Model == "" {
			return fmt.Errorf("serve: needs model: STEP.%s", ModelOutput)
		}
		if len(sf.Inputs)+len(sf.Outputs)+len(sf.Values) > 0 {
			return fmt.Errorf("a serving step takes only serve.model and gives only its %s; drop its inputs, outputs and values", URLOutput)
		}
		k := deployer.KindDeployment
		if v.Kind != "" {
			var err error
			if k, err = deployer.ParseKind(v.Kind); err != nil {
				return fmt.Errorf("serve.kind: %v", err)
			}
		}
		s.Serves(v.Model, k)
		s.Serve.Name, s.Serve.Port = v.Name, v.Port
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
