package sweep

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/fair-go/fair/deployer"
)

// GVR of Katib's Experiments and Trials.
var (
	ExperimentGVR = schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1beta1", Resource: "experiments"}
	TrialGVR      = schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1beta1", Resource: "trials"}
	// SuggestionGVR is Katib's per-Experiment suggestion service.
	SuggestionGVR = schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1beta1", Resource: "suggestions"}
)

// Labels fair and Katib put on a sweep's objects.
const (
	// LabelSweep marks a trial's workload and pods with the sweep's name.
	LabelSweep = deployer.LabelSweep
	// LabelTrial marks a trial's pods with the trial's name.
	LabelTrial = "fair.dev/trial"
	// KatibExperimentLabel and KatibTrialLabel are Katib's own, on trials.
	KatibExperimentLabel = "katib.kubeflow.org/experiment"
	// InjectionLabel on a namespace lets Katib's webhook add its metrics
	// collector to trial pods there.
	InjectionLabel = "katib.kubeflow.org/metrics-collector-injection"
)

// KatibInstall is how a cluster gets Katib, for the messages fair gives
// where it is missing.
const KatibInstall = `kubectl apply --server-side -k "github.com/kubeflow/katib.git/manifests/v1beta1/installs/katib-standalone?ref=v0.19.0"`

// Spec is a sweep: what to search, what to optimize, how many trials.
type Spec struct {
	Params    []Param
	Objective string // the metric, printed by the program as NAME=VALUE
	Goal      string // minimize (default) or maximize
	// GoalValue, when set, ends the sweep once a trial reaches it.
	GoalValue *float64
	Metrics   []string // more metrics to record beside the objective
	Algorithm string   // Katib's algorithm name; random by default
	Settings  map[string]string
	Trials    int // maxTrialCount
	Parallel  int // parallelTrialCount
	// MaxFailed ends the sweep as Failed after this many failed trials;
	// 0 lets every trial fail without ending it early.
	MaxFailed int
	// Args also passes each parameter as an argument --NAME=VALUE (they
	// always reach the program as environment variables).
	Args bool
}

// MetricFormat is the filter Katib's StdOut collector reads metrics with:
// NAME=NUMBER, as its default, except that the number needs a digit. The
// default also takes "loss=NaN" (as an empty value), which Katib then
// ranks as the best trial and its suggestion service cannot parse, so the
// sweep stalls. A trial that prints only NaN now has no metric: failed.
const MetricFormat = `([\w|-]+)\s*=\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[Ee][+-]?\d+)?)`

// metricName is what Katib's StdOut collector reads as a metric's name
// (its default filter, ([\w|-]+)\s*=\s*NUMBER).
var metricName = regexp.MustCompile(`^[\w|-]+$`)

// Defaults fills the goal, algorithm, trial counts.
func (s *Spec) Defaults() {
	if s.Goal == "" {
		s.Goal = "minimize"
	}
	if s.Algorithm == "" {
		s.Algorithm = "random"
	}
	if s.Trials == 0 {
		s.Trials = 12
	}
	if s.Parallel == 0 {
		s.Parallel = min(3, s.Trials)
	}
}

// Validate reports the first bad value, as one line.
func (s *Spec) Validate() error {
	if len(s.Params) == 0 {
		return fmt.Errorf("a sweep needs at least one --param NAME=LO..HI or NAME=a,b,c")
	}
	seen := map[string]bool{}
	for _, p := range s.Params {
		if seen[p.EnvName()] {
			return fmt.Errorf("parameter %s given twice", p.Name)
		}
		seen[p.EnvName()] = true
	}
	if s.Objective == "" {
		return fmt.Errorf("--objective: name the metric the program prints as NAME=VALUE (e.g. --objective loss)")
	}
	for _, m := range append([]string{s.Objective}, s.Metrics...) {
		if !metricName.MatchString(m) {
			return fmt.Errorf("metric %q: Katib reads NAME=VALUE lines whose NAME is letters, digits, _, - or |", m)
		}
	}
	if s.Goal != "minimize" && s.Goal != "maximize" {
		return fmt.Errorf("--goal: want minimize or maximize, got %q", s.Goal)
	}
	if s.Trials < 1 || s.Parallel < 1 || s.MaxFailed < 0 {
		return fmt.Errorf("--trials and --parallel must be at least 1 (got %d and %d), --max-failed at least 0", s.Trials, s.Parallel)
	}
	if s.Parallel > s.Trials {
		return fmt.Errorf("--parallel %d is more than --trials %d", s.Parallel, s.Trials)
	}
	if s.Algorithm == "grid" {
		for _, p := range s.Params {
			if p.Type == Double && p.Step == "" {
				return fmt.Errorf("parameter %s: the grid algorithm needs a step for a double range (%s:step=S)", p.Name, p.String())
			}
		}
	}
	return nil
}

// trialShape is what Katib needs to know of a kind's trials: which pod
// runs the metrics collector, which container is the program, and the
// conditions that end the trial.
type trialShape struct {
	container        string
	podLabels        map[string]string
	success, failure string
}

// ShapeOf says whether trials can run as kind k, and how Katib reads them.
func ShapeOf(k deployer.Kind) (trialShape, error) {
	switch k {
	case deployer.KindJob:
		return trialShape{container: "fair",
			success: `status.conditions.#(type=="Complete")#|#(status=="True")#`,
			failure: `status.conditions.#(type=="Failed")#|#(status=="True")#`}, nil
	case deployer.KindPyTorchJob:
		return trialShape{container: "pytorch", podLabels: map[string]string{"training.kubeflow.org/job-role": "master"},
			success: `status.conditions.#(type=="Succeeded")#|#(status=="True")#`,
			failure: `status.conditions.#(type=="Failed")#|#(status=="True")#`}, nil
	case deployer.KindTrainJob:
		return trialShape{container: "node", podLabels: map[string]string{"jobset.sigs.k8s.io/replicatedjob-name": "node", "batch.kubernetes.io/job-completion-index": "0"},
			success: `status.conditions.#(type=="Complete")#|#(status=="True")#`,
			failure: `status.conditions.#(type=="Failed")#|#(status=="True")#`}, nil
	}
	return trialShape{}, fmt.Errorf("kind %s: a sweep's trials run as job, pytorchjob or trainjob", k)
}

// TrialKinds are the workload kinds a sweep's trials can be.
var TrialKinds = []deployer.Kind{deployer.KindJob, deployer.KindPyTorchJob, deployer.KindTrainJob}

// trialNameParam is the trial parameter holding the trial's own name.
const trialNameParam = "fairTrialName"

// TrialNameRef stands for the trial's name anywhere in the workload (a
// model's tag): Katib replaces it when it creates the trial.
const TrialNameRef = "${trialParameters." + trialNameParam + "}"

// Experiment is the Katib Experiment for sweep s whose trials run w (its
// Name and Namespace are the sweep's): w as fair train would submit it,
// with each parameter as an environment variable (and an argument with
// s.Args), the trial's name in FAIR_TRIAL, and Katib's StdOut collector.
func Experiment(s Spec, w *deployer.Workload, opts ...deployer.RenderOption) (*unstructured.Unstructured, error) {
	s.Defaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	shape, err := ShapeOf(w.Kind)
	if err != nil {
		return nil, err
	}
	t := *w
	t.Env = append([]deployer.EnvVar(nil), w.Env...)
	t.Args = append([]string(nil), w.Args...)
	t.TTL = 0 // Katib reads the finished workload's conditions
	var params, trialParams []any
	for _, p := range s.Params {
		ref := "${trialParameters." + p.Name + "}"
		t.Env = append(t.Env, deployer.EnvVar{Name: p.EnvName(), Value: ref})
		if s.Args {
			t.Args = append(t.Args, "--"+p.Name+"="+ref)
		}
		params = append(params, paramObject(p))
		trialParams = append(trialParams, map[string]any{"name": p.Name, "reference": p.Name, "description": p.String()})
	}
	t.Env = append(t.Env, deployer.EnvVar{Name: "FAIR_TRIAL", Value: TrialNameRef}, deployer.EnvVar{Name: "FAIR_SWEEP", Value: w.Name})
	trialParams = append(trialParams, map[string]any{"name": trialNameParam, "reference": "${trialSpec.Name}", "description": "the trial's name"})
	objs, err := deployer.Render(&t, opts...)
	if err != nil {
		return nil, err
	}
	var spec *unstructured.Unstructured
	for _, u := range objs {
		if deployer.IsKind(u, w.Kind) {
			spec = u
		}
	}
	if spec == nil || len(objs) != 1 {
		return nil, fmt.Errorf("kind %s: a trial is one object, the template made %d", w.Kind, len(objs))
	}
	trialLabels(spec, w.Name)
	spec.SetName("")
	spec.SetNamespace("")
	unstructured.RemoveNestedField(spec.Object, "metadata", "creationTimestamp")

	objective := map[string]any{"type": s.Goal, "objectiveMetricName": s.Objective}
	if len(s.Metrics) > 0 {
		objective["additionalMetricNames"] = toAny(s.Metrics)
	}
	if s.GoalValue != nil {
		objective["goal"] = *s.GoalValue
	}
	algorithm := map[string]any{"algorithmName": s.Algorithm}
	if len(s.Settings) > 0 {
		var set []any
		for _, k := range slices.Sorted(maps.Keys(s.Settings)) {
			set = append(set, map[string]any{"name": k, "value": s.Settings[k]})
		}
		algorithm["algorithmSettings"] = set
	}
	maxFailed := s.MaxFailed
	if maxFailed == 0 {
		maxFailed = s.Trials
	}
	tmpl := map[string]any{
		"primaryContainerName": shape.container,
		"successCondition":     shape.success,
		"failureCondition":     shape.failure,
		"retain":               true, // fair sweep logs reads finished trials' pods
		"trialParameters":      trialParams,
		"trialSpec":            spec.Object,
	}
	if shape.podLabels != nil {
		tmpl["primaryPodLabels"] = toAnyMap(shape.podLabels)
	}
	e := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kubeflow.org/v1beta1",
		"kind":       "Experiment",
		"metadata": map[string]any{
			"name":      w.Name,
			"namespace": w.Namespace,
			"labels": map[string]any{
				deployer.LabelManagedBy: deployer.ManagedBy,
				LabelSweep:              w.Name,
				deployer.LabelKind:      string(w.Kind),
			},
		},
		"spec": map[string]any{
			"objective":           objective,
			"algorithm":           algorithm,
			"parallelTrialCount":  int64(s.Parallel),
			"maxTrialCount":       int64(s.Trials),
			"maxFailedTrialCount": int64(maxFailed),
			"metricsCollectorSpec": map[string]any{
				"collector": map[string]any{"kind": "StdOut"},
				"source":    map[string]any{"filter": map[string]any{"metricsFormat": []any{MetricFormat}}},
			},
			"parameters":    params,
			"trialTemplate": tmpl,
		},
	}}
	return e, nil
}

// trialLabels swaps fair's run label (the trial's workload is not a run
// of its own: fair ps lists the sweep) for the sweep's and the trial's, on
// the workload and every pod template in it.
func trialLabels(u *unstructured.Unstructured, sweep string) {
	var walk func(v any)
	fix := func(m map[string]any) {
		labels, ok := m["labels"].(map[string]any)
		if !ok {
			return
		}
		delete(labels, deployer.LabelRun)
		labels[LabelSweep] = sweep
		labels[LabelTrial] = TrialNameRef
	}
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if k == "metadata" {
					if m, ok := c.(map[string]any); ok {
						fix(m)
					}
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(u.Object)
}

func paramObject(p Param) map[string]any {
	fs := map[string]any{}
	if p.List != nil {
		fs["list"] = toAny(p.List)
	} else {
		fs["min"], fs["max"] = p.Min, p.Max
		if p.Step != "" {
			fs["step"] = p.Step
		}
		if p.Log {
			fs["distribution"] = "logUniform"
		}
	}
	return map[string]any{"name": p.Name, "parameterType": p.Type, "feasibleSpace": fs}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func toAnyMap(m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ParseSettings reads algorithm settings NAME=VALUE.
func ParseSettings(list []string) (map[string]string, error) {
	m := map[string]string{}
	for _, s := range list {
		k, v, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("--algorithm-setting %q: want NAME=VALUE (e.g. random_state=7)", s)
		}
		m[strings.TrimSpace(k)] = v
	}
	return m, nil
}

// ParseGoalValue reads --goal-value.
func ParseGoalValue(s string) (*float64, error) {
	if s == "" {
		return nil, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("--goal-value %q: not a number", s)
	}
	return &v, nil
}
