package deployer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Client talks to one cluster and namespace.
type Client struct {
	Config    *rest.Config
	Core      kubernetes.Interface
	Dynamic   dynamic.Interface
	Discovery discovery.DiscoveryInterface
	Namespace string // default namespace (from -n, the kubeconfig context, or "default")
	Context   string // kubeconfig context name, for messages

	mapper             *lazyMapper
	portForwardTimeout time.Duration // default 30 s; tests shorten it
	portForwardSPDY    bool          // tests: SPDY only, as FAIR_PORT_FORWARD_WEBSOCKETS=false
	portForwardDialed  func(via string)
}

// ConnectOption configures Connect.
type ConnectOption func(*connectOpts)

type connectOpts struct {
	kubeconfig, context, namespace string
	rest                           *rest.Config
}

// WithKubeconfig reads this kubeconfig file (or a list joined with the OS
// path list separator, as in KUBECONFIG) instead of the default rules.
func WithKubeconfig(path string) ConnectOption { return func(o *connectOpts) { o.kubeconfig = path } }

// WithContext picks a kubeconfig context.
func WithContext(name string) ConnectOption { return func(o *connectOpts) { o.context = name } }

// WithNamespace sets the default namespace.
func WithNamespace(ns string) ConnectOption { return func(o *connectOpts) { o.namespace = ns } }

// WithRESTConfig uses a ready client configuration (tests, in-process callers).
func WithRESTConfig(c *rest.Config) ConnectOption { return func(o *connectOpts) { o.rest = c } }

// Connect loads the cluster configuration as kubectl does: --kubeconfig,
// KUBECONFIG, ~/.kube/config, or the in-cluster service account; then
// --context and -n. It does not contact the cluster.
func Connect(opts ...ConnectOption) (*Client, error) {
	quietOnce.Do(quietStoppedWatches)
	var o connectOpts
	for _, opt := range opts {
		opt(&o)
	}
	c := &Client{Namespace: o.namespace, Context: o.context}
	rc := o.rest
	if rc == nil {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		if o.kubeconfig != "" {
			if list := filepath.SplitList(o.kubeconfig); len(list) > 1 {
				rules.Precedence = list
			} else {
				rules.ExplicitPath = o.kubeconfig
			}
		}
		over := &clientcmd.ConfigOverrides{CurrentContext: o.context}
		cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, over)
		var err error
		if rc, err = cc.ClientConfig(); err != nil {
			return nil, kubeconfigError(err)
		}
		if c.Namespace == "" {
			if ns, _, err := cc.Namespace(); err == nil {
				c.Namespace = ns
			}
		}
		if c.Context == "" {
			if raw, err := cc.RawConfig(); err == nil {
				c.Context = raw.CurrentContext
			}
		}
	}
	if c.Namespace == "" {
		c.Namespace = "default"
	}
	if c.Context == "" {
		c.Context = rc.Host
	}
	rc = rest.CopyConfig(rc)
	rc.UserAgent = "fair"
	if rc.QPS == 0 {
		rc.QPS, rc.Burst = 50, 100
	}
	c.Config = rc
	var err error
	if c.Core, err = kubernetes.NewForConfig(rc); err != nil {
		return nil, kubeconfigError(err)
	}
	if c.Dynamic, err = dynamic.NewForConfig(rc); err != nil {
		return nil, kubeconfigError(err)
	}
	if c.Discovery, err = discovery.NewDiscoveryClientForConfig(rc); err != nil {
		return nil, kubeconfigError(err)
	}
	c.mapper = newLazyMapper(c.Discovery)
	return c, nil
}

func kubeconfigError(err error) error {
	msg := err.Error()
	if clientcmd.IsEmptyConfig(err) {
		return errors.New("no cluster configured: set KUBECONFIG, pass --kubeconfig, or add `kubeconfig:` to fair.yaml")
	}
	return fmt.Errorf("kubeconfig: %s", firstLine(msg))
}

// explain turns client errors into one clear line for the user.
func (c *Client) explain(err error, doing string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ue *url.Error
	var ne net.Error
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: permission denied in context %s: %s", doing, c.Context, firstLine(statusMessage(err)))
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s: the cluster rejected the credentials of context %s", doing, c.Context)
	case errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &ne) && ne.Timeout(), errors.As(err, &ue):
		return fmt.Errorf("%s: cannot reach the cluster at %s (context %s): %s", doing, c.Config.Host, c.Context, rootCause(err))
	}
	return fmt.Errorf("%s: %s", doing, firstLine(err.Error()))
}

func statusMessage(err error) string {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		return se.Status().Message
	}
	return err.Error()
}

func rootCause(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return firstLine(err.Error())
		}
		err = u
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// InCluster reports whether fair runs inside a pod.
func InCluster() bool {
	return os.Getenv("KUBERNETES_SERVICE_HOST") != "" && os.Getenv("KUBERNETES_SERVICE_PORT") != ""
}

var quietOnce sync.Once

// quietStoppedWatches keeps client-go from printing "Failed to watch ...
// context canceled" on the user's terminal when fair stops following a
// run (it is ready, or the user detached) while a watch is starting;
// every other error is logged as before.
func quietStoppedWatches() {
	handlers := utilruntime.ErrorHandlers
	utilruntime.ErrorHandlers = []utilruntime.ErrorHandler{func(ctx context.Context, err error, msg string, kv ...any) {
		if errors.Is(err, context.Canceled) || (ctx != nil && ctx.Err() != nil) {
			return
		}
		for _, h := range handlers {
			h(ctx, err, msg, kv...)
		}
	}}
}

// GPUShortage says when no node could run a pod asking for gpus of
// resource (nvidia.com/gpu by default): the run would stay Pending until
// such a node appears. "" when one can, or when nodes cannot be read (a
// user with rights in one namespace only).
func (c *Client) GPUShortage(ctx context.Context, resource string, gpus int) string {
	if gpus <= 0 {
		return ""
	}
	if resource == "" {
		resource = "nvidia.com/gpu"
	}
	nodes, err := c.Core.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		return ""
	}
	most, where := int64(0), ""
	for _, n := range nodes.Items {
		q, ok := n.Status.Allocatable[corev1.ResourceName(resource)]
		if !ok {
			continue
		}
		if v := q.Value(); v >= int64(gpus) {
			return ""
		} else if v > most {
			most, where = v, n.Name
		}
	}
	if most == 0 {
		return fmt.Sprintf("no node of context %s has %s: the pods stay Pending until one does (a cluster autoscaler may add one; --gpu-resource names another resource)", c.Context, resource)
	}
	return fmt.Sprintf("no node of context %s has %d %s (the most is %d, on %s): the pods stay Pending until one does", c.Context, gpus, resource, most, where)
}
