package deployer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fair-go/fair/test/testbed"
)

// A port-forward that gives up (not ready in time) and whose context ends
// afterwards must not close its stop channel twice: that panicked, and
// took the notebook kernel down during %kf predict.
func TestTestbedPortForwardTimeoutThenCancel(t *testing.T) {
	bed := testbed.Env(t)
	ref, err := os.ReadFile(filepath.Join(testbed.Dir(), "images", "pause"))
	if err != nil {
		t.Fatalf("the test bed's pause image: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pf", Labels: map[string]string{LabelRun: "pf"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "fair", Image: strings.TrimSpace(string(ref))}}}}
	if _, err := bed.Client.CoreV1().Pods(bed.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		p, err := bed.Client.CoreV1().Pods(bed.Namespace).Get(ctx, "pf", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ready := false
		for _, c := range p.Status.Conditions {
			ready = ready || c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
		}
		if ready {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the pod never became ready")
		}
		time.Sleep(200 * time.Millisecond)
	}
	c, err := Connect(WithRESTConfig(bed.Config), WithNamespace(bed.Namespace))
	if err != nil {
		t.Fatal(err)
	}
	run := Run{Name: "pf", Namespace: bed.Namespace, Kind: KindDeployment}
	for i := 0; i < 5; i++ {
		c.portForwardTimeout = time.Nanosecond
		fctx, fcancel := context.WithCancel(ctx)
		_, _, err := c.PortForward(fctx, run, 0, 8080)
		fcancel()
		time.Sleep(200 * time.Millisecond) // a second close panicked here
		if err != nil && !strings.Contains(err.Error(), "not ready after") {
			t.Errorf("try %d: %v", i, err)
		}
	}
	// With time to be ready, it forwards, and ends with its context: over
	// WebSockets, as kubectl does (the test bed's API server upgrades to
	// them), and over SPDY when asked to (as when an API server does not).
	c.portForwardTimeout = 0
	for _, want := range []string{"websocket", "spdy"} {
		c.portForwardSPDY = want == "spdy"
		var via string
		c.portForwardDialed = func(v string) { via = v }
		fctx, fcancel := context.WithCancel(ctx)
		url, done, err := c.PortForward(fctx, run, 0, 8080)
		if err != nil || !strings.HasPrefix(url, "http://127.0.0.1:") {
			t.Fatalf("forward (%s): %q %v", want, url, err)
		}
		if via != want {
			t.Errorf("the forward connected over %q, want %q", via, want)
		}
		fcancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("the forward (%s) did not end with its context", want)
		}
	}
}
