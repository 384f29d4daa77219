package deployer

import (
	"context"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// localRegistryHosting is the ConfigMap in which a local cluster says how
// its registry is reached (KEP-1755, written by kind's, k3d's and fair's
// test bed set-ups): host is the address on the user's machine,
// hostFromClusterNetwork the one pods use.
const localRegistryHosting = "local-registry-hosting"

// PodRegistry returns the address at which pods reach the registry that
// the user pushes to at registry (a host, or a host and path prefix): the
// cluster's local-registry-hosting ConfigMap maps a registry on the user's
// loopback to the one its pods see; any other registry is the same for
// both.
func (c *Client) PodRegistry(ctx context.Context, registry string) string {
	cm, err := c.Core.CoreV1().ConfigMaps("kube-public").Get(ctx, localRegistryHosting, metav1.GetOptions{})
	if err != nil {
		// None (most clusters), or no right to read it: the registry is
		// the same for pods.
		return registry
	}
	var h struct {
		Host                   string `json:"host"`
		HostFromClusterNetwork string `json:"hostFromClusterNetwork"`
	}
	if yaml.Unmarshal([]byte(cm.Data["localRegistryHosting.v1"]), &h) != nil || h.Host == "" || h.HostFromClusterNetwork == "" {
		return registry
	}
	host, rest, _ := strings.Cut(registry, "/")
	if host != h.Host {
		return registry
	}
	if rest == "" {
		return h.HostFromClusterNetwork
	}
	return h.HostFromClusterNetwork + "/" + rest
}
