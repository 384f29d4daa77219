//go:build tools

// The workflow controller is built straight from the dependency
// (go build github.com/argoproj/argo-workflows/v3/cmd/workflow-controller);
// this import keeps its packages in go.mod and go.sum.
package tools

import _ "github.com/argoproj/argo-workflows/v3/cmd/workflow-controller"
