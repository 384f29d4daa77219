// Package pipeline describes multi-step ML workflows: steps built from a Go
// package, a directory with a command, a notebook section or a ready image,
// wired together by named outputs and inputs. Dependencies follow from which
// output feeds which input, so swapping a step's source or inserting a step
// is a one-line change. A Pipeline is validated before anything is built,
// its images are built once per distinct source, and it compiles to an Argo
// Workflow (Argo) or a Kubeflow Pipelines v2 PipelineSpec (KFP). Step outputs
// travel as OCI artifacts through the registry that already holds the images
// (see package pipeline/step).
package pipeline

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/fair-go/fair/deployer"
)

// SourceKind says how a step's image is made.
type SourceKind string

// The kinds of step sources.
const (
	SourceGo       SourceKind = "go"       // a Go main package
	SourceDir      SourceKind = "dir"      // a directory of any code plus a command, on a base image
	SourceNotebook SourceKind = "notebook" // the cells of one step of a tagged notebook
	SourceImage    SourceKind = "image"    // a ready image
)

// Source is where a step's image comes from.
type Source struct {
	Kind    SourceKind
	Path    string   // package or code directory, or notebook file
	Section string   // notebook step name
	Image   string   // ready image reference
	Command []string // command of a directory source; overrides the image's for any source
	Base    string   // base image of a directory source (default: the configured base)
	Workdir string   // where a directory source lands (default /app)
}

// Go is a Go main package.
func Go(dir string) Source { return Source{Kind: SourceGo, Path: dir} }

// Dir is a directory of any code run with command on a base image.
func Dir(dir string, command ...string) Source {
	return Source{Kind: SourceDir, Path: dir, Command: command}
}

// Notebook is the step called section of a notebook whose cells are tagged
// step:NAME.
func Notebook(path, section string) Source {
	return Source{Kind: SourceNotebook, Path: path, Section: section}
}

// Image is a ready image; command overrides its entrypoint when given.
func Image(ref string, command ...string) Source {
	return Source{Kind: SourceImage, Image: ref, Command: command}
}

// OnBase returns s with a base image for a directory source.
func (s Source) OnBase(base string) Source { s.Base = base; return s }

// Key identifies a distinct source: two steps with the same key share one
// image build.
func (s Source) Key() string {
	return strings.Join([]string{string(s.Kind), s.Path, s.Section, s.Image, strings.Join(s.Command, "\x00"), s.Base, s.Workdir}, "\x01")
}

func (s Source) String() string {
	switch s.Kind {
	case SourceImage:
		return s.Image
	case SourceNotebook:
		return s.Path + "#" + s.Section
	}
	return s.Path
}

func (s Source) validate() error {
	switch s.Kind {
	case SourceGo, SourceDir:
		if s.Path == "" {
			return fmt.Errorf("%s source without a path", s.Kind)
		}
		if s.Kind == SourceDir && len(s.Command) == 0 {
			return fmt.Errorf("directory source %s needs a command", s.Path)
		}
	case SourceNotebook:
		if s.Path == "" || s.Section == "" {
			return errors.New("notebook source needs a file and a step name")
		}
	case SourceImage:
		if s.Image == "" {
			return errors.New("image source without a reference")
		}
	case "":
		return errors.New("no source: use pipeline.Go, Dir, Notebook or Image")
	default:
		return fmt.Errorf("unknown source kind %q", s.Kind)
	}
	return nil
}

// Resources are what one step's pod asks for; GPUs get the same limits and
// NoSchedule toleration as training jobs.
type Resources struct {
	GPUs         int
	GPUResource  string // default nvidia.com/gpu
	CPU          string
	Memory       string
	NodeSelector map[string]string
	Tolerations  []deployer.Toleration
}

// Input is a named input of a step, fed by another step's output.
type Input struct {
	Name string
	From string // "step.output"
}

// Output is a named output of a step. Artifacts travel through the
// registry; small values travel as workflow parameters.
type Output struct {
	Name  string
	Value bool
}

// Step is one container of a pipeline.
type Step struct {
	Name      string
	Source    Source
	Args      []string
	Params    map[string]string // environment variables of the step
	Inputs    []Input
	Outputs   []Output
	After     []string // ordering without data, e.g. a notebook's prev:NAME
	Resources Resources
	// Train runs the step as a distributed training job instead of one
	// container; its output "model" is the model rank 0 saved.
	Train *Training
	// Serve keeps the step running as an endpoint of a model; its value
	// output "url" is the endpoint's address.
	Serve *Serving
}

// Training makes a step a training job, submitted by the workflow engine,
// which waits for the job to succeed.
type Training struct {
	Kind    deployer.Kind // pytorchjob
	Workers int           // replicas doing work, master included
	// Model is the name the model is saved under (REGISTRY/models/NAME,
	// tagged with the run's name); default PIPELINE-STEP.
	Model string
}

// Serving makes a step an endpoint that serves a model another step
// trained. It outlives the run: a rerun updates the same endpoint.
type Serving struct {
	Kind deployer.Kind // deployment (default) or kserve
	// Name of the endpoint; default PIPELINE-STEP.
	Name string
	Port int
}

// TrainingKinds are the kinds a pipeline step can train as.
var TrainingKinds = []deployer.Kind{deployer.KindPyTorchJob}

// ModelOutput and URLOutput are the outputs of training and serving steps.
const (
	ModelOutput = "model"
	URLOutput   = "url"
)

// NewStep returns a step; chain In, Out, Value, Param and the resource
// setters to describe it.
func NewStep(name string, src Source) *Step { return &Step{Name: name, Source: src} }

// In feeds input name from "step.output".
func (s *Step) In(name, from string) *Step {
	s.Inputs = append(s.Inputs, Input{Name: name, From: from})
	return s
}

// Out declares artifact outputs (files or directories).
func (s *Step) Out(names ...string) *Step {
	for _, n := range names {
		s.Outputs = append(s.Outputs, Output{Name: n})
	}
	return s
}

// Value declares small outputs passed as workflow parameters.
func (s *Step) Value(names ...string) *Step {
	for _, n := range names {
		s.Outputs = append(s.Outputs, Output{Name: n, Value: true})
	}
	return s
}

// Param sets an environment variable of the step.
func (s *Step) Param(key, value string) *Step {
	if s.Params == nil {
		s.Params = map[string]string{}
	}
	s.Params[key] = value
	return s
}

// WithArgs sets the arguments passed to the step's program.
func (s *Step) WithArgs(args ...string) *Step { s.Args = args; return s }

// Trains makes s a training job of kind (e.g. deployer.KindPyTorchJob)
// with workers replicas; its output "model" is what rank 0 wrote to
// $FAIR_MODEL_DIR, saved as model (default PIPELINE-STEP).
func (s *Step) Trains(kind deployer.Kind, workers int, model string) *Step {
	s.Train = &Training{Kind: kind, Workers: workers, Model: model}
	s.Outputs = append(s.Outputs, Output{Name: ModelOutput})
	return s
}

// Serves makes s an endpoint of the model from ("step.model"); its value
// output "url" is the endpoint's address.
func (s *Step) Serves(from string, kind deployer.Kind) *Step {
	s.Serve = &Serving{Kind: kind}
	s.Inputs = append(s.Inputs, Input{Name: ModelOutput, From: from})
	s.Outputs = append(s.Outputs, Output{Name: URLOutput, Value: true})
	return s
}

// Needs orders s after the named steps without passing data.
func (s *Step) Needs(steps ...string) *Step { s.After = append(s.After, steps...); return s }

// GPUs asks for n GPUs.
func (s *Step) GPUs(n int) *Step { s.Resources.GPUs = n; return s }

// CPU asks for a CPU quantity, e.g. "2" or "500m".
func (s *Step) CPU(q string) *Step { s.Resources.CPU = q; return s }

// Memory asks for a memory quantity, e.g. "8Gi".
func (s *Step) Memory(q string) *Step { s.Resources.Memory = q; return s }

// OnNodes adds a node selector label.
func (s *Step) OnNodes(key, value string) *Step {
	if s.Resources.NodeSelector == nil {
		s.Resources.NodeSelector = map[string]string{}
	}
	s.Resources.NodeSelector[key] = value
	return s
}

// validateKind checks what training and serving steps allow.
func (s *Step) validateKind() error {
	if s.Train != nil && s.Serve != nil {
		return errors.New("a step trains or serves, not both")
	}
	if t := s.Train; t != nil {
		if !slices.Contains(TrainingKinds, t.Kind) {
			return fmt.Errorf("kind %s cannot run as a pipeline step (training kinds here: %s; a plain step is a container)", t.Kind, kindList(TrainingKinds))
		}
		if t.Workers < 0 {
			return errors.New("workers must not be negative")
		}
		if t.Model != "" && deployer.DNSLabel(t.Model, "") != t.Model {
			return fmt.Errorf("model %q: use lower-case letters, digits and '-'", t.Model)
		}
		if len(s.Outputs) != 1 || s.Outputs[0].Name != ModelOutput {
			return fmt.Errorf("a training step's only output is its %s (its program writes to $FAIR_MODEL_DIR)", ModelOutput)
		}
	}
	if v := s.Serve; v != nil {
		if v.Kind != deployer.KindDeployment && v.Kind != deployer.KindKServe {
			return fmt.Errorf("serve kind %s: use deployment or kserve", v.Kind)
		}
		if v.Name != "" && deployer.DNSLabel(v.Name, "") != v.Name {
			return fmt.Errorf("endpoint name %q: use lower-case letters, digits and '-'", v.Name)
		}
		if len(s.Inputs) != 1 || s.Inputs[0].Name != ModelOutput {
			return fmt.Errorf("a serving step's only input is its %s (serve: {model: STEP.model})", ModelOutput)
		}
		if len(s.Outputs) != 1 || s.Outputs[0].Name != URLOutput {
			return fmt.Errorf("a serving step's only output is its %s", URLOutput)
		}
		if s.Resources.GPUs > 0 {
			return errors.New("a serving step asks for no GPUs here; serve on GPUs with fair serve")
		}
	}
	return nil
}

func kindList(ks []deployer.Kind) string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return strings.Join(out, ", ")
}

func (s *Step) output(name string) (Output, bool) {
	for _, o := range s.Outputs {
		if o.Name == name {
			return o, true
		}
	}
	return Output{}, false
}

// Pipeline is a named set of steps.
type Pipeline struct {
	Name  string
	Steps []*Step
}

// New returns a pipeline of steps.
func New(name string, steps ...*Step) *Pipeline { return &Pipeline{Name: name, Steps: steps} }

// Add appends steps.
func (p *Pipeline) Add(steps ...*Step) *Pipeline { p.Steps = append(p.Steps, steps...); return p }

// Step returns the step called name, or nil.
func (p *Pipeline) Step(name string) *Step {
	for _, s := range p.Steps {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Swap replaces the source of step name.
func (p *Pipeline) Swap(name string, src Source) error {
	s := p.Step(name)
	if s == nil {
		return fmt.Errorf("swap: no step %q in pipeline %s", name, p.Name)
	}
	s.Source = src
	return nil
}

// Insert puts s between an output ("step.output") and its consumers: s
// takes that output as its input of the same name, and every step that read
// it reads s's output of the same name (or s's only output) instead.
func (p *Pipeline) Insert(s *Step, from string) error {
	_, outName, ok := strings.Cut(from, ".")
	if !ok {
		return fmt.Errorf("insert %s: want step.output, got %q", s.Name, from)
	}
	repl := ""
	if _, ok := s.output(outName); ok {
		repl = s.Name + "." + outName
	} else if len(s.Outputs) == 1 {
		repl = s.Name + "." + s.Outputs[0].Name
	} else {
		return fmt.Errorf("insert %s: it needs an output named %s (or exactly one output) to pass on", s.Name, outName)
	}
	for _, other := range p.Steps {
		for i := range other.Inputs {
			if other.Inputs[i].From == from {
				other.Inputs[i].From = repl
			}
		}
	}
	if len(s.Inputs) == 0 {
		s.In(outName, from)
	}
	p.Steps = append(p.Steps, s)
	return nil
}

var (
	stepName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	ioName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	envName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Validate reports the first problem in p: bad or duplicate names, unknown
// steps, missing inputs, cycles. It runs before anything is built.
func (p *Pipeline) Validate() error {
	if p.Name == "" && len(p.Steps) == 0 {
		return errors.New("no pipeline here: want name: and steps: (see docs/pipelines.md)")
	}
	if p.Name == "" {
		return errors.New("the pipeline has no name: add name: (lower-case letters, digits and '-')")
	}
	if !stepName.MatchString(p.Name) || len(p.Name) > 40 {
		return fmt.Errorf("pipeline name %q: use at most 40 lower-case letters, digits and '-'", p.Name)
	}
	if len(p.Steps) == 0 {
		return fmt.Errorf("pipeline %s has no steps", p.Name)
	}
	seen := map[string]bool{}
	for _, s := range p.Steps {
		if !stepName.MatchString(s.Name) || len(s.Name) > 40 || s.Name == "main" {
			return fmt.Errorf("step name %q: use at most 40 lower-case letters, digits and '-' (and not \"main\")", s.Name)
		}
		if seen[s.Name] {
			return fmt.Errorf("step %s is defined twice", s.Name)
		}
		seen[s.Name] = true
		if err := s.Source.validate(); err != nil {
			return fmt.Errorf("step %s: %v", s.Name, err)
		}
		names := map[string]bool{}
		upper := map[string]string{}
		for _, o := range s.Outputs {
			if !ioName.MatchString(o.Name) {
				return fmt.Errorf("step %s: output name %q: use letters, digits and '_'", s.Name, o.Name)
			}
			if names["out:"+o.Name] {
				return fmt.Errorf("step %s: output %s is declared twice", s.Name, o.Name)
			}
			names["out:"+o.Name] = true
			// The program also finds it at $FAIR_OUT_<upper case>.
			if other := upper["out:"+strings.ToUpper(o.Name)]; other != "" {
				return fmt.Errorf("step %s: outputs %s and %s differ only in case: both would be $FAIR_OUT_%s", s.Name, other, o.Name, strings.ToUpper(o.Name))
			}
			upper["out:"+strings.ToUpper(o.Name)] = o.Name
		}
		for _, in := range s.Inputs {
			if !ioName.MatchString(in.Name) {
				return fmt.Errorf("step %s: input name %q: use letters, digits and '_'", s.Name, in.Name)
			}
			if names["in:"+in.Name] {
				return fmt.Errorf("step %s: input %s is declared twice", s.Name, in.Name)
			}
			names["in:"+in.Name] = true
			if other := upper["in:"+strings.ToUpper(in.Name)]; other != "" {
				return fmt.Errorf("step %s: inputs %s and %s differ only in case: both would be $FAIR_IN_%s", s.Name, other, in.Name, strings.ToUpper(in.Name))
			}
			upper["in:"+strings.ToUpper(in.Name)] = in.Name
		}
		for k := range s.Params {
			if !envName.MatchString(k) {
				return fmt.Errorf("step %s: parameter %q is not a valid environment variable name", s.Name, k)
			}
		}
		if s.Resources.GPUs < 0 {
			return fmt.Errorf("step %s: gpus must not be negative", s.Name)
		}
		for _, r := range [][2]string{{"cpu", s.Resources.CPU}, {"memory", s.Resources.Memory}} {
			what, q := r[0], r[1]
			if q == "" {
				continue
			}
			// Checked here, not by the API server after every build.
			if v, err := resource.ParseQuantity(q); err != nil || v.Sign() <= 0 {
				return fmt.Errorf("step %s: %s %q: want a positive Kubernetes quantity (cpu: 2 or 500m, memory: 8Gi)", s.Name, what, q)
			}
		}
		if err := s.validateKind(); err != nil {
			return fmt.Errorf("step %s: %v", s.Name, err)
		}
	}
	for _, s := range p.Steps {
		for _, in := range s.Inputs {
			from, out, ok := strings.Cut(in.From, ".")
			if !ok || from == "" || out == "" {
				return fmt.Errorf("step %s: input %s: want step.output, got %q", s.Name, in.Name, in.From)
			}
			src := p.Step(from)
			if src == nil {
				return fmt.Errorf("step %s: input %s comes from unknown step %q", s.Name, in.Name, from)
			}
			if _, ok := src.output(out); !ok {
				return fmt.Errorf("step %s: missing input %s: step %s has no output %q", s.Name, in.Name, from, out)
			}
		}
		for _, a := range s.After {
			if p.Step(a) == nil {
				return fmt.Errorf("step %s: runs after unknown step %q", s.Name, a)
			}
		}
	}
	if cyc := p.cycle(); cyc != nil {
		return fmt.Errorf("cycle: %s", strings.Join(cyc, " -> "))
	}
	return nil
}

// Deps returns the steps s depends on, sorted: the producers of its inputs
// and its After steps.
func (p *Pipeline) Deps(s *Step) []string {
	set := map[string]bool{}
	for _, in := range s.Inputs {
		from, _, _ := strings.Cut(in.From, ".")
		set[from] = true
	}
	for _, a := range s.After {
		set[a] = true
	}
	delete(set, "")
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// cycle returns the steps of a dependency cycle, first step repeated last.
func (p *Pipeline) cycle() []string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(n string) []string
	visit = func(n string) []string {
		color[n] = grey
		stack = append(stack, n)
		s := p.Step(n)
		if s != nil {
			for _, d := range p.Deps(s) {
				switch color[d] {
				case grey:
					i := slices.Index(stack, d)
					// Report in data-flow order: producer first.
					cyc := append([]string{}, stack[i:]...)
					slices.Reverse(cyc)
					return append([]string{d}, cyc...)
				case white:
					if c := visit(d); c != nil {
						return c
					}
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		return nil
	}
	for _, s := range p.Steps {
		if color[s.Name] == white {
			if c := visit(s.Name); c != nil {
				return c
			}
		}
	}
	return nil
}

// Order returns the steps in an order where every step comes after the
// steps it depends on, keeping definition order where free. p must be valid.
func (p *Pipeline) Order() []*Step {
	done := map[string]bool{}
	var out []*Step
	for len(out) < len(p.Steps) {
		progress := false
		for _, s := range p.Steps {
			if done[s.Name] {
				continue
			}
			ready := true
			for _, d := range p.Deps(s) {
				ready = ready && done[d]
			}
			if ready {
				done[s.Name] = true
				out = append(out, s)
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	return out
}
