// Package config holds fair's one configuration, shared by the CLI, the
// notebook kernel and IDE run configurations. Values come from, in rising
// precedence: built-in defaults, fair.yaml (found by walking up from the
// working directory), FAIR_* environment variables, and flags (or
// `%kf config key=value` in a notebook). Every value remembers where it came
// from so that `%kf config` can show it.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/fair-go/fair/internal/yaml12"
)

// FileName is the name of the project configuration file.
const FileName = "fair.yaml"

// Config is the effective configuration. Field names in fair.yaml are the
// json tags; the environment variable is FAIR_ plus the key in upper snake
// case unless an env tag names another.
type Config struct {
	// Build.
	Registry           string   `json:"registry,omitempty" desc:"Repository prefix images are pushed to; the image name is appended (e.g. 127.0.0.1:5055/team)."`
	Repo               string   `json:"repo,omitempty" desc:"Full repository of the image, instead of registry plus the image name."`
	Tag                string   `json:"tag,omitempty" desc:"Tag pushed with the image, besides its digest."`
	Base               string   `json:"base,omitempty" desc:"Base image: static (built in), a registry reference, or oci:PATH."`
	Platforms          []string `json:"platforms,omitempty" desc:"Platforms to build for, e.g. linux/amd64, linux/arm64."`
	Workdir            string   `json:"workdir,omitempty" desc:"Where directory sources land in the image."`
	Cmd                string   `json:"cmd,omitempty" desc:"Command of a directory source (e.g. python3 train.py)."`
	User               string   `json:"user,omitempty" desc:"User the image runs as."`
	ImageEnv           []string `json:"imageEnv,omitempty" desc:"K=V variables baked into the image config."`
	ImageLabels        []string `json:"imageLabels,omitempty" desc:"K=V labels of the image config."`
	Dockerfile         string   `json:"dockerfile,omitempty" desc:"Dockerfile, relative to the source; builds with BuildKit."`
	BuildKit           string   `json:"buildkit,omitempty" env:"FAIR_BUILDKIT_ADDR,BUILDKIT_HOST" desc:"BuildKit daemon address (FAIR_BUILDKIT_ADDR, else BUILDKIT_HOST as buildctl reads it)."`
	InsecureRegistries []string `json:"insecureRegistries,omitempty" desc:"Registries reached over plain HTTP."`
	Include            []string `json:"include,omitempty" desc:"Extra files shipped with a notebook source."`

	// Cluster.
	Kubeconfig       string   `json:"kubeconfig,omitempty" env:"KUBECONFIG" desc:"Kubeconfig file (KUBECONFIG)."`
	Context          string   `json:"context,omitempty" desc:"Kubeconfig context to use."`
	Namespace        string   `json:"namespace,omitempty" desc:"Namespace of runs (default: the context's)."`
	Kind             string   `json:"kind,omitempty" desc:"Workload kind: job, pytorchjob, tfjob, xgboostjob, jaxjob, trainjob (training); kserve, deployment (serving)."`
	Name             string   `json:"name,omitempty" desc:"Name of the run (default: from the source and the time)."`
	GPUs             int      `json:"gpus,omitempty" desc:"GPUs per replica."`
	GPUResource      string   `json:"gpuResource,omitempty" desc:"Extended resource name of a GPU."`
	CPU              string   `json:"cpu,omitempty" desc:"CPU request per replica (Kubernetes quantity)."`
	Memory           string   `json:"memory,omitempty" desc:"Memory request and limit per replica (Kubernetes quantity)."`
	Workers          int      `json:"workers,omitempty" desc:"Replicas of a distributed training run (nodes of a TrainJob)."`
	Runtime          string   `json:"runtime,omitempty" desc:"TrainJob runtime (ClusterTrainingRuntime name)."`
	Replicas         int      `json:"replicas,omitempty" desc:"Replicas of an endpoint."`
	Port             int      `json:"port,omitempty" desc:"Port the server listens on (PORT in its environment)."`
	Probe            string   `json:"probe,omitempty" desc:"How Kubernetes checks an endpoint: oip (HTTP GET /v2/health/ready for readiness and /v2/health/live for liveness, the Open Inference Protocol's; the default), tcp (the port accepts connections), or a PATH answered with 2xx or 3xx for both."`
	NodeSelector     []string `json:"nodeSelector,omitempty" desc:"K=V node selector of the pods."`
	Tolerations      []string `json:"tolerations,omitempty" desc:"Tolerations of the pods, KEY[=VALUE]:EFFECT."`
	Env              []string `json:"env,omitempty" desc:"K=V environment variables of the program."`
	EnvFromSecrets   []string `json:"envFromSecrets,omitempty" desc:"Secrets whose keys become environment variables."`
	Volumes          []string `json:"volumes,omitempty" desc:"Volumes, pvc:CLAIM:/mount/path[:ro]."`
	ServiceAccount   string   `json:"serviceAccount,omitempty" desc:"ServiceAccount the pods run as."`
	ImagePullSecrets []string `json:"imagePullSecrets,omitempty" desc:"Secrets the pods pull their images with."`
	RegistrySecret   string   `json:"registrySecret,omitempty" desc:"A Secret of type kubernetes.io/dockerconfigjson with the registry's credentials for fair's pod runtime (saving and pulling models, pipeline step data) and for pulling the images."`
	Labels           []string `json:"labels,omitempty" desc:"K=V labels added to the objects."`
	TTL              string   `json:"ttl,omitempty" desc:"How long a finished training run is kept (e.g. 1h); also a pipeline run's Workflow (default 7 days, its pods 1 hour)."`
	BackoffLimit     int      `json:"backoffLimit,omitempty" desc:"Retries of a failed training pod (default 0: fail fast)."`
	Timeout          string   `json:"timeout,omitempty" desc:"Time limit of a training run; for an endpoint, of the wait until it is ready."`
	OnInterrupt      string   `json:"onInterrupt,omitempty" desc:"What Ctrl-C does to a followed run: detach or cancel."`
	Model            string   `json:"model,omitempty" desc:"train: the name the model in $FAIR_MODEL_DIR is saved under; serve: the model to serve (NAME[:TAG] or a reference)."`

	// Sweep is what fair sweep searches, when its flags do not say
	// (fair.yaml only: a section, not a key of its own).
	Sweep *Sweep `json:"sweep,omitempty"`

	// File is the fair.yaml the values were read from, if any.
	File string `json:"-"`

	origins map[string]string
}

// Sweep is the sweep: section of fair.yaml, the defaults of fair sweep's
// flags of the same names.
type Sweep struct {
	Params            []string `json:"params,omitempty" desc:"Parameters to search: NAME=LO..HI[:log][:step=S] or NAME=a,b,c (--param)."`
	Objective         string   `json:"objective,omitempty" desc:"The metric to optimize, printed by the program as NAME=VALUE (--objective)."`
	Goal              string   `json:"goal,omitempty" desc:"minimize or maximize (--goal)."`
	GoalValue         string   `json:"goalValue,omitempty" desc:"End the sweep once a trial reaches this value (--goal-value)."`
	Metrics           []string `json:"metrics,omitempty" desc:"More metrics to record (--metric)."`
	Algorithm         string   `json:"algorithm,omitempty" desc:"Katib's search algorithm, e.g. random, tpe, cmaes (--algorithm)."`
	AlgorithmSettings []string `json:"algorithmSettings,omitempty" desc:"NAME=VALUE settings of the algorithm (--algorithm-setting)."`
	Trials            int      `json:"trials,omitempty" desc:"Trials in all (--trials)."`
	Parallel          int      `json:"parallel,omitempty" desc:"Trials at a time (--parallel)."`
	MaxFailed         int      `json:"maxFailed,omitempty" desc:"End the sweep as failed after this many failed trials (--max-failed)."`
	ParamArgs         bool     `json:"paramArgs,omitempty" desc:"Also pass each parameter as the argument --NAME=VALUE (--param-args)."`
}

// Origins of a value.
const (
	OriginDefault = "default"
	OriginEnv     = "env"
	OriginFlag    = "flag"
	OriginSet     = "set"
)

// Default returns the built-in defaults.
func Default() *Config {
	c := &Config{
		Base:        "static",
		Workdir:     "/app",
		GPUResource: "nvidia.com/gpu",
		Namespace:   "",
		Port:        8080,
		Replicas:    1,
		OnInterrupt: "detach",
		origins:     map[string]string{},
	}
	for _, k := range []string{"base", "workdir", "gpuResource", "port", "replicas", "onInterrupt"} {
		c.origins[k] = OriginDefault
	}
	return c
}

// Option changes how Load looks for values.
type Option func(*loader)

type loader struct {
	dir    string
	getenv func(string) string
}

// WithDir starts the search for fair.yaml in dir instead of the working directory.
func WithDir(dir string) Option { return func(l *loader) { l.dir = dir } }

// WithEnv reads environment variables through getenv (tests, the kernel).
func WithEnv(getenv func(string) string) Option { return func(l *loader) { l.getenv = getenv } }

// Load returns defaults overlaid with fair.yaml and FAIR_* variables.
// Flags are applied afterwards with Set.
func Load(opts ...Option) (*Config, error) {
	l := loader{getenv: os.Getenv}
	for _, o := range opts {
		o(&l)
	}
	if l.dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		l.dir = wd
	}
	c := Default()
	if path, ok := Find(l.dir); ok {
		if err := c.loadFile(path); err != nil {
			return nil, err
		}
	}
	for _, f := range fields() {
		// A field may read several variables (fair's own first, then the
		// one the ecosystem's tools read, as BUILDKIT_HOST): the first set wins.
		for _, name := range strings.Split(f.env, ",") {
			if v := l.getenv(name); v != "" {
				if err := c.Set(f.key, v, OriginEnv+" "+name); err != nil {
					return nil, err
				}
				break
			}
		}
	}
	return c, nil
}

// Find walks up from dir looking for fair.yaml, and stops at the first
// folder that is a repository's root (it has .git), at the user's home
// folder, or at the file system root: a fair.yaml above the project, which
// anyone with write access there could have planted, is not read (it could
// name a kubeconfig, whose exec plugins run commands, or a BuildKit daemon,
// which would receive registry credentials).
func Find(dir string) (string, bool) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	home, _ := os.UserHomeDir()
	for {
		p := filepath.Join(dir, FileName)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, true
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return "", false
		}
		if home != "" && dir == filepath.Clean(home) {
			return "", false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func (c *Config) loadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	// Decode into a generic map first so that unknown keys are reported and
	// each present key gets its origin.
	var raw map[string]any
	if err := yaml12.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	var file Config
	if err := yaml12.Unmarshal(data, &file); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	src := reflect.ValueOf(&file).Elem()
	dst := reflect.ValueOf(c).Elem()
	for _, f := range fields() {
		if _, ok := raw[f.key]; !ok {
			continue
		}
		dst.Field(f.index).Set(src.Field(f.index))
		c.origins[f.key] = path
	}
	if file.Sweep != nil {
		c.Sweep = file.Sweep
	}
	c.File = path
	return nil
}

// Set parses value into the field named key (its fair.yaml name; case,
// dashes and underscores are ignored) and records origin. Lists take
// comma-separated values.
func (c *Config) Set(key, value, origin string) error {
	f, ok := lookup(key)
	if !ok {
		return fmt.Errorf("unknown configuration key %q (known: %s)", key, strings.Join(Keys(), ", "))
	}
	fv := reflect.ValueOf(c).Elem().Field(f.index)
	switch fv.Kind() {
	case reflect.String:
		if err := validate(f.key, value); err != nil {
			return err
		}
		fv.SetString(value)
	case reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < 0 {
			return fmt.Errorf("%s: want a whole number of 0 or more, got %q", f.key, value)
		}
		fv.SetInt(int64(n))
	case reflect.Slice:
		fv.Set(reflect.ValueOf(splitList(f.key, value)))
	}
	if c.origins == nil {
		c.origins = map[string]string{}
	}
	c.origins[f.key] = origin
	return nil
}

var envItem = regexp.MustCompile(`^\s*[A-Za-z_][A-Za-z0-9_.-]*=`)

// splitList splits a comma-separated list. In env, a comma belongs to the
// value unless a NAME= follows it, so -e LAYERS=64,32,16 is one variable
// and -e A=1,B=2 two.
func splitList(key, value string) []string {
	var list []string
	for _, s := range strings.Split(value, ",") {
		if key == "env" && len(list) > 0 && !envItem.MatchString(s) {
			list[len(list)-1] += "," + s
			continue
		}
		if s = strings.TrimSpace(s); s != "" {
			list = append(list, s)
		}
	}
	return list
}

func validate(key, value string) error {
	switch key {
	case "ttl", "timeout":
		if value == "" {
			return nil
		}
		if _, err := time.ParseDuration(value); err != nil {
			return fmt.Errorf("%s: want a duration such as 30m or 1h, got %q", key, value)
		}
	case "onInterrupt":
		if value != "detach" && value != "cancel" {
			return fmt.Errorf("onInterrupt: want detach or cancel, got %q", value)
		}
	}
	return nil
}

// Get returns the value of key as text, as Set would accept it.
func (c *Config) Get(key string) (string, error) {
	f, ok := lookup(key)
	if !ok {
		return "", fmt.Errorf("unknown configuration key %q", key)
	}
	fv := reflect.ValueOf(c).Elem().Field(f.index)
	switch fv.Kind() {
	case reflect.Int:
		return strconv.Itoa(int(fv.Int())), nil
	case reflect.Slice:
		return strings.Join(fv.Interface().([]string), ","), nil
	}
	return fv.String(), nil
}

// Origin says where the value of key came from: "default", a fair.yaml path,
// "env FAIR_X", "flag --x" or "set"; empty when unset.
func (c *Config) Origin(key string) string {
	f, ok := lookup(key)
	if !ok {
		return ""
	}
	return c.origins[f.key]
}

// Entry is one configured value and where it came from.
type Entry struct{ Key, Value, Origin string }

// Entries lists the keys that have a value, in a stable order.
func (c *Config) Entries() []Entry {
	var out []Entry
	for _, f := range fields() {
		v, _ := c.Get(f.key)
		if o := c.origins[f.key]; o != "" || v != "" && v != "0" {
			out = append(out, Entry{f.key, v, c.origins[f.key]})
		}
	}
	return out
}

// Clone returns a deep copy, so a notebook cell's flags do not leak into the
// kernel's configuration.
func (c *Config) Clone() *Config {
	n := *c
	n.origins = make(map[string]string, len(c.origins))
	for k, v := range c.origins {
		n.origins[k] = v
	}
	v := reflect.ValueOf(&n).Elem()
	for _, f := range fields() {
		if fv := v.Field(f.index); fv.Kind() == reflect.Slice && !fv.IsNil() {
			fv.Set(reflect.ValueOf(append([]string(nil), fv.Interface().([]string)...)))
		}
	}
	if c.Sweep != nil {
		s := *c.Sweep
		s.Params = append([]string(nil), s.Params...)
		s.Metrics = append([]string(nil), s.Metrics...)
		s.AlgorithmSettings = append([]string(nil), s.AlgorithmSettings...)
		n.Sweep = &s
	}
	return &n
}

// Save writes the values that did not come from defaults or the
// environment into path (fair.yaml). Environment variables for the job
// (env) are not written: their values may be secrets, and fair.yaml is
// usually committed.
func (c *Config) Save(path string) error {
	keep := map[string]any{}
	for _, e := range c.Entries() {
		if e.Origin == OriginDefault || strings.HasPrefix(e.Origin, OriginEnv) || e.Key == "env" {
			continue
		}
		f, _ := lookup(e.Key)
		keep[e.Key] = reflect.ValueOf(c).Elem().Field(f.index).Interface()
	}
	data, err := yaml.Marshal(keep)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// Keys lists every configuration key.
func Keys() []string {
	var ks []string
	for _, f := range fields() {
		ks = append(ks, f.key)
	}
	sort.Strings(ks)
	return ks
}

type field struct {
	key, env string
	index    int
}

func fields() []field {
	t := reflect.TypeOf(Config{})
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := strings.Split(sf.Tag.Get("json"), ",")[0]
		if tag == "" || tag == "-" || sf.Type.Kind() == reflect.Pointer {
			continue // sections (sweep) are not keys
		}
		env := sf.Tag.Get("env")
		if env == "" {
			env = "FAIR_" + upperSnake(tag)
		}
		out = append(out, field{key: tag, env: env, index: i})
	}
	return out
}

func lookup(key string) (field, bool) {
	want := normalize(key)
	for _, f := range fields() {
		if normalize(f.key) == want {
			return f, true
		}
	}
	return field{}, false
}

func normalize(s string) string {
	return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(s))
}

func upperSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' && i > 0 && !(s[i-1] >= 'A' && s[i-1] <= 'Z') {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// ErrNoRegistry is returned when an image must be pushed but no registry is set.
var ErrNoRegistry = errors.New("no registry set: pass --repo, set FAIR_REGISTRY, or add `registry:` to fair.yaml")
