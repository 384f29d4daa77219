package sweep

import (
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fair-go/fair/deployer"
)

func TestParseParam(t *testing.T) {
	good := []struct {
		in   string
		want Param
	}{
		{"lr=1e-4..1e-1:log", Param{Name: "lr", Type: Double, Min: "1e-4", Max: "1e-1", Log: true}},
		{"layers=1..4", Param{Name: "layers", Type: Int, Min: "1", Max: "4"}},
		{"x=-2..2:step=0.5", Param{Name: "x", Type: Double, Min: "-2", Max: "2", Step: "0.5"}},
		{"n=2..10:step=2:log", Param{Name: "n", Type: Int, Min: "2", Max: "10", Step: "2", Log: true}},
		{"batch=16, 32,64", Param{Name: "batch", Type: Discrete, List: []string{"16", "32", "64"}}},
		{"opt=adam,sgd", Param{Name: "opt", Type: Categorical, List: []string{"adam", "sgd"}}},
		{"mix=1,two", Param{Name: "mix", Type: Categorical, List: []string{"1", "two"}}},
	}
	for _, g := range good {
		p, err := ParseParam(g.in)
		if err != nil {
			t.Errorf("%s: %v", g.in, err)
			continue
		}
		if p.String() != g.want.String() || p.Type != g.want.Type {
			t.Errorf("%s: got %+v, want %+v", g.in, p, g.want)
		}
		if back, err := ParseParam(p.String()); err != nil || back.String() != p.String() {
			t.Errorf("%s: String %q does not read back: %v", g.in, p.String(), err)
		}
	}
	bad := map[string]string{
		"lr=abc":          "neither a range",
		"opt=":            "empty list",
		"opt=,":           "empty list",
		"lr=1..1":         "empty",
		"lr=2..1":         "empty",
		"lr=0..1:log":     "LO > 0",
		"lr=x..1":         "not a number",
		"lr=0..1:step=0":  "step",
		"lr=0..1:step=2":  "step",
		"lr=0..1:fast":    "unknown option",
		"=1..2":           "want NAME",
		"lr":              "want NAME",
		"l r=1..2":        "letters, digits",
		"1lr=1..2":        "letters, digits",
		"opt=a,a":         "twice",
		"lr=NaN..1":       "not a finite number",
		"lr=0..Inf":       "not a finite number",
		"lr=1,NaN":        "not a finite number",
		"path=1..2":       "$PATH, which the system",
		"home=a,b":        "$HOME",
		"fair_trial=1..3": "$FAIR_TRIAL",
		"rank=1..3":       "$RANK",
	}
	for in, want := range bad {
		_, err := ParseParam(in)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want one line with %q", in, err, want)
		}
	}
}

func TestSpecValidate(t *testing.T) {
	lr, _ := ParseParam("lr=0.1..1")
	x, _ := ParseParam("LR=1..2")
	cases := map[string]Spec{
		"at least one --param":  {Objective: "loss"},
		"--objective":           {Params: []Param{lr}},
		"letters, digits":       {Params: []Param{lr}, Objective: "val loss"},
		"--goal":                {Params: []Param{lr}, Objective: "loss", Goal: "lowest"},
		"more than --trials":    {Params: []Param{lr}, Objective: "loss", Trials: 2, Parallel: 3},
		"given twice":           {Params: []Param{lr, x}, Objective: "loss"},
		"needs a step":          {Params: []Param{lr}, Objective: "loss", Algorithm: "grid"},
		"letters, digits, _, -": {Params: []Param{lr}, Objective: "loss", Metrics: []string{"a b"}},
	}
	for want, s := range cases {
		s.Defaults()
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v", want, err)
		}
	}
	ok := Spec{Params: []Param{lr}, Objective: "val-loss|x_1"}
	ok.Defaults()
	if err := ok.Validate(); err != nil || ok.Trials != 12 || ok.Parallel != 3 || ok.Algorithm != "random" || ok.Goal != "minimize" {
		t.Fatalf("%+v: %v", ok, err)
	}
}

func params(t *testing.T, specs ...string) []Param {
	var ps []Param
	for _, s := range specs {
		p, err := ParseParam(s)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func TestExperimentJob(t *testing.T) {
	goal := 0.01
	s := Spec{Params: params(t, "lr=0.001..0.1:log", "layers=1,2,3"), Objective: "loss", GoalValue: &goal, Metrics: []string{"acc"},
		Algorithm: "tpe", Settings: map[string]string{"random_state": "7"}, Trials: 6, Parallel: 2, Args: true}
	w := &deployer.Workload{Kind: deployer.KindJob, Name: "sw", Namespace: "ns", Image: "reg/img:v1", GPUs: 1, Args: []string{"--epochs=3"}, Env: []deployer.EnvVar{{Name: "A", Value: "1"}}}
	e, err := Experiment(s, w)
	if err != nil {
		t.Fatal(err)
	}
	if e.GetName() != "sw" || e.GetNamespace() != "ns" || e.GetLabels()[LabelSweep] != "sw" || e.GetLabels()[deployer.LabelManagedBy] != "fair" {
		t.Fatalf("metadata %v", e.Object["metadata"])
	}
	get := func(f ...string) any {
		v, ok, err := unstructured.NestedFieldNoCopy(e.Object, f...)
		if !ok || err != nil {
			t.Fatalf("%v: missing (%v)", f, err)
		}
		return v
	}
	if get("spec", "maxTrialCount") != int64(6) || get("spec", "parallelTrialCount") != int64(2) || get("spec", "maxFailedTrialCount") != int64(6) {
		t.Fatalf("counts %v", e.Object["spec"])
	}
	if get("spec", "objective", "goal") != 0.01 || get("spec", "objective", "type") != "minimize" || get("spec", "algorithm", "algorithmName") != "tpe" {
		t.Fatal(e.Object["spec"])
	}
	if get("spec", "metricsCollectorSpec", "collector", "kind") != "StdOut" || get("spec", "trialTemplate", "primaryContainerName") != "fair" {
		t.Fatal("collector or container")
	}
	if f := get("spec", "metricsCollectorSpec", "source", "filter", "metricsFormat").([]any); len(f) != 1 || f[0] != MetricFormat {
		t.Fatalf("metric filter %v", f)
	}
	ps := get("spec", "parameters").([]any)
	lr := ps[0].(map[string]any)
	if lr["parameterType"] != "double" || lr["feasibleSpace"].(map[string]any)["distribution"] != "logUniform" {
		t.Fatalf("lr %v", lr)
	}
	if ps[1].(map[string]any)["parameterType"] != "discrete" {
		t.Fatalf("layers %v", ps[1])
	}
	spec := get("spec", "trialTemplate", "trialSpec").(map[string]any)
	u := &unstructured.Unstructured{Object: spec}
	if u.GetName() != "" || u.GetNamespace() != "" || u.GetKind() != "Job" {
		t.Fatalf("trial spec metadata: %v", spec["metadata"])
	}
	if u.GetLabels()[deployer.LabelRun] != "" || u.GetLabels()[LabelSweep] != "sw" {
		t.Fatalf("trial labels %v", u.GetLabels())
	}
	podLabels, _, _ := unstructured.NestedStringMap(spec, "spec", "template", "metadata", "labels")
	if podLabels[LabelTrial] != "${trialParameters.fairTrialName}" || podLabels[deployer.LabelRun] != "" {
		t.Fatalf("pod labels %v", podLabels)
	}
	cs, _, _ := unstructured.NestedSlice(spec, "spec", "template", "spec", "containers")
	c := cs[0].(map[string]any)
	env := map[string]string{}
	for _, e := range c["env"].([]any) {
		m := e.(map[string]any)
		env[m["name"].(string)] = m["value"].(string)
	}
	if env["LR"] != "${trialParameters.lr}" || env["LAYERS"] != "${trialParameters.layers}" || env["A"] != "1" || env["FAIR_TRIAL"] != "${trialParameters.fairTrialName}" || env["FAIR_SWEEP"] != "sw" {
		t.Fatalf("env %v", env)
	}
	args := c["args"].([]any)
	if len(args) != 3 || args[0] != "--epochs=3" || args[1] != "--lr=${trialParameters.lr}" {
		t.Fatalf("args %v", args)
	}
	if lim, _, _ := unstructured.NestedString(c, "resources", "limits", "nvidia.com/gpu"); lim != "1" {
		t.Fatalf("GPU limit %q in %v", lim, c["resources"])
	}
	tps := get("spec", "trialTemplate", "trialParameters").([]any)
	if last := tps[len(tps)-1].(map[string]any); last["reference"] != "${trialSpec.Name}" {
		t.Fatalf("trial name parameter %v", last)
	}
	// The caller's workload is left as it was.
	if len(w.Env) != 1 || len(w.Args) != 1 {
		t.Fatalf("workload changed: %+v", w)
	}
}

func TestExperimentKinds(t *testing.T) {
	s := Spec{Params: params(t, "lr=0.1..1"), Objective: "loss"}
	e, err := Experiment(s, &deployer.Workload{Kind: deployer.KindPyTorchJob, Name: "p", Namespace: "ns", Image: "i", Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	l, _, _ := unstructured.NestedStringMap(e.Object, "spec", "trialTemplate", "primaryPodLabels")
	if l["training.kubeflow.org/job-role"] != "master" {
		t.Fatalf("primary pod labels %v", l)
	}
	if _, err := Experiment(s, &deployer.Workload{Kind: deployer.KindDeployment, Name: "d", Namespace: "ns", Image: "i"}); err == nil || !strings.Contains(err.Error(), "job, pytorchjob or trainjob") {
		t.Fatalf("deployment: %v", err)
	}
}

func obj(m map[string]any) unstructured.Unstructured { return unstructured.Unstructured{Object: m} }

func trialObj(name, created, phase string, lr, loss string) unstructured.Unstructured {
	st := map[string]any{"conditions": []any{
		map[string]any{"type": "Created", "status": "True"},
		map[string]any{"type": "Running", "status": "False", "lastTransitionTime": created},
		map[string]any{"type": phase, "status": "True", "message": phase + " message"},
	}}
	if loss != "" {
		st["observation"] = map[string]any{"metrics": []any{map[string]any{"name": "loss", "min": loss, "max": "9", "latest": loss}}}
	}
	return obj(map[string]any{"metadata": map[string]any{"name": name, "creationTimestamp": created},
		"spec":   map[string]any{"parameterAssignments": []any{map[string]any{"name": "opt", "value": "sgd"}, map[string]any{"name": "lr", "value": lr}}},
		"status": st})
}

func TestStatusTableChart(t *testing.T) {
	e := obj(map[string]any{
		"metadata": map[string]any{"name": "sw", "namespace": "ns", "creationTimestamp": "2026-01-01T00:00:00Z", "labels": map[string]any{"fair.dev/kind": "job"}},
		"spec": map[string]any{"maxTrialCount": int64(4), "parallelTrialCount": int64(2),
			"objective": map[string]any{"objectiveMetricName": "loss", "type": "minimize"},
			"algorithm": map[string]any{"algorithmName": "random"},
			"parameters": []any{map[string]any{"name": "lr", "parameterType": "double", "feasibleSpace": map[string]any{"min": "0.1", "max": "1", "distribution": "logUniform"}},
				map[string]any{"name": "opt", "parameterType": "categorical", "feasibleSpace": map[string]any{"list": []any{"adam", "sgd"}}}}},
		"status": map[string]any{"conditions": []any{map[string]any{"type": "Running", "status": "False"}, map[string]any{"type": "Succeeded", "status": "True", "reason": "ExperimentMaxTrialsReached"}},
			"currentOptimalTrial": map[string]any{"bestTrialName": "sw-b"}},
	})
	trials := []unstructured.Unstructured{
		trialObj("sw-c", "2026-01-01T00:00:03Z", "Failed", "0.9", ""),
		trialObj("sw-a", "2026-01-01T00:00:01Z", "Succeeded", "0.5", "0.4"),
		trialObj("sw-b", "2026-01-01T00:00:02Z", "Succeeded", "0.2", "0.1"),
		trialObj("sw-d", "2026-01-01T00:00:04Z", "MetricsUnavailable", "0.3", ""),
	}
	st := FromObjects(&e, trials)
	if !st.Done() || st.Phase != "Succeeded" || st.Succeeded != 2 || st.FailedCount != 2 || st.Best == nil || st.Best.Name != "sw-b" || *st.Best.Objective != 0.1 {
		t.Fatalf("%+v", st)
	}
	if st.Trials[0].Name != "sw-a" || st.ParamSpecs[0] != "lr=0.1..1:log" || st.ParamSpecs[1] != "opt=adam,sgd" || st.Trials[0].Params[0].Name != "lr" {
		t.Fatalf("order or spec: %v %v", st.Trials[0].Name, st.ParamSpecs)
	}
	var b strings.Builder
	if err := st.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "sw-b*") || !strings.Contains(b.String(), "LOSS") || strings.Count(b.String(), "\n") != 5 {
		t.Fatalf("table:\n%s", b.String())
	}
	if sum := st.Summary(); !strings.Contains(sum, "best loss=0.1 (sw-b)") || !strings.Contains(sum, "4/4 trials") {
		t.Fatal(sum)
	}
	if cmd := st.BestCommand("./train dir", "", true); cmd != "fair train -e LR=0.2 -e OPT=sgd './train dir' -- --lr=0.2 --opt=sgd" {
		t.Fatal(cmd)
	}
	if cmd := st.BestCommand("", "", false, "--gpus", "1"); cmd != "%%kf train --gpus 1 -e LR=0.2 -e OPT=sgd" {
		t.Fatal(cmd)
	}
	svg := st.SVG()
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("SVG is not XML: %v\n%s", err, svg)
	}
	if strings.Count(svg, "<circle") != 2 || !strings.Contains(svg, "best so far") || !strings.Contains(svg, `r="6"`) {
		t.Fatalf("SVG: %s", svg)
	}
	// A best trial Katib chose without a value (a metric that did not
	// parse) is not starred.
	e2 := e.DeepCopy()
	_ = unstructured.SetNestedField(e2.Object, "sw-c", "status", "currentOptimalTrial", "bestTrialName")
	if st := FromObjects(e2, trials); st.Best != nil {
		t.Errorf("best without a value: %+v", st.Best)
	}
	// Before any metric: a chart that says so.
	empty := FromObjects(&e, nil)
	if svg := empty.SVG(); !strings.Contains(svg, "no trial has reported loss") {
		t.Fatal(svg)
	}
	// Hostile names are escaped.
	st.Trials[0].Name = `<script>&"`
	if svg := st.SVG(); strings.Contains(svg, "<script>") {
		t.Fatal("unescaped name in SVG")
	}
	_ = time.Now
}

// The metric filter reads NAME=NUMBER as Katib's default does, and leaves
// NaN and Inf out (the default records them as an empty value, which Katib
// then ranks best and cannot parse).
func TestMetricFormat(t *testing.T) {
	re := regexp.MustCompile(MetricFormat)
	for line, want := range map[string]string{
		"epoch 3 val_loss=0.25 acc=0.9": "val_loss=0.25 acc=0.9",
		"loss = -1.5e-3":                "loss=-1.5e-3",
		"loss=.5":                       "loss=.5",
		"loss=3.":                       "loss=3.",
		"val_loss=NaN acc=0.5":          "acc=0.5",
		"loss=Inf":                      "",
		"loss=":                         "",
	} {
		var got []string
		for _, m := range re.FindAllStringSubmatch(line, -1) {
			got = append(got, m[1]+"="+m[2])
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%q: %q, want %q", line, got, want)
		}
	}
}
