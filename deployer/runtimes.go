package deployer

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// clusterTrainingRuntimes are Kubeflow Trainer v2's cluster-wide runtimes,
// which a TrainJob's runtimeRef names by default.
var clusterTrainingRuntimes = schema.GroupVersionResource{Group: "trainer.kubeflow.org", Version: "v1alpha1", Resource: "clustertrainingruntimes"}

// Runtimes lists the names of the cluster's TrainJob runtimes
// (ClusterTrainingRuntimes), sorted.
func (c *Client) Runtimes(ctx context.Context) ([]string, error) {
	l, err := c.Dynamic.Resource(clusterTrainingRuntimes).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, c.explain(err, "list ClusterTrainingRuntimes")
	}
	var names []string
	for _, u := range l.Items {
		names = append(names, u.GetName())
	}
	sort.Strings(names)
	return names, nil
}

// checkRuntime makes sure a TrainJob's runtime exists before it is
// submitted, so that the error names the runtimes there are (Trainer's
// webhook only says the one asked for is missing). Where the runtimes
// cannot be read (no rights to list cluster objects), the API server's
// answer stands.
func (c *Client) checkRuntime(ctx context.Context, w *Workload) error {
	if w.Kind != KindTrainJob {
		return nil
	}
	_, err := c.Dynamic.Resource(clusterTrainingRuntimes).Get(ctx, w.Runtime, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		return nil
	}
	names, lerr := c.Runtimes(ctx)
	if lerr != nil {
		return nil
	}
	if len(names) == 0 {
		return fmt.Errorf("no TrainJob runtime %q: this cluster has no ClusterTrainingRuntimes (Kubeflow Trainer installs them)", w.Runtime)
	}
	return fmt.Errorf("no TrainJob runtime %q on this cluster; pass --runtime with one of: %s", w.Runtime, strings.Join(names, ", "))
}
