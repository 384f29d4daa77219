package deployer

import (
	"context"
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
