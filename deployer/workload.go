// Package deployer turns a Workload (an image plus how to run it) into
// Kubernetes objects, applies them with server-side apply (field manager
// "fair"), watches them, streams the logs of every replica and reports the
// outcome. The CLI verbs and the notebook kernel's %kf magics both drive it:
// logs go to an io.Writer, progress to an Observer, and every call honours
// its context.
package deployer

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/fair-go/fair/config"
)

// Kind is a workload kind, as given to --kind.
type Kind string

// The kinds fair can deploy.
const (
	KindJob        Kind = "job"
	KindPyTorchJob Kind = "pytorchjob"
	KindTFJob      Kind = "tfjob"
	KindXGBoostJob Kind = "xgboostjob"
	KindJAXJob     Kind = "jaxjob"
	KindTrainJob   Kind = "trainjob"
	KindKServe     Kind = "kserve"
	KindDeployment Kind = "deployment"
)

// Kinds lists every kind in a stable order.
var Kinds = []Kind{KindJob, KindPyTorchJob, KindTFJob, KindXGBoostJob, KindJAXJob, KindTrainJob, KindKServe, KindDeployment}

// ParseKind checks a --kind value.
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	if k == "inferenceservice" {
		k = KindKServe
	}
	for _, known := range Kinds {
		if k == known {
			return k, nil
		}
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown kind %q (want one of %s)", s, strings.Join(names, ", "))
}

// Training reports whether the kind runs to completion (as opposed to serving).
func (k Kind) Training() bool { return k != KindKServe && k != KindDeployment }

// Labels every object fair creates carries.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelRun       = "fair.dev/run"
	LabelKind      = "fair.dev/kind"
	// LabelSweep marks a sweep's trial workloads: fair sweep lists them,
	// fair ps lists the sweep.
	LabelSweep   = "fair.dev/sweep"
	ManagedBy    = "fair"
	FieldManager = "fair"
)

// ModelDir is where a server finds its model's files (KServe's convention).
const ModelDir = "/mnt/models"

// ModelPull is the init container that pulls a model: fair's pod runtime
// image (Image) runs "fair-step pull Ref ModelDir".
type ModelPull struct {
	Ref      string // by digest, as pods reach the registry
	Image    string
	Command  []string // the runtime's path when it is not Image's entrypoint
	Insecure bool     // plain HTTP registry
}

// Volume mounts a PersistentVolumeClaim.
type Volume struct {
	Claim, MountPath string
	ReadOnly         bool
}

// Toleration is a pod toleration in its short form.
type Toleration struct {
	Key, Operator, Value, Effect string
}

// Workload says what to run and how. Zero values mean "not set".
type Workload struct {
	Kind      Kind
	Name      string
	Namespace string
	Image     string
	Command   []string
	Args      []string

	GPUs        int
	GPUResource string // default nvidia.com/gpu
	CPU         string
	Memory      string

	Workers  int    // distributed training: total replicas doing work (PyTorchJob: 1 master + Workers-1)
	PS       int    // TFJob parameter servers
	Runtime  string // TrainJob runtimeRef name
	Replicas int    // serving replicas
	Port     int    // serving port
	Probe    string // endpoint health check: oip (default), tcp or an HTTP path

	// ForceConflicts: Submit takes over fields another field manager set
	// (ApplyOptions.ForceConflicts).
	ForceConflicts bool

	NodeSelector   map[string]string
	Tolerations    []Toleration
	Env            []EnvVar
	EnvFromSecrets []string
	Volumes        []Volume
	// ModelPull, for a server, unpacks a model at ModelDir before the
	// server starts.
	ModelPull *ModelPull
	// ModelImage, for an InferenceService, is a model image (files under
	// /models, as pods reach it) that KServe itself serves at ModelDir
	// (storage URI oci://ModelImage: its modelcar), instead of ModelPull.
	ModelImage string
	// Model is the model a server serves, NAME:TAG@DIGEST, recorded on the
	// run (fair status shows it; fair models rm will not delete it).
	Model            string
	ServiceAccount   string
	ImagePullSecrets []string
	// RegistrySecret, a kubernetes.io/dockerconfigjson Secret, is mounted
	// as the Docker config of fair's runtime in the pods (DOCKER_CONFIG)
	// and pulls the images too.
	RegistrySecret string
	Labels         map[string]string
	TTL            time.Duration // ttlSecondsAfterFinished; 0 keeps finished runs
	BackoffLimit   int
	Timeout        time.Duration // activeDeadlineSeconds for training kinds
}

// EnvVar is one environment variable; order is kept.
type EnvVar struct{ Name, Value string }

// FromConfig maps the configuration (fair.yaml, FAIR_*, flags) onto a Workload
// for image. def is the kind used when the configuration names none.
func FromConfig(cfg *config.Config, image string, def Kind) (*Workload, error) {
	w := &Workload{
		Image:            image,
		Namespace:        cfg.Namespace,
		GPUs:             cfg.GPUs,
		GPUResource:      cfg.GPUResource,
		CPU:              cfg.CPU,
		Memory:           cfg.Memory,
		Workers:          cfg.Workers,
		Runtime:          cfg.Runtime,
		Replicas:         cfg.Replicas,
		Port:             cfg.Port,
		Probe:            cfg.Probe,
		EnvFromSecrets:   cfg.EnvFromSecrets,
		ServiceAccount:   cfg.ServiceAccount,
		ImagePullSecrets: cfg.ImagePullSecrets,
		RegistrySecret:   cfg.RegistrySecret,
		BackoffLimit:     cfg.BackoffLimit,
	}
	w.Kind = def
	if cfg.Kind != "" {
		k, err := ParseKind(cfg.Kind)
		if err != nil {
			return nil, err
		}
		w.Kind = k
	}
	if cfg.Name != "" {
		if err := checkName(cfg.Name); err != nil {
			return nil, err
		}
		w.Name = cfg.Name
	}
	var err error
	if w.NodeSelector, err = keyValues("node-selector", cfg.NodeSelector); err != nil {
		return nil, err
	}
	if w.Labels, err = keyValues("label", cfg.Labels); err != nil {
		return nil, err
	}
	at := map[string]int{}
	for _, e := range cfg.Env {
		k, v, ok := strings.Cut(e, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("env: want K=V, got %q", e)
		}
		// The last value of a name wins (as docker run -e does): a
		// container may not list a name twice.
		if i, seen := at[k]; seen {
			w.Env[i].Value = v
			continue
		}
		at[k] = len(w.Env)
		w.Env = append(w.Env, EnvVar{k, v})
	}
	for _, t := range cfg.Tolerations {
		tol, err := ParseToleration(t)
		if err != nil {
			return nil, err
		}
		w.Tolerations = append(w.Tolerations, tol)
	}
	for _, v := range cfg.Volumes {
		vol, err := ParseVolume(v)
		if err != nil {
			return nil, err
		}
		w.Volumes = append(w.Volumes, vol)
	}
	if cfg.TTL != "" {
		if w.TTL, err = time.ParseDuration(cfg.TTL); err != nil {
			return nil, fmt.Errorf("ttl: %v", err)
		}
	}
	if cfg.Timeout != "" {
		if w.Timeout, err = time.ParseDuration(cfg.Timeout); err != nil {
			return nil, fmt.Errorf("timeout: %v", err)
		}
	}
	return w, nil
}

func keyValues(what string, list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, s := range list {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s: want key=value, got %q", what, s)
		}
		m[k] = v
	}
	return m, nil
}

// ParseToleration reads "key[=value][:Effect]" (operator Equal with a value,
// Exists without).
func ParseToleration(s string) (Toleration, error) {
	t := Toleration{Operator: "Exists"}
	rest := s
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		t.Effect = rest[i+1:]
		rest = rest[:i]
		switch t.Effect {
		case "NoSchedule", "PreferNoSchedule", "NoExecute":
		default:
			return t, fmt.Errorf("toleration %q: effect must be NoSchedule, PreferNoSchedule or NoExecute", s)
		}
	}
	k, v, hasValue := strings.Cut(rest, "=")
	if k == "" {
		return t, fmt.Errorf("toleration %q: want key[=value][:effect]", s)
	}
	t.Key = k
	if hasValue {
		t.Operator, t.Value = "Equal", v
	}
	return t, nil
}

// ParseVolume reads "pvc:CLAIM:/mount/path[:ro]".
func ParseVolume(s string) (Volume, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 3 || len(parts) > 4 || parts[0] != "pvc" || parts[1] == "" || !path.IsAbs(parts[2]) {
		return Volume{}, fmt.Errorf("volume %q: want pvc:CLAIM:/mount/path[:ro]", s)
	}
	v := Volume{Claim: parts[1], MountPath: parts[2]}
	if len(parts) == 4 {
		if parts[3] != "ro" {
			return Volume{}, fmt.Errorf("volume %q: the only option is ro", s)
		}
		v.ReadOnly = true
	}
	return v, nil
}

var dns1123 = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func checkName(n string) error {
	if len(n) > 52 || !dns1123.MatchString(n) {
		return fmt.Errorf("name %q: use at most 52 lower-case letters, digits and '-', starting and ending with a letter or digit", n)
	}
	return nil
}

// NameFor derives a run name from a source path or image reference, plus a
// short unique suffix so that runs do not collide.
func NameFor(src string, now time.Time) string {
	base := src
	if i := strings.IndexAny(base, "@"); i >= 0 {
		base = base[:i]
	}
	base = strings.TrimRight(base, "/")
	if i := strings.LastIndexAny(base, "/"); i >= 0 {
		base = base[i+1:]
	}
	if i := strings.Index(base, ":"); i >= 0 {
		base = base[:i]
	}
	name := DNSLabel(strings.TrimSuffix(base, ".ipynb"), "run")
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	n := uint64(now.UnixNano())
	suffix := make([]byte, 5)
	for i := range suffix {
		suffix[i] = digits[n%36]
		n /= 36
	}
	return name + "-" + string(suffix)
}

// DNSLabel makes s a name Kubernetes accepts for most objects: lower-case
// letters and digits, other runs of characters as one '-', at most 40
// characters (room for a suffix), fallback when nothing is left.
func DNSLabel(s, fallback string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if len(name) > 40 {
		name = strings.Trim(name[:40], "-")
	}
	if name == "" || name == "." {
		name = fallback
	}
	return name
}
