package sweep

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

// Trial phases, as Katib's trial conditions name them.
const (
	PhasePending            = "Pending" // no condition yet
	PhaseCreated            = "Created"
	PhaseRunning            = "Running"
	PhaseSucceeded          = "Succeeded"
	PhaseFailed             = "Failed"
	PhaseKilled             = "Killed"
	PhaseMetricsUnavailable = "MetricsUnavailable"
	PhaseEarlyStopped       = "EarlyStopped"
)

// Param values of a trial, in the sweep's order.
type Assignment struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Trial is one trial of a sweep.
type Trial struct {
	Name    string       `json:"name"`
	Phase   string       `json:"phase"`
	Message string       `json:"message,omitempty"`
	Params  []Assignment `json:"params"`
	// Objective is the objective's value (its min when minimizing, max
	// when maximizing, as Katib ranks trials); nil until reported.
	Objective *float64          `json:"objective,omitempty"`
	Metrics   map[string]string `json:"metrics,omitempty"`
	Created   time.Time         `json:"created"`
	Started   time.Time         `json:"started,omitzero"`
	Ended     time.Time         `json:"ended,omitzero"`
}

// Done reports whether the trial has ended.
func (t Trial) Done() bool {
	switch t.Phase {
	case PhaseSucceeded, PhaseFailed, PhaseKilled, PhaseMetricsUnavailable, PhaseEarlyStopped:
		return true
	}
	return false
}

// Status is a sweep as Katib reports it.
type Status struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Kind      string `json:"kind,omitempty"` // the trials' workload kind
	Algorithm string `json:"algorithm"`
	Objective string `json:"objective"`
	Goal      string `json:"goal"`
	// Phase is the Experiment's: Created, Running, Restarting, Succeeded
	// or Failed; Reason and Message say why it ended.
	Phase       string    `json:"phase"`
	Reason      string    `json:"reason,omitempty"`
	Message     string    `json:"message,omitempty"`
	MaxTrials   int       `json:"maxTrials"`
	Parallel    int       `json:"parallel"`
	Trials      []Trial   `json:"trials"`
	Best        *Trial    `json:"best,omitempty"`
	Created     time.Time `json:"created"`
	Completed   time.Time `json:"completed,omitzero"`
	ParamNames  []string  `json:"paramNames"`
	ParamSpecs  []string  `json:"paramSpecs"`
	Succeeded   int       `json:"succeeded"`
	FailedCount int       `json:"failed"`
	Running     int       `json:"running"`
}

// Done reports whether the sweep has ended.
func (s *Status) Done() bool { return s.Phase == "Succeeded" || s.Phase == "Failed" }

// Get reads sweep name in namespace ns with its trials.
func Get(ctx context.Context, dyn dynamic.Interface, ns, name string) (*Status, error) {
	e, err := dyn.Resource(ExperimentGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	list, err := dyn.Resource(TrialGVR).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: KatibExperimentLabel + "=" + name})
	if err != nil {
		return nil, err
	}
	return FromObjects(e, list.Items), nil
}

// FromObjects reads an Experiment and its Trials.
func FromObjects(e *unstructured.Unstructured, trials []unstructured.Unstructured) *Status {
	s := &Status{Name: e.GetName(), Namespace: e.GetNamespace(), Created: e.GetCreationTimestamp().Time, Kind: e.GetLabels()["fair.dev/kind"]}
	s.Algorithm, _, _ = unstructured.NestedString(e.Object, "spec", "algorithm", "algorithmName")
	s.Objective, _, _ = unstructured.NestedString(e.Object, "spec", "objective", "objectiveMetricName")
	s.Goal, _, _ = unstructured.NestedString(e.Object, "spec", "objective", "type")
	mt, _, _ := unstructured.NestedInt64(e.Object, "spec", "maxTrialCount")
	pt, _, _ := unstructured.NestedInt64(e.Object, "spec", "parallelTrialCount")
	s.MaxTrials, s.Parallel = int(mt), int(pt)
	params, _, _ := unstructured.NestedSlice(e.Object, "spec", "parameters")
	for _, p := range params {
		m, _ := p.(map[string]any)
		n, _ := m["name"].(string)
		s.ParamNames = append(s.ParamNames, n)
		s.ParamSpecs = append(s.ParamSpecs, specString(m))
	}
	conds, _, _ := unstructured.NestedSlice(e.Object, "status", "conditions")
	s.Phase, s.Reason, s.Message = lastTrue(conds)
	if s.Phase == "" {
		s.Phase = "Created"
	}
	if t, ok := timeAt(e.Object, "status", "completionTime"); ok {
		s.Completed = t
	}
	order := map[string]int{}
	for i, n := range s.ParamNames {
		order[n] = i
	}
	for i := range trials {
		t := trialOf(&trials[i], s.Objective, s.Goal)
		// Katib lists assignments in an order of its own; the sweep's is
		// the user's.
		sort.SliceStable(t.Params, func(a, b int) bool { return order[t.Params[a].Name] < order[t.Params[b].Name] })
		s.Trials = append(s.Trials, t)
		switch {
		case t.Phase == PhaseSucceeded:
			s.Succeeded++
		case t.Phase == PhaseRunning:
			s.Running++
		case t.Done():
			s.FailedCount++
		}
	}
	sort.SliceStable(s.Trials, func(i, j int) bool {
		if !s.Trials[i].Created.Equal(s.Trials[j].Created) {
			return s.Trials[i].Created.Before(s.Trials[j].Created)
		}
		return s.Trials[i].Name < s.Trials[j].Name
	})
	if best, _, _ := unstructured.NestedString(e.Object, "status", "currentOptimalTrial", "bestTrialName"); best != "" {
		for i := range s.Trials {
			// Never a trial without a value (Katib's own choice can be
			// one whose metric did not parse).
			if s.Trials[i].Name == best && s.Trials[i].Objective != nil {
				b := s.Trials[i]
				s.Best = &b
			}
		}
	}
	return s
}

func trialOf(u *unstructured.Unstructured, objective, goal string) Trial {
	t := Trial{Name: u.GetName(), Created: u.GetCreationTimestamp().Time}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	t.Phase, _, t.Message = lastTrue(conds)
	if t.Phase == "" {
		t.Phase = PhasePending
	}
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Running" && m["status"] == "True" {
			if ts, err := time.Parse(time.RFC3339, fmt.Sprint(m["lastTransitionTime"])); err == nil {
				t.Started = ts
			}
		}
	}
	if ts, ok := timeAt(u.Object, "status", "completionTime"); ok {
		t.Ended = ts
	}
	pa, _, _ := unstructured.NestedSlice(u.Object, "spec", "parameterAssignments")
	for _, p := range pa {
		m, _ := p.(map[string]any)
		n, _ := m["name"].(string)
		v, _ := m["value"].(string)
		t.Params = append(t.Params, Assignment{Name: n, Value: v})
	}
	ms, _, _ := unstructured.NestedSlice(u.Object, "status", "observation", "metrics")
	for _, x := range ms {
		m, _ := x.(map[string]any)
		n, _ := m["name"].(string)
		latest, _ := m["latest"].(string)
		if t.Metrics == nil {
			t.Metrics = map[string]string{}
		}
		t.Metrics[n] = latest
		if n != objective {
			continue
		}
		key := "min"
		if goal == "maximize" {
			key = "max"
		}
		v, _ := m[key].(string)
		if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) {
			t.Objective = &f
		}
	}
	return t
}

// lastTrue is the last condition whose status is True.
func lastTrue(conds []any) (typ, reason, message string) {
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["status"] != "True" {
			continue
		}
		typ, _ = m["type"].(string)
		reason, _ = m["reason"].(string)
		message, _ = m["message"].(string)
	}
	return typ, reason, message
}

func timeAt(obj map[string]any, fields ...string) (time.Time, bool) {
	v, ok, _ := unstructured.NestedString(obj, fields...)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	return t, err == nil
}

func specString(m map[string]any) string {
	n, _ := m["name"].(string)
	fs, _ := m["feasibleSpace"].(map[string]any)
	p := Param{Name: n}
	if l, ok := fs["list"].([]any); ok {
		for _, v := range l {
			p.List = append(p.List, fmt.Sprint(v))
		}
		return p.String()
	}
	p.Min, _ = fs["min"].(string)
	p.Max, _ = fs["max"].(string)
	p.Step, _ = fs["step"].(string)
	p.Log = fs["distribution"] == "logUniform"
	return p.String()
}
