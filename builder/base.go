package builder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// baseResolver turns a --base value into an image for a platform:
// "static" (built in), "oci:PATH[@DIGEST]" (an OCI layout on disk) or a
// registry reference. Registry bases are resolved to a digest once per build
// and their manifests and configs kept on disk, so a base pinned by digest
// needs no request at all; its layers are mounted into the target
// repository or fetched only when the target lacks them.
type baseResolver struct {
	ref     string
	b       *Builder
	once    sync.Once
	root    partial.Describable // resolved v1.Image or v1.ImageIndex
	repo    name.Repository
	rootErr error
}

// static reports whether the base is the built-in one.
func (r *baseResolver) static() bool { return r.ref == "" || r.ref == StaticBase }

func (r *baseResolver) image(ctx context.Context, p v1.Platform) (v1.Image, error) {
	switch {
	case r.static():
		return staticBase(r.b.layers, r.b.tmpDir, p, r.b.epoch)
	case strings.HasPrefix(r.ref, "oci:"):
		r.once.Do(func() { r.root, r.rootErr = r.layout(strings.TrimPrefix(r.ref, "oci:")) })
	default:
		r.once.Do(func() { r.root, r.rootErr = r.remote(ctx) })
	}
	if r.rootErr != nil {
		return nil, r.rootErr
	}
	img, err := pickPlatform(r.root, p, r.ref)
	if err != nil {
		return nil, err
	}
	if r.repo.Name() != "" {
		r.b.storeBase(img)
		d, err := img.Digest()
		if err != nil {
			return nil, err
		}
		img = &mountable{Image: img, ref: r.repo.Digest(d.String())}
	}
	return img, nil
}

func (r *baseResolver) layout(spec string) (partial.Describable, error) {
	dir, dgst, _ := strings.Cut(spec, "@")
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("base %s: not an OCI layout: %v", r.ref, err)
	}
	if dgst == "" {
		return idx, nil
	}
	h, err := v1.NewHash(dgst)
	if err != nil {
		return nil, fmt.Errorf("base %s: %v", r.ref, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range m.Manifests {
		if d.Digest == h {
			if d.MediaType.IsIndex() {
				return idx.ImageIndex(h)
			}
			return idx.Image(h)
		}
	}
	return nil, fmt.Errorf("base %s: the layout has no manifest %s", r.ref, h)
}

func (r *baseResolver) remote(ctx context.Context) (partial.Describable, error) {
	ref, err := name.ParseReference(r.ref, r.b.nameOpts(r.ref)...)
	if err != nil {
		return nil, fmt.Errorf("base %q is not an image reference: %v", r.ref, err)
	}
	r.repo = ref.Context()
	// Base layers are read lazily, possibly during the publish that
	// follows the build, so they must not share the build's lifetime.
	opts := r.b.remoteOpts(context.WithoutCancel(ctx))
	if d, ok := ref.(name.Digest); ok {
		if root, err := r.b.cachedBase(d, opts); err == nil {
			return root, nil
		}
	}
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, registryError("pull base "+r.ref, ref.Context().RegistryStr(), err)
	}
	root, err := descRoot(desc)
	if err != nil {
		return nil, err
	}
	r.b.storeBase(root)
	return root, nil
}

func descRoot(desc *remote.Descriptor) (partial.Describable, error) {
	if desc.MediaType.IsIndex() {
		return desc.ImageIndex()
	}
	return desc.Image()
}

// pickPlatform selects the image for p from an image or an index.
func pickPlatform(root partial.Describable, p v1.Platform, what string) (v1.Image, error) {
	switch t := root.(type) {
	case v1.Image:
		return t, nil
	case v1.ImageIndex:
		m, err := t.IndexManifest()
		if err != nil {
			return nil, err
		}
		var have []string
		for _, d := range m.Manifests {
			if d.Platform == nil {
				continue
			}
			if d.Platform.Satisfies(p) && (d.MediaType.IsImage() || d.MediaType == "") {
				return t.Image(d.Digest)
			}
			have = append(have, d.Platform.String())
		}
		// A layout written by fair build holds images without platform
		// descriptors; one image is unambiguous.
		if len(m.Manifests) == 1 && m.Manifests[0].MediaType.IsImage() {
			return t.Image(m.Manifests[0].Digest)
		}
		return nil, fmt.Errorf("base %s has no image for %s (it has: %s)", what, p.String(), strings.Join(have, ", "))
	}
	return nil, fmt.Errorf("base %s: unexpected artifact", what)
}

// mountable marks a base's layers with their source repository so the
// registry publisher can mount them across repositories instead of
// uploading them.
type mountable struct {
	v1.Image
	ref name.Reference
}

func (m *mountable) Layers() ([]v1.Layer, error) {
	ls, err := m.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for i, l := range ls {
		out[i] = &remote.MountableLayer{Layer: l, Reference: m.ref}
	}
	return out, nil
}

// Base cache: manifests (and index manifests) and configs, by digest.

func (b *Builder) baseCacheDir() string {
	if b.layers == nil || b.layers.dir == "" {
		return ""
	}
	return filepath.Join(b.layers.dir, "bases")
}

func (b *Builder) storeBase(root partial.Describable) {
	dir := b.baseCacheDir()
	if dir == "" {
		return
	}
	_ = os.MkdirAll(dir, 0o755)
	put := func(raw []byte, h v1.Hash) {
		p := filepath.Join(dir, h.Hex)
		if _, err := os.Stat(p); err == nil {
			return
		}
		tmp := p + ".tmp"
		if os.WriteFile(tmp, raw, 0o644) == nil {
			_ = os.Rename(tmp, p)
		}
	}
	storeImage := func(img v1.Image) {
		raw, err := img.RawManifest()
		if err != nil {
			return
		}
		d, _ := img.Digest()
		cfg, err := img.RawConfigFile()
		if err != nil {
			return
		}
		cn, _ := img.ConfigName()
		put(cfg, cn)
		put(raw, d)
	}
	switch t := root.(type) {
	case v1.Image:
		storeImage(t)
	case v1.ImageIndex:
		// Only the index is stored here; each platform's image is stored
		// when it is pulled, via cachedImage.
		if raw, err := t.RawManifest(); err == nil {
			d, _ := t.Digest()
			put(raw, d)
		}
	}
}

// cachedBase rebuilds a base pinned by digest from the cache. Layers stay
// remote and lazy: they are read only if the target registry lacks them.
func (b *Builder) cachedBase(d name.Digest, opts []remote.Option) (partial.Describable, error) {
	dir := b.baseCacheDir()
	if dir == "" {
		return nil, errors.New("no cache")
	}
	h, err := v1.NewHash(d.DigestStr())
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, h.Hex))
	if err != nil {
		return nil, err
	}
	var mt struct {
		MediaType types.MediaType `json:"mediaType"`
	}
	if err := json.Unmarshal(raw, &mt); err != nil {
		return nil, err
	}
	if mt.MediaType.IsIndex() {
		return &cachedIndex{raw: raw, b: b, repo: d.Context(), opts: opts}, nil
	}
	return b.cachedImage(d.Context(), raw, opts)
}

func (b *Builder) cachedImage(repo name.Repository, raw []byte, opts []remote.Option) (v1.Image, error) {
	m, err := v1.ParseManifest(strings.NewReader(string(raw)))
	if err != nil {
		return nil, err
	}
	cfg, err := os.ReadFile(filepath.Join(b.baseCacheDir(), m.Config.Digest.Hex))
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&cachedImage{raw: raw, manifest: m, config: cfg, repo: repo, opts: opts})
}

type cachedImage struct {
	raw, config []byte
	manifest    *v1.Manifest
	repo        name.Repository
	opts        []remote.Option
}

func (c *cachedImage) RawManifest() ([]byte, error)        { return c.raw, nil }
func (c *cachedImage) RawConfigFile() ([]byte, error)      { return c.config, nil }
func (c *cachedImage) MediaType() (types.MediaType, error) { return c.manifest.MediaType, nil }
func (c *cachedImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == c.manifest.Config.Digest {
		return partial.ConfigLayer(&rawConfig{c.config})
	}
	for _, d := range c.manifest.Layers {
		if d.Digest == h {
			return &lazyLayer{desc: d, ref: c.repo.Digest(h.String()), opts: c.opts}, nil
		}
	}
	return nil, fmt.Errorf("base %s has no layer %s", c.repo, h)
}

// lazyLayer is a base layer known from a cached manifest; it talks to the
// registry only when its bytes are read.
type lazyLayer struct {
	desc v1.Descriptor
	ref  name.Digest
	opts []remote.Option
}

func (l *lazyLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *lazyLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *lazyLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *lazyLayer) Compressed() (io.ReadCloser, error) {
	rl, err := remote.Layer(l.ref, l.opts...)
	if err != nil {
		return nil, registryError("pull base layer", l.ref.RegistryStr(), err)
	}
	return rl.Compressed()
}

type rawConfig struct{ raw []byte }

func (r *rawConfig) RawConfigFile() ([]byte, error) { return r.raw, nil }

type cachedIndex struct {
	raw  []byte
	b    *Builder
	repo name.Repository
	opts []remote.Option
}

func (c *cachedIndex) MediaType() (types.MediaType, error) {
	m, err := c.IndexManifest()
	if err != nil {
		return "", err
	}
	return m.MediaType, nil
}
func (c *cachedIndex) Digest() (v1.Hash, error) { return partial.Digest(c) }
func (c *cachedIndex) Size() (int64, error)     { return int64(len(c.raw)), nil }
func (c *cachedIndex) IndexManifest() (*v1.IndexManifest, error) {
	return v1.ParseIndexManifest(strings.NewReader(string(c.raw)))
}
func (c *cachedIndex) RawManifest() ([]byte, error) { return c.raw, nil }
func (c *cachedIndex) Image(h v1.Hash) (v1.Image, error) {
	if raw, err := os.ReadFile(filepath.Join(c.b.baseCacheDir(), h.Hex)); err == nil {
		if img, err := c.b.cachedImage(c.repo, raw, c.opts); err == nil {
			return img, nil
		}
	}
	img, err := remote.Image(c.repo.Digest(h.String()), c.opts...)
	if err != nil {
		return nil, registryError("pull base "+c.repo.String(), c.repo.RegistryStr(), err)
	}
	c.b.storeBase(img)
	return img, nil
}
func (c *cachedIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	return remote.Index(c.repo.Digest(h.String()), c.opts...)
}
