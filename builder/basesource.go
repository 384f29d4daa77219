package builder

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// BaseSource is the configured base image itself, so it can be published
// (for example the built-in static base, for other tools to build on).
type BaseSource struct{}

// Name implements Source.
func (BaseSource) Name() string { return "base" }

// Build implements Source.
func (BaseSource) Build(ctx context.Context, bc *Context, p v1.Platform) (v1.Image, error) {
	return bc.Base(ctx, p)
}
