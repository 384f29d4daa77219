package builder

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Tarball publishes a single-platform image as a tarball that `docker load`
// and `podman load` accept.
type Tarball struct {
	File string
	Tag  string
}

// Publish implements Publisher.
func (t *Tarball) Publish(ctx context.Context, a Artifact, repo string) (*Published, error) {
	img, ok := a.(v1.Image)
	if !ok {
		return nil, errors.New("a tarball holds one platform: build one --platform, or use --oci-layout for several")
	}
	tag := t.Tag
	if tag == "" {
		tag = "latest"
	}
	ref, err := name.NewTag(repo+":"+tag, name.WeakValidation)
	if err != nil {
		return nil, fmt.Errorf("image name %q: %v", repo, err)
	}
	// Write beside the target and rename, so a failure leaves no partial file.
	tmp := t.File + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("tarball %s: %v", t.File, err)
	}
	if err := os.Rename(tmp, t.File); err != nil {
		return nil, err
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	return &Published{Ref: ref.Context().Name() + "@" + d.String()}, nil
}
