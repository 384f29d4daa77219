//go:build tools

// Package katib pins the Katib programs the test bed runs: the controller,
// the DB manager, the goptuna suggestion service and the file metrics
// collector. It is a module of its own, like hack/kserve, with the same
// Kubernetes libraries (v0.34), controller-runtime (v0.22) and gRPC as
// hack/kserve, so the Go build cache shares their compiled packages.
package katib

import (
	_ "github.com/kubeflow/katib/cmd/db-manager/v1beta1"
	_ "github.com/kubeflow/katib/cmd/katib-controller/v1beta1"
	_ "github.com/kubeflow/katib/cmd/metricscollector/v1beta1/file-metricscollector"
	_ "github.com/kubeflow/katib/cmd/suggestion/goptuna/v1beta1"
)
