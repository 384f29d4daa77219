package launch

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
	"github.com/fair-go/fair/sweep"
)

// katibReady's answers for a cluster without Katib, with it, and with a
// configuration that lacks the algorithm (discovery and ConfigMaps from
// client-go's fake clientset: the logic, not the API server, is tested).
func TestKatibReady(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	c := &deployer.Client{Core: cs, Discovery: cs.Discovery()}
	_, err := katibReady(ctx, c, "random")
	if err == nil || !strings.Contains(err.Error(), "no Katib on this cluster") || !strings.Contains(err.Error(), "katib-standalone?ref=v0.19.0") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("without Katib: %v", err)
	}
	cs.Resources = []*metav1.APIResourceList{{GroupVersion: "kubeflow.org/v1beta1", APIResources: []metav1.APIResource{{Name: "experiments", Kind: "Experiment", Namespaced: true}}}}
	if _, err := katibReady(ctx, c, "anything"); err != nil {
		t.Fatalf("Katib without a readable configuration: %v", err)
	}
	cs.CoreV1().ConfigMaps("kubeflow").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "katib-config", Namespace: "kubeflow"},
		Data: map[string]string{"katib-config.yaml": "runtime:\n  suggestions:\n  - algorithmName: random\n    image: x\n  - algorithmName: tpe\n    image: reg/katib-suggestion-goptuna:v1\n"}}, metav1.CreateOptions{})
	if img, err := katibReady(ctx, c, "tpe"); err != nil || img != "reg/katib-suggestion-goptuna:v1" {
		t.Fatalf("tpe: %q %v", img, err)
	}
	if _, err := katibReady(ctx, c, "grid"); err == nil || !strings.Contains(err.Error(), "no suggestion service for it (it has: random, tpe)") {
		t.Fatalf("grid: %v", err)
	}
}

// FollowSweep writes a line per trial change where there is no terminal,
// and the table (redrawn in place) where there is one.
func TestFollowSweepOutput(t *testing.T) {
	exp := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment",
		"metadata": map[string]any{"name": "sw", "namespace": "ns"},
		"spec":     map[string]any{"maxTrialCount": int64(1), "objective": map[string]any{"objectiveMetricName": "loss", "type": "minimize"}},
		"status": map[string]any{"conditions": []any{map[string]any{"type": "Succeeded", "status": "True", "message": "max trial count has reached"}},
			"currentOptimalTrial": map[string]any{"bestTrialName": "sw-a"}},
	}}
	trial := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kubeflow.org/v1beta1", "kind": "Trial",
		"metadata": map[string]any{"name": "sw-a", "namespace": "ns", "labels": map[string]any{sweep.KatibExperimentLabel: "sw"}},
		"spec":     map[string]any{"parameterAssignments": []any{map[string]any{"name": "lr", "value": "0.1"}}},
		"status": map[string]any{"conditions": []any{map[string]any{"type": "Succeeded", "status": "True"}},
			"observation": map[string]any{"metrics": []any{map[string]any{"name": "loss", "min": "0.5", "max": "0.9", "latest": "0.5"}}}},
	}}
	scheme := runtime.NewScheme()
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, map[schema.GroupVersionResource]string{
		sweep.ExperimentGVR: "ExperimentList", sweep.TrialGVR: "TrialList"}, exp, trial)
	c := &deployer.Client{Dynamic: dyn}
	for _, tty := range []bool{false, true} {
		var progress strings.Builder
		st, err := FollowSweep(context.Background(), c, "ns", "sw", Options{Progress: &progress, TTY: tty}, SweepOptions{})
		if err != nil || st.Best == nil || st.Best.Name != "sw-a" {
			t.Fatalf("tty %v: %v %+v", tty, err, st)
		}
		line := strings.Contains(progress.String(), "trial sw-a: succeeded (lr=0.1) loss=0.5")
		table := strings.Contains(progress.String(), "sw-a*") && strings.Contains(progress.String(), "LOSS")
		if line == tty || table != tty {
			t.Errorf("tty %v:\n%s", tty, progress.String())
		}
	}
	var out strings.Builder
	st, _ := FollowSweep(context.Background(), c, "ns", "sw", Options{}, SweepOptions{})
	WriteSweepResult(&out, st, "fair train -e LR=0.1 .")
	for _, want := range []string{"best trial sw-a: loss=0.5 with lr=0.1", "succeeded: max trial count has reached", "train with them: fair train -e LR=0.1 ."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out.String())
		}
	}
}

// Ctrl-C while following: the sweep goes on (detached) unless the
// configuration says cancel, which deletes it.
func TestSweepInterrupted(t *testing.T) {
	exp := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment",
		"metadata": map[string]any{"name": "sw", "namespace": "ns"},
		"spec":     map[string]any{"maxTrialCount": int64(2)},
	}}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		sweep.ExperimentGVR: "ExperimentList", sweep.TrialGVR: "TrialList"}, exp)
	c := &deployer.Client{Dynamic: dyn}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := FollowSweep(ctx, c, "ns", "sw", Options{}, SweepOptions{})
	if !errors.Is(err, ErrDetached) || !strings.Contains(err.Error(), "fair sweep status sw -w -n ns") {
		t.Fatalf("follow after Ctrl-C: %v", err)
	}
	if got := interrupted(c, "ns", "sw", "detach", io.Discard, err); got != err {
		t.Fatalf("detach: %v", got)
	}
	if _, gerr := dyn.Resource(sweep.ExperimentGVR).Namespace("ns").Get(context.Background(), "sw", metav1.GetOptions{}); gerr != nil {
		t.Fatalf("detached sweep gone: %v", gerr)
	}
	var progress strings.Builder
	if got := interrupted(c, "ns", "sw", "cancel", &progress, err); !errors.Is(got, ErrCancelled) || !strings.Contains(progress.String(), "sweep sw deleted") {
		t.Fatalf("cancel: %v %q", got, progress.String())
	}
	if _, gerr := dyn.Resource(sweep.ExperimentGVR).Namespace("ns").Get(context.Background(), "sw", metav1.GetOptions{}); gerr == nil {
		t.Fatal("cancelled sweep still there")
	}
}

// The command that trains like the best trial keeps the flags that shape
// the build and the run (a Python folder needs --base and --cmd), not
// those fair.yaml gives anyway.
func TestGivenFlags(t *testing.T) {
	cfg := config.Default()
	must(t, cfg.Set("base", "reg/py@sha256:abc", config.OriginFlag+" --base"))
	must(t, cfg.Set("cmd", "python3 train.py", config.OriginFlag+" --cmd"))
	must(t, cfg.Set("namespace", "team", config.OriginFlag+" -n"))
	must(t, cfg.Set("memory", "2Gi", "/p/fair.yaml"))
	must(t, cfg.Set("env", "SEED=1", config.OriginFlag+" --env"))
	got := strings.Join(givenFlags(cfg), " ")
	if got != "--base reg/py@sha256:abc --cmd python3 train.py -n team -e SEED=1" {
		t.Errorf("got %q", got)
	}
}
