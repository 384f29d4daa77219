// Package podruntime is fair's runtime inside pods (cmd/fair-step: pipeline
// steps' inputs and outputs, a training run's model, a server's model
// pull). fair builds it from the source embedded in itself, so it matches
// the fair that runs, and appends it to images as one layer.
package podruntime

import (
	"context"
	"fmt"
	"runtime"

	"github.com/fair-go/fair/internal/pushretry"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Path is where the runtime lies in the images it is added to.
const Path = "/usr/local/bin/fair-step"

// Wrapped is an image with the runtime added.
type Wrapped struct {
	Ref     string   // by digest
	Command []string // entrypoint plus command of the original: what the runtime runs
	Workdir string
}

// Runtime adds the runtime (fair-step) to images, so that it starts as
// Path whatever the image's base.
type Runtime struct {
	ctx    context.Context // the pushes' context, for their retries
	ref    string
	layer  v1.Layer
	opts   []remote.Option
	insec  func(ref string) bool // per registry: plain HTTP only where asked
	goarch string
}

// New takes the runtime from runtimeRef, an image fair built from
// cmd/fair-step: its top layer holds Path and nothing else.
// insecure says which registries are reached over plain HTTP (Insecure).
func New(ctx context.Context, runtimeRef string, insecure func(ref string) bool, opts ...remote.Option) (*Runtime, error) {
	r := &Runtime{ctx: ctx, ref: runtimeRef, opts: append([]remote.Option{remote.WithContext(ctx)}, opts...), insec: insecure, goarch: runtime.GOARCH}
	img, err := r.image(runtimeRef)
	if err != nil {
		return nil, fmt.Errorf("step runtime image: %v", err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) == 0 {
		return nil, fmt.Errorf("step runtime image %s has no layers", runtimeRef)
	}
	r.layer = layers[len(layers)-1]
	return r, nil
}

// Ref is the runtime's own image (it runs as Path), by digest: a server's
// model pull runs it as an init container.
func (r *Runtime) Ref() string { return r.ref }

// nameOpts are the options for a reference to ref's registry: a ready
// image on another registry is not read over plain HTTP because the
// runtime's registry is.
func (r *Runtime) nameOpts(ref string) []name.Option {
	if r.insec != nil && r.insec(ref) {
		return []name.Option{name.Insecure}
	}
	return nil
}

// image reads ref, picking the linux image of this machine's architecture
// from an index.
func (r *Runtime) image(ref string) (v1.Image, error) {
	n, err := name.ParseReference(ref, r.nameOpts(ref)...)
	if err != nil {
		return nil, err
	}
	return remote.Image(n, append(r.opts, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: r.goarch}))...)
}

// Wrap appends the runtime to the image ref, pushes the result to repo
// (ref's own repository when empty) and returns it with the command the
// image would have run.
func (r *Runtime) Wrap(ref, repo string) (Wrapped, error) {
	img, err := r.image(ref)
	if err != nil {
		return Wrapped{}, fmt.Errorf("read %s: %v", ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return Wrapped{}, fmt.Errorf("read %s: %v", ref, err)
	}
	b := Wrapped{Workdir: cf.Config.WorkingDir}
	b.Command = append(append(b.Command, cf.Config.Entrypoint...), cf.Config.Cmd...)
	with, err := mutate.Append(img, mutate.Addendum{Layer: r.layer, History: v1.History{CreatedBy: "fair: pod runtime " + Path}})
	if err != nil {
		return Wrapped{}, err
	}
	if repo == "" {
		n, err := name.ParseReference(ref, r.nameOpts(ref)...)
		if err != nil {
			return Wrapped{}, err
		}
		repo = n.Context().String()
	}
	dst, err := name.NewRepository(repo, r.nameOpts(repo)...)
	if err != nil {
		return Wrapped{}, err
	}
	d, err := with.Digest()
	if err != nil {
		return Wrapped{}, err
	}
	target := dst.Digest(d.String())
	if err := pushretry.Do(r.ctx, func() error { return remote.Write(target, with, r.opts...) }); err != nil {
		return Wrapped{}, fmt.Errorf("push %s: %v", target, err)
	}
	b.Ref = target.String()
	return b, nil
}
