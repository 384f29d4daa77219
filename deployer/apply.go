package deployer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// kindInfo is what fair knows about the primary object of a kind.
type kindInfo struct {
	gvk       schema.GroupVersionKind
	resource  string
	operator  string // what to install when the CRD is missing
	instead   Kind   // nearest kind that works without it
	container string // main container name in the pods
}

var kindTable = map[Kind]kindInfo{
	KindJob:        {schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}, "jobs", "", "", "fair"},
	KindPyTorchJob: {schema.GroupVersionKind{Group: "kubeflow.org", Version: "v1", Kind: "PyTorchJob"}, "pytorchjobs", "Kubeflow Training Operator", KindJob, "pytorch"},
	KindTFJob:      {schema.GroupVersionKind{Group: "kubeflow.org", Version: "v1", Kind: "TFJob"}, "tfjobs", "Kubeflow Training Operator", KindJob, "tensorflow"},
	KindXGBoostJob: {schema.GroupVersionKind{Group: "kubeflow.org", Version: "v1", Kind: "XGBoostJob"}, "xgboostjobs", "Kubeflow Training Operator", KindJob, "xgboost"},
	KindJAXJob:     {schema.GroupVersionKind{Group: "kubeflow.org", Version: "v1", Kind: "JAXJob"}, "jaxjobs", "Kubeflow Training Operator", KindJob, "jax"},
	KindTrainJob:   {schema.GroupVersionKind{Group: "trainer.kubeflow.org", Version: "v1alpha1", Kind: "TrainJob"}, "trainjobs", "Kubeflow Trainer v2", KindPyTorchJob, "node"},
	KindKServe:     {schema.GroupVersionKind{Group: "serving.kserve.io", Version: "v1beta1", Kind: "InferenceService"}, "inferenceservices", "KServe", KindDeployment, "kserve-container"},
	KindDeployment: {schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, "deployments", "", "", "fair"},
}

// GVR returns the resource of a kind's primary object.
func (k Kind) GVR() schema.GroupVersionResource {
	i := kindTable[k]
	return i.gvk.GroupVersion().WithResource(i.resource)
}

// kindOf finds the fair kind whose primary object has this GVK.
func kindOf(gvk schema.GroupVersionKind) (Kind, bool) {
	for k, i := range kindTable {
		if i.gvk == gvk {
			return k, true
		}
	}
	return "", false
}

var serviceGVK = schema.GroupVersionKind{Version: "v1", Kind: "Service"}

type lazyMapper struct {
	disc   discovery.DiscoveryInterface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func newLazyMapper(d discovery.DiscoveryInterface) *lazyMapper {
	return &lazyMapper{disc: d, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(d))}
}

// mapping resolves a GVK without discovery for the kinds fair knows, so the
// common path costs one request.
func (c *Client) mapping(gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool, error) {
	if k, ok := kindOf(gvk); ok {
		return k.GVR(), true, nil
	}
	if gvk == serviceGVK {
		return schema.GroupVersionResource{Version: "v1", Resource: "services"}, true, nil
	}
	m, err := c.mapper.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return schema.GroupVersionResource{}, false, c.missing(gvk)
		}
		return schema.GroupVersionResource{}, false, c.explain(err, "discovery")
	}
	return m.Resource, m.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// builtIn reports whether every Kubernetes API server serves the group.
func builtIn(group string) bool { return group == "" || group == "apps" || group == "batch" }

// notAPIServer is the error of a server that does not serve what every
// Kubernetes API server does: a wrong address in the kubeconfig (another
// web server answering 404), not a missing CRD.
func (c *Client) notAPIServer(gv string) error {
	host := ""
	if c.Config != nil {
		host = c.Config.Host
	}
	return fmt.Errorf("the server at %s (context %s) does not serve %s, which every Kubernetes API server does: is that the cluster's API server? (fair doctor checks)", host, c.Context, gv)
}

// ErrNotInstalled marks errors about a missing CRD.
var ErrNotInstalled = errors.New("not installed")

type notInstalledError struct{ msg string }

func (e *notInstalledError) Error() string        { return e.msg }
func (e *notInstalledError) Is(target error) bool { return target == ErrNotInstalled }

func (c *Client) missing(gvk schema.GroupVersionKind) error {
	if builtIn(gvk.Group) {
		return c.notAPIServer(gvk.GroupVersion().String())
	}
	msg := fmt.Sprintf("%s (%s) is not installed in context %s", gvk.Kind, gvk.GroupVersion(), c.Context)
	if k, ok := kindOf(gvk); ok && kindTable[k].operator != "" {
		msg += fmt.Sprintf("; install %s, or use --kind %s", kindTable[k].operator, kindTable[k].instead)
	}
	return &notInstalledError{msg}
}

// Installed reports whether the API server serves the kind's primary
// object (a CRD may be missing).
func (c *Client) Installed(k Kind) (bool, error) {
	return c.Serves(k.GVR())
}

// Require is nil when the cluster serves kind k; otherwise an error that
// says what to install, or why the cluster cannot be asked.
func (c *Client) Require(k Kind) error {
	ok, err := c.Installed(k)
	if err != nil {
		return err
	}
	if !ok {
		return c.missing(kindTable[k].gvk)
	}
	return nil
}

// RequireNamespace is nil when the client's namespace exists, or when the
// user may not read namespaces (the apply will tell); otherwise an error
// that says how to create it.
func (c *Client) RequireNamespace(ctx context.Context) error {
	_, err := c.Core.CoreV1().Namespaces().Get(ctx, c.Namespace, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		// Any web server says 404: is it an API server at all?
		if _, derr := c.Discovery.ServerResourcesForGroupVersion("v1"); apierrors.IsNotFound(derr) {
			return c.notAPIServer("v1")
		}
		return fmt.Errorf("namespace %s does not exist in context %s: create it (kubectl create namespace %s) or pass another --namespace", c.Namespace, c.Context, c.Namespace)
	case err == nil, apierrors.IsForbidden(err):
		return nil
	}
	return c.explain(err, "get namespace "+c.Namespace)
}

// RequireRefs is nil when the Secrets and volume claims w names exist in
// its namespace (or may not be read); otherwise an error naming the first
// missing one. Without it the pods wait in Pending, or pull nothing, with
// no end.
func (c *Client) RequireRefs(ctx context.Context, w *Workload) error {
	ns := w.Namespace
	if ns == "" {
		ns = c.Namespace
	}
	type ref struct{ kind, name, flag string }
	var refs []ref
	for _, s := range w.EnvFromSecrets {
		refs = append(refs, ref{"secret", s, "--env-from-secret"})
	}
	for _, s := range w.ImagePullSecrets {
		refs = append(refs, ref{"secret", s, "--image-pull-secret"})
	}
	if w.RegistrySecret != "" {
		refs = append(refs, ref{"secret", w.RegistrySecret, "--registry-secret"})
	}
	for _, v := range w.Volumes {
		refs = append(refs, ref{"persistentvolumeclaim", v.Claim, "--volume"})
	}
	for _, r := range refs {
		var err error
		if r.kind == "secret" {
			_, err = c.Core.CoreV1().Secrets(ns).Get(ctx, r.name, metav1.GetOptions{})
		} else {
			_, err = c.Core.CoreV1().PersistentVolumeClaims(ns).Get(ctx, r.name, metav1.GetOptions{})
		}
		switch {
		case apierrors.IsNotFound(err):
			return fmt.Errorf("%s %s: no %s %s in namespace %s (context %s): create it, or name another", r.flag, r.name, r.kind, r.name, ns, c.Context)
		case err != nil && !apierrors.IsForbidden(err):
			return c.explain(err, "get "+r.kind+" "+r.name)
		}
	}
	return nil
}

// Serves reports whether the API server serves the resource: discovery
// knows its group, version and name. A CRD that is not installed is false;
// an unreachable server is an error.
func (c *Client) Serves(gvr schema.GroupVersionResource) (bool, error) {
	rl, err := c.Discovery.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, c.explain(err, "discovery")
	}
	for _, r := range rl.APIResources {
		if r.Name == gvr.Resource {
			return true, nil
		}
	}
	return false, nil
}

// ApplyOptions change Apply.
type ApplyOptions struct {
	DryRun bool // server-side dry run: validated by the API server, nothing stored
	// ForceConflicts takes over fields another field manager set (kubectl
	// apply --server-side --force-conflicts); without it such an apply is
	// refused, naming the fields and their manager.
	ForceConflicts bool
	// Outcome, when set, is told what the apply did to each object, as
	// kubectl apply prints it.
	Outcome func(applied *unstructured.Unstructured, o Outcome)
}

// Outcome is what an apply did to one object.
type Outcome string

const (
	Created    Outcome = "created"
	Configured Outcome = "configured"
	Unchanged  Outcome = "unchanged" // the apply changed nothing: same resourceVersion
	Applied    Outcome = "applied"   // whether it existed before could not be read
)

func (c *Client) resource(u *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvr, namespaced, err := c.mapping(u.GroupVersionKind())
	if err != nil {
		return nil, err
	}
	if !namespaced {
		return c.Dynamic.Resource(gvr), nil
	}
	if u.GetNamespace() == "" {
		u.SetNamespace(c.Namespace)
	}
	return c.Dynamic.Resource(gvr).Namespace(u.GetNamespace()), nil
}

// Apply server-side applies objs in order with field manager "fair". When
// one fails, the objects this call created are deleted again, so a failed
// multi-object apply leaves nothing half-made; objects that existed before
// are left as they were applied.
func (c *Client) Apply(ctx context.Context, objs []*unstructured.Unstructured, o ApplyOptions) ([]*unstructured.Unstructured, error) {
	var created, out []*unstructured.Unstructured
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: o.ForceConflicts}
	if o.DryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	for _, u := range objs {
		ri, err := c.resource(u)
		var before *unstructured.Unstructured
		var readErr error
		if err == nil && (len(objs) > 1 || o.Outcome != nil) && !o.DryRun {
			// Only a multi-object apply can leave something half made; a
			// single one is all or nothing and skips this round trip
			// unless its outcome is asked for.
			before, readErr = ri.Get(ctx, u.GetName(), metav1.GetOptions{})
			if apierrors.IsNotFound(readErr) {
				created = append(created, u)
			}
		}
		var res *unstructured.Unstructured
		if err == nil {
			res, err = ri.Apply(ctx, u.GetName(), u, opts)
			if err != nil {
				err = c.applyError(u, err)
				created = removeObj(created, u)
			}
		}
		if err != nil {
			c.rollback(created)
			return nil, err
		}
		out = append(out, res)
		if o.Outcome != nil && !o.DryRun {
			switch {
			case apierrors.IsNotFound(readErr):
				o.Outcome(res, Created)
			case readErr != nil:
				o.Outcome(res, Applied)
			case before.GetResourceVersion() == res.GetResourceVersion():
				o.Outcome(res, Unchanged)
			default:
				o.Outcome(res, Configured)
			}
		}
	}
	return out, nil
}

func removeObj(list []*unstructured.Unstructured, u *unstructured.Unstructured) []*unstructured.Unstructured {
	if n := len(list); n > 0 && list[n-1] == u {
		return list[:n-1]
	}
	return list
}

func (c *Client) applyError(u *unstructured.Unstructured, err error) error {
	what := fmt.Sprintf("%s %s", u.GetKind(), u.GetName())
	if apierrors.IsNotFound(err) {
		// The resource itself is unknown: a CRD that is not installed.
		if k, ok := kindOf(u.GroupVersionKind()); ok {
			if inst, ierr := c.Installed(k); ierr == nil && !inst {
				return c.missing(u.GroupVersionKind())
			}
		}
	}
	if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
		d := causeDetails(err, ": ")
		if strings.Contains(d, "field is immutable") {
			// The message quotes the whole old value as a Go struct (5 KB
			// for a pod template): the field is what matters.
			return fmt.Errorf("%s exists and its %s cannot change (Kubernetes does not allow it): delete it (fair delete %s/%s), then deploy again",
				what, immutableFields(err), strings.ToLower(u.GetKind()), u.GetName())
		}
		return fmt.Errorf("%s rejected by the API server: %s", what, d)
	}
	if apierrors.IsConflict(err) && strings.Contains(statusMessage(err), "conflict") {
		return fmt.Errorf("%s: %s (another field manager set these fields since fair applied it; --force-conflicts takes them over, as kubectl apply --server-side --force-conflicts does)", what, "conflicts: "+causeDetails(err, " "))
	}
	// A webhook's denial comes as Forbidden, but it is about the object,
	// not the user's rights.
	if msg := statusMessage(err); apierrors.IsForbidden(err) && strings.HasPrefix(msg, "admission webhook ") {
		return fmt.Errorf("%s rejected: %s", what, firstLine(msg))
	}
	return c.explain(err, "apply "+what)
}

// immutableFields names the fields an update may not change.
func immutableFields(err error) string {
	var se apierrors.APIStatus
	var fields []string
	if errors.As(err, &se) && se.Status().Details != nil {
		for _, cause := range se.Status().Details.Causes {
			if strings.Contains(cause.Message, "field is immutable") && cause.Field != "" {
				fields = append(fields, cause.Field)
			}
		}
	}
	if len(fields) == 0 {
		return "immutable fields"
	}
	return strings.Join(fields, ", ")
}

// PreviousRun is the run the objects already in the cluster belong to,
// when they all belong to one: fair deploy -f of the same file again keeps
// its run rather than moving its objects to a new one. Objects fair wrote
// itself (fair train --dry-run=client) keep their own run and are skipped.
func (c *Client) PreviousRun(ctx context.Context, objs []*unstructured.Unstructured) string {
	runs := map[string]bool{}
	for _, u := range objs {
		if u.GetLabels()[LabelKind] != "" {
			continue
		}
		ri, err := c.resource(u)
		if err != nil {
			continue
		}
		old, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{})
		if err != nil || old.GetLabels()[LabelManagedBy] != ManagedBy || old.GetLabels()[LabelRun] == "" {
			continue
		}
		runs[old.GetLabels()[LabelRun]] = true
	}
	if len(runs) != 1 {
		return ""
	}
	for r := range runs {
		return r
	}
	return ""
}

// causeDetails lists the API server's causes (the field, sep, the
// message), or the status message's first line when it gave none.
func causeDetails(err error, sep string) string {
	var se apierrors.APIStatus
	if errors.As(err, &se) && se.Status().Details != nil && len(se.Status().Details.Causes) > 0 {
		var parts []string
		for _, cause := range se.Status().Details.Causes {
			parts = append(parts, strings.TrimSpace(cause.Field+sep+cause.Message))
		}
		return strings.Join(parts, "; ")
	}
	return firstLine(statusMessage(err))
}

func (c *Client) rollback(created []*unstructured.Unstructured) {
	// A fresh context: the caller's may be the reason we are rolling back.
	ctx, cancel := context.WithTimeout(context.Background(), defaultCleanupTimeout)
	defer cancel()
	bg := metav1.DeletePropagationBackground
	for i := len(created) - 1; i >= 0; i-- {
		u := created[i]
		if ri, err := c.resource(u); err == nil {
			_ = ri.Delete(ctx, u.GetName(), metav1.DeleteOptions{PropagationPolicy: &bg})
		}
	}
}

// IsKind reports whether u is the primary object of kind k (the Deployment
// of a deployment, not its Service).
func IsKind(u *unstructured.Unstructured, k Kind) bool {
	got, ok := kindOf(u.GroupVersionKind())
	return ok && got == k
}
