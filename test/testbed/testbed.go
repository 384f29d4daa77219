// Package testbed connects tests to the local Kubernetes test bed that
// hack/testbed/testbed up starts (see docs/testbed.md).
//
// A test that needs a cluster calls Env. It skips only when FAIR_TESTBED=off
// is set, and says so; otherwise a missing or unreachable test bed fails the
// test, so CI cannot pass by silently skipping.
package testbed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// DefaultRegistry is the test bed's registry address unless
// FAIR_TESTBED_REGISTRY says otherwise.
const DefaultRegistry = "127.0.0.1:5055"

// Bed is a connection to the test bed plus a namespace of the test's own.
type Bed struct {
	Client    kubernetes.Interface
	Dynamic   dynamic.Interface
	Config    *rest.Config
	Registry  string // host:port of the plain-HTTP registry the node pulls from
	Namespace string // fresh, deleted when the test ends
}

// Dir is the test bed's state folder: FAIR_TESTBED_DIR, or fair/testbed in
// the user's cache folder.
func Dir() string {
	if d := os.Getenv("FAIR_TESTBED_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "fair", "testbed")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "fair", "testbed")
}

// Kubeconfig is FAIR_TESTBED_KUBECONFIG or the test bed's admin kubeconfig.
// KUBECONFIG is deliberately not used: tests must never land on a user's
// real cluster by accident.
func Kubeconfig() string {
	if k := os.Getenv("FAIR_TESTBED_KUBECONFIG"); k != "" {
		return k
	}
	return filepath.Join(Dir(), "admin.kubeconfig")
}

// Registry is FAIR_TESTBED_REGISTRY or DefaultRegistry.
func Registry() string {
	if r := os.Getenv("FAIR_TESTBED_REGISTRY"); r != "" {
		return r
	}
	return DefaultRegistry
}

// RequireKatib skips t where the test bed runs without Katib
// (FAIR_TESTBED_KATIB=0).
func RequireKatib(t testing.TB) {
	t.Helper()
	if os.Getenv("FAIR_TESTBED_KATIB") == "0" {
		t.Skip("FAIR_TESTBED_KATIB=0: the test bed runs without Katib")
	}
}

// Env returns clients for the test bed and a fresh namespace whose default
// ServiceAccount exists. The namespace is deleted when the test ends; if the
// test failed, its pods and events are logged first.
func Env(t testing.TB) *Bed {
	t.Helper()
	if os.Getenv("FAIR_TESTBED") == "off" {
		t.Skip("FAIR_TESTBED=off: skipping a test that needs the local Kubernetes test bed")
	}
	kubeconfig := Kubeconfig()
	how := "start it with `make testbed-up` (or hack/testbed/testbed up), or set FAIR_TESTBED=off to skip"
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatalf("test bed: cannot load %s: %v; %s", kubeconfig, err, how)
	}
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("test bed: %v", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("test bed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cs.Discovery().ServerVersion(); err != nil {
		t.Fatalf("test bed: API server at %s not reachable: %v; %s", cfg.Host, err, how)
	}

	sweepOnce.Do(func() { sweepStale(ctx, cs) })
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: "fair-test-",
		Labels:       map[string]string{"fair.dev/test": label(t.Name())},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("test bed: create namespace: %v", err)
	}
	b := &Bed{Client: cs, Dynamic: dyn, Config: cfg, Registry: Registry(), Namespace: ns.Name}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if t.Failed() {
			b.dump(ctx, t)
		}
		if err := cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("test bed: delete namespace %s: %v", ns.Name, err)
		}
	})
	// Pods cannot be created before the namespace's default ServiceAccount.
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("test bed: default ServiceAccount in %s did not appear: %v", ns.Name, err)
	}
	return b
}

// dump logs the namespace's pods and events, to explain a failure.
var sweepOnce sync.Once

// staleAfter is how old a test namespace must be to be taken for one a
// killed test run left behind: longer than any package's test run.
const staleAfter = 90 * time.Minute

// sweepStale deletes test namespaces that a killed test binary (a timeout,
// a stopped CI run) never deleted: the test bed outlives runs, and their
// crash-looping pods and unfinished runs would otherwise stay for good.
func sweepStale(ctx context.Context, cs kubernetes.Interface) {
	l, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: "fair.dev/test"})
	if err != nil {
		return
	}
	for _, ns := range l.Items {
		if ns.DeletionTimestamp == nil && time.Since(ns.CreationTimestamp.Time) > staleAfter {
			_ = cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
		}
	}
}

func (b *Bed) dump(ctx context.Context, t testing.TB) {
	pods, err := b.Client.CoreV1().Pods(b.Namespace).List(ctx, metav1.ListOptions{})
	if err == nil {
		for _, p := range pods.Items {
			t.Logf("pod %s: phase %s on %q", p.Name, p.Status.Phase, p.Spec.NodeName)
		}
	}
	events, err := b.Client.CoreV1().Events(b.Namespace).List(ctx, metav1.ListOptions{})
	if err == nil {
		for _, e := range events.Items {
			t.Logf("event %s/%s: %s %s", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message)
		}
	}
}

var (
	fairOnce sync.Once
	fairPath string
	fairErr  error
)

// Image builds the Go main package in dir (relative to the module root or
// absolute) with fair's own builder, pushes it to the test bed's registry
// and returns its digest reference. The fair CLI is built once per test
// binary from this module's ./cmd/fair.
func (b *Bed) Image(t testing.TB, dir string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("test bed: %v", err)
	}
	fairOnce.Do(func() {
		// One path per user, replaced atomically: test processes running
		// at once share it and none leaves a copy behind.
		fairPath = filepath.Join(os.TempDir(), fmt.Sprintf("fair-testbed-cli-%d", os.Getuid()))
		tmp := fmt.Sprintf("%s.%d", fairPath, os.Getpid())
		out, err := exec.Command("go", "build", "-o", tmp, filepath.Join(root, "cmd", "fair")).CombinedOutput()
		if err != nil {
			fairErr = fmt.Errorf("go build ./cmd/fair: %v\n%s", err, out)
			return
		}
		fairErr = os.Rename(tmp, fairPath)
	})
	if fairErr != nil {
		t.Fatalf("test bed: %v", fairErr)
	}
	if !filepath.IsAbs(dir) {
		dir = "./" + filepath.ToSlash(filepath.Clean(dir))
	}
	repo := b.Registry + "/fair-test/" + filepath.Base(dir)
	cmd := exec.Command(fairPath, "build", dir, "--repo", repo, "--tag", "test")
	cmd.Dir = root
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("fair build %s: %v\n%s", dir, err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	ref := strings.TrimSpace(lines[len(lines)-1])
	if !strings.Contains(ref, "@sha256:") {
		t.Fatalf("fair build %s printed %q, want a reference by digest", dir, ref)
	}
	return ref
}

// moduleRoot finds the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the fair module")
	}
	return filepath.Dir(gomod), nil
}

// label turns a test name into a valid label value.
func label(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.', r == '_':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	v := strings.Trim(b.String(), "-._")
	if len(v) > 63 {
		v = strings.Trim(v[:63], "-._")
	}
	return v
}
