package deployer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/streaming/pkg/httpstream"
)

// PortForward opens 127.0.0.1:localPort (0: any free port) to remotePort
// of a ready pod of the run, and returns the local URL. The forward lasts
// until ctx ends; done is closed then.
func (c *Client) PortForward(ctx context.Context, run Run, localPort, remotePort int) (url string, done <-chan struct{}, err error) {
	pods, err := c.pods(ctx, run)
	if err != nil {
		return "", nil, err
	}
	var pod *corev1.Pod
	for _, p := range pods {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			for _, cnd := range p.Status.Conditions {
				if cnd.Type == corev1.PodReady && cnd.Status == corev1.ConditionTrue {
					pod = p
				}
			}
		}
	}
	if pod == nil {
		return "", nil, fmt.Errorf("run %s has no ready pod to forward to", run.Name)
	}
	return c.PortForwardPod(ctx, pod, localPort, remotePort)
}

// PortForwardPod is PortForward to a given pod.
func (c *Client) PortForwardPod(ctx context.Context, pod *corev1.Pod, localPort, remotePort int) (url string, done <-chan struct{}, err error) {
	req := c.Core.CoreV1().RESTClient().Post().Resource("pods").Namespace(pod.Namespace).Name(pod.Name).SubResource("portforward")
	dialer, err := c.portForwardDialer(req.URL())
	if err != nil {
		return "", nil, err
	}
	stop := make(chan struct{})
	ready := make(chan struct{})
	fw, err := portforward.NewOnAddressesForStreaming(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("%d:%d", localPort, remotePort)}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		return "", nil, err
	}
	errc := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		errc <- fw.ForwardPorts()
		close(finished)
	}()
	// stop is closed once: when ctx ends, or at once on a timeout (ctx
	// ending later must not close it again: that panicked, and took the
	// notebook kernel down during %kf predict).
	var once sync.Once
	halt := func() { once.Do(func() { close(stop) }) }
	go func() {
		select {
		case <-ctx.Done():
			halt()
		case <-finished:
		}
	}()
	timeout := c.portForwardTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	select {
	case <-ready:
	case err := <-errc:
		halt()
		return "", nil, c.explain(err, "port-forward to "+pod.Name)
	case <-time.After(timeout):
		halt()
		return "", nil, fmt.Errorf("port-forward to %s: not ready after %s", pod.Name, timeout)
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		return "", nil, fmt.Errorf("port-forward to %s: no local port", pod.Name)
	}
	return "http://127.0.0.1:" + strconv.Itoa(int(ports[0].Local)), finished, nil
}

// ServicePort reads the first port of the run's Service or container.
func (c *Client) ServicePort(ctx context.Context, run Run) int {
	// The server's own container says where it listens (fair serve
	// --port); KServe names its Service NAME-predictor, not NAME.
	if pods, err := c.pods(ctx, run); err == nil {
		for _, pod := range pods {
			name := mainContainer(run.Kind, pod)
			for _, ct := range pod.Spec.Containers {
				if ct.Name == name && len(ct.Ports) > 0 && ct.Ports[0].ContainerPort > 0 {
					return int(ct.Ports[0].ContainerPort)
				}
			}
		}
	}
	svc, err := c.Core.CoreV1().Services(run.Namespace).Get(ctx, run.Name, metav1.GetOptions{})
	if err == nil && len(svc.Spec.Ports) > 0 {
		if p := svc.Spec.Ports[0].TargetPort.IntValue(); p > 0 {
			return p
		}
		return int(svc.Spec.Ports[0].Port)
	}
	return 8080
}

// portForwardDialer dials as kubectl does since 1.31: the port-forward
// stream over WebSockets, which proxies and load balancers in front of an
// API server pass, and SPDY when the API server does not upgrade to it
// (before Kubernetes 1.30, or with its PortForwardWebsockets feature off)
// or a proxy refuses it. FAIR_PORT_FORWARD_WEBSOCKETS=false keeps to SPDY,
// as KUBECTL_PORT_FORWARD_WEBSOCKETS=false does for kubectl.
func (c *Client) portForwardDialer(u *url.URL) (httpstream.Dialer, error) {
	transport, upgrader, err := spdy.RoundTripperFor(c.Config)
	if err != nil {
		return nil, err
	}
	var dialer httpstream.Dialer = recordDial{spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: transport}, http.MethodPost, u), "spdy", c.portForwardDialed}
	if c.portForwardSPDY || strings.EqualFold(os.Getenv("FAIR_PORT_FORWARD_WEBSOCKETS"), "false") {
		return dialer, nil
	}
	ws, err := portforward.NewSPDYOverWebsocketDialerForStreaming(u, c.Config)
	if err != nil {
		return nil, err
	}
	return portforward.NewFallbackDialerForStreaming(recordDial{ws, "websocket", c.portForwardDialed}, dialer, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	}), nil
}

// recordDial tells tests which way a port-forward connected.
type recordDial struct {
	httpstream.Dialer
	via    string
	dialed func(via string)
}

func (d recordDial) Dial(protocols ...string) (httpstream.Connection, string, error) {
	conn, proto, err := d.Dialer.Dial(protocols...)
	if err == nil && d.dialed != nil {
		d.dialed(d.via)
	}
	return conn, proto, err
}
