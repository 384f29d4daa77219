package launch

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fair-go/fair/sweep"
	"github.com/fair-go/fair/test/testbed"
)

// TestTestbedSweepGoneWaitsForTrials: a sweep is not gone while a Trial
// with its name is left, since Katib counts every Trial labelled with an
// Experiment's name as that Experiment's (a rerun of the same name ended at
// once, "max trial count has reached", none of its own trials run). The
// Trial runs a suspended Job: no pod starts.
func TestTestbedSweepGoneWaitsForTrials(t *testing.T) {
	bed := testbed.Env(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if !sweepGone(ctx, bed.Dynamic, bed.Namespace, "old") {
		t.Fatal("a sweep that never was is not gone")
	}
	trial := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kubeflow.org/v1beta1", "kind": "Trial",
		"metadata": map[string]any{"name": "old-left", "labels": map[string]any{sweep.KatibExperimentLabel: "old"}},
		"spec": map[string]any{
			"objective": map[string]any{"type": "minimize", "objectiveMetricName": "loss"},
			"runSpec": map[string]any{
				"apiVersion": "batch/v1", "kind": "Job",
				"metadata": map[string]any{"name": "old-left", "namespace": bed.Namespace},
				"spec": map[string]any{"suspend": true, "template": map[string]any{"spec": map[string]any{
					"restartPolicy": "Never",
					"containers":    []any{map[string]any{"name": "fair", "image": bed.Registry + "/none:never", "command": []any{"/none"}}},
				}}},
			},
		},
	}}
	trials := bed.Dynamic.Resource(sweep.TrialGVR).Namespace(bed.Namespace)
	if _, err := trials.Create(ctx, trial, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if sweepGone(ctx, bed.Dynamic, bed.Namespace, "old") {
		t.Fatal("a Trial with the sweep's name is left, and the sweep counts as gone")
	}
	if !sweepGone(ctx, bed.Dynamic, bed.Namespace, "older") {
		t.Error("a Trial of another sweep keeps sweep older")
	}
	if err := trials.Delete(ctx, "old-left", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for !sweepGone(ctx, bed.Dynamic, bed.Namespace, "old") {
		select {
		case <-ctx.Done():
			_, err := trials.Get(context.Background(), "old-left", metav1.GetOptions{})
			t.Fatalf("the Trial was deleted and the sweep is still not gone (reading the Trial: %v)", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
