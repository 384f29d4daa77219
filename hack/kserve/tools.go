//go:build tools

// Package kserve pins the KServe controller manager the test bed runs. It
// is a module of its own because KServe v0.20.0 builds on Kubernetes
// libraries v0.34 and controller-runtime v0.22 (its go.mod's replace
// block, repeated here: replacements of a dependency do not carry over),
// while the Kubeflow controllers in hack/kubeflow use v0.36.
package kserve

import _ "github.com/kserve/kserve/cmd/manager"
