// Package buildkitd runs a BuildKit daemon in the user's namespace, as
// Fairing's cluster builder did, so that a Dockerfile project builds where
// the laptop has no daemon: fair buildkit up starts it (a Deployment of one
// privileged pod), and --buildkit kube-pod://NAME builds through it over a
// port-forward, with no Service, Ingress or kubectl. The image BuildKit
// exports comes back to fair, which pushes it as for any other build.
package buildkitd

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/deployer"
)

// Scheme addresses a daemon in the cluster: kube-pod://NAME[?namespace=NS&context=CTX],
// NAME being what fair buildkit up started (or any pod of that name).
const Scheme = "kube-pod://"

// Defaults of fair buildkit up.
const (
	DefaultName  = "fair-buildkitd"
	DefaultImage = "docker.io/moby/buildkit:v0.34.2"
	// Port is where the daemon listens in its pod.
	Port = 1234
)

// IsPod reports an address of a daemon in the cluster.
func IsPod(addr string) bool { return strings.HasPrefix(addr, Scheme) }

// Options of Up.
type Options struct {
	Name, Namespace, Image string
	// InsecureRegistries are reached over plain HTTP by the daemon (FROM
	// images of a registry without TLS).
	InsecureRegistries []string
	Progress           io.Writer
	Timeout            time.Duration // of the wait until ready; default 3 minutes
}

// Objects are the daemon's Deployment and its configuration.
func Objects(o Options) []*unstructured.Unstructured {
	labels := map[string]any{deployer.LabelManagedBy: deployer.ManagedBy, deployer.LabelRun: o.Name, deployer.LabelKind: string(deployer.KindDeployment),
		"app.kubernetes.io/name": "buildkitd", "app.kubernetes.io/component": "builder"}
	toml := "# written by fair buildkit up\n"
	regs := append([]string(nil), o.InsecureRegistries...)
	sort.Strings(regs)
	for _, r := range regs {
		toml += fmt.Sprintf("[registry.%q]\n  http = true\n  insecure = true\n", r)
	}
	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": o.Name + "-config", "namespace": o.Namespace, "labels": labels},
		"data":     map[string]any{"buildkitd.toml": toml},
	}}
	pod := map[string]any{
		"containers": []any{map[string]any{
			"name":  "buildkitd",
			"image": o.Image,
			// buildkitd on PATH: /usr/bin in BuildKit's images, /app in one
			// fair built from a folder.
			"command": []any{"buildkitd"},
			"args": []any{"--addr", fmt.Sprintf("tcp://0.0.0.0:%d", Port), "--config", "/etc/buildkit/buildkitd.toml",
				"--oci-worker-net", "host"},
			"env":             []any{map[string]any{"name": "PATH", "value": "/app:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
			"ports":           []any{map[string]any{"name": "buildkit", "containerPort": int64(Port)}},
			"securityContext": map[string]any{"privileged": true},
			"readinessProbe":  map[string]any{"tcpSocket": map[string]any{"port": int64(Port)}, "periodSeconds": int64(1)},
			"volumeMounts": []any{
				map[string]any{"name": "state", "mountPath": "/var/lib/buildkit"},
				map[string]any{"name": "config", "mountPath": "/etc/buildkit"},
			},
		}},
		"volumes": []any{
			map[string]any{"name": "state", "emptyDir": map[string]any{}},
			map[string]any{"name": "config", "configMap": map[string]any{"name": o.Name + "-config"}},
		},
	}
	dep := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": o.Name, "namespace": o.Namespace, "labels": labels},
		"spec": map[string]any{
			"replicas": int64(1),
			"strategy": map[string]any{"type": "Recreate"}, // one daemon owns its state
			"selector": map[string]any{"matchLabels": map[string]any{deployer.LabelRun: o.Name}},
			"template": map[string]any{"metadata": map[string]any{"labels": labels}, "spec": pod},
		},
	}}
	return []*unstructured.Unstructured{cm, dep}
}

// Up starts (or updates) the daemon and waits until it accepts
// connections.
func Up(ctx context.Context, c *deployer.Client, o Options) error {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Image == "" {
		o.Image = DefaultImage
	}
	if o.Namespace == "" {
		o.Namespace = c.Namespace
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if _, err := c.Apply(ctx, Objects(o), deployer.ApplyOptions{ForceConflicts: true}); err != nil {
		return err
	}
	fmt.Fprintf(o.Progress, "deployment/%s applied in namespace %s (image %s); waiting for BuildKit...\n", o.Name, o.Namespace, o.Image)
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if p, err := readyPod(wctx, c, o.Namespace, o.Name); err == nil && p != nil {
			fmt.Fprintf(o.Progress, "BuildKit ready in pod %s; build with --buildkit %s%s?namespace=%s\n", p.Name, Scheme, o.Name, o.Namespace)
			return nil
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("BuildKit in deployment/%s not ready after %s (fair status %s -n %s shows why)", o.Name, timeout, o.Name, o.Namespace)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Down deletes the daemon and its configuration.
func Down(ctx context.Context, c *deployer.Client, name, ns string) error {
	if ns == "" {
		ns = c.Namespace
	}
	err := c.Core.AppsV1().Deployments(ns).Delete(ctx, name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("no BuildKit deployment %s in namespace %s", name, ns)
	}
	if err != nil {
		return err
	}
	// The Deployment's pods go when the garbage collector gets to them;
	// deleted now, they are terminating at once, so no build picks one up
	// after down returns (where the user may delete pods).
	if err := c.Core.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{},
		metav1.ListOptions{LabelSelector: deployer.LabelRun + "=" + name}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err) {
		return err
	}
	if err := c.Core.CoreV1().ConfigMaps(ns).Delete(ctx, name+"-config", metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// readyPod is a ready pod of the daemon called name: one fair started, or
// a pod of that name.
func readyPod(ctx context.Context, c *deployer.Client, ns, name string) (*corev1.Pod, error) {
	list, err := c.Core.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: deployer.LabelRun + "=" + name})
	if err != nil {
		return nil, err
	}
	pods := list.Items
	if len(pods) == 0 {
		if p, err := c.Core.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			pods = []corev1.Pod{*p}
		}
	}
	for i := range pods {
		p := &pods[i]
		if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
			continue
		}
		for _, cnd := range p.Status.Conditions {
			if cnd.Type == corev1.PodReady && cnd.Status == corev1.ConditionTrue {
				return p, nil
			}
		}
	}
	return nil, nil
}

// Forward opens a port-forward to the daemon addr names (kube-pod://...)
// and returns the local address BuildKit's client dials; stop ends it.
func Forward(ctx context.Context, cfg *config.Config, addr string) (local string, stop func(), err error) {
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return "", nil, fmt.Errorf("--buildkit %q: want %sNAME[?namespace=NS&context=CTX]", addr, Scheme)
	}
	name, q := u.Host, u.Query()
	kctx, ns := cfg.Context, cfg.Namespace
	if v := q.Get("context"); v != "" {
		kctx = v
	}
	if v := q.Get("namespace"); v != "" {
		ns = v
	}
	c, err := deployer.Connect(deployer.WithKubeconfig(cfg.Kubeconfig), deployer.WithContext(kctx), deployer.WithNamespace(ns))
	if err != nil {
		return "", nil, err
	}
	p, err := readyPod(ctx, c, c.Namespace, name)
	if err != nil {
		return "", nil, err
	}
	if p == nil {
		return "", nil, fmt.Errorf("--buildkit %s: no ready BuildKit pod %s in namespace %s; start one with: fair buildkit up -n %s", addr, name, c.Namespace, c.Namespace)
	}
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	url, done, err := c.PortForwardPod(fctx, p, 0, Port)
	if err != nil {
		cancel()
		return "", nil, err
	}
	stop = func() {
		cancel()
		<-done
	}
	return "tcp://" + strings.TrimPrefix(url, "http://"), stop, nil
}
