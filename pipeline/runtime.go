package pipeline

import (
	"context"
	"fmt"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Runtime adds the step runtime (fair-step) to step images, so every step
// of every backend starts as RuntimePath whatever its base image.
type Runtime struct {
	layer  v1.Layer
	opts   []remote.Option
	insec  bool
	goarch string
}

// NewRuntime takes the runtime from runtimeRef, an image fair built from
// cmd/fair-step: its top layer holds RuntimePath and nothing else.
func NewRuntime(ctx context.Context, runtimeRef string, insecure bool, opts ...remote.Option) (*Runtime, error) {
	r := &Runtime{opts: append([]remote.Option{remote.WithContext(ctx)}, opts...), insec: insecure, goarch: runtime.GOARCH}
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

func (r *Runtime) nameOpts() []name.Option {
	if r.insec {
		return []name.Option{name.Insecure}
	}
	return nil
}

// image reads ref, picking the linux image of this machine's architecture
// from an index.
func (r *Runtime) image(ref string) (v1.Image, error) {
	n, err := name.ParseReference(ref, r.nameOpts()...)
	if err != nil {
		return nil, err
	}
	return remote.Image(n, append(r.opts, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: r.goarch}))...)
}

// Wrap appends the runtime to the image ref, pushes the result to repo
// (ref's own repository when empty) and returns it with the command the
// image would have run.
func (r *Runtime) Wrap(ref, repo string) (Built, error) {
	img, err := r.image(ref)
	if err != nil {
		return Built{}, fmt.Errorf("read %s: %v", ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return Built{}, fmt.Errorf("read %s: %v", ref, err)
	}
	b := Built{Workdir: cf.Config.WorkingDir}
	b.Command = append(append(b.Command, cf.Config.Entrypoint...), cf.Config.Cmd...)
	with, err := mutate.Append(img, mutate.Addendum{Layer: r.layer, History: v1.History{CreatedBy: "fair pipeline: step runtime " + RuntimePath}})
	if err != nil {
		return Built{}, err
	}
	if repo == "" {
		n, err := name.ParseReference(ref, r.nameOpts()...)
		if err != nil {
			return Built{}, err
		}
		repo = n.Context().String()
	}
	dst, err := name.NewRepository(repo, r.nameOpts()...)
	if err != nil {
		return Built{}, err
	}
	d, err := with.Digest()
	if err != nil {
		return Built{}, err
	}
	target := dst.Digest(d.String())
	if err := remote.Write(target, with, r.opts...); err != nil {
		return Built{}, fmt.Errorf("push %s: %v", target, err)
	}
	b.Ref = target.String()
	return b, nil
}
