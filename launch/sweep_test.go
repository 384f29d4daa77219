package launch

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/fair-go/fair/deployer"
)

// katibReady's answers for a cluster without Katib, with it, and with a
// configuration that lacks the algorithm (discovery and ConfigMaps from
// client-go's fake clientset: the logic, not the API server, is tested).
func TestKatibReady(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	c := &deployer.Client{Core: cs, Discovery: cs.Discovery()}
	err := katibReady(ctx, c, "random")
	if err == nil || !strings.Contains(err.Error(), "no Katib on this cluster") || !strings.Contains(err.Error(), "katib-standalone?ref=v0.19.0") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("without Katib: %v", err)
	}
	cs.Resources = []*metav1.APIResourceList{{GroupVersion: "kubeflow.org/v1beta1", APIResources: []metav1.APIResource{{Name: "experiments", Kind: "Experiment", Namespaced: true}}}}
	if err := katibReady(ctx, c, "anything"); err != nil {
		t.Fatalf("Katib without a readable configuration: %v", err)
	}
	cs.CoreV1().ConfigMaps("kubeflow").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "katib-config", Namespace: "kubeflow"},
		Data: map[string]string{"katib-config.yaml": "runtime:\n  suggestions:\n  - algorithmName: random\n    image: x\n  - algorithmName: tpe\n    image: x\n"}}, metav1.CreateOptions{})
	if err := katibReady(ctx, c, "tpe"); err != nil {
		t.Fatalf("tpe: %v", err)
	}
	if err := katibReady(ctx, c, "grid"); err == nil || !strings.Contains(err.Error(), "no suggestion service for it (it has: random, tpe)") {
		t.Fatalf("grid: %v", err)
	}
}
