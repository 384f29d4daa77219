// Package models keeps trained models in the OCI registry fair already
// uses for images: a model is a one-layer artifact (the files a training
// program wrote to $FAIR_MODEL_DIR) in the repository REGISTRY/models/NAME,
// tagged with the run that trained it and "latest", and annotated with
// that run, its image, the source's git revision, the last metrics the
// program printed and when it was made. No object store is needed.
//
// The training side (Save, Metrics) runs inside the job's pod, in fair's
// in-pod runtime; the rest runs in the fair CLI and the kernel.
package models

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fair-go/fair/pipeline/artifact"
)

// Annotations of a model's manifest.
const (
	AnnotationRun      = "dev.fair.model.run"
	AnnotationImage    = "dev.fair.model.image"
	AnnotationMetrics  = "dev.fair.model.metrics" // JSON object, name to value
	AnnotationRevision = "org.opencontainers.image.revision"
	AnnotationCreated  = "org.opencontainers.image.created"
	AnnotationFormat   = "dev.fair.model.format" // "onnx" when the model holds .onnx files
)

// Dir is where a model's files are: $FAIR_MODEL_DIR, set by fair in a
// training job (where to write) and a server (where to read), else
// KServe's /mnt/models.
func Dir() string {
	if d := os.Getenv("FAIR_MODEL_DIR"); d != "" {
		return d
	}
	return "/mnt/models"
}

// Repo is the repository of model name in registry.
func Repo(registry, name string) string {
	return strings.TrimSuffix(registry, "/") + "/models/" + name
}

// Ref turns what a user names a model by into a reference: a full
// reference (it has a '/') stays as it is; NAME[:TAG] or NAME@DIGEST is a
// model in registry's models/ (TAG defaults to latest).
func Ref(registry, s string) (string, error) {
	if s == "" {
		return "", errors.New("no model named")
	}
	if strings.Contains(s, "/") {
		return s, nil
	}
	if registry == "" {
		return "", fmt.Errorf("model %q: no registry configured (set FAIR_REGISTRY or --registry, or name the model by its full reference)", s)
	}
	n, rest := s, ""
	if i := strings.IndexAny(s, ":@"); i >= 0 {
		n, rest = s[:i], s[i:]
	}
	if rest == "" {
		rest = ":latest"
	}
	return Repo(registry, n) + rest, nil
}

// Meta describes a model when it is saved.
type Meta struct {
	Run      string
	Image    string
	Revision string
	Metrics  map[string]float64
	Created  time.Time
}

func (m Meta) annotations() map[string]string {
	a := map[string]string{AnnotationCreated: m.Created.UTC().Format(time.RFC3339)}
	if m.Run != "" {
		a[AnnotationRun] = m.Run
	}
	if m.Image != "" {
		a[AnnotationImage] = m.Image
	}
	if m.Revision != "" {
		a[AnnotationRevision] = m.Revision
	}
	if len(m.Metrics) > 0 {
		b, _ := json.Marshal(m.Metrics)
		a[AnnotationMetrics] = string(b)
	}
	return a
}

// Save pushes the files in dir as model repo, tagged with each of tags,
// and returns the reference by digest.
func Save(ctx context.Context, dir, repo string, tags []string, m Meta, o artifact.Options) (string, error) {
	if len(tags) == 0 {
		return "", errors.New("no tag to save the model under")
	}
	if m.Created.IsZero() {
		m.Created = time.Now()
	}
	o.Annotations = m.annotations()
	if onnx, _ := filepath.Glob(filepath.Join(dir, "*.onnx")); len(onnx) > 0 {
		o.Annotations[AnnotationFormat] = "onnx"
	}
	ref, err := artifact.Push(ctx, dir, repo+":"+tags[0], o)
	if err != nil {
		return "", err
	}
	d, err := name.NewDigest(ref, nameOpts(o)...)
	if err != nil {
		return "", err
	}
	desc, err := remote.Get(d, remoteOpts(ctx, o)...)
	if err != nil {
		return "", fmt.Errorf("read back %s: %v", ref, err)
	}
	for _, t := range tags[1:] {
		tag := d.Context().Tag(t)
		if err := remote.Tag(tag, desc, remoteOpts(ctx, o)...); err != nil {
			return "", fmt.Errorf("tag %s: %v", tag, err)
		}
	}
	return ref, nil
}

func nameOpts(o artifact.Options) []name.Option {
	if o.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

func remoteOpts(ctx context.Context, o artifact.Options) []remote.Option {
	return append([]remote.Option{remote.WithContext(ctx)}, o.Remote...)
}

// Katib's StdOut metrics collector reads name=value pairs with this
// pattern; fair reads the same, so a program prints its metrics once for
// both.
var metricRE = regexp.MustCompile(`([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)`)

// Metrics is an io.Writer that passes what it is given to W and keeps the
// last value of each name=value metric in the lines.
type Metrics struct {
	W io.Writer

	mu      sync.Mutex
	partial []byte
	last    map[string]float64
}

// Write implements io.Writer.
func (m *Metrics) Write(p []byte) (int, error) {
	m.mu.Lock()
	m.partial = append(m.partial, p...)
	for {
		i := bytes.IndexByte(m.partial, '\n')
		if i < 0 {
			break
		}
		m.scan(string(m.partial[:i]))
		m.partial = m.partial[i+1:]
	}
	if len(m.partial) > 64<<10 { // a line without end: no metric to find
		m.partial = m.partial[:0]
	}
	m.mu.Unlock()
	if m.W == nil {
		return len(p), nil
	}
	return m.W.Write(p)
}

func (m *Metrics) scan(line string) {
	for _, g := range metricRE.FindAllStringSubmatch(line, -1) {
		v, err := strconv.ParseFloat(g[2], 64)
		if err != nil {
			continue
		}
		if m.last == nil {
			m.last = map[string]float64{}
		}
		m.last[g[1]] = v
	}
}

// Last returns the last value of each metric seen (a final line without
// a newline included).
func (m *Metrics) Last() map[string]float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.partial) > 0 {
		m.scan(string(m.partial))
		m.partial = m.partial[:0]
	}
	out := make(map[string]float64, len(m.last))
	for k, v := range m.last {
		out[k] = v
	}
	return out
}

// FormatMetrics prints metrics as name=value, sorted by name.
func FormatMetrics(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.FormatFloat(m[k], 'g', 6, 64)
	}
	return strings.Join(parts, " ")
}

// Tag gives the model at ref (NAME:TAG or by digest) another tag in its
// repository: a sweep's best trial's model becomes latest.
func Tag(ctx context.Context, ref, tag string, o artifact.Options) error {
	r, err := name.ParseReference(ref, nameOpts(o)...)
	if err != nil {
		return fmt.Errorf("model reference %q: %v", ref, err)
	}
	desc, err := remote.Get(r, remoteOpts(ctx, o)...)
	if err != nil {
		return fmt.Errorf("read %s: %v", ref, err)
	}
	t := r.Context().Tag(tag)
	if err := remote.Tag(t, desc, remoteOpts(ctx, o)...); err != nil {
		return fmt.Errorf("tag %s: %v", t, err)
	}
	return nil
}
