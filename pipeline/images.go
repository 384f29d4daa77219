package pipeline

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/fair-go/fair/build"
	"github.com/fair-go/fair/builder"
	"github.com/fair-go/fair/config"
	"github.com/fair-go/fair/podruntime"
)

// Open reads a pipeline from pipeline.yaml or a notebook tagged step:NAME.
func Open(path string) (*Pipeline, error) {
	if strings.HasSuffix(path, ".ipynb") {
		return FromNotebook(path)
	}
	return Load(path)
}

// ArtifactRepo is where step outputs go: override when given, else the
// fair-artifacts repository next to the configured registry.
func ArtifactRepo(cfg *config.Config, override string) (string, error) {
	if override != "" {
		return override, nil
	}
	if cfg.Registry == "" {
		return "", errors.New("pipelines pass data through a registry: set FAIR_REGISTRY, --registry or --artifact-repo")
	}
	return strings.TrimSuffix(cfg.Registry, "/") + "/fair-artifacts", nil
}

// InsecureHost reports whether repo's registry is reached over plain HTTP.
func InsecureHost(cfg *config.Config, repo string) bool { return podruntime.Insecure(cfg, repo) }

// BuildOptions say how BuildImages builds.
type BuildOptions struct {
	// RuntimeImage is the image of fair's step runtime; empty builds it
	// from the source embedded in fair, so it matches this fair.
	RuntimeImage string
	// Progress receives build progress; TTY redraws it in place.
	Progress io.Writer
	TTY      bool
}

// BuildImages builds every distinct step source of p once with cfg (each
// step's image in its own repository, named after its source) and adds
// the step runtime to each image.
func BuildImages(ctx context.Context, cfg *config.Config, p *Pipeline, o BuildOptions) (map[string]Built, error) {
	if cfg.Registry == "" {
		return nil, config.ErrNoRegistry
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	base := *cfg
	base.Cmd, base.Dockerfile, base.Repo, base.Tag = "", "", "", ""
	image := func(ctx context.Context, c *config.Config, path string, src builder.Source) (string, error) {
		return build.Image(ctx, c, build.Options{Path: path, Source: src, Progress: o.Progress, TTY: o.TTY})
	}
	rt, err := podruntime.Load(ctx, &base, o.RuntimeImage, build.Options{Progress: o.Progress, TTY: o.TTY})
	if err != nil {
		return nil, err
	}
	return p.Build(ctx, func(ctx context.Context, s Source) (Built, error) {
		c := base
		var ref string
		var err error
		switch s.Kind {
		case SourceGo:
			ref, err = image(ctx, &c, s.Path, nil)
		case SourceDir:
			c.Cmd = build.JoinCommand(s.Command)
			if s.Base != "" {
				c.Base = s.Base
			}
			if s.Workdir != "" {
				c.Workdir = s.Workdir
			}
			ref, err = image(ctx, &c, s.Path, nil)
		case SourceNotebook:
			var src builder.Source
			if src, err = NotebookStep(s.Path, s.Section); err == nil {
				ref, err = image(ctx, &c, s.Path, src)
			}
		case SourceImage:
			ref = s.Image
		}
		if err != nil {
			return Built{}, err
		}
		dest := ""
		if s.Kind == SourceImage {
			// A ready image gets the runtime in the user's registry.
			dest = strings.TrimSuffix(cfg.Registry, "/") + "/" + imageBaseName(ref)
		}
		wr, err := rt.Wrap(ref, dest)
		return Built(wr), err
	})
}

func imageBaseName(ref string) string {
	r := ref
	if i := strings.IndexAny(r, "@"); i >= 0 {
		r = r[:i]
	}
	if i := strings.LastIndex(r, "/"); i >= 0 {
		r = r[i+1:]
	}
	if i := strings.Index(r, ":"); i >= 0 {
		r = r[:i]
	}
	return r
}
