package deployer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/fair-go/fair/templates"
)

// RenderOption changes how Render finds templates.
type RenderOption func(*renderOpts)

type renderOpts struct{ dir string }

// WithTemplateDir looks for overrides in dir/.fair/templates.
func WithTemplateDir(dir string) RenderOption { return func(o *renderOpts) { o.dir = dir } }

// TemplateName is the template file used for a kind.
func TemplateName(k Kind) string { return string(k) + ".yaml" }

// Defaults fills the values a Workload needs and has not set.
func (w *Workload) Defaults() {
	if w.GPUResource == "" {
		w.GPUResource = "nvidia.com/gpu"
	}
	if w.Namespace == "" {
		w.Namespace = "default"
	}
	if w.Workers < 1 {
		w.Workers = 1
	}
	if w.Replicas < 1 {
		w.Replicas = 1
	}
	if w.Port == 0 {
		w.Port = 8080
	}
	if w.Probe == "" {
		w.Probe = ProbeOIP
	}
	if w.Kind == KindTrainJob && w.Runtime == "" {
		w.Runtime = "torch-distributed"
	}
}

// Validate reports the first problem that would make the objects invalid.
func (w *Workload) Validate() error {
	if _, err := ParseKind(string(w.Kind)); err != nil {
		return err
	}
	if w.Image == "" {
		return errors.New("no image: pass SOURCE to build or --image REF")
	}
	if err := checkName(w.Name); err != nil {
		return err
	}
	// Values that reach a manifest are checked here, so none can carry a
	// line break or a second key into it.
	if errs := validation.IsDNS1123Label(w.Namespace); len(errs) > 0 {
		return fmt.Errorf("namespace %q: %s", w.Namespace, errs[0])
	}
	if w.Runtime != "" {
		if errs := validation.IsDNS1123Subdomain(w.Runtime); len(errs) > 0 {
			return fmt.Errorf("runtime %q: %s", w.Runtime, errs[0])
		}
	}
	if w.RegistrySecret != "" {
		if errs := validation.IsDNS1123Subdomain(w.RegistrySecret); len(errs) > 0 {
			return fmt.Errorf("registry secret %q: %s", w.RegistrySecret, errs[0])
		}
	}
	if err := checkImage(w.Image); err != nil {
		return err
	}
	if w.GPUResource != "" {
		if errs := validation.IsQualifiedName(w.GPUResource); len(errs) > 0 {
			return fmt.Errorf("gpu-resource %q: %s", w.GPUResource, errs[0])
		}
	}
	for k, v := range w.Labels {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return fmt.Errorf("label %q: %s", k, errs[0])
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return fmt.Errorf("label %s=%q: %s", k, v, errs[0])
		}
	}
	for _, q := range [][3]string{{"cpu", w.CPU, "2 or 500m"}, {"memory", w.Memory, "8Gi or 512Mi"}} {
		if q[1] == "" {
			continue
		}
		if v, err := resource.ParseQuantity(q[1]); err != nil || v.Sign() <= 0 {
			return fmt.Errorf("--%s %q: want a Kubernetes quantity above zero, e.g. %s", q[0], q[1], q[2])
		}
	}
	if w.Timeout < 0 || w.TTL < 0 {
		return errors.New("timeout and ttl must not be negative")
	}
	if w.GPUs < 0 || w.Workers < 0 || w.Replicas < 0 || w.BackoffLimit < 0 {
		return errors.New("gpus, workers, replicas and backoff-limit must not be negative")
	}
	if w.Port < 1 || w.Port > 65535 {
		return fmt.Errorf("port %d: want 1-65535", w.Port)
	}
	if err := checkProbe(w.Probe); err != nil {
		return err
	}
	if w.Workers > 1 && (w.Kind == KindJob || !w.Kind.Training()) {
		return fmt.Errorf("--workers %d needs a distributed kind (pytorchjob, tfjob, xgboostjob, jaxjob, trainjob), not %s", w.Workers, w.Kind)
	}
	if w.ModelImage != "" {
		if w.Kind != KindKServe {
			return fmt.Errorf("a model image served by KServe needs kind kserve, not %s", w.Kind)
		}
		if err := checkImage(w.ModelImage); err != nil {
			return fmt.Errorf("model image: %v", err)
		}
	}
	return nil
}

// checkImage accepts an image reference (or a fair:// source placeholder of
// a client dry run) and nothing that could break out of a YAML value.
func checkImage(ref string) error {
	if strings.ContainsFunc(ref, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ' ' }) {
		return fmt.Errorf("image %q: spaces and control characters are not allowed", ref)
	}
	if strings.HasPrefix(ref, RefScheme) {
		return nil
	}
	if _, err := name.ParseReference(ref); err != nil {
		return fmt.Errorf("image %q: %v", ref, err)
	}
	return nil
}

// Values are the data the templates see; see package templates for the list.
func (w *Workload) Values() map[string]any {
	// Kubernetes' recommended labels, which the user's own may override.
	labels := map[string]string{
		"app.kubernetes.io/name":      w.Name,
		"app.kubernetes.io/instance":  w.Name,
		"app.kubernetes.io/component": "training",
	}
	if !w.Kind.Training() {
		labels["app.kubernetes.io/component"] = "serving"
	}
	if _, d, ok := strings.Cut(w.Image, "@sha256:"); ok && len(d) >= 12 {
		labels["app.kubernetes.io/version"] = "sha256-" + d[:12]
	}
	for k, v := range w.Labels {
		labels[k] = v
	}
	labels[LabelManagedBy] = ManagedBy
	labels[LabelRun] = w.Name
	labels[LabelKind] = string(w.Kind)

	var env []map[string]string
	set := map[string]bool{}
	for _, e := range w.Env {
		env = append(env, map[string]string{"name": e.Name, "value": e.Value})
		set[e.Name] = true
	}
	if !w.Kind.Training() && !set["PORT"] {
		env = append(env, map[string]string{"name": "PORT", "value": strconv.Itoa(w.Port)})
	}
	if w.ModelImage != "" && !set[kserveStorageURI] {
		env = append(env, map[string]string{"name": kserveStorageURI, "value": "oci://" + w.ModelImage})
	}
	if (w.ModelPull != nil || w.ModelImage != "") && !set["FAIR_MODEL_DIR"] {
		env = append(env, map[string]string{"name": "FAIR_MODEL_DIR", "value": ModelDir})
	}
	if w.RegistrySecret != "" && !set["DOCKER_CONFIG"] {
		env = append(env, map[string]string{"name": "DOCKER_CONFIG", "value": RegistryAuthDir})
	}
	// A TrainJob's runtime knows each node's rank (its Job completion
	// index) but not how many nodes there are; a runtime without a
	// framework launcher (no torchrun) leaves WORLD_SIZE to fair, as the
	// Training Operator sets it for PyTorchJobs.
	if w.Kind == KindTrainJob && !set["WORLD_SIZE"] {
		env = append(env, map[string]string{"name": "WORLD_SIZE", "value": strconv.Itoa(w.Workers)})
	}

	requests, limits := map[string]string{}, map[string]string{}
	if w.CPU != "" {
		requests["cpu"] = w.CPU
	}
	if w.Memory != "" {
		requests["memory"], limits["memory"] = w.Memory, w.Memory
	}
	noGPU := resources(requests, limits)
	if w.GPUs > 0 {
		requests[w.GPUResource] = strconv.Itoa(w.GPUs)
		limits[w.GPUResource] = strconv.Itoa(w.GPUs)
	}
	res := resources(requests, limits)

	container := func(res map[string]any) map[string]any {
		c := map[string]any{"image": w.Image}
		if len(w.Command) > 0 {
			c["command"] = w.Command
		}
		if len(w.Args) > 0 {
			c["args"] = w.Args
		}
		if len(env) > 0 {
			c["env"] = env
		}
		var envFrom []any
		for _, s := range w.EnvFromSecrets {
			envFrom = append(envFrom, map[string]any{"secretRef": map[string]string{"name": s}})
		}
		if envFrom != nil {
			c["envFrom"] = envFrom
		}
		if len(res) > 0 {
			c["resources"] = res
		}
		var mounts []any
		for i, v := range w.Volumes {
			m := map[string]any{"name": volName(i), "mountPath": v.MountPath}
			if v.ReadOnly {
				m["readOnly"] = true
			}
			mounts = append(mounts, m)
		}
		if w.ModelPull != nil {
			mounts = append(mounts, map[string]any{"name": modelVolume, "mountPath": ModelDir, "readOnly": true})
		}
		if w.RegistrySecret != "" {
			mounts = append(mounts, map[string]any{"name": authVolume, "mountPath": RegistryAuthDir, "readOnly": true})
		}
		if mounts != nil {
			c["volumeMounts"] = mounts
		}
		return c
	}

	pod := map[string]any{}
	if len(w.NodeSelector) > 0 {
		pod["nodeSelector"] = w.NodeSelector
	}
	var tols []any
	for _, t := range w.Tolerations {
		tols = append(tols, toleration(t))
	}
	if w.GPUs > 0 && !hasToleration(w.Tolerations, w.GPUResource) {
		tols = append(tols, toleration(Toleration{Key: w.GPUResource, Operator: "Exists", Effect: "NoSchedule"}))
	}
	if tols != nil {
		pod["tolerations"] = tols
	}
	var vols []any
	for i, v := range w.Volumes {
		vols = append(vols, map[string]any{"name": volName(i), "persistentVolumeClaim": map[string]any{"claimName": v.Claim, "readOnly": v.ReadOnly}})
	}
	if mp := w.ModelPull; mp != nil {
		vols = append(vols, map[string]any{"name": modelVolume, "emptyDir": map[string]any{}})
		args := []string{"pull"}
		if mp.Insecure {
			args = append(args, "--insecure")
		}
		init := map[string]any{
			"name":         "fair-model",
			"image":        mp.Image,
			"args":         append(args, mp.Ref, ModelDir),
			"volumeMounts": []any{map[string]any{"name": modelVolume, "mountPath": ModelDir}},
		}
		if len(mp.Command) > 0 {
			init["command"] = mp.Command
		}
		if w.RegistrySecret != "" {
			init["volumeMounts"] = append(init["volumeMounts"].([]any), map[string]any{"name": authVolume, "mountPath": RegistryAuthDir, "readOnly": true})
			init["env"] = []any{map[string]string{"name": "DOCKER_CONFIG", "value": RegistryAuthDir}}
		}
		pod["initContainers"] = []any{init}
	}
	if w.RegistrySecret != "" {
		vols = append(vols, map[string]any{"name": authVolume, "secret": map[string]any{
			"secretName": w.RegistrySecret,
			"items":      []any{map[string]string{"key": ".dockerconfigjson", "path": "config.json"}},
		}})
	}
	if vols != nil {
		pod["volumes"] = vols
	}
	if w.ServiceAccount != "" {
		pod["serviceAccountName"] = w.ServiceAccount
	}
	var pulls []any
	pullNames := w.ImagePullSecrets
	if w.RegistrySecret != "" && !slices.Contains(pullNames, w.RegistrySecret) {
		pullNames = append(append([]string(nil), pullNames...), w.RegistrySecret)
	}
	for _, s := range pullNames {
		pulls = append(pulls, map[string]string{"name": s})
	}
	if pulls != nil {
		pod["imagePullSecrets"] = pulls
	}

	return map[string]any{
		"Name":            w.Name,
		"Namespace":       w.Namespace,
		"Kind":            string(w.Kind),
		"Image":           w.Image,
		"Command":         w.Command,
		"Args":            w.Args,
		"Labels":          labels,
		"Container":       container(res),
		"ContainerNoGPU":  container(noGPU),
		"Pod":             pod,
		"Resources":       res,
		"Env":             env,
		"GPUs":            w.GPUs,
		"GPUResource":     w.GPUResource,
		"CPU":             w.CPU,
		"Memory":          w.Memory,
		"Workers":         w.Workers,
		"WorkerReplicas":  w.Workers - 1,
		"PS":              w.PS,
		"Replicas":        w.Replicas,
		"Port":            w.Port,
		"Probes":          probes(w.Probe, w.Port),
		"Runtime":         w.Runtime,
		"BackoffLimit":    w.BackoffLimit,
		"TTLSeconds":      int64(w.TTL.Seconds()),
		"DeadlineSeconds": int64(w.Timeout.Seconds()),
	}
}

// modelVolume holds a server's model, pulled by its init container;
// authVolume the registry credentials of --registry-secret.
const (
	modelVolume = "fair-model"
	authVolume  = "fair-registry-auth"
)

// RegistryAuthDir is where --registry-secret's Docker config is mounted
// (DOCKER_CONFIG of fair's runtime in the pods).
const RegistryAuthDir = "/var/run/fair/docker"

func resources(requests, limits map[string]string) map[string]any {
	r := map[string]any{}
	if len(requests) > 0 {
		r["requests"] = copyMap(requests)
	}
	if len(limits) > 0 {
		r["limits"] = copyMap(limits)
	}
	return r
}

func copyMap(m map[string]string) map[string]string {
	n := make(map[string]string, len(m))
	for k, v := range m {
		n[k] = v
	}
	return n
}

func volName(i int) string { return "vol-" + strconv.Itoa(i) }

func toleration(t Toleration) map[string]any {
	m := map[string]any{"key": t.Key, "operator": t.Operator}
	if t.Value != "" {
		m["value"] = t.Value
	}
	if t.Effect != "" {
		m["effect"] = t.Effect
	}
	return m
}

func hasToleration(ts []Toleration, key string) bool {
	for _, t := range ts {
		if t.Key == key {
			return true
		}
	}
	return false
}

// Render turns the workload into the objects of its kind's template. Every
// object gets the fair labels and the workload's namespace.
func Render(w *Workload, opts ...RenderOption) ([]*unstructured.Unstructured, error) {
	var o renderOpts
	for _, opt := range opts {
		opt(&o)
	}
	w.Defaults()
	if err := w.Validate(); err != nil {
		return nil, err
	}
	text, err := templates.Render(o.dir, TemplateName(w.Kind), w.Values())
	if err != nil {
		return nil, err
	}
	objs, err := DecodeYAML(text)
	if err != nil {
		return nil, fmt.Errorf("template %s: %v", TemplateName(w.Kind), err)
	}
	for _, u := range objs {
		Label(u, w.Name)
		u.SetLabels(merge(u.GetLabels(), map[string]string{LabelKind: string(w.Kind)}))
		if u.GetNamespace() == "" {
			u.SetNamespace(w.Namespace)
		}
		if k, ok := kindOf(u.GroupVersionKind()); ok && k == w.Kind {
			a := u.GetAnnotations()
			if a == nil {
				a = map[string]string{}
			}
			a[AnnotationGPUs] = strconv.Itoa(w.totalGPUs())
			if w.Model != "" {
				a[AnnotationModel] = w.Model
			}
			u.SetAnnotations(a)
		}
	}
	return objs, nil
}

// Label marks an object as fair's, part of run.
func Label(u *unstructured.Unstructured, run string) {
	u.SetLabels(merge(u.GetLabels(), map[string]string{LabelManagedBy: ManagedBy, LabelRun: run}))
}

func merge(a, b map[string]string) map[string]string {
	if a == nil {
		a = map[string]string{}
	}
	for k, v := range b {
		a[k] = v
	}
	return a
}

// DecodeYAML splits a multi-document YAML (or JSON) stream into objects,
// skipping empty documents and expanding v1 Lists.
func DecodeYAML(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for i := 1; ; i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("document %d: %v", i, err)
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, []byte("null")) || bytes.Equal(t, []byte("{}")) {
			continue
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, fmt.Errorf("document %d: not an object", i)
		}
		if head.Kind == "" || head.APIVersion == "" {
			return nil, fmt.Errorf("document %d: missing apiVersion or kind", i)
		}
		// The unstructured decoder keeps whole numbers as int64, which the
		// Nested* helpers and the API machinery expect.
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("document %d: %v", i, err)
		}
		if u.IsList() {
			l, err := u.ToList()
			if err != nil {
				return nil, fmt.Errorf("document %d: %v", i, err)
			}
			for j := range l.Items {
				out = append(out, &l.Items[j])
			}
			continue
		}
		out = append(out, u)
	}
}

func (w *Workload) totalGPUs() int {
	switch w.Kind {
	case KindJob:
		return w.GPUs
	case KindKServe, KindDeployment:
		return w.GPUs * w.Replicas
	}
	return w.GPUs * w.Workers
}

// Endpoint health checks (--probe).
const (
	ProbeOIP = "oip" // the Open Inference Protocol's health paths
	ProbeTCP = "tcp" // the port accepts connections
)

var probePath = regexp.MustCompile(`^/[A-Za-z0-9/._~%!$&'()*+,;=:@?-]*$`)

func checkProbe(p string) error {
	if p == "" || p == ProbeOIP || p == ProbeTCP || probePath.MatchString(p) { // "": oip
		return nil
	}
	return fmt.Errorf("--probe %q: want oip, tcp or an HTTP path such as /healthz", p)
}

// probes are an endpoint container's readiness and liveness probes. A
// server that is alive but still loading its model answers live and not
// ready: it gets no traffic and is not restarted.
func probes(p string, port int) map[string]any {
	http := func(path string) map[string]any {
		return map[string]any{"httpGet": map[string]any{"path": path, "port": port}}
	}
	var ready, live map[string]any
	switch p {
	case ProbeTCP:
		return map[string]any{"readinessProbe": map[string]any{"tcpSocket": map[string]any{"port": port}, "periodSeconds": 1}}
	case ProbeOIP, "":
		ready, live = http("/v2/health/ready"), http("/v2/health/live")
	default:
		ready, live = http(p), http(p)
	}
	ready["periodSeconds"] = 1
	live["periodSeconds"] = 10
	live["failureThreshold"] = 6
	return map[string]any{"readinessProbe": ready, "livenessProbe": live}
}
