package builder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Layout publishes into an OCI image layout directory (created if needed).
// The reference it returns, oci:DIR@DIGEST, is also a valid --base.
type Layout struct {
	Dir string
	Tag string
}

// Publish implements Publisher.
func (l *Layout) Publish(ctx context.Context, a Artifact, repo string) (*Published, error) {
	p, err := layout.FromPath(l.Dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("OCI layout %s: %v", l.Dir, err)
		}
		if p, err = layout.Write(l.Dir, empty.Index); err != nil {
			return nil, fmt.Errorf("OCI layout %s: %v", l.Dir, err)
		}
	}
	tag := l.Tag
	if tag == "" {
		tag = "latest"
	}
	ann := layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": repo + ":" + tag})
	// Replace whatever held this name before, as a registry tag would move.
	matcher := func(d v1.Descriptor) bool {
		return d.Annotations["org.opencontainers.image.ref.name"] == repo+":"+tag
	}
	switch t := a.(type) {
	case v1.Image:
		err = p.ReplaceImage(t, matcher, ann)
	case v1.ImageIndex:
		err = p.ReplaceIndex(t, matcher, ann)
	}
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %v", l.Dir, err)
	}
	d, err := a.Digest()
	if err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(l.Dir)
	return &Published{Ref: "oci:" + abs + "@" + d.String()}, nil
}
