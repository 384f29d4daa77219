//go:build tools

// Package kubeflow pins the Kubeflow controllers the test bed runs. One module
// holds them so that they share module versions and most of their compiled
// packages in the Go build cache (the Training Operator, Trainer v2 and JobSet
// all build on client-go and controller-runtime).
package kubeflow

import (
	_ "github.com/kubeflow/trainer/v2/cmd/trainer-controller-manager"
	_ "github.com/kubeflow/training-operator/cmd/training-operator.v1"
	_ "sigs.k8s.io/jobset"
)
