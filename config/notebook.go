package config

import (
	"path/filepath"
	"strings"
)

// FromNotebook says why a notebook's %%kf line may not set key to val, or
// returns "" when it may. A notebook may come from anyone: its line may
// shape a run (GPUs, kind, workers, resources, base, environment), but not
// decide where credentials go (registry, cluster, secrets, BuildKit) or
// ship files from outside the notebook's folder. --trust-notebook lifts it.
func FromNotebook(key, val string) string {
	switch key {
	case "registry", "repo", "insecureRegistries":
		return "where the image and your registry credentials go"
	case "kubeconfig", "context":
		return "which cluster and credentials are used; a kubeconfig can run commands"
	case "namespace", "serviceAccount", "imagePullSecrets", "envFromSecrets", "volumes":
		return "what the job may read in your cluster"
	case "buildkit":
		return "a BuildKit daemon would receive your registry credentials"
	case "include":
		for _, p := range strings.Split(val, ",") {
			p = strings.TrimSpace(p)
			if filepath.IsAbs(p) || p == ".." || strings.HasPrefix(filepath.Clean(p), ".."+string(filepath.Separator)) || strings.HasPrefix(p, "~") {
				return "files outside the notebook's folder would leave the machine"
			}
		}
	}
	return ""
}
