// Package builder turns a Source (a Go main package, a directory of any
// code, a Dockerfile, a notebook) into an OCI image or image index without
// a Docker daemon, and hands it to a Publisher (a registry, an OCI layout, a
// tarball). Builds are reproducible: the same inputs give the same digest.
package builder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/fair-go/fair/keychain"
)

// Source is something that can be built into an image, one platform at a
// time. Sources outside this package (the notebook source) implement it with
// the Context's exported helpers.
type Source interface {
	// Name is the default image name, e.g. the package's directory name.
	Name() string
	// Build returns the image for platform p.
	Build(ctx context.Context, bc *Context, p v1.Platform) (v1.Image, error)
}

// Describer is implemented by sources that know their origin, for the
// org.opencontainers.image.source and .revision annotations.
type Describer interface {
	Dir() string
}

// Artifact is a built image or image index.
type Artifact interface {
	Digest() (v1.Hash, error)
	MediaType() (types.MediaType, error)
	RawManifest() ([]byte, error)
}

// Context gives a source what it needs from the builder.
type Context struct {
	b *Builder
}

// Base returns the configured base image for platform p.
func (c *Context) Base(ctx context.Context, p v1.Platform) (v1.Image, error) {
	return c.b.base.image(ctx, p)
}

// Epoch is the time stamped on files and the image config.
func (c *Context) Epoch() time.Time { return c.b.epoch }

// Logf writes a progress line.
func (c *Context) Logf(format string, args ...any) { c.b.logf(format, args...) }

// Verbose reports whether detailed progress (such as excluded files) is wanted.
func (c *Context) Verbose() bool { return c.b.verbose }

// TempDir is a folder that lives as long as the build.
func (c *Context) TempDir() string { return c.b.tmpDir }

// Layer builds a reproducible layer from the entries fn writes, reusing a
// cached compression when the content is unchanged.
func (c *Context) Layer(fn func(*Tar) error) (v1.Layer, error) {
	return buildLayer(c.b.layers, c.b.tmpDir, c.b.epoch, fn)
}

// binPath returns a stable place in the cache for the binary built from
// dir for platform p.
func (c *Context) binPath(dir, name string, p v1.Platform) (string, error) {
	sum := sha256.Sum256([]byte(dir + "\x00" + p.String()))
	d := filepath.Join(c.b.layers.dir, "bin", hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", err
	}
	return filepath.Join(d, name), nil
}

// Builder builds sources. Make one with New; it may be used for several builds.
type Builder struct {
	base      *baseResolver
	platforms []v1.Platform
	epoch     time.Time
	layers    *layerCache
	tmpDir    string
	keychain  authn.Keychain
	transport http.RoundTripper
	insecure  []string
	log       io.Writer
	logMu     sync.Mutex
	verbose   bool

	user        string
	env, labels []string
	annotations map[string]string
}

// Option configures a Builder.
type Option func(*Builder)

// WithBase sets the base image: "static" (default), "oci:PATH[@DIGEST]" or a
// registry reference.
func WithBase(ref string) Option { return func(b *Builder) { b.base.ref = ref } }

// WithPlatforms sets the platforms to build; more than one makes an index.
func WithPlatforms(ps ...v1.Platform) Option { return func(b *Builder) { b.platforms = ps } }

// WithEpoch sets the time stamped on files and the config (SOURCE_DATE_EPOCH).
func WithEpoch(t time.Time) Option { return func(b *Builder) { b.epoch = t.UTC() } }

// WithCacheDir keeps compressed layers and base manifests in dir.
func WithCacheDir(dir string) Option { return func(b *Builder) { b.layers = &layerCache{dir: dir} } }

// WithKeychain sets where registry credentials come from (default: the
// docker config and its credential helpers).
func WithKeychain(k authn.Keychain) Option { return func(b *Builder) { b.keychain = k } }

// WithTransport sets the HTTP transport for registry requests.
func WithTransport(t http.RoundTripper) Option { return func(b *Builder) { b.transport = t } }

// WithInsecureRegistries lists registries reached over plain HTTP.
func WithInsecureRegistries(hosts ...string) Option {
	return func(b *Builder) { b.insecure = hosts }
}

// WithProgress sends progress lines to w.
func WithProgress(w io.Writer, verbose bool) Option {
	return func(b *Builder) { b.log, b.verbose = w, verbose }
}

// WithUser sets the user the image runs as.
func WithUser(u string) Option { return func(b *Builder) { b.user = u } }

// WithEnv adds K=V variables to the image config.
func WithEnv(kv ...string) Option { return func(b *Builder) { b.env = append(b.env, kv...) } }

// WithLabels adds K=V labels to the image config.
func WithLabels(kv ...string) Option { return func(b *Builder) { b.labels = append(b.labels, kv...) } }

// WithAnnotations adds manifest annotations.
func WithAnnotations(m map[string]string) Option {
	return func(b *Builder) {
		for k, v := range m {
			b.annotations[k] = v
		}
	}
}

// New returns a Builder.
func New(opts ...Option) (*Builder, error) {
	b := &Builder{
		platforms:   []v1.Platform{{OS: "linux", Architecture: runtime.GOARCH}},
		epoch:       time.Unix(0, 0).UTC(),
		keychain:    keychain.Default,
		log:         io.Discard,
		annotations: map[string]string{},
	}
	b.base = &baseResolver{b: b, ref: StaticBase}
	for _, o := range opts {
		o(b)
	}
	if b.layers == nil {
		dir, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		b.layers = &layerCache{dir: dir}
	}
	for _, kv := range append(append([]string{}, b.env...), b.labels...) {
		if !strings.Contains(kv, "=") {
			return nil, fmt.Errorf("%q: want KEY=VALUE", kv)
		}
	}
	return b, nil
}

// DefaultCacheDir is where builds keep layers and base manifests.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("FAIR_CACHE_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "fair", "build"), nil
}

// ParsePlatforms parses "linux/amd64,linux/arm64/v8".
func ParsePlatforms(list []string) ([]v1.Platform, error) {
	var out []v1.Platform
	for _, s := range list {
		for _, s := range strings.Split(s, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			p, err := v1.ParsePlatform(s)
			if err != nil || p.OS == "" || p.Architecture == "" {
				return nil, fmt.Errorf("platform %q: want OS/ARCH[/VARIANT], e.g. linux/amd64", s)
			}
			out = append(out, *p)
		}
	}
	return out, nil
}

// Build builds src for every configured platform (in parallel) and returns
// an image, or an index when there is more than one platform.
func (b *Builder) Build(ctx context.Context, src Source) (Artifact, error) {
	tmp, err := os.MkdirTemp("", "fair-build-")
	if err != nil {
		return nil, err
	}
	// Built layers live in the cache; the temporary folder holds only
	// uncompressed tars and compiler output, gone when Build returns.
	defer os.RemoveAll(tmp)
	b.tmpDir = tmp
	bc := &Context{b: b}

	annotations := b.sourceAnnotations(src)
	imgs := make([]v1.Image, len(b.platforms))
	g, gctx := errgroup.WithContext(ctx)
	for i, p := range b.platforms {
		g.Go(func() error {
			img, err := src.Build(gctx, bc, p)
			if err != nil {
				if len(b.platforms) > 1 {
					return fmt.Errorf("%s: %w", p.String(), err)
				}
				return err
			}
			img, err = b.finish(img, annotations)
			if err != nil {
				return err
			}
			// Realise layers now, while the temporary folder exists.
			if _, err := img.Digest(); err != nil {
				return err
			}
			if err := b.scanSecrets(gctx, img, p); err != nil {
				return err
			}
			imgs[i] = img
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if len(imgs) == 1 {
		return imgs[0], nil
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for i, img := range imgs {
		p := b.platforms[i]
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &p},
		})
	}
	idx = mutate.Annotations(idx, annotations).(v1.ImageIndex)
	return idx, nil
}

// finish applies what every source shares: env, labels, user, creation time
// and annotations.
func (b *Builder) finish(img v1.Image, annotations map[string]string) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: b.epoch}
	for _, kv := range b.env {
		cf.Config.Env = setEnv(cf.Config.Env, kv)
	}
	if len(b.labels) > 0 && cf.Config.Labels == nil {
		cf.Config.Labels = map[string]string{}
	}
	for _, kv := range b.labels {
		k, v, _ := strings.Cut(kv, "=")
		cf.Config.Labels[k] = v
	}
	if b.user != "" {
		cf.Config.User = b.user
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, annotations).(v1.Image), nil
}

func setEnv(env []string, kv string) []string {
	k, _, _ := strings.Cut(kv, "=")
	for i, e := range env {
		if strings.HasPrefix(e, k+"=") {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}

func (b *Builder) sourceAnnotations(src Source) map[string]string {
	a := map[string]string{"org.opencontainers.image.created": b.epoch.Format(time.RFC3339)}
	if d, ok := src.(Describer); ok {
		for k, v := range gitAnnotations(d.Dir()) {
			a[k] = v
		}
	}
	if b.base.ref != "" && b.base.ref != StaticBase && !strings.HasPrefix(b.base.ref, "oci:") {
		a["org.opencontainers.image.base.name"] = b.base.ref
	}
	for k, v := range b.annotations {
		a[k] = v
	}
	return a
}

func (b *Builder) logf(format string, args ...any) {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	fmt.Fprintf(b.log, format+"\n", args...)
}

func (b *Builder) nameOpts(ref string) []name.Option {
	return nameOptions(ref, b.insecure)
}

func nameOptions(ref string, insecure []string) []name.Option {
	host, _, _ := strings.Cut(ref, "/")
	for _, h := range insecure {
		if h == host {
			return []name.Option{name.Insecure}
		}
	}
	return nil
}

func (b *Builder) remoteOpts(ctx context.Context) []remote.Option {
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(b.keychain)}
	if b.transport != nil {
		opts = append(opts, remote.WithTransport(b.transport))
	}
	return opts
}
