package builder

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/patternmatcher"

	"github.com/fair-go/fair/builder/ignore"
)

// ScanEnv, set to 1, makes every build check the layers it made for files
// the secret defaults exclude, and fail when it finds one. The test suite
// sets it, so every image any test builds is scanned.
const ScanEnv = "FAIR_SCAN_SECRETS"

// scanSecrets fails when a layer fair added to img (one its base does not
// have) holds a path the secret defaults match.
func (b *Builder) scanSecrets(ctx context.Context, img v1.Image, p v1.Platform) error {
	if os.Getenv(ScanEnv) != "1" {
		return nil
	}
	base := map[v1.Hash]bool{}
	if bi, err := b.base.image(ctx, p); err == nil {
		if ls, err := bi.Layers(); err == nil {
			for _, l := range ls {
				if d, err := l.Digest(); err == nil {
					base[d] = true
				}
			}
		}
	}
	m, err := patternmatcher.New(ignore.Defaults)
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil || base[d] {
			continue
		}
		rc, err := l.Uncompressed()
		if err != nil {
			return err
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				rc.Close()
				return err
			}
			name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
			if hit, _ := m.MatchesOrParentMatches(name); hit {
				rc.Close()
				return fmt.Errorf("%s: the image would hold %s, which the secret defaults exclude", ScanEnv, h.Name)
			}
		}
		rc.Close()
	}
	return nil
}
