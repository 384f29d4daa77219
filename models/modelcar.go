package models

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fair-go/fair/internal/pushretry"
	"github.com/fair-go/fair/pipeline/artifact"
)

// ModelcarDir is where a modelcar image holds the model's files (KServe's
// convention: its sidecar links /proc/PID/root/models to /mnt/models).
const ModelcarDir = "models"

// AnnotationModel on a modelcar image names the model it carries, by digest.
const AnnotationModel = "dev.fair.model"

// ModelcarRepo is where model repo's modelcar images go:
// [REGISTRY/PREFIX/]modelcars/NAME beside [REGISTRY/PREFIX/]models/NAME, so
// they are not listed as models.
func ModelcarRepo(repo string) string {
	if i := strings.LastIndex("/"+repo, "/models/"); i >= 0 {
		return repo[:i] + "modelcars/" + repo[i+len("models/"):]
	}
	return repo + "-modelcar"
}

// Modelcar makes model m a KServe modelcar image and returns it by digest:
// the image shell (fair's modelcar shell, whose entrypoint becomes /bin/sh)
// with m's files under /models, in ModelcarRepo, tagged after both digests.
// The model layer is written once: a second call for the same model and
// shell finds the tag and pushes nothing (made is false).
func Modelcar(ctx context.Context, m Model, shell string, o artifact.Options) (ref string, made bool, err error) {
	mref, err := name.NewDigest(m.Ref, nameOpts(o)...)
	if err != nil {
		return "", false, fmt.Errorf("model reference %q: %v", m.Ref, err)
	}
	sref, err := name.ParseReference(shell, nameOpts(o)...)
	if err != nil {
		return "", false, fmt.Errorf("modelcar shell image %q: %v", shell, err)
	}
	ro := remoteOpts(ctx, o)
	base, err := remote.Image(sref, ro...)
	if err != nil {
		return "", false, fmt.Errorf("read modelcar shell image %s: %v", shell, err)
	}
	sd, err := base.Digest()
	if err != nil {
		return "", false, err
	}
	repo, err := name.NewRepository(ModelcarRepo(mref.Context().Name()), nameOpts(o)...)
	if err != nil {
		return "", false, err
	}
	tag := repo.Tag(short(mref.DigestStr()) + "-" + short(sd.String()))
	if desc, err := remote.Head(tag, ro...); err == nil {
		return repo.Digest(desc.Digest.String()).String(), false, nil
	}

	img, err := remote.Image(mref, ro...)
	if err != nil {
		return "", false, fmt.Errorf("read model %s: %v", m.Ref, err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		return "", false, fmt.Errorf("model %s: want one layer, got %d (%v)", m.Ref, len(layers), err)
	}
	cf, err := base.ConfigFile()
	if err != nil {
		return "", false, err
	}
	if len(cf.Config.Entrypoint) != 1 {
		return "", false, fmt.Errorf("modelcar shell image %s has no single entrypoint", shell)
	}
	shLayer, rmSh, err := artifact.TarLayer(o.TempDir, func(tw *tar.Writer) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "bin/", Mode: 0o755, ModTime: epoch}); err != nil {
			return err
		}
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/sh", Linkname: cf.Config.Entrypoint[0], Mode: 0o777, ModTime: epoch})
	})
	if err != nil {
		return "", false, err
	}
	defer rmSh()
	modelLayer, rmModel, err := artifact.TarLayer(o.TempDir, func(tw *tar.Writer) error {
		rc, err := layers[0].Uncompressed()
		if err != nil {
			return err
		}
		defer rc.Close()
		return underDir(tw, rc, ModelcarDir)
	})
	if err != nil {
		return "", false, fmt.Errorf("model %s: %v", m.Ref, err)
	}
	defer rmModel()

	out, err := mutate.Append(base,
		mutate.Addendum{Layer: shLayer, MediaType: types.OCIUncompressedLayer, History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "fair modelcar", Comment: "/bin/sh"}},
		mutate.Addendum{Layer: modelLayer, MediaType: types.OCIUncompressedLayer, History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "fair modelcar", Comment: "model " + m.Ref}},
	)
	if err != nil {
		return "", false, err
	}
	if cf, err = out.ConfigFile(); err != nil { // with the new layers' diff IDs
		return "", false, err
	}
	cf = cf.DeepCopy()
	// KServe runs the image as "sh -c SCRIPT" with no command of its own.
	cf.Config.Entrypoint, cf.Config.Cmd = nil, nil
	if cf.Config.Labels == nil {
		cf.Config.Labels = map[string]string{}
	}
	cf.Config.Labels[AnnotationModel] = m.Ref
	if out, err = mutate.ConfigFile(out, cf); err != nil {
		return "", false, err
	}
	out = mutate.Annotations(out, map[string]string{AnnotationModel: m.Ref}).(v1.Image)
	if err := pushretry.Do(ctx, func() error { return remote.Write(tag, out, ro...) }); err != nil {
		return "", false, fmt.Errorf("push modelcar %s: %v", tag, err)
	}
	d, err := out.Digest()
	if err != nil {
		return "", false, err
	}
	return repo.Digest(d.String()).String(), true, nil
}

// epoch dates the modelcar's own entries, so equal inputs give equal layers.
var epoch = time.Unix(0, 0).UTC()

// underDir copies the tar r into tw with every entry moved under dir.
// Entries that would leave dir ("..", absolute paths) are refused.
func underDir(tw *tar.Writer, r io.Reader, dir string) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: epoch}); err != nil {
		return err
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		clean := path.Clean("/" + hdr.Name)
		if clean == "/" {
			continue
		}
		if clean != "/"+strings.TrimPrefix(strings.TrimSuffix(hdr.Name, "/"), "./") {
			return fmt.Errorf("model entry %q leaves its folder", hdr.Name)
		}
		hdr.Name = dir + clean
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = dir + path.Clean("/"+hdr.Linkname)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}

// short is the first 12 hex digits of a sha256 digest.
func short(digest string) string {
	_, hex, _ := strings.Cut(digest, ":")
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return hex
}
