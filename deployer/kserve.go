package deployer

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// kserveConfig is KServe's configuration ConfigMap; the namespaces are
// where KServe's own manifests and Kubeflow's install it.
const kserveConfig = "inferenceservice-config"

// kserveStorageURI is the environment variable in which a custom
// predictor container names its model for KServe's storage initializer.
const kserveStorageURI = "STORAGE_URI"

var kserveNamespaces = []string{"kserve", "kubeflow"}

// KServeOCIModels returns how the cluster's KServe serves an oci://
// storage URI ("modelcar": a sidecar from the model's image; "native": an
// image volume), or "" when it does not, or its configuration cannot be
// read. Both modes read the model from /models in the image.
func (c *Client) KServeOCIModels(ctx context.Context) string {
	for _, ns := range kserveNamespaces {
		cm, err := c.Core.CoreV1().ConfigMaps(ns).Get(ctx, kserveConfig, metav1.GetOptions{})
		if err == nil {
			return ociModelMode(cm.Data["storageInitializer"])
		}
	}
	return ""
}

// ociModelMode reads KServe's storageInitializer configuration as KServe
// does (types.ResolveOciModelMode): an explicit ociModelMode wins, else
// enableModelcar or enableOciModelSupport mean "modelcar". Modes fair's
// model images do not fit give "".
func ociModelMode(storageInitializer string) string {
	var cfg struct {
		EnableModelcar        bool   `json:"enableModelcar"`
		EnableOciModelSupport bool   `json:"enableOciModelSupport"`
		OciModelMode          string `json:"ociModelMode"`
	}
	if json.Unmarshal([]byte(storageInitializer), &cfg) != nil {
		return ""
	}
	mode := cfg.OciModelMode
	if mode == "" && (cfg.EnableModelcar || cfg.EnableOciModelSupport) {
		mode = "modelcar"
	}
	switch mode {
	case "modelcar", "native":
		return mode
	}
	return ""
}

// ReachableURL is the InferenceService's own URL (status.url, else
// status.address.url) when it answers its readiness check from here
// within two seconds: inside the cluster (a notebook server's pod) or
// through an ingress. Elsewhere it is "" and callers port-forward.
func ReachableURL(ctx context.Context, isvc *unstructured.Unstructured) string {
	if isvc == nil {
		return ""
	}
	for _, f := range [][]string{{"status", "url"}, {"status", "address", "url"}} {
		u, _, _ := unstructured.NestedString(isvc.Object, f...)
		if u == "" {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		req, err := http.NewRequestWithContext(cctx, http.MethodGet, strings.TrimRight(u, "/")+"/v2/health/ready", nil)
		if err == nil {
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					cancel()
					return strings.TrimRight(u, "/")
				}
			}
		}
		cancel()
	}
	return ""
}
